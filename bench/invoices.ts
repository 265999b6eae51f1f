/**
 * Invoices per second: create + finalize invoices of 10 lines each, through the operation
 * catalogue (validation, one transaction, activity and API log) as every door runs them.
 *
 *   node --import tsx bench/invoices.ts [--count N] [--postgres postgres://…]
 *
 * SQLite runs on a temporary file (synchronous FULL, the default, and NORMAL); PostgreSQL runs
 * on a fresh database created next to the URL given (or BILLFOLD_TEST_POSTGRES_URL), sequentially
 * and with 8 requests in flight.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { bootstrap, localPrincipal } from '../src/interfaces/bootstrap.js';
import { dispatch } from '../src/interfaces/dispatch.js';
import { createLogger } from '../src/interfaces/logging.js';
import { createRuntime, type Runtime } from '../src/interfaces/runtime.js';
import { Decimal } from '../src/domain/decimal.js';
import { createServiceContext, type Principal } from '../src/services/context.js';
import { resolveCustomer } from '../src/services/customers.js';
import { createInvoice, type InvoiceLineInput } from '../src/services/invoices.js';
import { scratchDatabase } from './scratch.js';

const { values } = parseArgs({
  options: { count: { type: 'string' }, postgres: { type: 'string' } },
});
const COUNT = Number(values.count ?? 2000);
const PG_URL = values.postgres ?? process.env.BILLFOLD_TEST_POSTGRES_URL;

function lines(i: number) {
  return [
    { product_code: 'consulting_day', quantity: 1 + (i % 5) },
    { product_code: 'licence', quantity: '12' },
    { product_code: 'tokens', quantity: String(1000 + i) },
    { description: 'Travel', unit_amount: '123.45', tax_codes: [] },
    { description: 'Hotel', quantity: 2, unit_amount: '89.90', tax_codes: ['vat10'] },
    { product_code: 'support', quantity: 1 },
    { description: 'Materials', quantity: '3.5', unit_amount: '19.99' },
    { product_code: 'licence', quantity: '3' },
    { description: 'Training', unit_amount: '450' },
    { product_code: 'tokens', quantity: '250000' },
  ];
}

async function setup(rt: Runtime): Promise<Principal> {
  const boot = await bootstrap(rt, { createAdminKey: false });
  const principal = localPrincipal(boot.organizationId, 'bench');
  const call = async (operation: string, args: unknown) => {
    const { outcome } = await dispatch(rt, { principal, door: 'http_api', operation, args });
    if (!outcome.ok) throw new Error(`${operation}: ${outcome.error.message}`);
    return outcome.output;
  };
  await call('create_tax', { code: 'vat20', name: 'VAT', rate: '20', applied_to_organization: true });
  await call('create_tax', { code: 'vat10', name: 'VAT reduced', rate: '10' });
  await call('create_customer', {
    external_id: 'bench',
    name: 'Bench Corp',
    email: 'b@bench.test',
    currency: 'USD',
  });
  await call('create_product', {
    code: 'consulting_day',
    name: 'Consulting day',
    unit_amount: '1200',
    currency: 'USD',
  });
  await call('create_product', { code: 'licence', name: 'Licence', unit_amount: '49.99', currency: 'USD' });
  await call('create_product', { code: 'tokens', name: 'Tokens', unit_amount: '0.0000025', currency: 'USD' });
  await call('create_product', {
    code: 'support',
    name: 'Support',
    unit_amount: '300',
    currency: 'USD',
    tax_codes: ['vat10'],
  });
  return principal;
}

async function run(
  rt: Runtime,
  principal: Principal,
  mode: 'one_call' | 'two_calls',
  count: number,
  inFlight: number,
): Promise<{ perSecond: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  let next = 0;
  const one = async (i: number) => {
    const t0 = performance.now();
    if (mode === 'one_call') {
      const { outcome } = await dispatch(rt, {
        principal,
        door: 'http_api',
        operation: 'create_invoice',
        args: { customer_id: 'bench', lines: lines(i), status: 'finalized' },
      });
      if (!outcome.ok) throw new Error(outcome.error.message);
    } else {
      const { outcome } = await dispatch(rt, {
        principal,
        door: 'http_api',
        operation: 'create_invoice',
        args: { customer_id: 'bench', lines: lines(i) },
      });
      if (!outcome.ok) throw new Error(outcome.error.message);
      const id = (outcome.output.invoice as { id: string }).id;
      const fin = await dispatch(rt, {
        principal,
        door: 'http_api',
        operation: 'finalize_invoice',
        args: { invoice_id: id },
      });
      if (!fin.outcome.ok) throw new Error(fin.outcome.error.message);
    }
    latencies.push(performance.now() - t0);
  };
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) await one(next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    perSecond: count / seconds,
    p50: latencies[Math.floor(latencies.length * 0.5)]!,
    p99: latencies[Math.floor(latencies.length * 0.99)]!,
  };
}

/**
 * How billing runs will make invoices: the service's createInvoice, finalized at once, many per
 * transaction (so one commit covers a batch), without the per-request validation and API log.
 */
async function runBatched(rt: Runtime, principal: Principal, count: number, batch: number): Promise<number> {
  const started = performance.now();
  for (let done = 0; done < count; done += batch) {
    await rt.db.kysely.transaction().execute(async (trx) => {
      const ctx = createServiceContext(rt, trx, principal, 'system', 'bench');
      const customer = await resolveCustomer(ctx, 'bench');
      for (let i = done; i < Math.min(count, done + batch); i++) {
        const ls: InvoiceLineInput[] = lines(i).map((l) => ({
          ...l,
          quantity: l.quantity === undefined ? undefined : Decimal.parse(l.quantity),
          unit_amount: l.unit_amount === undefined ? undefined : Decimal.parse(l.unit_amount),
        }));
        await createInvoice(ctx, { customer, lines: ls, invoice_type: 'subscription', status: 'finalized' });
      }
    });
  }
  return count / ((performance.now() - started) / 1000);
}

async function bench(label: string, database: string, config: Record<string, string>, inFlight: number[]) {
  const cfg = loadConfig({ BILLFOLD_LOG_LEVEL: 'silent', BILLFOLD_DATABASE: database, ...config });
  const rt = await createRuntime(cfg, { logger: createLogger('silent') });
  try {
    const principal = await setup(rt);
    await run(rt, principal, 'one_call', Math.min(300, COUNT), 1); // warm-up
    for (const n of inFlight) {
      for (const mode of ['one_call', 'two_calls'] as const) {
        const r = await run(rt, principal, mode, COUNT, n);
        console.log(
          `${label.padEnd(26)} ${mode.padEnd(10)} in flight ${String(n).padStart(2)}  ${r.perSecond.toFixed(0).padStart(6)} invoices/s  ${(r.perSecond * 10).toFixed(0).padStart(7)} lines/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms`,
        );
      }
    }
    const batched = await runBatched(rt, principal, COUNT, 100);
    console.log(
      `${label.padEnd(26)} ${'batched'.padEnd(10)} 100 per tx    ${batched.toFixed(0).padStart(6)} invoices/s  ${(batched * 10).toFixed(0).padStart(7)} lines/s  (createInvoice as billing runs call it)`,
    );
  } finally {
    await rt.close();
  }
}

console.log(
  `bench/invoices: ${COUNT} invoices of 10 lines per run, create_invoice(status finalized) = one_call, create_invoice + finalize_invoice = two_calls`,
);
console.log(
  `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString()}`,
);
const dir = mkdtempSync(join(tmpdir(), 'billfold-bench-'));
try {
  await bench(
    'sqlite synchronous=FULL',
    join(dir, 'full.db'),
    { BILLFOLD_SQLITE_SYNCHRONOUS: 'FULL' },
    [1, 8],
  );
  await bench(
    'sqlite synchronous=NORMAL',
    join(dir, 'normal.db'),
    { BILLFOLD_SQLITE_SYNCHRONOUS: 'NORMAL' },
    [1],
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (PG_URL) {
  const scratch = await scratchDatabase('billfold-bench', PG_URL);
  try {
    await bench('postgres', scratch.database, {}, [1, 8]);
  } finally {
    await scratch.cleanup();
  }
} else {
  console.log('postgres: skipped (pass --postgres postgres://… or set BILLFOLD_TEST_POSTGRES_URL)');
}
