#!/usr/bin/env node
// Runs the MCP conformance suite (server mode) against Billfold's real HTTP door.
//
//   npm run conformance                              the whole active suite, checked against the baseline
//   npm run conformance -- --scenario tools-list     one scenario
//   npm run conformance -- --suite all               the pending scenarios too
//   npm run conformance -- --output results/mcp      keep the per-scenario checks.json files
//
// It starts `billfold serve` from source on a temporary SQLite database with the conformance
// fixtures and a bootstrap API key, puts a loopback proxy in front that adds the key (the
// suite's client sends no Authorization header) and forwards everything else unchanged — Host
// and Origin included, so the DNS-rebinding scenario reaches Billfold's own guard — then runs
// the suite with conformance-baseline.yml and exits with the suite's exit code.
//
// The suite needs Node 22; `npx -p node@22` supplies it from the npm registry.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const SUITE = '@modelcontextprotocol/conformance@0.1.16';
const NODE = 'node@22';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BASELINE = join(ROOT, 'conformance-baseline.yml');
const STARTUP_TIMEOUT_MS = 60_000;

const { values: options } = parseArgs({
  options: {
    scenario: { type: 'string' },
    suite: { type: 'string' },
    output: { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});

const started = Date.now();
const work = mkdtempSync(join(tmpdir(), 'billfold-conformance-'));
const resultsDir = options.output ? resolve(options.output) : join(work, 'results');
const apiKey = `conformance_${randomBytes(24).toString('hex')}`;
let billfold;
let proxy;
let billfoldLog = '';

function log(line = '') {
  process.stdout.write(`${line}\n`);
}

/** `billfold serve` from source; resolves with the base URL it prints. */
function startBillfold() {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BILLFOLD_')));
  Object.assign(env, {
    BILLFOLD_DATABASE: join(work, 'billfold.db'),
    BILLFOLD_CONFORMANCE_FIXTURES: '1',
    BILLFOLD_BOOTSTRAP_API_KEY: apiKey,
    BILLFOLD_LOG_LEVEL: options.verbose ? 'debug' : 'warn',
  });
  billfold = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'src/interfaces/cli/main.ts'),
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
    ],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  billfold.stderr.on('data', (d) => {
    billfoldLog += d;
    if (options.verbose) process.stderr.write(d);
  });
  return new Promise((resolveUrl, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`billfold serve printed no MCP URL within ${STARTUP_TIMEOUT_MS / 1000} s`)),
      STARTUP_TIMEOUT_MS,
    );
    billfold.stdout.on('data', (d) => {
      out += d;
      const m = /MCP \(Streamable HTTP\)\s+(\S+)\/mcp/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    });
    billfold.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`billfold serve exited with code ${code} before serving:\n${out}${billfoldLog}`));
    });
  });
}

/**
 * A loopback proxy that adds the API key and passes everything else through as it is: method,
 * path, headers (Host and Origin too), and the body both ways, streamed, so SSE responses
 * arrive event by event.
 */
function startProxy(upstream) {
  const target = new URL(upstream);
  proxy = http.createServer((req, res) => {
    const headers = { ...req.headers, authorization: `Bearer ${apiKey}` };
    const forward = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.statusMessage, up.rawHeaders);
        res.flushHeaders();
        up.pipe(res);
        up.on('error', () => res.destroy());
      },
    );
    forward.on('error', (err) => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`conformance proxy: ${err.message}`);
      } else res.destroy();
    });
    // A client that hangs up (the suite cancels SSE readers) ends the upstream exchange too.
    res.on('close', () => forward.destroy());
    req.pipe(forward);
  });
  return new Promise((resolveUrl) => {
    proxy.listen(0, '127.0.0.1', () => resolveUrl(`http://127.0.0.1:${proxy.address().port}`));
  });
}

function runSuite(url) {
  const args = ['-y', '-p', NODE, '-p', SUITE, '--', 'conformance', 'server', '--url', `${url}/mcp`];
  args.push('--expected-failures', BASELINE, '-o', resultsDir);
  if (options.scenario) args.push('--scenario', options.scenario);
  if (options.suite) args.push('--suite', options.suite);
  const child = spawn(process.platform === 'win32' ? 'npx.cmd' : 'npx', args, {
    cwd: ROOT,
    // npm itself runs on this Node while installing the suite for Node 22: its engine warnings
    // are noise, and engine-strict would refuse the install.
    env: { ...process.env, npm_config_loglevel: 'error', npm_config_engine_strict: 'false' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Without --verbose, the per-scenario progress lines are dropped; the suite's summary and
  // baseline verdict are kept.
  const noise = /^(=== Running scenario: |Running client scenario |Results saved to )/;
  let pending = '';
  let blank = false;
  child.stdout.on('data', (d) => {
    const lines = (pending + d).split('\n');
    pending = lines.pop();
    for (const line of lines) {
      if (!options.verbose && (noise.test(line) || (blank && !line.trim()))) continue;
      blank = !line.trim();
      process.stdout.write(`${line}\n`);
    }
  });
  child.stdout.on('end', () => pending && process.stdout.write(`${pending}\n`));
  return new Promise((resolveCode, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolveCode(code ?? (signal ? 1 : 0)));
  });
}

/** The `server:` list of the baseline (one `- name` per line, comments allowed). */
function readBaseline() {
  const names = [];
  let inServer = false;
  for (const line of readFileSync(BASELINE, 'utf8').split('\n')) {
    if (/^\S/.test(line)) inServer = /^server:/.test(line);
    const m = /^\s+-\s+([\w-]+)/.exec(line);
    if (inServer && m) names.push(m[1]);
  }
  return names;
}

const listResults = () => (existsSync(resultsDir) ? readdirSync(resultsDir) : []);
/** Result directories already there (an --output directory reused) are not this run's. */
const earlierResults = new Set(listResults());

/** Per-scenario outcome from the checks.json files the suite wrote. */
function summarize() {
  const baseline = new Set(readBaseline());
  const rows = [];
  // The directory names end in a timestamp: sorting on it gives the order the suite ran them in.
  const stamp = (dir) => dir.slice(-24);
  for (const dir of listResults().sort((a, b) => stamp(a).localeCompare(stamp(b)))) {
    if (earlierResults.has(dir)) continue;
    const m = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/.exec(dir);
    const file = join(resultsDir, dir, 'checks.json');
    if (!m || !existsSync(file)) continue;
    const checks = JSON.parse(readFileSync(file, 'utf8'));
    const count = (s) => checks.filter((c) => c.status === s).length;
    const problems = checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING');
    rows.push({ scenario: m[1], ok: problems.length === 0, passed: count('SUCCESS'), problems });
  }
  if (!rows.length) return;
  const width = Math.max(...rows.map((r) => r.scenario.length));
  log('\n=== Billfold conformance summary ===');
  for (const r of rows) {
    const expected = baseline.has(r.scenario);
    const verdict = r.ok
      ? expected
        ? 'PASS (stale baseline entry)'
        : 'pass'
      : expected
        ? 'expected failure'
        : 'FAIL (not in baseline)';
    log(`${r.scenario.padEnd(width)}  ${verdict.padEnd(27)} ${r.passed} checks passed`);
    for (const p of r.problems) {
      log(`${' '.repeat(width)}    ${p.status}: ${p.id}: ${p.errorMessage ?? p.details?.message ?? ''}`);
    }
  }
  const passing = rows.filter((r) => r.ok).length;
  const expected = rows.filter((r) => !r.ok && baseline.has(r.scenario)).length;
  const unexpected = rows.filter((r) => !r.ok && !baseline.has(r.scenario)).length;
  const stale = rows.filter((r) => r.ok && baseline.has(r.scenario)).length;
  log(
    `\n${rows.length} scenarios: ${passing} passed, ${expected} expected failures (baseline), ` +
      `${unexpected} unexpected failures, ${stale} stale baseline entries.`,
  );
}

async function stop() {
  if (proxy) await new Promise((done) => proxy.close(() => done())).catch(() => {});
  proxy?.closeAllConnections?.();
  if (billfold && billfold.exitCode === null) {
    const exited = new Promise((done) => billfold.once('exit', done));
    billfold.kill('SIGTERM');
    const timer = setTimeout(() => billfold.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(work, { recursive: true, force: true });
}

async function main() {
  const base = await startBillfold();
  const url = await startProxy(base);
  log(`Billfold serving at ${base}; conformance proxy (adds the API key) at ${url}/mcp`);
  log(`Running ${SUITE} with ${NODE}${options.scenario ? `, scenario ${options.scenario}` : ''}\n`);
  const code = await runSuite(url);
  summarize();
  log(`\nConformance run finished in ${((Date.now() - started) / 1000).toFixed(1)} s; exit code ${code}.`);
  if (code !== 0 && billfoldLog.trim()) log(`\nBillfold log (warnings and errors):\n${billfoldLog.trim()}`);
  return code;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    void stop().finally(() => process.exit(130));
  });
}

main()
  .catch((e) => {
    process.stderr.write(`conformance: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  })
  .then(async (code) => {
    await stop();
    process.exitCode = code;
  });
