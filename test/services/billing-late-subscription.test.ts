import { beforeAll, expect, it } from 'vitest';
import { runBilling } from '../../src/services/billing/run.js';
import { caller, utc, type Caller } from '../harness/billing.js';
import { describeDatabases } from '../harness/suite.js';

/**
 * Events that name only an external_subscription_id no subscription has yet are stored and
 * flagged UNKNOWN_SUBSCRIPTION; once a subscription with that external_id exists they count for
 * its customer — in get_customer_usage, list/get_event, generate_invoice and billing runs.
 *
 * Organization in UTC; clock at 20 March 2028. Plan `metered`: 10.00 a month in arrears, calls
 * at 2.00. Two calls on 5 and 6 March name only `late-sub`; customer `late` subscribes as
 * `late-sub` from 1 March afterwards: March = 10.00 + 2 × 2.00 = 14.00.
 */
describeDatabases('usage sent before its subscription existed', (t) => {
  let c: Caller;
  let clock = utc('2028-03-20T00:00:00Z');
  const march = { from: '2028-03-01', to: '2028-04-01' };
  const calls = async (customer: string) =>
    (await c.call('get_customer_usage', { customer_id: customer, ...march })).metrics.find(
      (m: any) => m.code === 'calls',
    );

  beforeAll(async () => {
    const org = await t.env.newOrganization();
    c = caller(t.env, org.id, () => clock);
    await c.call('update_organization', { timezone: 'UTC' });
    await c.call('create_billable_metric', { code: 'calls', name: 'Calls', aggregation_type: 'count_agg' });
    await c.call('create_plan', {
      code: 'metered',
      name: 'Metered',
      interval: 'monthly',
      currency: 'USD',
      amount: '10',
      pay_in_advance: false,
      charges: [{ billable_metric_code: 'calls', charge_model: 'standard', properties: { amount: '2' } }],
    });
    for (const customer of ['late', 'first', 'second'])
      await c.call('create_customer', { external_id: customer, name: customer, currency: 'USD' });
  });

  it('stores and flags them, counted for no one while the subscription does not exist', async () => {
    for (const [id, sub, ts] of [
      ['late-1', 'late-sub', '2028-03-05T10:00:00Z'],
      ['late-2', 'late-sub', '2028-03-06T10:00:00Z'],
      ['never-1', 'never-sub', '2028-03-07T10:00:00Z'],
    ] as const) {
      const out = await c.call('record_usage', {
        external_subscription_id: sub,
        code: 'calls',
        transaction_id: id,
        timestamp: ts,
      });
      expect(out.event.flags).toEqual(['UNKNOWN_SUBSCRIPTION']);
    }
    expect(await calls('late')).toMatchObject({ units: '0', event_count: 0 });
  });

  it('once the subscription exists they count for its customer', async () => {
    await c.call('create_subscription', {
      customer_id: 'late',
      plan_code: 'metered',
      external_id: 'late-sub',
      started_at: '2028-03-01',
    });
    const usage = await calls('late');
    expect(usage).toMatchObject({ units: '2', event_count: 2 });
    // The charge so far this period: 2 × 2.00.
    expect(usage.charges).toMatchObject([{ subscription_external_id: 'late-sub', units: '2', amount: '4' }]);

    const { event } = await c.call('get_event', { event_id: 'late-1' });
    expect(event).toMatchObject({
      external_customer_id: 'late',
      external_subscription_id: 'late-sub',
      flags: [],
    });
    expect(event.customer_id).toMatch(/^cus_/);
    const { events } = await c.call('list_events', { customer_id: 'late' });
    expect(events.map((e: any) => e.transaction_id).sort()).toEqual(['late-1', 'late-2']);
    // An event for a subscription that still does not exist stays flagged.
    expect((await c.call('get_event', { event_id: 'never-1' })).event).toMatchObject({
      customer_id: null,
      flags: ['UNKNOWN_SUBSCRIPTION'],
    });
  });

  it('generate_invoice and the billing run bill them', async () => {
    const { invoice } = await c.call('generate_invoice', {
      customer_id: 'late',
      subscription_id: 'late-sub',
      period: march,
    });
    const charge = invoice.lines.find((l: any) => l.details.kind === 'charge');
    expect(charge).toMatchObject({ unit_amount: '4', details: { units: '2', event_count: 2 } });
    expect(invoice.total_amount_cents).toBe(1400);

    // The run at the period end refreshes that draft (its own way of loading usage keys) and
    // finalizes it with the same usage.
    clock = utc('2028-04-01T00:00:00Z');
    const summary = await runBilling({ ...t.env.rt, now: () => clock }, clock);
    expect(summary.errors).toEqual([]);
    expect(summary.invoices_refreshed).toBe(1);
    const { invoice: final } = await c.call('get_invoice', { invoice_id: invoice.id });
    expect(final).toMatchObject({ status: 'finalized', total_amount_cents: 1400 });
    clock = utc('2028-03-20T00:00:00Z');
  });

  it('they belong to the first subscription under that external_id, not to a later reuse', async () => {
    await c.call('record_usage', {
      external_subscription_id: 'shared-sub',
      code: 'calls',
      transaction_id: 'shared-1',
      timestamp: '2028-03-08T10:00:00Z',
    });
    await c.call('create_subscription', {
      customer_id: 'first',
      plan_code: 'metered',
      external_id: 'shared-sub',
      started_at: '2028-03-01',
    });
    await c.call('terminate_subscription', { subscription_id: 'shared-sub' });
    await c.call('create_subscription', {
      customer_id: 'second',
      plan_code: 'metered',
      external_id: 'shared-sub',
      started_at: '2028-03-20',
    });
    expect(await calls('first')).toMatchObject({ units: '1' });
    expect(await calls('second')).toMatchObject({ units: '0' });
    expect((await c.call('get_event', { event_id: 'shared-1' })).event).toMatchObject({
      external_customer_id: 'first',
    });
  });
});
