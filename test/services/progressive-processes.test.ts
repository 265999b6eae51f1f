import { afterAll, expect, it } from 'vitest';
import { runProgressiveBilling } from '../../src/services/billing/progressive.js';
import { runBilling } from '../../src/services/billing/run.js';
import { caller, type Caller } from '../harness/billing.js';
import { deadlocksDetected, separateRuntime, startServer, type ServerProcess } from '../harness/servers.js';
import { describeDatabases } from '../harness/suite.js';

/**
 * Progressive billing with several instances. Plan `pp`, monthly in USD, no fee and no tax,
 * calls at 1.00; thresholds 10.00 and 25.00, then 20.00 recurring (levels 10, 25, 45, 65, 85…).
 */
const servers: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

/** A fixed sequence of pseudo-random numbers in [0, 1), so a failure can be replayed. */
function randomFrom(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

function shuffled<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function setUp(c: Caller, customers: string[], startedAt: string): Promise<void> {
  await c.call('update_organization', { timezone: 'UTC' });
  await c.call('create_billable_metric', { code: 'pp_calls', name: 'Calls', aggregation_type: 'count_agg' });
  await c.call('create_plan', {
    code: 'pp',
    name: 'PP',
    interval: 'monthly',
    currency: 'USD',
    amount: '0',
    tax_codes: [],
    charges: [{ billable_metric_code: 'pp_calls', charge_model: 'standard', properties: { amount: '1' } }],
    usage_thresholds: [{ amount: '10' }, { amount: '25' }, { amount: '20', recurring: true }],
  });
  for (const customer of customers) {
    await c.call('create_customer', { external_id: customer, name: customer, currency: 'USD' });
    await c.call('create_subscription', {
      customer_id: customer,
      plan_code: 'pp',
      external_id: `${customer}-sub`,
      started_at: startedAt,
    });
  }
}

const progressiveOf = async (c: Caller, customer: string) =>
  (
    await c.call('list_invoices', {
      customer_id: customer,
      invoice_type: 'progressive_billing',
      per_page: 100,
    })
  ).invoices as Array<{ id: string; status: string; total_amount_cents: number }>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeDatabases('progressive billing across processes', (t) => {
  it(
    'two servers ingesting out of order at once bill each threshold once, and the period’s invoice deducts exactly what they billed',
    { timeout: 300_000 },
    async () => {
      const org = await t.env.newOrganization();
      const c = caller(t.env, org.id);
      const customers = ['pp-a', 'pp-b', 'pp-c'];
      const now = new Date();
      const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
      await setUp(c, customers, new Date(monthStart).toISOString());
      const pair = await Promise.all([
        startServer(t.env.database, org.key, t.env.variables),
        startServer(t.env.database, org.key, t.env.variables),
      ]);
      servers.push(...pair);
      const random = randomFrom(20261202);
      let n = 0;
      // Each round takes every customer's usage past one more level and short of the next:
      // 12 (level 10), 30 (25), 50 (45), 70 (65).
      const targets = [12, 30, 50, 70];
      let sent = 0;
      for (const [round, target] of targets.entries()) {
        const span = Date.now() - 1000 - monthStart;
        const events = customers.flatMap((customer) =>
          Array.from({ length: target - sent }, () => ({
            transaction_id: `pp-${n++}`,
            customer_id: customer,
            code: 'pp_calls',
            // Anywhere in the period so far: later events often carry earlier dates.
            timestamp: new Date(monthStart + Math.floor(random() * span)).toISOString(),
          })),
        );
        const batches: (typeof events)[] = [];
        for (const e of shuffled(events, random)) {
          if (!batches.length || batches[batches.length - 1]!.length === 3) batches.push([]);
          batches[batches.length - 1]!.push(e);
        }
        // Every batch at once, half to each server: both servers' threshold checks run on the
        // same subscriptions while usage still arrives.
        const results = await Promise.all(
          batches.map((events, i) => pair[i % 2]!.call('record_usage_batch', { events })),
        );
        expect(results.reduce((s, r) => s + r.summary.created, 0)).toBe(events.length);
        sent = target;
        // Each server checks a moment after its batches commit; wait for the round's invoices.
        for (let i = 0; i < 300; i++) {
          const counts = await Promise.all(customers.map(async (x) => (await progressiveOf(c, x)).length));
          if (counts.every((k) => k >= round + 1)) break;
          await sleep(100);
        }
      }
      // Long enough for a late second invoice of any level to show up.
      await sleep(1500);
      await Promise.all(pair.map((x) => x.stop()));
      for (const customer of customers) {
        const invoices = await progressiveOf(c, customer);
        expect(invoices, customer).toHaveLength(4);
        expect(invoices.every((i) => i.status === 'finalized')).toBe(true);
        const sub = (await c.call('get_subscription', { subscription_id: `${customer}-sub` })).subscription;
        const levels = await t.env.rt.db.kysely
          .selectFrom('progressive_billings')
          .select(['threshold_cents', 'invoice_id'])
          .where('subscription_id', '=', sub.id)
          .orderBy('threshold_cents')
          .execute();
        expect(levels.map((l) => Number(l.threshold_cents))).toEqual([1000, 2500, 4500, 6500]);
        expect(new Set(levels.map((l) => l.invoice_id))).toEqual(new Set(invoices.map((i) => i.id)));
        // What they billed: the usage when each level was billed, less the ones before it.
        const billed = invoices.reduce((s, i) => s + i.total_amount_cents, 0);
        expect(billed).toBeGreaterThanOrEqual(6500);
        expect(billed).toBeLessThanOrEqual(7000);
        // The period's invoice: 70 calls = 70.00, less exactly what they billed.
        const { invoice } = await c.call('generate_invoice', { subscription_id: `${customer}-sub` });
        const line = invoice.lines.find((l: any) => l.details.kind === 'charge');
        expect(line.details).toMatchObject({
          units: '70',
          period_amount: '70',
          progressive_billed: (billed / 100).toFixed(2),
        });
        expect(line.amount_cents).toBe(7000 - billed);
        expect(invoice.total_amount_cents + billed).toBe(7000);
      }
    },
  );

  it(
    'threshold checks at the same time as a billing run over the same periods neither deadlock nor bill twice',
    { timeout: 300_000 },
    async () => {
      const org = await t.env.newOrganization();
      const c = caller(t.env, org.id);
      // September 2026 has ended; the run bills it at its end while the checks look at it a
      // moment before. 40 subscriptions share one invoice numbering (the organization's).
      const customers = Array.from({ length: 40 }, (_, i) => `rb-${i}`);
      await setUp(c, customers, '2026-09-01');
      for (const [i, customer] of customers.entries())
        await c.call('record_usage_batch', {
          events: Array.from({ length: 12 + (i % 3) * 15 }, (_, k) => ({
            transaction_id: `rb-${i}-${k}`,
            customer_id: customer,
            code: 'pp_calls',
            timestamp: `2026-09-${String(1 + (k % 28)).padStart(2, '0')}T10:00:00Z`,
          })),
        });
      const end = Date.parse('2026-10-01T00:00:00Z');
      // A runtime of its own, closed afterwards: its connections' statistics (deadlocks
      // PostgreSQL detected and broke) are written when they end.
      const rt = await separateRuntime(t.env);
      const deadlocks = () => deadlocksDetected(t.env);
      const before = await deadlocks();
      // The run bills its batch in the order the subscriptions were made; besides a check of
      // all of them, each of the last dozen is checked on its own at once, so checks claim
      // periods the run's transaction reaches after it has numbered invoices.
      const late = (
        await t.env.rt.db.kysely
          .selectFrom('subscriptions')
          .select('customer_id')
          .where('organization_id', '=', org.id)
          .orderBy('created_at')
          .orderBy('id')
          .execute()
      )
        .slice(-12)
        .map((r) => r.customer_id);
      let run: Awaited<ReturnType<typeof runBilling>>;
      let checks: Awaited<ReturnType<typeof runProgressiveBilling>>[];
      try {
        [run, ...checks] = await Promise.all([
          runBilling(rt, end),
          runProgressiveBilling(rt, end - 1),
          ...late.map((id) =>
            runProgressiveBilling(rt, end - 1, { organizationId: org.id, customerIds: [id] }),
          ),
        ]);
      } finally {
        await rt.close();
      }
      expect(run.errors).toEqual([]);
      for (const check of checks) expect(check.errors).toEqual([]);
      expect(await deadlocks()).toBe(before);
      for (const [i, customer] of customers.entries()) {
        // 12, 27 or 42 calls in September: 12.00, 27.00 or 42.00 in all, whoever billed first.
        const usage = (12 + (i % 3) * 15) * 100;
        const { invoices } = await c.call('list_invoices', { customer_id: customer, per_page: 100 });
        const live = invoices.filter((x: any) => x.status === 'finalized');
        expect(
          live.reduce((s: number, x: any) => s + x.total_amount_cents, 0),
          customer,
        ).toBe(usage);
        const own = live.filter((x: any) => x.invoice_type === 'subscription');
        expect(own, customer).toHaveLength(1);
        expect(live.length - own.length).toBeLessThanOrEqual(1);
      }
    },
  );
});
