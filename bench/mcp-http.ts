/**
 * get_customer over Streamable HTTP (protocol 2026-07-28): Billfold — API-key auth, a SQLite
 * lookup, schema validation, logging, the API's full stack — against the bare SDK echo server
 * (bench/echo-server.ts), at the same concurrency, in alternating rounds; and the same call with
 * a JWT (BILLFOLD_JWT_ISSUER, ES256) instead of the API key, to price a verified, cached token
 * against a key. Prints each round and the medians. Then tools/list of the default catalogue (/mcp) and of each profile
 * (/mcp/<profile>), alternating, to show a profile's list costs no more than the default's.
 *
 *   node --import tsx bench/mcp-http.ts            (BENCH_SECONDS=10 BENCH_ROUNDS=3 BENCH_CONCURRENCY=16)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROFILES } from '../src/interfaces/mcp/profiles/registry.js';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { median, runLoad, type LoadResult } from './load.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ROOT = join(import.meta.dirname, '..');
const KEY = 'bfk_benchbenchbenchbenchbenchbench';

function start(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    // The server's log goes to its stderr as it would in production; keep only the tail, to
    // show if the server dies.
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on('exit', (code) =>
      reject(new Error(`server exited (${code}) before it was ready: ${out}${err}`)),
    );
  });
}

const envelope = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
function toolCall(name: string, args: Record<string, unknown>) {
  return (i: number) =>
    JSON.stringify({
      jsonrpc: '2.0',
      id: i,
      method: 'tools/call',
      params: { name, arguments: args, _meta: envelope },
    });
}
function headers(tool: string, key?: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': 'tools/call',
    'mcp-name': tool,
    ...(key ? { authorization: `Bearer ${key}` } : {}),
  };
}
function toolsList() {
  return (i: number) =>
    JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/list', params: { _meta: envelope } });
}
const listHeaders = (key: string): Record<string, string> => ({
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'tools/list',
  authorization: `Bearer ${key}`,
});
const listed = (body: string) => body.includes('"tools"') && body.includes('"result"');

const succeeded = (body: string) => body.includes('"result"') && !body.includes('"isError":true');

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'billfold-bench-'));
  const jwtKeys = await generateKeyPair('ES256');
  const JWT_ISSUER = 'https://bench-issuer.example';
  const echo = await start(['bench/echo-server.ts'], {}, /listening (\S+)/);
  const billfold = await start(
    ['src/interfaces/cli/main.ts', 'serve', '--port', '0'],
    {
      BILLFOLD_DATABASE: join(dir, 'bench.db'),
      BILLFOLD_BOOTSTRAP_API_KEY: KEY,
      BILLFOLD_JWT_ISSUER: JWT_ISSUER,
      BILLFOLD_JWT_PUBLIC_KEY: await exportSPKI(jwtKeys.publicKey),
      BILLFOLD_LOG_LEVEL: process.env.BILLFOLD_LOG_LEVEL ?? 'info',
    },
    /MCP \(Streamable HTTP\)\s+(\S+)/,
  );
  try {
    const base = billfold.url.replace(/\/mcp$/, '');
    const created = await fetch(`${base}/api/v1/create_customer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        external_id: 'acme-001',
        name: 'Acme Corporation',
        email: 'billing@acme.example',
        country: 'US',
        currency: 'USD',
        metadata: { segment: 'enterprise' },
      }),
    });
    if (created.status !== 200) throw new Error(`could not create the customer: ${await created.text()}`);

    const verified = (await (
      await fetch(`${base}/api/v1/verify`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: '{}',
      })
    ).json()) as { organization: { id: string } };
    const token = await new SignJWT({ scope: 'billfold:read', org_id: verified.organization.id })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(JWT_ISSUER)
      .setSubject('bench')
      .setAudience(base)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(jwtKeys.privateKey);

    const billfoldSpec = {
      url: billfold.url,
      body: toolCall('get_customer', { customer_id: 'acme-001' }),
      headers: headers('get_customer', KEY),
      concurrency: CONCURRENCY,
      ok: succeeded,
    };
    const echoSpec = {
      url: echo.url,
      body: toolCall('echo', { text: 'hello' }),
      headers: headers('echo'),
      concurrency: CONCURRENCY,
      ok: succeeded,
    };
    const jwtSpec = { ...billfoldSpec, headers: headers('get_customer', token) };
    // Warm all (JIT, statement cache) before measuring.
    await runLoad({ ...billfoldSpec, seconds: 2 });
    await runLoad({ ...jwtSpec, seconds: 2 });
    await runLoad({ ...echoSpec, seconds: 2 });

    type Measured = LoadResult & { cpuPerCall: number };
    const results: { billfold: Measured[]; jwt: Measured[]; echo: Measured[] } = {
      billfold: [],
      jwt: [],
      echo: [],
    };
    for (let r = 1; r <= ROUNDS; r++) {
      const e = await measured(echo.child, () => runLoad({ ...echoSpec, seconds: SECONDS }));
      const b = await measured(billfold.child, () => runLoad({ ...billfoldSpec, seconds: SECONDS }));
      const j = await measured(billfold.child, () => runLoad({ ...jwtSpec, seconds: SECONDS }));
      results.echo.push(e);
      results.billfold.push(b);
      results.jwt.push(j);
      console.log(
        `round ${r}: echo ${fmt(e)} | billfold ${fmt(b)} | jwt ${fmt(j)} | ratio ${(b.perSecond / e.perSecond).toFixed(2)}x, jwt/key ${(j.perSecond / b.perSecond).toFixed(2)}x`,
      );
    }
    const summary = (rs: Measured[]) => ({
      cpu: median(rs.map((x) => x.cpuPerCall)) * 1000,
      perSecond: median(rs.map((x) => x.perSecond)),
      p50: median(rs.map((x) => x.p50)),
      p99: median(rs.map((x) => x.p99)),
      errors: rs.reduce((a, x) => a + x.errors, 0),
    });
    const b = summary(results.billfold);
    const e = summary(results.echo);
    const j = summary(results.jwt);
    console.log('');
    console.log(
      `conditions: ${cpus().length} cores (${cpus()[0]?.model.trim()}), Node ${process.version}, concurrency ${CONCURRENCY}, ${SECONDS} s x ${ROUNDS} rounds, load generator on the same machine, SQLite, log level ${process.env.BILLFOLD_LOG_LEVEL ?? 'info'}`,
    );
    console.log(
      `bare SDK echo (no auth, no DB):     ${e.perSecond.toFixed(0)} calls/s  p50 ${e.p50.toFixed(2)} ms  p99 ${e.p99.toFixed(2)} ms  server CPU ${e.cpu.toFixed(0)} µs/call  errors ${e.errors}`,
    );
    console.log(
      `billfold get_customer (auth + DB):  ${b.perSecond.toFixed(0)} calls/s  p50 ${b.p50.toFixed(2)} ms  p99 ${b.p99.toFixed(2)} ms  server CPU ${b.cpu.toFixed(0)} µs/call  errors ${b.errors}`,
    );
    console.log(
      `billfold get_customer (JWT + DB):   ${j.perSecond.toFixed(0)} calls/s  p50 ${j.p50.toFixed(2)} ms  p99 ${j.p99.toFixed(2)} ms  server CPU ${j.cpu.toFixed(0)} µs/call  errors ${j.errors}`,
    );
    console.log(
      `ratio JWT / API key: ${(j.perSecond / b.perSecond).toFixed(2)}x throughput, ${(j.cpu / b.cpu).toFixed(2)}x server CPU per call (medians of rounds)`,
    );
    console.log(
      `ratio billfold / bare SDK: ${(b.perSecond / e.perSecond).toFixed(2)}x throughput, ${(e.cpu / b.cpu).toFixed(2)}x CPU efficiency (medians of rounds)`,
    );
    await listBench(billfold, base);
  } finally {
    echo.child.kill('SIGTERM');
    billfold.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** tools/list of /mcp and of every /mcp/<profile>, in alternating rounds: medians and ratio to /mcp. */
async function listBench(billfold: { child: ChildProcess; url: string }, base: string) {
  const surfaces = [
    { name: 'billfold (default)', url: billfold.url },
    ...PROFILES.map((p) => ({ name: p.name, url: `${base}/mcp/${p.name}` })),
  ];
  const specs = surfaces.map((s) => ({
    ...s,
    spec: { url: s.url, body: toolsList(), headers: listHeaders(KEY), concurrency: CONCURRENCY, ok: listed },
  }));
  const sizes = new Map<string, number>();
  for (const s of specs) {
    const res = await fetch(s.url, { method: 'POST', headers: s.spec.headers, body: s.spec.body(0) });
    const text = await res.text();
    if (!listed(text)) throw new Error(`tools/list of ${s.name} failed: ${text.slice(0, 300)}`);
    sizes.set(s.name, Buffer.byteLength(text));
    await runLoad({ ...s.spec, seconds: 1 });
  }
  const seconds = Math.max(1, SECONDS / 2);
  const runs = new Map<string, Array<LoadResult & { cpuPerCall: number }>>(specs.map((s) => [s.name, []]));
  for (let r = 1; r <= ROUNDS; r++) {
    for (const s of specs)
      runs.get(s.name)!.push(await measured(billfold.child, () => runLoad({ ...s.spec, seconds })));
  }
  console.log('');
  console.log(
    `tools/list over Streamable HTTP, ${seconds} s x ${ROUNDS} rounds per surface, concurrency ${CONCURRENCY}:`,
  );
  const cpuOf = (name: string) => median(runs.get(name)!.map((x) => x.cpuPerCall)) * 1000;
  const baseCpu = cpuOf(specs[0]!.name);
  for (const s of specs) {
    const rs = runs.get(s.name)!;
    const cpu = cpuOf(s.name);
    console.log(
      `  ${s.name.padEnd(20)} ${median(rs.map((x) => x.perSecond)).toFixed(0)} calls/s  p50 ${median(rs.map((x) => x.p50)).toFixed(2)} ms  server CPU ${cpu.toFixed(0)} µs/call (${(cpu / baseCpu).toFixed(2)}x default)  ${sizes.get(s.name)} bytes  errors ${rs.reduce((a, x) => a + x.errors, 0)}`,
    );
  }
}

/**
 * CPU time a process has used, in ms (Linux /proc). Throughput on a shared 2-core machine
 * swings with whatever else runs; CPU time per call does not, so it is printed alongside.
 */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

async function measured(
  child: ChildProcess,
  run: () => Promise<LoadResult>,
): Promise<LoadResult & { cpuPerCall: number }> {
  const before = cpuMs(child.pid);
  const r = await run();
  return { ...r, cpuPerCall: (cpuMs(child.pid) - before) / r.requests };
}

function fmt(r: LoadResult & { cpuPerCall?: number }): string {
  const cpu =
    r.cpuPerCall !== undefined && Number.isFinite(r.cpuPerCall)
      ? ` cpu ${(r.cpuPerCall * 1000).toFixed(0)} µs/call`
      : '';
  return `${r.perSecond.toFixed(0)}/s p50 ${r.p50.toFixed(2)} p99 ${r.p99.toFixed(2)}${cpu}${r.errors ? ` errors ${r.errors}` : ''}`;
}

await main();
