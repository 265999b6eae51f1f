/**
 * Ingestion throughput: record_usage_batch through the HTTP API (and through MCP), batches of
 * 100 and of 1,000, 8 concurrent clients, unique transaction ids, each batch durably committed
 * before its response; then the same batches replayed (all duplicates). The server runs as its
 * own process (`billfold serve`), as in production; its peak RSS is read from /proc.
 *
 *   node --import tsx bench/ingest.ts                      # SQLite (synchronous=FULL)
 *   BENCH_POSTGRES_URL=postgres://… node --import tsx bench/ingest.ts
 *   BENCH_EVENTS=200000 BENCH_CLIENTS=8 BENCH_MCP_EVENTS=50000 …   # sizes
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

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
const CUSTOMERS = 50;

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

const MODELS = [
  ['openai', 'gpt-4o-mini'],
  ['anthropic', 'claude-sonnet-4-5'],
  ['google', 'gemini-2.5-flash'],
] as const;
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];

/** A realistic mix: API calls, storage with a region filter, LLM calls with tokens, seats. */
function event(run: string, n: number, now: number) {
  const customer_id = `bench-cust-${n % CUSTOMERS}`;
  // Real-time ingestion: events of the last ten minutes.
  const timestamp = Math.floor((now - (n % 600) * 1000) / 1000);
  const transaction_id = `${run}-${n}`;
  switch (n % 4) {
    case 0:
      return {
        transaction_id,
        customer_id,
        code: 'api_calls',
        timestamp,
        properties: { endpoint: '/v1/search' },
      };
    case 1:
      return {
        transaction_id,
        customer_id,
        code: 'storage_gb',
        timestamp,
        properties: { gb: ((n % 1000) / 100).toFixed(2), region: REGIONS[n % 3] },
      };
    case 2: {
      const [provider, model] = MODELS[n % 3]!;
      return {
        transaction_id,
        customer_id,
        code: 'llm_tokens',
        timestamp,
        agent_code: 'support-bot',
        model,
        provider,
        input_tokens: 500 + (n % 700),
        output_tokens: 100 + (n % 300),
        properties: { tokens: 600 + (n % 700) + (n % 300) },
      };
    }
    default:
      return {
        transaction_id,
        customer_id,
        code: 'active_users',
        timestamp,
        properties: { user_id: `u-${n % 5000}` },
      };
  }
}

function bodies(run: string, total: number, batch: number): string[] {
  const now = Date.now();
  const out: string[] = [];
  for (let start = 0; start < total; start += batch) {
    const events = [];
    for (let i = start; i < Math.min(total, start + batch); i++) events.push(event(run, i, now));
    out.push(JSON.stringify({ events }));
  }
  return out;
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

/** CPU seconds the whole machine has been busy so far (every process, PostgreSQL's included), from /proc/stat. */
function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
  const busy = fields.slice(0, 8).reduce((a, b) => a + b, 0) - fields[3]! - fields[4]!;
  return busy / 100;
}

/** CPU seconds the server has used so far (all its threads: user + system), from /proc. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function main() {
  let database: string;
  let cleanup: () => Promise<void>;
  if (PG_URL) {
    const name = `billfold_bench_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(PG_URL);
    u.pathname = `/${name}`;
    database = u.toString();
    cleanup = async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    };
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'billfold-bench-'));
    database = join(dir, 'billfold.db');
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  const { url, child } = await startServer(database);
  try {
    for (let i = 0; i < CUSTOMERS; i++)
      await api(url, 'create_customer', { external_id: `bench-cust-${i}`, name: `Bench ${i}` });
    await api(url, 'create_billable_metric', {
      code: 'api_calls',
      name: 'API calls',
      aggregation_type: 'count_agg',
    });
    await api(url, 'create_billable_metric', {
      code: 'storage_gb',
      name: 'Storage',
      aggregation_type: 'sum_agg',
      field_name: 'gb',
      filters: [{ key: 'region', values: REGIONS }],
    });
    await api(url, 'create_billable_metric', {
      code: 'llm_tokens',
      name: 'LLM tokens',
      aggregation_type: 'sum_agg',
      field_name: 'tokens',
    });
    await api(url, 'create_billable_metric', {
      code: 'active_users',
      name: 'Active users',
      aggregation_type: 'unique_count_agg',
      field_name: 'user_id',
    });
    const dialect = PG_URL ? 'PostgreSQL' : 'SQLite (synchronous=FULL, group commit)';
    console.log(
      `billfold ingest benchmark — ${dialect}; ${CLIENTS} concurrent clients; ${cpus().length} CPUs (${cpus()[0]?.model}); ${Math.round(totalmem() / 2 ** 30)} GiB; server node options: ${SERVER_NODE_ARGS || '(none)'}`,
    );
    console.log(
      'events: 25% count (api_calls), 25% sum with region filter, 25% LLM tokens priced from the catalog, 25% unique count',
    );
    const rows: string[] = [];
    for (const batch of BATCHES) {
      const run = `b${batch}-${Date.now().toString(36)}`;
      const prepared = bodies(run, EVENTS, batch);
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
        const prepared = bodies(`mcp${batch}-${Date.now().toString(36)}`, MCP_EVENTS, batch);
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
