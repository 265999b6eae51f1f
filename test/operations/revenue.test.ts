import { expect, it } from 'vitest';
import { runProgressiveBilling } from '../../src/services/billing/progressive.js';
import { runBilling } from '../../src/services/billing/run.js';
import { caller } from '../harness/billing.js';
import { describeDatabases, describeDoors } from '../harness/suite.js';

/** The first day of the month `offset` months from now, UTC (the test organization's zone). */
function monthStart(offset: number): string {
  const d = new Date();
  const m = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1));
  return m.toISOString().slice(0, 10);
}

describeDoors('revenue analytics', (t) => {
  it('reports a customer’s invoiced revenue by type, less credit notes, with usage cost and margin', async () => {
    await t.door.ok('create_customer', { external_id: 'rev-1', name: 'Revenue One', currency: 'USD' });
    await t.door.ok('create_billable_metric', {
      code: 'rev_calls',
      name: 'Calls',
      aggregation_type: 'count_agg',
    });
    const from = monthStart(-1);
    const to = monthStart(0);
    const { invoice } = await t.door.ok('create_invoice', {
      customer_id: 'rev-1',
      issued_at: from,
      lines: [
        { description: 'Onboarding', quantity: 2, unit_amount: '150.005', tax_codes: [] },
        { description: 'Report', unit_amount: '99.99', tax_codes: [] },
      ],
      status: 'finalized',
    });
    expect(invoice.sub_total_amount).toBe('400.00'); // 300.01 + 99.99
    // A draft and a voided invoice are not revenue.
    await t.door.ok('create_invoice', {
      customer_id: 'rev-1',
      issued_at: from,
      amount: '1000',
      description: 'Draft',
    });
    const voided = await t.door.ok('create_invoice', {
      customer_id: 'rev-1',
      issued_at: from,
      amount: '500',
      description: 'Voided',
      status: 'finalized',
    });
    await t.door.ok('void_invoice', { invoice_id: voided.invoice.id });
    await t.door.ok('create_credit_note', {
      invoice_id: invoice.id,
      type: 'credit',
      reason: 'order_change',
      items: [{ invoice_line_id: invoice.lines[1].id, amount: '40' }],
    });
    await t.door.ok('record_usage', {
      transaction_id: 'rev-llm-1',
      customer_id: 'rev-1',
      code: 'rev_calls',
      timestamp: `${from}T10:00:00Z`,
      model: 'claude-sonnet-4-5',
      provider: 'anthropic',
      input_tokens: 1_000_000,
      output_tokens: 100_000,
    });
    // The credit note is issued now: a window from last month to tomorrow holds both.
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
    const r = await t.door.ok('get_customer_revenue', { customer_id: 'rev-1', from, to: tomorrow });
    expect(r.revenue).toEqual([
      expect.objectContaining({
        currency: 'USD',
        invoice_count: 1,
        revenue: '360.00',
        revenue_cents: 36000,
        credited: '40.00',
        by_type: expect.objectContaining({
          one_off: '400.00',
          recurring: '0.00',
          usage: '0.00',
          seat: '0.00',
        }),
      }),
    ]);
    // 1,000,000 × 3.00 / 10^6 + 100,000 × 15.00 / 10^6 = 3.00 + 1.50
    expect(r.cost).toBe('4.5');
    expect(r.margin).toBe('355.50');
    expect(r.margin_percent).toBe('98.75');

    // Last month's window alone: the credit note (issued now) is outside it.
    const last = await t.door.ok('get_customer_revenue', { customer_id: 'rev-1', from, to });
    expect(last.revenue[0]).toMatchObject({ revenue: '400.00', credited: '0.00' });

    // One-off invoices are never recurring revenue.
    const mrr = await t.door.ok('get_mrr', { customer_id: 'rev-1' });
    expect(mrr).toMatchObject({
      variant: 'canonical',
      from: `${from}T00:00:00.000Z`,
      to: `${to}T00:00:00.000Z`,
    });
    expect(mrr.currencies).toEqual([]);
  });

  /*
   * By invoice type, worked by hand. Plan rev-pb: a 20.00 fee in arrears, calls at 0.50, one
   * usage threshold at 10.00; the subscription runs from 1 September 2026.
   * - 24 calls on 5 September (12.00 ≥ 10.00): a progressive_billing invoice of 12.00;
   * - a wallet buys 30 credits at 1.00: a credit invoice (top-up) of 30.00, usable at once;
   * - 16 calls on 20 September: 40 calls = 20.00 in the period, under no new level;
   * - September's invoice: fee 20.00 + usage 20.00 − 12.00 billed progressively = 28.00, paid by
   *   the wallet at finalization (28.00 of its 30.00);
   * - a credit note of 2.00 on the progressive invoice.
   * Revenue = 12.00 + 28.00 − 2.00 = 38.00: the period's 40.00 (20.00 + 40 × 0.50) once, less the
   * credit note. The top-up is listed (30.00) but not revenue: the 28.00 it paid is the
   * subscription invoice's, counted already.
   */
  it('lists progressive and top-up invoices by type, counting the period once and the top-up outside revenue', async () => {
    await t.door.ok('create_customer', { external_id: 'rev-pb', name: 'Progressive', currency: 'USD' });
    await t.door.ok('create_billable_metric', {
      code: 'rev_pb_calls',
      name: 'Calls',
      aggregation_type: 'count_agg',
    });
    await t.door.ok('create_plan', {
      code: 'rev-pb',
      name: 'Rev PB',
      interval: 'monthly',
      amount: '20',
      tax_codes: [],
      charges: [
        { billable_metric_code: 'rev_pb_calls', charge_model: 'standard', properties: { amount: '0.50' } },
      ],
      usage_thresholds: [{ amount: '10' }],
    });
    await t.door.ok('create_subscription', {
      customer_id: 'rev-pb',
      plan_code: 'rev-pb',
      external_id: 'rev-pb-sub',
      started_at: '2026-09-01',
    });
    let n = 0;
    const calls = (count: number, day: string) =>
      t.door.ok('record_usage_batch', {
        events: Array.from({ length: count }, () => ({
          transaction_id: `rev-pb-${n++}`,
          customer_id: 'rev-pb',
          code: 'rev_pb_calls',
          timestamp: `2026-09-${day}T10:00:00Z`,
        })),
      });
    await calls(24, '05');
    await runProgressiveBilling(t.env.rt, Date.parse('2026-09-06T00:00:00Z'));
    const [progressive] = (
      await t.door.ok('list_invoices', { customer_id: 'rev-pb', invoice_type: 'progressive_billing' })
    ).invoices;
    expect(progressive).toMatchObject({ total_amount: '12.00', status: 'finalized' });
    const wallet = await t.door.ok('create_wallet', {
      customer_id: 'rev-pb',
      rate_amount: '1',
      paid_credits: '30',
      invoice_requires_payment: false,
    });
    expect(wallet.wallet).toMatchObject({ balance_cents: 3000 });
    await calls(16, '20');
    await runProgressiveBilling(t.env.rt, Date.parse('2026-09-21T00:00:00Z'));
    const { invoice: draft } = await t.door.ok('generate_invoice', {
      subscription_id: 'rev-pb-sub',
      period: { from: '2026-09-01', to: '2026-10-01' },
    });
    const { invoice: final } = await t.door.ok('finalize_invoice', { invoice_id: draft.id });
    expect(final).toMatchObject({
      invoice_type: 'subscription',
      sub_total_amount: '28.00',
      prepaid_credit_amount: '28.00',
      amount_due: '0.00',
    });
    const full = (await t.door.ok('get_invoice', { invoice_id: progressive.id })).invoice;
    await t.door.ok('create_credit_note', {
      invoice_id: progressive.id,
      type: 'credit',
      reason: 'other',
      items: [{ invoice_line_id: full.lines[0].id, amount: '2' }],
    });

    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
    const r = await t.door.ok('get_customer_revenue', {
      customer_id: 'rev-pb',
      from: '2026-09-01',
      to: tomorrow,
    });
    expect(r.revenue).toHaveLength(1);
    const [usd] = r.revenue;
    expect(usd).toMatchObject({
      currency: 'USD',
      invoice_count: 2,
      revenue: '38.00',
      revenue_cents: 3800,
      credited: '2.00',
      by_type: {
        recurring: '20.00',
        usage: '20.00',
        seat: '0.00',
        one_off: '0.00',
        prepaid_credits: '30.00',
      },
    });
    expect(
      usd.by_invoice_type.map((x: any) => [
        x.invoice_type,
        x.invoice_count,
        x.amount,
        x.credited,
        x.in_revenue,
      ]),
    ).toEqual([
      ['subscription', 1, '28.00', '0.00', true],
      ['credit', 1, '30.00', '0.00', false],
      ['progressive_billing', 1, '12.00', '2.00', true],
    ]);
    expect(usd.by_invoice_type.map((x: any) => x.amount_cents)).toEqual([2800, 3000, 1200]);
  });

  it('names the field when a window or reference is wrong', async () => {
    await t.door.ok('create_customer', { external_id: 'rev-2', name: 'Revenue Two' });
    const e = await t.door.fail(
      'get_customer_revenue',
      { customer_id: 'rev-2', from: '2026-05-01T00:00:00Z', to: '2026-04-01T00:00:00Z' },
      'VALIDATION_ERROR',
    );
    expect(e.message).toMatch(/^to: must be after from/);
    await t.door.fail(
      'get_customer_revenue',
      { customer_id: 'nobody', from: '2026-04-01', to: '2026-05-01' },
      'NOT_FOUND',
    );
    const s = await t.door.fail('get_mrr', { subscription_id: 'no-such-sub' }, 'VALIDATION_ERROR');
    expect(s.message).toMatch(/^subscription_id:/);
    await t.door.fail('get_mrr', { variant: 'yearly' }, 'VALIDATION_ERROR');
  });
});

const ms = (iso: string) => Date.parse(iso);

describeDatabases('recurring revenue from subscriptions', (t) => {
  it('reads MRR from what subscriptions earned (canonical, run rate) and from contracts (committed)', async () => {
    const org = await t.env.newOrganization();
    // Operations and billing runs at a chosen moment: the runtime with its clock set.
    const at = (iso: string) => caller({ ...t.env, rt: { ...t.env.rt, now: () => ms(iso) } }, org.id);
    const c = at('2027-02-20T00:00:00Z');
    await c.call('update_organization', { timezone: 'UTC', default_currency: 'USD' });
    for (const id of ['mrr-a', 'mrr-b', 'mrr-c'])
      await c.call('create_customer', { external_id: id, name: id, currency: 'USD' });
    await c.call('create_billable_metric', {
      code: 'seats',
      name: 'Seats',
      aggregation_type: 'unique_count_agg',
      field_name: 'user',
      recurring: true,
    });
    await c.call('create_billable_metric', { code: 'calls', name: 'Calls', aggregation_type: 'count_agg' });
    await c.call('create_plan', {
      code: 'team',
      name: 'Team',
      interval: 'monthly',
      amount: '30',
      pay_in_advance: true,
      charges: [
        { billable_metric_code: 'seats', charge_model: 'standard', properties: { amount: '5' } },
        { billable_metric_code: 'calls', charge_model: 'standard', properties: { amount: '0.01' } },
      ],
    });
    await c.call('create_plan', {
      code: 'annual',
      name: 'Annual',
      interval: 'yearly',
      amount: '1200',
      minimum_commitment: '1800',
    });
    await c.call('create_plan', { code: 'weekly', name: 'Weekly', interval: 'weekly', amount: '12' });
    const subscribe = (
      customer_id: string,
      plan_code: string,
      external_id: string,
      started_at: string,
      more = {},
    ) => c.call('create_subscription', { customer_id, plan_code, external_id, started_at, ...more });
    await subscribe('mrr-a', 'team', 'a-team', '2027-03-01');
    await subscribe('mrr-b', 'annual', 'b-annual', '2027-03-01');
    await subscribe('mrr-b', 'weekly', 'b-weekly', '2027-04-01');
    await subscribe('mrr-c', 'team', 'c-team', '2027-04-01', { plan_overrides: { amount: '25' } });
    await c.call('record_usage_batch', {
      events: [
        ...['u1', 'u2'].map((user, i) => ({
          transaction_id: `seat-${i}`,
          customer_id: 'mrr-a',
          code: 'seats',
          timestamp: '2027-03-02T00:00:00Z',
          properties: { user },
        })),
        ...Array.from({ length: 100 }, (_, i) => ({
          transaction_id: `call-${i}`,
          customer_id: 'mrr-a',
          code: 'calls',
          timestamp: new Date(ms('2027-03-03T00:00:00Z') + i * 1000).toISOString(),
        })),
      ],
    });
    for (const when of ['2027-03-01T00:00:00Z', '2027-04-01T00:00:00Z']) {
      const env = { ...t.env.rt, now: () => ms(when) };
      expect((await runBilling(env, ms(when))).errors).toEqual([]);
    }
    const mid = at('2027-04-15T00:00:00Z');

    // Committed: team 30 (a) + annual max(1200, 1800) / 12 = 150 + weekly 12 × 52 / 12 = 52 + team at 25 (c).
    const committed = await mid.call('get_mrr', { variant: 'committed' });
    expect(committed.currencies).toEqual([
      {
        currency: 'USD',
        subscription_count: 4,
        mrr_cents: 25700,
        mrr: '257.00',
        credited: null,
        credited_cents: null,
        by_type: null,
      },
    ]);
    const forB = await mid.call('get_mrr', { variant: 'committed', customer_id: 'mrr-b' });
    expect(forB.currencies[0]).toMatchObject({ mrr: '202.00', subscription_count: 2 });
    const forC = await mid.call('get_mrr', { variant: 'committed', subscription_id: 'c-team' });
    expect(forC.currencies[0]).toMatchObject({ mrr: '25.00', subscription_count: 1 });

    // Canonical: what March earned — a's March fee (invoiced 1 March, in advance) and March usage
    // (invoiced 1 April): 30 + seats 2 × 5 + calls 100 × 0.01 = 41. Nothing else covers March
    // (b's annual fee is paid in arrears, b's weekly and c's plans start in April).
    const canonical = await mid.call('get_mrr', {});
    expect(canonical).toMatchObject({ from: '2027-03-01T00:00:00.000Z', to: '2027-04-01T00:00:00.000Z' });
    expect(canonical.currencies).toEqual([
      expect.objectContaining({
        mrr: '41.00',
        by_type: expect.objectContaining({
          recurring: '30.00',
          usage: '1.00',
          seat: '10.00',
          one_off: '0.00',
        }),
      }),
    ]);

    // Run rate on 15 April for a, window 16 March – 15 April: 16/31 of March's 30 + 10 + 1
    // (21.161290…) and 14/30 of April's fee (14) = 35.161290…; × 365.25 / 360 = 35.674059… → 35.67.
    // Each type is scaled the same way, and rounded so that the types add up to the total:
    // recurring 29.483870… × 365.25 / 360 = 29.913844…, usage 0.516129… → 0.523655…, seat
    // 5.161290… → 5.236559…; rounded down 29.91 + 0.52 + 5.23 = 35.66, and the cent left to reach
    // 35.67 goes to the largest remainder (seat, 0.0066): 29.91 + 0.52 + 5.24 = 35.67.
    const runRate = await mid.call('get_mrr', { variant: 'run_rate', customer_id: 'mrr-a' });
    expect(runRate.currencies[0]).toMatchObject({
      mrr: '35.67',
      credited: '0.00',
      by_type: expect.objectContaining({ recurring: '29.91', usage: '0.52', seat: '5.24' }),
    });

    // Invoiced revenue follows issue dates instead: a's invoices of 1 March (30) and 1 April (41).
    const revenue = await mid.call('get_customer_revenue', {
      customer_id: 'mrr-a',
      from: '2027-03-01',
      to: '2027-04-02',
    });
    expect(revenue.revenue[0]).toMatchObject({
      revenue: '71.00',
      invoice_count: 2,
      by_type: expect.objectContaining({ recurring: '60.00', usage: '1.00', seat: '10.00', one_off: '0.00' }),
    });
  });
});
