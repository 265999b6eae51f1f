/**
 * A billing run over many subscriptions with usage, on SQLite (or PostgreSQL):
 *
 *   [BENCH_POSTGRES_URL=postgres://…] node --import tsx bench/billing-run.ts [--subscriptions N] [--runs R] [--wallets] [--profile F]
 *
 * Sets up N customers (default 10,000), each subscribed on 1 January 2028 to a monthly plan
 * (10.00 in arrears, a standard charge on API calls, a graduated charge on storage) with usage
 * in January, then times `runBilling` at 1 February — the run that invoices and finalizes one
 * invoice per subscription — on R fresh copies of that database (default 3), and prints the
 * median. With --wallets, every other customer has a wallet of 5 granted credits at 1.00 USD,
 * which pays part of its invoice at finalization (the run checks that each of them did). CPU is
 * the process's (user + system, every thread: SQLite works in it; PostgreSQL's server is not in
 * it). --profile writes the V8 CPU profile of the first run (set-up left out) to F, a
 * .cpuprofile.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { bootstrap, localPrincipal } from '../src/interfaces/bootstrap.js';
import { dispatch } from '../src/interfaces/dispatch.js';
import { createLogger } from '../src/interfaces/logging.js';
import { createRuntime, type Runtime } from '../src/interfaces/runtime.js';
import { runBilling } from '../src/services/billing/run.js';
import { scratchDatabase } from './scratch.js';

const { values } = parseArgs({
  options: {
    subscriptions: { type: 'string' },
    runs: { type: 'string' },
    wallets: { type: 'boolean' },
    profile: { type: 'string' },
  },
});
const PROFILE = values.profile;
const PG_URL = process.env.BENCH_POSTGRES_URL;
const WALLETS = values.wallets === true;
const COUNT = Number(values.subscriptions ?? 10_000);
const RUNS = Number(values.runs ?? 3);
const AT = Date.parse('2028-02-01T00:00:00Z');

async function open(database: string): Promise<Runtime> {
  const config = loadConfig({ BILLFOLD_LOG_LEVEL: 'silent' }, { database });
  return createRuntime(config, { logger: createLogger('silent') });
}

async function setup(database: string): Promise<void> {
  const rt = await open(database);
  const boot = await bootstrap(rt, { createAdminKey: false });
  const principal = localPrincipal(boot.organizationId, 'bench');
  const call = async (operation: string, args: unknown) => {
    const { outcome } = await dispatch(rt, { principal, door: 'cli', operation, args });
    if (!outcome.ok) throw new Error(`${operation}: ${outcome.error.message}`);
    return outcome.output;
  };
  await call('update_organization', { timezone: 'UTC' });
  await call('create_tax', { code: 'vat20', name: 'VAT', rate: '20', applied_to_organization: true });
  await call('create_billable_metric', {
    code: 'api_calls',
    name: 'API calls',
    aggregation_type: 'count_agg',
  });
  await call('create_billable_metric', {
    code: 'storage',
    name: 'Storage',
    aggregation_type: 'sum_agg',
    field_name: 'gb',
  });
  await call('create_plan', {
    code: 'bench',
    name: 'Bench',
    interval: 'monthly',
    currency: 'USD',
    amount: '10',
    pay_in_advance: false,
    charges: [
      { billable_metric_code: 'api_calls', charge_model: 'standard', properties: { amount: '0.001' } },
      {
        billable_metric_code: 'storage',
        charge_model: 'graduated',
        properties: {
          graduated_ranges: [
            { from_value: 0, to_value: 10, per_unit_amount: '0', flat_amount: '0' },
            { from_value: 10, to_value: null, per_unit_amount: '0.25', flat_amount: '1' },
          ],
        },
      },
    ],
  });
  const started = performance.now();
  const BATCH = 50;
  for (let i = 0; i < COUNT; i += BATCH) {
    const ids = Array.from({ length: Math.min(BATCH, COUNT - i) }, (_, k) => i + k);
    await Promise.all(
      ids.map(async (n) => {
        await call('create_customer', { external_id: `cust-${n}`, name: `Customer ${n}`, currency: 'USD' });
        await call('create_subscription', {
          customer_id: `cust-${n}`,
          plan_code: 'bench',
          external_id: `sub-${n}`,
          started_at: '2028-01-01',
        });
        if (WALLETS && n % 2 === 0)
          await call('create_wallet', { customer_id: `cust-${n}`, rate_amount: '1', granted_credits: 5 });
      }),
    );
    const events = ids.flatMap((n) => [
      {
        customer_id: `cust-${n}`,
        code: 'api_calls',
        transaction_id: `a-${n}`,
        timestamp: '2028-01-10T10:00:00Z',
      },
      {
        customer_id: `cust-${n}`,
        code: 'api_calls',
        transaction_id: `b-${n}`,
        timestamp: '2028-01-20T10:00:00Z',
      },
      {
        customer_id: `cust-${n}`,
        code: 'storage',
        transaction_id: `s-${n}`,
        timestamp: '2028-01-15T10:00:00Z',
        properties: { gb: 5 + (n % 20) },
      },
    ]);
    await call('record_usage_batch', { events });
  }
  process.stderr.write(
    `setup: ${COUNT} subscriptions in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
  await rt.close();
}

/** The V8 CPU profiler of this process, on around the first run only (not the set-up). */
async function startProfile(): Promise<{ stop(file: string): Promise<void> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

async function main(): Promise<void> {
  const scratch = await scratchDatabase('billfold-bench-billing', PG_URL);
  try {
    await setup(scratch.database);
    const seconds: number[] = [];
    const cpus: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const rt = await open(await scratch.copy(`run_${r}`));
      const load = loadavg()[0]!;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const profiler = PROFILE && r === 0 ? await startProfile() : null;
      const summary = await runBilling(rt, AT);
      const s = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      if (profiler) await profiler.stop(PROFILE!);
      const cpu = (c.user + c.system) / 1e6;
      const draws = WALLETS
        ? Number(
            (
              await rt.db.kysely
                .selectFrom('wallet_transactions')
                .select((eb) => eb.fn.countAll().as('n'))
                .where('transaction_type', '=', 'outbound')
                .executeTakeFirstOrThrow()
            ).n,
          )
        : 0;
      await rt.close();
      if (WALLETS && draws !== Math.ceil(COUNT / 2))
        throw new Error(`run ${r}: ${draws} invoices drew from a wallet, not ${Math.ceil(COUNT / 2)}`);
      if (summary.errors.length || summary.invoices_created !== COUNT)
        throw new Error(`run ${r}: ${JSON.stringify({ ...summary, errors: summary.errors.slice(0, 3) })}`);
      seconds.push(s);
      cpus.push(cpu);
      process.stderr.write(
        `run ${r + 1}: ${summary.invoices_created} invoices in ${s.toFixed(2)} s, ${cpu.toFixed(2)} s of CPU (${((cpu * 1e6) / COUNT).toFixed(0)} µs per subscription), load average ${load.toFixed(2)} at start\n`,
      );
    }
    const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const median = mid(seconds);
    const cpu = mid(cpus);
    process.stdout.write(
      `billing run, ${PG_URL ? 'PostgreSQL' : 'SQLite'}: ${COUNT} subscriptions with usage${WALLETS ? ', wallets on half of them,' : ''} → ${COUNT} finalized invoices in ${median.toFixed(2)} s (median of ${RUNS}; ${Math.round(COUNT / median)} subscriptions/s); CPU ${cpu.toFixed(2)} s (median), ${((cpu * 1e6) / COUNT).toFixed(0)} µs per subscription\n` +
        `command: ${PG_URL ? 'BENCH_POSTGRES_URL=… ' : ''}node --import tsx bench/billing-run.ts --subscriptions ${COUNT} --runs ${RUNS}${WALLETS ? ' --wallets' : ''}\n`,
    );
  } finally {
    await scratch.cleanup();
  }
}

await main();
