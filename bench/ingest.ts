/**
 * Ingestion throughput: record_usage_batch through the HTTP API (and through MCP), batches of
 * 100 and of 1,000, 8 concurrent clients, unique transaction ids, each batch durably committed
 * before its response; then the same batches replayed (all duplicates). The server runs as its
 * own process (`billfold serve`), as in production; its peak RSS is read from /proc.
 *
 *   node --import tsx bench/ingest.ts                      # SQLite (synchronous=FULL)
 *   BENCH_POSTGRES_URL=postgres://… node --import tsx bench/ingest.ts
 *   BENCH_EVENTS=200000 BENCH_CLIENTS=8 BENCH_MCP_EVENTS=50000 …   # sizes
 *   node --import tsx bench/ingest.ts --lago               # Lago's POST /events/batch beside it
 *
 * With --lago, each batch size runs record_usage_batch and Lago's /lago/api/v1/events/batch in
 * turn on the same server, with the same events in the shapes each takes (the part of the mix
 * Lago's events can carry: no model or token fields), and prints both and their ratio.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { cpuSeconds, machineBusySeconds, peakRssMb, scratchDatabase } from './scratch.js';
import { MIX_DESCRIPTION, mixBodies, setUpMix } from './usage-mix.js';

const ROOT = join(import.meta.dirname, '..');
const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const MCP_EVENTS = Number(process.env.BENCH_MCP_EVENTS ?? 50_000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8);
const BATCHES = (process.env.BENCH_BATCHES ?? '100,1000').split(',').map(Number);
const PG_URL = process.env.BENCH_POSTGRES_URL;
/**
 * Node's options for the server: by default the heap budget `npm start` sets (README,
 * "Memory"); BENCH_SERVER_NODE_ARGS= (empty) measures Node's own defaults.
 */
const SERVER_NODE_ARGS = process.env.BENCH_SERVER_NODE_ARGS ?? '--max-old-space-size=256';
/** BENCH_REPLAY=0 skips sending each batch a second time (for profiling first ingestion). */
const REPLAY = process.env.BENCH_REPLAY !== '0';
const KEY = 'bfk_benchmark_key_0123456789abcdefghijkl';
const LAGO = process.argv.includes('--lago');

async function startServer(database: string): Promise<{ url: string; child: ChildProcess }> {
  const nodeArgs = SERVER_NODE_ARGS.split(' ').filter(Boolean);
  // BENCH_SERVER=dist runs the compiled server (npm run build), as an installation does.
  const entry =
    process.env.BENCH_SERVER === 'dist'
      ? [join(ROOT, 'dist/src/interfaces/cli/main.js')]
      : ['--import', 'tsx', join(ROOT, 'src/interfaces/cli/main.ts')];
  const child = spawn(process.execPath, [...nodeArgs, ...entry, 'serve', '--port', '0'], {
    cwd: ROOT,
    env: {
      ...process.env,
      BILLFOLD_DATABASE: database,
      BILLFOLD_LOG_LEVEL: 'warn',
      BILLFOLD_BOOTSTRAP_API_KEY: KEY,
      BILLFOLD_MAX_BODY_BYTES: String(16 * 1024 * 1024),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /MCP \(Streamable HTTP\)\s+(http:\/\/\S+)\/mcp/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  return { url, child };
}

async function api(url: string, op: string, body: unknown): Promise<any> {
  const res = await fetch(`${url}/api/v1/${op}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`${op}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
  return json;
}

async function runHttp(
  url: string,
  batches: string[],
  expectDuplicates: boolean,
): Promise<{ seconds: number; events: number }> {
  let next = 0;
  let events = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (;;) {
        const i = next++;
        if (i >= batches.length) return;
        const out = await api(url, 'record_usage_batch', batches[i]!);
        const s = out.summary as { received: number; created: number; duplicates: number; failed: number };
        if (s.failed || (expectDuplicates ? s.duplicates !== s.received : s.created !== s.received)) {
          throw new Error(`unexpected outcome ${JSON.stringify(s)}`);
        }
        events += s.received;
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, events };
}

/** The same events as Lago's batch body: the customer is external_customer_id. */
function lagoBodies(run: string, total: number, batch: number): { direct: string[]; lago: string[] } {
  const direct: string[] = [];
  const lago: string[] = [];
  for (const body of mixBodies(run, total, batch)) {
    const events = (JSON.parse(body) as { events: Array<Record<string, unknown>> }).events.map((e) => ({
      transaction_id: e.transaction_id,
      customer_id: e.customer_id,
      code: e.code,
      timestamp: e.timestamp,
      properties: e.properties ?? {},
    }));
    direct.push(JSON.stringify({ events }));
    lago.push(
      JSON.stringify({
        events: events.map(({ customer_id, ...e }) => ({ ...e, external_customer_id: customer_id })),
      }),
    );
  }
  return { direct, lago };
}

async function runLago(url: string, batches: string[]): Promise<{ seconds: number; events: number }> {
  let next = 0;
  let events = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (;;) {
        const i = next++;
        if (i >= batches.length) return;
        const res = await fetch(`${url}/lago/api/v1/events/batch`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body: batches[i]!,
        });
        const json = (await res.json()) as { events?: unknown[] };
        if (res.status !== 200)
          throw new Error(`events/batch: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
        events += json.events!.length;
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, events };
}

/** Runs `send` and reads the server's and the load generator's CPU per event around it. */
async function measured(
  pid: number,
  send: () => Promise<{ seconds: number; events: number }>,
): Promise<{ rate: number; serverUs: number; ownUs: number }> {
  const cpu0 = cpuSeconds(pid);
  const own0 = process.cpuUsage();
  const r = await send();
  const own = process.cpuUsage(own0);
  return {
    rate: r.events / r.seconds,
    serverUs: ((cpuSeconds(pid) - cpu0) * 1e6) / r.events,
    ownUs: (own.user + own.system) / r.events,
  };
}

async function lagoComparison(url: string, pid: number): Promise<void> {
  console.log('Lago /events/batch against record_usage_batch, the same events, in turn:');
  for (const batch of BATCHES) {
    type Measure = Awaited<ReturnType<typeof measured>>;
    const results: { direct: Measure[]; lago: Measure[] } = { direct: [], lago: [] };
    // Two pairs, so a slow moment of a shared machine falls on both sides; each
    // side sends events of its own (new transaction ids), the same mix.
    for (let round = 0; round < 2; round++) {
      const stamp = Date.now().toString(36);
      const { direct } = lagoBodies(`direct${batch}-${round}-${stamp}`, EVENTS, batch);
      const { lago } = lagoBodies(`lago${batch}-${round}-${stamp}`, EVENTS, batch);
      // Each side goes first once: the second run of a pair writes into a larger database.
      const directRun = () => measured(pid, () => runHttp(url, direct, false));
      const lagoRun = () => measured(pid, () => runLago(url, lago));
      if (round === 0) {
        results.direct.push(await directRun());
        results.lago.push(await lagoRun());
      } else {
        results.lago.push(await lagoRun());
        results.direct.push(await directRun());
      }
    }
    const show = (name: string, rs: Measure[]) =>
      `${name} ${rs.map((r) => Math.round(r.rate).toLocaleString('en-US')).join(' / ')} events/s, server CPU ${rs
        .map((r) => r.serverUs.toFixed(1))
        .join(' / ')} µs/event`;
    const mean = (rs: Array<{ rate: number; serverUs: number }>, k: 'rate' | 'serverUs') =>
      rs.reduce((a, r) => a + r[k], 0) / rs.length;
    console.log(
      `batch ${String(batch).padStart(4)}: ${show('record_usage_batch', results.direct)}; ${show('Lago events/batch', results.lago)}; Lago/direct throughput ${(mean(results.lago, 'rate') / mean(results.direct, 'rate')).toFixed(3)}, CPU per event ${(mean(results.lago, 'serverUs') / mean(results.direct, 'serverUs')).toFixed(3)}`,
    );
  }
}

async function runMcp(url: string, batches: string[]): Promise<{ seconds: number; events: number }> {
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const c = new Client({ name: 'bench', version: '1.0.0' });
      await c.connect(
        new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${KEY}` } },
        }),
      );
      return c;
    }),
  );
  let next = 0;
  let events = 0;
  const started = performance.now();
  await Promise.all(
    clients.map(async (c) => {
      for (;;) {
        const i = next++;
        if (i >= batches.length) return;
        const args = JSON.parse(batches[i]!) as Record<string, unknown>;
        const r = (await c.callTool({ name: 'record_usage_batch', arguments: args })) as {
          isError?: boolean;
          structuredContent?: { summary: { created: number; received: number } };
        };
        if (r.isError || r.structuredContent!.summary.created !== r.structuredContent!.summary.received)
          throw new Error(`MCP batch failed: ${JSON.stringify(r).slice(0, 300)}`);
        events += r.structuredContent!.summary.received;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(clients.map((c) => c.close()));
  return { seconds, events };
}

async function main() {
  const { database, cleanup } = await scratchDatabase('billfold-bench', PG_URL);
  const { url, child } = await startServer(database);
  try {
    await setUpMix((operation, args) => api(url, operation, args));
    const dialect = PG_URL ? 'PostgreSQL' : 'SQLite (synchronous=FULL, group commit)';
    console.log(
      `billfold ingest benchmark — ${dialect}; ${CLIENTS} concurrent clients; ${cpus().length} CPUs (${cpus()[0]?.model}); ${Math.round(totalmem() / 2 ** 30)} GiB; server node options: ${SERVER_NODE_ARGS || '(none)'}`,
    );
    console.log(`events: ${MIX_DESCRIPTION}`);
    if (LAGO) {
      await lagoComparison(url, child.pid!);
      console.log(`server peak RSS: ${peakRssMb(child.pid!)} MB`);
      return;
    }
    const rows: string[] = [];
    for (const batch of BATCHES) {
      const run = `b${batch}-${Date.now().toString(36)}`;
      const prepared = mixBodies(run, EVENTS, batch);
      const cpu0 = cpuSeconds(child.pid!);
      const own0 = process.cpuUsage();
      const machine0 = machineBusySeconds();
      const first = await runHttp(url, prepared, false);
      const machineFirst = machineBusySeconds() - machine0;
      const cpuFirst = cpuSeconds(child.pid!) - cpu0;
      const own = process.cpuUsage(own0);
      const ownFirst = (own.user + own.system) / 1e6;
      const replay = REPLAY ? await runHttp(url, prepared, true) : { events: 0, seconds: 1 };
      rows.push(
        `HTTP  batch ${String(batch).padStart(4)}: ${Math.round(first.events / first.seconds)
          .toLocaleString('en-US')
          .padStart(
            7,
          )} events/s first time (${first.events} events, ${first.seconds.toFixed(2)} s); replay ${Math.round(
          replay.events / replay.seconds,
        )
          .toLocaleString('en-US')
          .padStart(
            7,
          )} events/s; server CPU ${((cpuFirst * 1e6) / first.events).toFixed(1)} µs/event first time (load generator ${((ownFirst * 1e6) / first.events).toFixed(1)}, whole machine ${((machineFirst * 1e6) / first.events).toFixed(1)})`,
      );
      console.log(rows[rows.length - 1]);
    }
    if (MCP_EVENTS > 0) {
      for (const batch of BATCHES) {
        const prepared = mixBodies(`mcp${batch}-${Date.now().toString(36)}`, MCP_EVENTS, batch);
        const r = await runMcp(url, prepared);
        console.log(
          `MCP   batch ${String(batch).padStart(4)}: ${Math.round(r.events / r.seconds)
            .toLocaleString('en-US')
            .padStart(7)} events/s (${r.events} events, ${r.seconds.toFixed(2)} s, Streamable HTTP)`,
        );
      }
    }
    console.log(`server peak RSS: ${peakRssMb(child.pid!)} MB`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await cleanup();
  }
}

await main();
