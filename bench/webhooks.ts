/**
 * What webhooks cost.
 *
 * First, what the outbox adds to the calls that produce events, through the HTTP API of a
 * `billfold serve` of its own (its dispatcher off, BILLFOLD_WEBHOOK_POLL_MS=0): the same work in
 * two organizations of one database — one with an enabled endpoint subscribed to every event
 * type, one with none — taking turns ten times a round, 8 requests in flight:
 *   - create_invoice (10 lines) then finalize_invoice: two events, invoice.created and
 *     invoice.finalized, so two deliveries written per invoice;
 *   - record_usage_batch of 100 events (bench/usage-mix.ts), one of which names a model with no
 *     price, so each batch writes its one usage.needs_attention delivery.
 * Then the deliveries those rounds left are sent by the dispatcher (deliverDue, in this
 * process) to a receiver on loopback in a process of its own that answers 200 at once.
 *
 *   node --import tsx bench/webhooks.ts [--invoices N] [--batches N] [--rounds N] [--postgres postgres://…]
 *
 * CPU is the server's (from /proc) per call, and the dispatcher's per delivery: steadier than
 * throughput on a shared machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { bootstrap } from '../src/interfaces/bootstrap.js';
import { createLogger } from '../src/interfaces/logging.js';
import { createRuntime } from '../src/interfaces/runtime.js';
import { createApiKey } from '../src/services/api-keys.js';
import { createOrganization } from '../src/services/organizations.js';
import { deliverDue } from '../src/services/webhooks/dispatcher.js';
import { cpuSeconds, scratchDatabase } from './scratch.js';
import { mixEvent, setUpMix } from './usage-mix.js';

const { values } = parseArgs({
  options: {
    invoices: { type: 'string' },
    batches: { type: 'string' },
    rounds: { type: 'string' },
    postgres: { type: 'string' },
  },
});
const INVOICES = Number(values.invoices ?? 1000);
const BATCHES = Number(values.batches ?? 200);
const ROUNDS = Number(values.rounds ?? 3);
const IN_FLIGHT = 8;
const BATCH = 100;
/** The two sides take turns this often in a round, so a machine whose speed drifts weighs on both alike. */
const SLICES = 10;
const ROOT = join(import.meta.dirname, '..');
const KEY = 'bfk_benchmark_webhooks_0123456789abcdef';

type Call = (operation: string, args: unknown) => Promise<any>;

function caller(url: string, key: string): Call {
  return async (operation, args) => {
    const res = await fetch(`${url}/api/v1/${operation}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(args),
    });
    const body = await res.json();
    if (res.status !== 200)
      throw new Error(`${operation}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
    return body;
  };
}

async function startServer(database: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      '--max-old-space-size=256',
      '--import',
      'tsx',
      join(ROOT, 'src/interfaces/cli/main.ts'),
      'serve',
      '--port',
      '0',
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        BILLFOLD_DATABASE: database,
        BILLFOLD_LOG_LEVEL: 'warn',
        BILLFOLD_BOOTSTRAP_API_KEY: KEY,
        BILLFOLD_BILLING_INTERVAL_SECONDS: '0',
        BILLFOLD_WEBHOOK_POLL_MS: '0',
        BILLFOLD_WEBHOOK_ALLOW_PRIVATE: '1',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
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

/** A receiver in its own process, so its CPU is not counted as the dispatcher's. */
async function startReceiver(): Promise<{ url: string; stop(): void }> {
  const code = `
    const http = require('node:http');
    const s = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200); res.end('ok'); }); });
    s.keepAliveTimeout = 60000;
    s.listen(0, '127.0.0.1', () => process.stdout.write('port ' + s.address().port + '\\n'));
    process.on('SIGTERM', () => process.exit(0));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      const m = /port (\d+)/.exec(d.toString());
      if (m) resolve(Number(m[1]));
    });
  });
  return { url: `http://127.0.0.1:${port}/hooks`, stop: () => child.kill('SIGTERM') };
}

async function setUp(call: Call): Promise<void> {
  await call('create_tax', { code: 'vat20', name: 'VAT', rate: '20', applied_to_organization: true });
  await call('create_customer', { external_id: 'bench', name: 'Bench Corp', currency: 'USD' });
  await call('create_product', { code: 'licence', name: 'Licence', unit_amount: '49.99', currency: 'USD' });
  await setUpMix(call);
}

const lines = (i: number) =>
  Array.from({ length: 10 }, (_, k) =>
    k % 2
      ? { product_code: 'licence', quantity: 1 + ((i + k) % 7) }
      : { description: `Work ${k}`, unit_amount: '123.45' },
  );

interface Measured {
  perSecond: number;
  cpuUs: number;
}

/** Sums over a round's slices, for one side. */
class Side {
  calls = 0;
  seconds = 0;
  cpu = 0;
  get result(): Measured {
    return { perSecond: this.calls / this.seconds, cpuUs: (this.cpu / this.calls) * 1e6 };
  }
}

async function slice(
  pid: number,
  side: Side,
  calls: number,
  one: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < calls) await one(next++);
    }),
  );
  side.seconds += (performance.now() - t0) / 1000;
  side.cpu += cpuSeconds(pid) - cpu0;
  side.calls += calls;
}

let invoiceNo = 0;
async function invoiceRound(pid: number, calls: [Call, Call]): Promise<[Measured, Measured]> {
  const sides = [new Side(), new Side()] as const;
  for (let s = 0; s < SLICES; s++) {
    for (const k of [0, 1] as const) {
      await slice(pid, sides[k], Math.ceil(INVOICES / SLICES), async () => {
        const { invoice } = await calls[k]('create_invoice', {
          customer_id: 'bench',
          lines: lines(invoiceNo++),
        });
        await calls[k]('finalize_invoice', { invoice_id: invoice.id });
      });
    }
  }
  return [sides[0].result, sides[1].result];
}

let runs = 0;
async function usageRound(pid: number, calls: [Call, Call]): Promise<[Measured, Measured]> {
  const sides = [new Side(), new Side()] as const;
  for (let s = 0; s < SLICES; s++) {
    for (const k of [0, 1] as const) {
      const run = `r${runs++}`;
      const now = Date.now();
      await slice(pid, sides[k], Math.ceil(BATCHES / SLICES), async (b) => {
        const events = Array.from({ length: BATCH }, (_, i) => mixEvent(run, b * BATCH + i, now));
        // One event per batch names a model no price list knows: stored without a cost.
        Object.assign(events[2]!, { provider: 'acme-ai', model: `unpriced-${b % 3}` });
        const r = await calls[k]('record_usage_batch', { events });
        if (r.summary.failed) throw new Error('record_usage_batch: events failed');
      });
    }
  }
  return [sides[0].result, sides[1].result];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function bench(label: string, database: string) {
  // The second organization and its key, written before the server starts.
  const setup = await createRuntime(
    loadConfig({ BILLFOLD_LOG_LEVEL: 'silent', BILLFOLD_DATABASE: database }),
    {
      logger: createLogger('silent'),
    },
  );
  await bootstrap(setup, { createAdminKey: false });
  const org = await createOrganization(setup.db.kysely, { name: 'With an endpoint', now: Date.now() });
  const { key } = await createApiKey(setup.db.kysely, {
    organizationId: org.id,
    name: 'bench',
    scopes: ['admin'],
    now: Date.now(),
  });
  await setup.close();

  const receiver = await startReceiver();
  const server = await startServer(database);
  const pid = server.child.pid!;
  try {
    const without = caller(server.url, KEY);
    const withEndpoint = caller(server.url, key);
    await setUp(without);
    await setUp(withEndpoint);
    await withEndpoint('create_webhook_endpoint', { url: receiver.url });
    // Warm-up, both sides.
    for (const call of [without, withEndpoint])
      for (let i = 0; i < 100; i++) await call('create_invoice', { customer_id: 'bench', lines: lines(i) });
    const results = {
      invoices: { off: [] as Measured[], on: [] as Measured[] },
      usage: { off: [] as Measured[], on: [] as Measured[] },
    };
    for (let r = 0; r < ROUNDS; r++) {
      const [invOff, invOn] = await invoiceRound(pid, [without, withEndpoint]);
      results.invoices.off.push(invOff);
      results.invoices.on.push(invOn);
      const [useOff, useOn] = await usageRound(pid, [without, withEndpoint]);
      results.usage.off.push(useOff);
      results.usage.on.push(useOn);
    }
    for (const [name, unit, r] of [
      ['create_invoice + finalize_invoice', 'invoices', results.invoices],
      [`record_usage_batch of ${BATCH}`, 'batches', results.usage],
    ] as const) {
      const off = median(r.off.map((m) => m.perSecond));
      const on = median(r.on.map((m) => m.perSecond));
      const offCpu = median(r.off.map((m) => m.cpuUs));
      const onCpu = median(r.on.map((m) => m.cpuUs));
      console.log(
        `${label.padEnd(8)} ${name.padEnd(34)} no endpoint ${off.toFixed(0).padStart(6)} ${unit}/s (${offCpu.toFixed(0)} µs of server CPU each)  ` +
          `endpoint ${on.toFixed(0).padStart(6)} ${unit}/s (${onCpu.toFixed(0)} µs)  ` +
          `${(((on - off) / off) * 100).toFixed(1)} % calls/s, ${(((onCpu - offCpu) / offCpu) * 100).toFixed(1)} % CPU per call` +
          `  [rounds off ${r.off.map((m) => m.perSecond.toFixed(0)).join('/')}, on ${r.on.map((m) => m.perSecond.toFixed(0)).join('/')}]`,
      );
    }
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
  }

  // The deliveries the rounds left, sent by one dispatcher.
  const rt = await createRuntime(
    loadConfig({
      BILLFOLD_LOG_LEVEL: 'silent',
      BILLFOLD_DATABASE: database,
      BILLFOLD_WEBHOOK_ALLOW_PRIVATE: '1',
    }),
    { logger: createLogger('silent') },
  );
  try {
    const pending = await rt.db.kysely
      .selectFrom('webhook_deliveries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'pending')
      .executeTakeFirstOrThrow();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const run = await deliverDue(rt);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    if (run.succeeded !== Number(pending.n))
      throw new Error(`delivered ${run.succeeded} of ${pending.n}: ${JSON.stringify(run)}`);
    console.log(
      `${label.padEnd(8)} dispatcher: ${run.succeeded} deliveries in ${seconds.toFixed(2)} s = ${(run.succeeded / seconds).toFixed(0)} deliveries/s ` +
        `(${((cpu.user + cpu.system) / run.succeeded).toFixed(0)} µs CPU each, ${rt.webhooks!.concurrency} in flight, one endpoint)`,
    );
  } finally {
    receiver.stop();
    await rt.close();
  }
}

console.log(
  `bench/webhooks: ${ROUNDS} rounds of ${INVOICES} invoices (create + finalize, 10 lines) and ${BATCHES} usage batches of ${BATCH}, ${IN_FLIGHT} in flight over the HTTP API`,
);
console.log(
  `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString()}`,
);
const sqlite = await scratchDatabase('billfold-bench-webhooks');
try {
  await bench('sqlite', sqlite.database);
} finally {
  await sqlite.cleanup();
}
if (values.postgres) {
  const pgdb = await scratchDatabase('billfold-bench-webhooks', values.postgres);
  try {
    await bench('postgres', pgdb.database);
  } finally {
    await pgdb.cleanup();
  }
} else {
  console.log('postgres: skipped (pass --postgres postgres://…)');
}
