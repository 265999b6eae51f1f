import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBilling } from '../../src/services/billing/run.js';
import { caller } from '../harness/billing.js';
import { startEnvironment, type TestEnvironment } from '../harness/environment.js';

/**
 * Lookups by key, and the events that need attention, must be reached through an index. SQLite plans a lookup written as
 * `id IN (…) OR external_id IN (…)` as a walk over every row of the organization, which the tests'
 * small organizations never notice and an organization with 100,000 customers pays on every
 * usage batch (20 ms each, measured). This test records every statement the operations below
 * prepare and asks SQLite how it would run each: none may walk a table or all of an
 * organization's customers, subscriptions, invoices or events.
 */
const WALKS = [
  /^SCAN (customers|subscriptions|invoices|usage_events|billable_metrics)\b/,
  /^SEARCH (customers|subscriptions|invoices|usage_events|billable_metrics) USING (COVERING )?INDEX \w+ \(organization_id=\?\)$/,
];

describe('SQLite plans of lookups by key', () => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await startEnvironment('sqlite');
  });
  afterAll(async () => {
    await env?.close();
  });

  it('no lookup by id, external id or number walks an organization', async () => {
    const org = await env.newOrganization();
    const c = caller(env, org.id);
    const { customer } = await c.call('create_customer', {
      external_id: 'plans-co',
      name: 'Plans',
      currency: 'USD',
    });
    await c.call('create_billable_metric', { code: 'calls', name: 'Calls', aggregation_type: 'count_agg' });
    await c.call('create_plan', {
      code: 'plans-basic',
      name: 'Basic',
      interval: 'monthly',
      currency: 'USD',
      amount: '10',
      charges: [{ billable_metric_code: 'calls', charge_model: 'standard', properties: { amount: '0.01' } }],
    });
    await c.call('create_subscription', {
      customer_id: 'plans-co',
      plan_code: 'plans-basic',
      external_id: 'plans-sub',
    });
    // Three of each: SQLite plans `id IN (?, ?)` as lookups by id, and longer lists (a billing
    // run asks for hundreds) by whatever index starts with organization_id.
    for (const n of [2, 3]) {
      await c.call('create_customer', { external_id: `plans-co-${n}`, name: `Plans ${n}`, currency: 'USD' });
      await c.call('create_subscription', {
        customer_id: `plans-co-${n}`,
        plan_code: 'plans-basic',
        external_id: `plans-sub-${n}`,
      });
    }
    for (const code of ['plans-off-1', 'plans-off-2', 'plans-off-3']) {
      await c.call('create_coupon', {
        code,
        name: code,
        coupon_type: 'fixed_amount',
        amount: '1',
        amount_currency: 'USD',
        frequency: 'forever',
      });
      await c.call('apply_coupon', { customer_id: 'plans-co', coupon_code: code });
    }
    const { invoice } = await c.call('create_invoice', {
      customer_id: 'plans-co',
      currency: 'USD',
      external_id: 'plans-inv',
      lines: [{ description: 'Set-up', quantity: '1', unit_amount: '5' }],
      status: 'finalized',
    });

    // Statements are prepared once and cached: everything prepared from here on is what the
    // calls below run for the first time.
    const raw = env.rt.db.sqlite!;
    const prepared = new Set<string>();
    const prepare = raw.prepare;
    raw.prepare = function (this: typeof raw, source: string) {
      prepared.add(source);
      return prepare.call(this, source);
    } as typeof raw.prepare;
    try {
      const recorded = await c.call('record_usage_batch', {
        events: [
          { transaction_id: 'plans-1', customer_id: 'plans-co', code: 'calls' },
          { transaction_id: 'plans-2', customer_id: customer.id, code: 'calls' },
          { transaction_id: 'plans-3', external_subscription_id: 'plans-sub', code: 'calls' },
        ],
      });
      expect(recorded.summary).toMatchObject({ created: 3, failed: 0 });
      const analytics = await c.call('get_usage_analytics', {
        group_by: 'customer',
        from: new Date(Date.now() - 86_400_000).toISOString(),
        to: new Date(Date.now() + 86_400_000).toISOString(),
      });
      expect(analytics.breakdown).toHaveLength(1);
      const batch = await c.call('batch_get_invoices', {
        invoice_ids: [invoice.number, 'plans-inv', invoice.id],
      });
      expect(batch.invoices).toHaveLength(1);
      expect((await c.call('get_mrr', { subscription_id: 'plans-sub' })).subscription_id).toBe('plans-sub');
      // A billing run a month on reads its subscriptions, plans and coupons by id.
      const later = Date.now() + 40 * 86_400_000;
      const run = await runBilling({ ...env.rt, now: () => later }, later);
      expect(run).toMatchObject({ errors: [] });
      expect(run.invoices_created).toBeGreaterThan(0);
      // Events needing attention are found through their partial index, not by walking all.
      const attention = await c.call('get_needs_attention', {});
      expect(attention.missing_volume.event_count).toBe(0);
      // One customer's events, of one code or all: through their series, not the organization's.
      expect((await c.call('list_events', { customer_id: 'plans-co' })).events).toHaveLength(3);
      expect((await c.call('list_events', { customer_id: 'plans-co', code: 'calls' })).events).toHaveLength(
        3,
      );
      const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
      const usage = await c.call('get_customer_usage', {
        customer_id: 'plans-co',
        metric_code: 'calls',
        // Partial hours at both ends: their events are read one by one.
        from: new Date(hour - 1_800_000).toISOString(),
        to: new Date(hour + 5_400_000).toISOString(),
      });
      expect(usage.metrics[0].units).toBe('3');
      // A metric created after its events rebuilds from them, series by series.
      await c.call('record_usage_batch', {
        events: [
          { transaction_id: 'plans-4', customer_id: 'plans-co', code: 'seats', properties: { user: 'a' } },
        ],
      });
      await c.call('create_billable_metric', {
        code: 'seats',
        name: 'Seats',
        aggregation_type: 'unique_count_agg',
        field_name: 'user',
        recurring: true,
      });
    } finally {
      raw.prepare = prepare;
    }

    // A range over a partial index reads only the rows the index holds (the events that need
    // attention, for one): that is no walk.
    const partial = new Set(
      raw
        .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '% WHERE %'`)
        .pluck()
        .all() as string[],
    );
    const walks: string[] = [];
    const bySeries: string[] = [];
    for (const source of prepared) {
      if (!/^\s*(SELECT|WITH|INSERT|UPDATE|DELETE)\b/i.test(source)) continue;
      // The plan does not depend on the values (no statistics are gathered): nulls will do.
      const placeholders = source.replace(/'(?:[^']|'')*'/g, '').split('?').length - 1;
      const steps = raw
        .prepare(`EXPLAIN QUERY PLAN ${source}`)
        .all(...new Array(placeholders).fill(null)) as Array<{ detail: string }>;
      for (const { detail } of steps)
        if (WALKS.some((w) => w.test(detail)) && !partial.has(/INDEX (\w+)/.exec(detail)?.[1] ?? ''))
          walks.push(`${detail}\n    in: ${source.slice(0, 300)}`);
      // A read of some customers' events names their series: it must go through a series index
      // (the organization's time index holds every customer's events).
      if (/FROM "?usage_events"? WHERE .*"?series"? in/i.test(source)) {
        bySeries.push(source);
        const events = steps.filter((s) => /^SEARCH usage_events /.test(s.detail));
        if (!events.every((s) => /USING INDEX usage_events_series(_unique)? /.test(s.detail)))
          walks.push(`${events.map((s) => s.detail).join(' | ')}\n    in: ${source.slice(0, 300)}`);
      }
    }
    expect(prepared.size).toBeGreaterThan(5);
    // Edge hours, unique values' history, event lists and the rebuild each read by series.
    expect(bySeries.length).toBeGreaterThanOrEqual(4);
    expect(walks).toEqual([]);
  });
});
