import { beforeAll, expect, it } from 'vitest';
import { createServiceContext, type ServiceContext } from '../../src/services/context.js';
import { billTermination, creditUnusedAdvanceFee, nextBillingAt } from '../../src/services/billing/engine.js';
import { loadSubscription, resolvePlan } from '../../src/services/billing/load.js';
import { runBilling } from '../../src/services/billing/run.js';
import { caller, utc, type Caller } from '../harness/billing.js';
import { describeDatabases } from '../harness/suite.js';

/**
 * The engine functions the subscription lifecycle calls, at chosen moments: what a subscription
 * terminated mid-period still owes, and the unused part of a fee paid in advance.
 */
describeDatabases('termination billing and advance-fee credit', (t) => {
  let c: Caller;
  let ctx: ServiceContext;
  beforeAll(async () => {
    const org = await t.env.newOrganization();
    c = caller(t.env, org.id);
    ctx = createServiceContext(t.env.rt, t.env.rt.db.kysely, c.principal, 'system', 'req_termination_test');
    await c.call('update_organization', { timezone: 'UTC' });
    await c.call('create_billable_metric', { code: 'calls', name: 'Calls', aggregation_type: 'count_agg' });
    await c.call('create_plan', {
      code: 'adv',
      name: 'Advance',
      interval: 'monthly',
      currency: 'USD',
      amount: '31',
      pay_in_advance: true,
      charges: [{ billable_metric_code: 'calls', charge_model: 'standard', properties: { amount: '2' } }],
    });
    await c.call('create_customer', { external_id: 'term', name: 'Term Co', currency: 'USD' });
    await c.call('create_subscription', {
      customer_id: 'term',
      plan_code: 'adv',
      external_id: 'term-sub',
      started_at: '2028-03-01',
    });
    for (const [i, ts] of ['2028-03-05T00:00:00Z', '2028-03-12T00:00:00Z', '2028-03-20T00:00:00Z'].entries())
      await c.call('record_usage', {
        customer_id: 'term',
        code: 'calls',
        transaction_id: `t-${i}`,
        timestamp: ts,
      });
  });

  it('bills usage to the termination instant and credits the unused advance fee', async () => {
    const start = await runBilling(t.env.rt, utc('2028-03-01'));
    expect(start.invoices_created).toBe(1); // March's fee, in advance: 31.00
    const sub = await loadSubscription(ctx, 'term-sub');
    // Terminated on 15 March at noon: 15 days used (the 15th counts), 16 unused.
    const at = utc('2028-03-15T12:00:00Z');
    const ids = await billTermination(ctx, { ...sub, status: 'terminated', terminatedAt: at }, at);
    expect(ids).toHaveLength(1);
    const { invoice } = await c.call('get_invoice', { invoice_id: ids[0] });
    // Usage up to the instant: the calls of the 5th and 12th, not the 20th; no fee (paid in advance).
    expect(invoice.lines.map((l: any) => [l.details.kind, l.unit_amount])).toEqual([['charge', '4']]);
    expect(invoice.lines[0].to).toBe('2028-03-15T12:00:00.000Z');
    const noteId = await creditUnusedAdvanceFee(ctx, { ...sub, status: 'terminated', terminatedAt: at }, at);
    expect(noteId).toMatch(/^cn_/);
    const { credit_note } = await c.call('get_credit_note', { credit_note_id: noteId });
    // 31.00 × 16 / 31 = 16.00
    expect(credit_note).toMatchObject({ type: 'credit', total_amount_cents: 1600 });
    // Twice: nothing left to bill or credit.
    expect(await billTermination(ctx, { ...sub, status: 'terminated', terminatedAt: at }, at)).toEqual([]);
    expect(
      await creditUnusedAdvanceFee(ctx, { ...sub, status: 'terminated', terminatedAt: at }, at),
    ).toBeNull();
  });

  it('nextBillingAt: the start for in-advance plans, then each period end, then the end instant', async () => {
    const plan = await resolvePlan(ctx, 'adv');
    const sub = await loadSubscription(ctx, 'term-sub');
    expect(nextBillingAt(sub, plan, sub.startedAt)).toBe(utc('2028-03-01'));
    expect(nextBillingAt(sub, plan, sub.startedAt + 1)).toBe(utc('2028-04-01'));
    const ending = { ...sub, endingAt: utc('2028-04-10T08:00:00Z') };
    expect(nextBillingAt(ending, plan, utc('2028-04-01') + 1)).toBe(utc('2028-04-10T08:00:00Z'));
    expect(nextBillingAt(ending, plan, utc('2028-04-10T08:00:00Z') + 1)).toBeNull();
  });
});
