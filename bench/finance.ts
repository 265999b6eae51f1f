/**
 * get_financial_summary (this month, and this year month by month) and get_dashboard over an
 * organization with BENCH_FINANCE_INVOICES (default 100,000) finalized invoices spread over the
 * last 24 months, 200 customers, two currencies and two tax rates, a third paid. The invoices
 * are written straight into the database in batches of 200 rows (the operations would take
 * minutes to make them, and these reports only read them); then the maintained financial totals
 * are built from them by rebuildFinanceTotals, the routine the migration that created those
 * totals backfills with (its time is printed apart from the seeding). Neither bulk load's
 * aftermath is timed with the reports: on PostgreSQL the statistics are refreshed (ANALYZE) as
 * autovacuum would, on SQLite the write-ahead log is checkpointed. Each report is called
 * BENCH_FINANCE_CALLS (default 50) times in process through the catalogue; prints p50/p99/max
 * and the process's CPU time per call (all its threads; on SQLite the database's work is in it).
 *
 *   node --import tsx bench/finance.ts
 *   BENCH_FINANCE_INVOICES=5000 BENCH_FINANCE_CALLS=10 node --import tsx bench/finance.ts
 */
import { sql } from 'kysely';
import { newId } from '../src/domain/ids.js';
import { rebuildFinanceTotals } from '../src/services/finance/totals.js';
import { inProcess, scratchDatabase } from './scratch.js';

const INVOICES = Number(process.env.BENCH_FINANCE_INVOICES ?? 100_000);
const CALLS = Number(process.env.BENCH_FINANCE_CALLS ?? 50);
const PG_URL = process.env.BENCH_POSTGRES_URL;
const DAY = 86_400_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main() {
  const { database, cleanup } = await scratchDatabase('billfold-finance', PG_URL);
  const { rt, call } = await inProcess(database);
  try {
    await call('update_organization', { timezone: 'UTC', default_currency: 'USD' });
    const orgId = (await call('get_organization', {})).organization.id as string;
    const customers: string[] = [];
    for (let i = 0; i < 200; i++)
      customers.push(
        (await call('create_customer', { external_id: `fin-${i}`, name: `Customer ${i}`, currency: 'USD' }))
          .customer.id,
      );
    const seedStarted = performance.now();
    const now = Date.now();
    const rows = [];
    for (let i = 0; i < INVOICES; i++) {
      const issued = now - Math.floor((i / INVOICES) * 730 * DAY);
      const currency = i % 10 === 0 ? 'EUR' : 'USD';
      const net = 1_000 + ((i * 7919) % 200_000);
      const rate = i % 3 === 0 ? '10' : '20';
      const tax = Math.round((net * Number(rate)) / 100);
      const paid = i % 3 === 0;
      const date = new Date(issued).toISOString().slice(0, 10);
      rows.push({
        id: newId('invoice'),
        organization_id: orgId,
        customer_id: customers[i % customers.length]!,
        external_id: null,
        number: `INV-B-${i}`,
        sequence: i + 1,
        invoice_type: 'one_off',
        status: 'finalized',
        payment_status: paid ? 'succeeded' : 'pending',
        currency,
        issued_at: issued,
        issuing_date: date,
        due_at: issued + 30 * DAY,
        due_date: new Date(issued + 30 * DAY).toISOString().slice(0, 10),
        net_payment_term: 30,
        sub_total_amount_cents: net,
        coupons_amount_cents: 0,
        taxes_amount_cents: tax,
        total_amount_cents: net + tax,
        amount_paid_cents: paid ? net + tax : 0,
        credited_amount_cents: 0,
        refunded_amount_cents: 0,
        amount_due_cents: paid ? 0 : net + tax,
        tax_breakdown: JSON.stringify([
          { code: `vat${rate}`, name: 'VAT', rate, taxable_amount_cents: net, amount_cents: tax },
        ]),
        discounts: '[]',
        billing_snapshot: JSON.stringify({
          customer: { name: `Customer ${i % 200}`, external_id: `fin-${i % 200}` },
        }),
        memo: null,
        metadata: '{}',
        search_text: `inv-b-${i}`,
        subscription_id: null,
        order_id: null,
        sent_count: 0,
        last_sent_at: null,
        finalized_at: issued,
        voided_at: null,
        void_reason: null,
        paid_at: paid ? issued + DAY : null,
        created_at: issued,
        updated_at: issued,
      });
      if (rows.length === 200 || i === INVOICES - 1) {
        const batch = rows.splice(0);
        await rt.db.kysely
          .insertInto('invoices')
          .values(batch as never)
          .execute();
      }
    }
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const rebuildStarted = performance.now();
    await rebuildFinanceTotals(rt.db.kysely, rt.db.dialect, orgId);
    const rebuildSeconds = (performance.now() - rebuildStarted) / 1000;
    // PostgreSQL plans from table statistics, which autovacuum refreshes a while after a bulk
    // load; without them the dashboard's MRR query walks every invoice looking for subscriptions.
    if (PG_URL) await sql`analyze`.execute(rt.db.kysely);
    // On SQLite the load left a write-ahead log of hundreds of megabytes, which the checkpoint
    // thread would be copying back (and syncing) on the other core while the reports are timed.
    else await sql`pragma wal_checkpoint(truncate)`.execute(rt.db.kysely);
    const year = new Date(now).toISOString().slice(0, 4);
    const cases: Array<[string, string, unknown]> = [
      ['get_financial_summary (this month)', 'get_financial_summary', {}],
      [`get_financial_summary (${year}, by month)`, 'get_financial_summary', { period: year }],
      ['get_dashboard', 'get_dashboard', {}],
    ];
    console.log(
      `${INVOICES} invoices seeded in ${seedSeconds.toFixed(1)} s on ${PG_URL ? 'PostgreSQL' : 'SQLite'}, ` +
        `totals rebuilt from them in ${rebuildSeconds.toFixed(1)} s; ${CALLS} calls each`,
    );
    for (const [label, op, args] of cases) {
      await call(op, args); // warm-up
      const times: number[] = [];
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < CALLS; i++) {
        const t0 = performance.now();
        await call(op, args);
        times.push(performance.now() - t0);
      }
      const cpu = process.cpuUsage(cpu0);
      const cpuMs = (cpu.user + cpu.system) / 1000 / CALLS;
      times.sort((a, b) => a - b);
      console.log(
        `${label}: p50 ${percentile(times, 50).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms, max ${times[times.length - 1]!.toFixed(1)} ms; ${cpuMs.toFixed(1)} ms of this process's CPU per call`,
      );
    }
  } finally {
    await rt.close();
    await cleanup();
  }
}

await main();
