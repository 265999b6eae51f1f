import { beforeAll, expect, it } from 'vitest';
import { runBilling } from '../../src/services/billing/run.js';
import { caller, utc, type Caller } from '../harness/billing.js';
import { describeDatabases } from '../harness/suite.js';

/**
 * Upgrades and downgrades mid-period, end to end: billing runs and update_subscription at
 * chosen moments, every invoice and credit note against amounts worked by hand.
 *
 * Organization in UTC, no taxes. Metric `calls` (count). Plans, monthly, fee in advance:
 * - basic: 30.00, calls at 1.00;
 * - pro:   60.00, calls at 0.50 (a dearer plan: an upgrade from basic, a downgrade back);
 * and `metered`: 20.00 a month in arrears, calls at 1.00.
 *
 * Customer `up` starts on basic on 1 March 2028 and upgrades to pro on 16 March at 12:00.
 * Customer `down` starts on pro on 1 March 2028 and asks for basic at the same moment.
 * Customer `arr` starts on metered on 1 March 2028 and upgrades to pro at the same moment.
 *
 * The rule for the change day of an upgrade: the new plan pays it (its subscription is active
 * from that day, and a day counts when the subscription is active at any moment of it), so the
 * old plan credits it. March has 31 days; the old plan used 1–15 March (15 days) and credits
 * 16–31 March (16 days): 30.00 × 16 / 31 = 15.4838… → 15.48, the unused share of what the fee
 * line charged, rounded half-up once (engine.creditUnusedAdvanceFee). The new plan's first
 * advance fee is 60.00 × 16 / 31 = 30.9677… → 30.97 (lines.prorate: half-up once, from the
 * exact fraction). In arrears, the old plan's termination invoice holds its fee for 1–15 March:
 * 20.00 × 15 / 31 = 9.6774… → 9.68.
 */
const iso = (s: string) => new Date(utc(s)).toISOString();

describeDatabases('plan changes mid-period', (t) => {
  let c: Caller;
  let clock = utc('2028-02-20');
  const run = (at: string) => {
    clock = utc(at);
    return runBilling({ ...t.env.rt, now: () => clock }, clock);
  };
  const invoicesOf = async (customer: string) => {
    const { invoices } = await c.call('list_invoices', { customer_id: customer, per_page: 100 });
    return [...invoices].sort((a: any, b: any) => (a.created_at < b.created_at ? -1 : a.id < b.id ? -1 : 1));
  };
  const linesOf = (inv: any) =>
    inv.lines.map((l: any) => [l.details.kind, l.unit_amount, l.details.units ?? l.details.days ?? null]);
  let upOld: string;
  let downOld: string;
  let arrOld: string;

  beforeAll(async () => {
    const org = await t.env.newOrganization();
    c = caller(t.env, org.id, () => clock);
    await c.call('update_organization', { timezone: 'UTC' });
    await c.call('create_billable_metric', { code: 'calls', name: 'Calls', aggregation_type: 'count_agg' });
    for (const [code, amount, perCall] of [
      ['basic', '30', '1'],
      ['pro', '60', '0.5'],
    ] as const)
      await c.call('create_plan', {
        code,
        name: code === 'basic' ? 'Basic' : 'Pro',
        interval: 'monthly',
        currency: 'USD',
        amount,
        pay_in_advance: true,
        charges: [
          { billable_metric_code: 'calls', charge_model: 'standard', properties: { amount: perCall } },
        ],
      });
    await c.call('create_plan', {
      code: 'metered',
      name: 'Metered',
      interval: 'monthly',
      currency: 'USD',
      amount: '20',
      pay_in_advance: false,
      charges: [{ billable_metric_code: 'calls', charge_model: 'standard', properties: { amount: '1' } }],
    });
    for (const [customer, plan] of [
      ['up', 'basic'],
      ['down', 'pro'],
      ['arr', 'metered'],
    ] as const) {
      await c.call('create_customer', { external_id: customer, name: customer, currency: 'USD' });
      const { subscription } = await c.call('create_subscription', {
        customer_id: customer,
        plan_code: plan,
        external_id: `${customer}-sub`,
        started_at: '2028-03-01',
      });
      if (customer === 'up') upOld = subscription.id;
      else if (customer === 'down') downOld = subscription.id;
      else arrOld = subscription.id;
    }
    const events: Array<[string, string]> = [
      ['up', '2028-03-05T10:00:00Z'], // basic, before the upgrade
      ['up', '2028-03-16T11:59:59Z'], // basic: one second before it
      ['up', '2028-03-20T10:00:00Z'], // pro
      ['up', '2028-04-03T10:00:00Z'], // pro, April
      ['down', '2028-03-10T10:00:00Z'], // pro (the downgrade waits for 1 April)
      ['down', '2028-03-25T10:00:00Z'], // pro
      ['down', '2028-04-05T10:00:00Z'], // basic, April
      ['arr', '2028-03-02T10:00:00Z'], // metered
    ];
    for (const [i, [customer, ts]] of events.entries())
      await c.call('record_usage', {
        customer_id: customer,
        code: 'calls',
        transaction_id: `e-${i}`,
        timestamp: ts,
      });
  });

  it('1 March: each subscription is billed its first fee in advance', async () => {
    const summary = await run('2028-03-01T00:00:00Z');
    expect(summary.errors).toEqual([]);
    expect(summary.invoices_created).toBe(2); // metered bills at the period end
    const [up] = await invoicesOf('up');
    expect(linesOf(up)).toEqual([['fee', '30', 31]]);
    expect(up).toMatchObject({ status: 'finalized', total_amount_cents: 3000 });
    const [down] = await invoicesOf('down');
    expect(linesOf(down)).toEqual([['fee', '60', 31]]);
  });

  it('16 March 12:00, upgrade: usage billed to the instant, the unused advance fee credited', async () => {
    clock = utc('2028-03-16T12:00:00Z');
    const out = await c.call('update_subscription', { subscription_id: 'up-sub', plan_code: 'pro' });
    expect(out.plan_change).toBe('upgrade');
    expect(out.subscription).toMatchObject({
      plan_code: 'pro',
      started_at: '2028-03-16T12:00:00.000Z',
      previous_subscription_id: upOld,
      current_period: { from: '2028-03-16T12:00:00.000Z', to: iso('2028-04-01') },
    });
    expect(out.invoice_ids).toHaveLength(1);
    // Termination invoice: the old plan's arrears item is March's usage up to 12:00 — the calls
    // of the 5th and of 11:59:59 on the 16th, 2 × 1.00; the fee was paid in advance, no fee line.
    const { invoice: termination } = await c.call('get_invoice', { invoice_id: out.invoice_ids[0] });
    expect(linesOf(termination)).toEqual([['charge', '2', '2']]);
    expect(termination.lines[0]).toMatchObject({ from: iso('2028-03-01'), to: '2028-03-16T12:00:00.000Z' });
    expect(termination).toMatchObject({
      status: 'finalized',
      subscription_id: upOld,
      total_amount_cents: 200,
    });

    // Credit: 16 of 31 days of 30.00 → 15.48, on the March advance invoice (unpaid: a credit).
    const { credit_note } = await c.call('get_credit_note', { credit_note_id: out.credit_note_id });
    const [advance] = await invoicesOf('up');
    expect(credit_note).toMatchObject({
      invoice_id: advance.id,
      type: 'credit',
      reason: 'order_change',
      sub_total_amount_cents: 1548,
      total_amount_cents: 1548,
      description: 'Unused 16 of 31 days of Basic',
    });
    expect(credit_note.items).toMatchObject([{ invoice_line_id: advance.lines[0].id, amount_cents: 1548 }]);
    const { invoice: credited } = await c.call('get_invoice', { invoice_id: advance.id });
    expect(credited).toMatchObject({ credited_amount_cents: 1548, amount_due_cents: 3000 - 1548 });
  });

  it('16 March 12:00, upgrade from a fee in arrears: the old fee up to the day before, nothing to credit', async () => {
    const out = await c.call('update_subscription', { subscription_id: 'arr-sub', plan_code: 'pro' });
    expect(out).toMatchObject({ plan_change: 'upgrade', credit_note_id: null });
    const { invoice } = await c.call('get_invoice', { invoice_id: out.invoice_ids[0] });
    // 20.00 × 15 / 31 = 9.68 (1–15 March; pro pays the 16th); the call of the 2nd at 1.00.
    expect(linesOf(invoice)).toEqual([
      ['fee', '9.68', 15],
      ['charge', '1', '1'],
    ]);
    expect(invoice).toMatchObject({ subscription_id: arrOld, total_amount_cents: 1068 });
  });

  it('16 March 12:00, downgrade: scheduled for 1 April, nothing billed or credited', async () => {
    const out = await c.call('update_subscription', { subscription_id: 'down-sub', plan_code: 'basic' });
    expect(out).toMatchObject({
      plan_change: 'downgrade',
      invoice_ids: [],
      credit_note_id: null,
      subscription: {
        id: downOld,
        plan_code: 'pro',
        next_plan_code: 'basic',
        next_plan_at: iso('2028-04-01'),
      },
    });
    expect(await invoicesOf('down')).toHaveLength(1);
  });

  it("a run after the upgrade bills the new plan's advance fee from the upgrade day", async () => {
    const summary = await run('2028-03-16T12:01:00Z');
    expect(summary.errors).toEqual([]);
    expect(summary.invoices_created).toBe(2); // up and arr; the downgrade waits: nothing for `down`
    const ups = await invoicesOf('up');
    expect(ups).toHaveLength(3);
    const first = ups[2];
    // 60.00 × 16 / 31 = 30.9677… → 30.97: 16–31 March, the 16th included.
    expect(linesOf(first)).toEqual([['fee', '30.97', 16]]);
    expect(first.lines[0].details).toMatchObject({ period_days: 31, prorated: true, plan_code: 'pro' });
    expect(first.subscription_id).not.toBe(upOld);
    expect(first.total_amount_cents).toBe(3097);
    const arrs = await invoicesOf('arr');
    expect(linesOf(arrs[1])).toEqual([['fee', '30.97', 16]]);
    expect(await invoicesOf('down')).toHaveLength(1);
  });

  it('1 April: the new plan bills its March usage and April fee; the downgrade bills the old plan and starts the new one', async () => {
    const summary = await run('2028-04-01T00:00:00Z');
    expect(summary.errors).toEqual([]);
    // up and arr: one invoice each (pro's March usage + April fee); down: pro's March usage,
    // then basic's April fee.
    expect(summary.invoices_created).toBe(4);

    const ups = await invoicesOf('up');
    expect(ups).toHaveLength(4);
    // The call of the 20th at 0.50, and April's fee whole.
    expect(linesOf(ups[3])).toEqual([
      ['fee', '60', 30],
      ['charge', '0.5', '1'],
    ]);
    expect(ups[3].lines[1]).toMatchObject({ from: '2028-03-16T12:00:00.000Z', to: iso('2028-04-01') });
    expect(ups[3].total_amount_cents).toBe(6050);

    const downs = await invoicesOf('down');
    expect(downs).toHaveLength(3);
    const old = downs.find((i: any) => i.subscription_id === downOld && i.id !== downs[0].id);
    // Pro's March usage: 2 calls × 0.50 = 1.00; its fee was paid in advance; no credit.
    expect(linesOf(old)).toEqual([['charge', '1', '2']]);
    expect(old.lines[0]).toMatchObject({ from: iso('2028-03-01'), to: iso('2028-04-01') });
    expect(old.total_amount_cents).toBe(100);
    const next = downs.find((i: any) => i.subscription_id !== downOld);
    // Basic from the boundary: April's fee whole, 30.00.
    expect(linesOf(next)).toEqual([['fee', '30', 30]]);
    expect(next.lines[0]).toMatchObject({ from: iso('2028-04-01'), to: iso('2028-05-01') });
    const { subscription } = await c.call('get_subscription', { subscription_id: 'down-sub' });
    expect(subscription).toMatchObject({
      plan_code: 'basic',
      started_at: iso('2028-04-01'),
      previous_subscription_id: downOld,
      next_plan_code: null,
    });
    const { credit_notes } = await c.call('list_credit_notes', { customer_id: 'down' });
    expect(credit_notes).toEqual([]);
  });

  it('1 May: each continues on its plan', async () => {
    const summary = await run('2028-05-01T00:00:00Z');
    expect(summary.errors).toEqual([]);
    expect(summary.invoices_created).toBe(3);
    const ups = await invoicesOf('up');
    // Pro: the call of 3 April at 0.50 + May's 60.00.
    expect(linesOf(ups[4])).toEqual([
      ['fee', '60', 31],
      ['charge', '0.5', '1'],
    ]);
    const downs = await invoicesOf('down');
    // Basic: the call of 5 April at 1.00 + May's 30.00.
    expect(linesOf(downs[3])).toEqual([
      ['fee', '30', 31],
      ['charge', '1', '1'],
    ]);
    expect(downs[3].total_amount_cents).toBe(3100);
  });
});
