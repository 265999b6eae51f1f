import { beforeAll, expect, it } from 'vitest';
import { runBilling } from '../../src/services/billing/run.js';
import { caller, utc, type Caller } from '../harness/billing.js';
import { describeDatabases } from '../harness/suite.js';

/**
 * Every coupon rule through apply_coupon and billing runs over three months, each invoice
 * against figures worked by hand.
 *
 * Organization in UTC, tax 10 % on everything (applied after coupons, on what they leave,
 * rounded half-up once per invoice). Plan `std`: 10.00 a month in arrears, calls at 0.10.
 * Subscriptions start 1 January 2028; runs on 1 February, 1 March, 1 April bill January,
 * February, March. One customer per rule, with the coupons applied on 20 December 2027 in the
 * order given (a minute apart: "oldest first" is by that order).
 *
 * - once: ONCE15 fixed 15.00 once. Jan 10.00 + 2 calls = 10.20, all taken (4.80 left), total 0.
 *   Feb 10.00 + 5 calls = 10.50 − 4.80 = 5.70, tax 0.57, total 6.27; the coupon ends (0 left).
 *   Mar 10.00, no coupon: tax 1.00, total 11.00.
 * - rec: REC3 fixed 3.00 recurring × 2. Jan and Feb 10.00 − 3.00 = 7.00, tax 0.70, total 7.70;
 *   it ends after two invoices; Mar 11.00.
 * - forever: PCT15 15 % forever. Jan 10.30 × 15 % = 1.545 → 1.55 (half-up), 8.75, tax 0.875 →
 *   0.88, total 9.63. Feb 10.10 → 1.515 → 1.52, 8.58, tax 0.858 → 0.86, 9.44. Mar 10.00 → 1.50,
 *   8.50, tax 0.85, 9.35. Still active.
 * - metric: HALF 50 % forever (applied first), then CALLS5 fixed 5.00 forever limited to the
 *   `calls` metric. Jan 10.00 + 30 calls = 13.00: CALLS5 goes first and takes only the calls
 *   line, 3.00 (not 5.00); HALF then takes 50 % of the 10.00 left = 5.00 (from the fee line).
 *   5.00 left, tax 0.50, total 5.50. (HALF first would take 6.50.) Feb and Mar: no calls,
 *   CALLS5 takes nothing; HALF 5.00; total 5.50.
 * - plan: OLD5 fixed 5.00 forever, then ALL100 100 % forever, then STD4 fixed 4.00 forever
 *   limited to plan `std`. Each month 10.00: STD4 first (plan before unrestricted) 4.00, then
 *   the older unrestricted OLD5 5.00, then ALL100 takes 100 % of the 1.00 left = 1.00 (never
 *   more than its base). Coupons 10.00, subtotal after coupons 0, total 0.
 * - draft: AGAIN15 fixed 15.00 once. A generated January draft takes 10.20 (4.80 left); deleting
 *   it gives the 10.20 back (15.00 left); the run then bills January taking 10.20 again (4.80
 *   left), February takes the 4.80 and ends it: 10.50 − 4.80 = 5.70, total 6.27.
 */
describeDatabases('coupons across billing runs', (t) => {
  let c: Caller;
  let clock = utc('2027-12-20T00:00:00Z');
  const run = (at: string) => {
    clock = utc(at);
    return runBilling({ ...t.env.rt, now: () => clock }, clock);
  };
  const invoicesOf = async (customer: string) => {
    const { invoices } = await c.call('list_invoices', { customer_id: customer, per_page: 100 });
    return [...invoices].sort((a: any, b: any) => (a.lines[0].from < b.lines[0].from ? -1 : 1));
  };
  const applied = async (customer: string, code: string) => {
    const { applied_coupons } = await c.call('list_applied_coupons', {
      customer_id: customer,
      per_page: 100,
    });
    return applied_coupons.find((a: any) => a.coupon_code === code);
  };
  /** [coupon code, amount in cents] per discount, then subtotal, coupons, taxes, total. */
  const figures = (inv: any) => ({
    discounts: inv.discounts.map((d: any) => [d.coupon_code, d.amount_cents]),
    sub: inv.sub_total_amount_cents,
    coupons: inv.coupons_amount_cents,
    tax: inv.taxes_amount_cents,
    total: inv.total_amount_cents,
  });

  const CUSTOMERS = ['once', 'rec', 'forever', 'metric', 'plan', 'draft'];
  const CALLS: Record<string, Array<[string, number]>> = {
    once: [
      ['2028-01-10', 2],
      ['2028-02-10', 5],
    ],
    forever: [
      ['2028-01-10', 3],
      ['2028-02-10', 1],
    ],
    metric: [['2028-01-10', 30]],
    draft: [
      ['2028-01-10', 2],
      ['2028-02-10', 5],
    ],
  };

  beforeAll(async () => {
    const org = await t.env.newOrganization();
    c = caller(t.env, org.id, () => clock);
    await c.call('update_organization', { timezone: 'UTC' });
    await c.call('create_tax', { code: 'vat10', name: 'VAT', rate: '10', applied_to_organization: true });
    await c.call('create_billable_metric', { code: 'calls', name: 'Calls', aggregation_type: 'count_agg' });
    await c.call('create_plan', {
      code: 'std',
      name: 'Standard',
      interval: 'monthly',
      currency: 'USD',
      amount: '10',
      pay_in_advance: false,
      charges: [{ billable_metric_code: 'calls', charge_model: 'standard', properties: { amount: '0.10' } }],
    });
    const fixed = (code: string, amount: string, more: object = {}) => ({
      code,
      name: code,
      coupon_type: 'fixed_amount',
      amount,
      amount_currency: 'USD',
      frequency: 'forever',
      ...more,
    });
    const pct = (code: string, rate: string, more: object = {}) => ({
      code,
      name: code,
      coupon_type: 'percentage',
      percentage_rate: rate,
      frequency: 'forever',
      ...more,
    });
    const coupons: Array<[string, object]> = [
      ['once', fixed('ONCE15', '15', { frequency: 'once' })],
      ['rec', fixed('REC3', '3', { frequency: 'recurring', frequency_duration: 2 })],
      ['forever', pct('PCT15', '15')],
      ['metric', pct('HALF', '50')],
      ['metric', fixed('CALLS5', '5', { billable_metric_codes: ['calls'] })],
      ['plan', fixed('OLD5', '5')],
      ['plan', pct('ALL100', '100')],
      ['plan', fixed('STD4', '4', { plan_codes: ['std'] })],
      ['draft', fixed('AGAIN15', '15', { frequency: 'once' })],
    ];
    for (const customer of CUSTOMERS) {
      await c.call('create_customer', { external_id: customer, name: customer, currency: 'USD' });
      await c.call('create_subscription', {
        customer_id: customer,
        plan_code: 'std',
        external_id: `${customer}-sub`,
        started_at: '2028-01-01',
      });
      for (const [day, n] of CALLS[customer] ?? [])
        for (let i = 0; i < n; i++)
          await c.call('record_usage', {
            customer_id: customer,
            code: 'calls',
            transaction_id: `${customer}-${day}-${i}`,
            timestamp: `${day}T10:00:00Z`,
          });
    }
    for (const [customer, coupon] of coupons) {
      clock += 60_000;
      await c.call('create_coupon', coupon);
      await c.call('apply_coupon', { customer_id: customer, coupon_code: (coupon as { code: string }).code });
    }
  });

  it('deleting a generated draft gives its coupon back', async () => {
    clock = utc('2028-01-20T00:00:00Z');
    const { invoice } = await c.call('generate_invoice', {
      customer_id: 'draft',
      subscription_id: 'draft-sub',
      period: { from: '2028-01-01', to: '2028-02-01' },
    });
    expect(invoice.status).toBe('draft');
    expect(figures(invoice)).toEqual({
      discounts: [['AGAIN15', 1020]],
      sub: 1020,
      coupons: 1020,
      tax: 0,
      total: 0,
    });
    expect(await applied('draft', 'AGAIN15')).toMatchObject({
      status: 'active',
      amount_remaining_cents: 480,
    });
    await c.call('delete_invoice', { invoice_id: invoice.id });
    expect(await applied('draft', 'AGAIN15')).toMatchObject({
      status: 'active',
      amount_remaining_cents: 1500,
    });
  });

  it('1 February: January, every coupon rule', async () => {
    const summary = await run('2028-02-01T00:00:00Z');
    expect(summary.errors).toEqual([]);
    expect(summary.invoices_created).toBe(CUSTOMERS.length);

    const [once] = await invoicesOf('once');
    expect(figures(once)).toEqual({
      discounts: [['ONCE15', 1020]],
      sub: 1020,
      coupons: 1020,
      tax: 0,
      total: 0,
    });
    expect(await applied('once', 'ONCE15')).toMatchObject({ status: 'active', amount_remaining_cents: 480 });

    const [rec] = await invoicesOf('rec');
    expect(figures(rec)).toEqual({
      discounts: [['REC3', 300]],
      sub: 1000,
      coupons: 300,
      tax: 70,
      total: 770,
    });
    expect(await applied('rec', 'REC3')).toMatchObject({ status: 'active', frequency_duration_remaining: 1 });

    const [forever] = await invoicesOf('forever');
    expect(figures(forever)).toEqual({
      discounts: [['PCT15', 155]],
      sub: 1030,
      coupons: 155,
      tax: 88,
      total: 963,
    });

    const [metric] = await invoicesOf('metric');
    expect(figures(metric)).toEqual({
      discounts: [
        ['CALLS5', 300],
        ['HALF', 500],
      ],
      sub: 1300,
      coupons: 800,
      tax: 50,
      total: 550,
    });
    // The metric coupon reduced only the calls line; HALF took its 5.00 from the fee.
    const line = (kind: string) => metric.lines.find((l: any) => l.details.kind === kind);
    expect(line('charge')).toMatchObject({ amount_cents: 300, discount_amount_cents: 300 });
    expect(line('fee')).toMatchObject({ amount_cents: 1000, discount_amount_cents: 500 });

    const [plan] = await invoicesOf('plan');
    expect(figures(plan)).toEqual({
      discounts: [
        ['STD4', 400],
        ['OLD5', 500],
        ['ALL100', 100],
      ],
      sub: 1000,
      coupons: 1000,
      tax: 0,
      total: 0,
    });

    const [draft] = await invoicesOf('draft');
    expect(draft.status).toBe('finalized');
    expect(figures(draft)).toEqual({
      discounts: [['AGAIN15', 1020]],
      sub: 1020,
      coupons: 1020,
      tax: 0,
      total: 0,
    });
    expect(await applied('draft', 'AGAIN15')).toMatchObject({
      status: 'active',
      amount_remaining_cents: 480,
    });
  });

  it('1 March: February — the once coupon spends what it carried and ends, the recurring one ends', async () => {
    const summary = await run('2028-03-01T00:00:00Z');
    expect(summary.errors).toEqual([]);
    expect(summary.invoices_created).toBe(CUSTOMERS.length);

    for (const [customer, code] of [
      ['once', 'ONCE15'],
      ['draft', 'AGAIN15'],
    ]) {
      const feb = (await invoicesOf(customer!))[1];
      expect(figures(feb), customer).toEqual({
        discounts: [[code, 480]],
        sub: 1050,
        coupons: 480,
        tax: 57,
        total: 627,
      });
      expect(await applied(customer!, code!)).toMatchObject({
        status: 'terminated',
        amount_remaining_cents: 0,
      });
    }
    const rec = (await invoicesOf('rec'))[1];
    expect(figures(rec)).toEqual({
      discounts: [['REC3', 300]],
      sub: 1000,
      coupons: 300,
      tax: 70,
      total: 770,
    });
    expect(await applied('rec', 'REC3')).toMatchObject({
      status: 'terminated',
      frequency_duration_remaining: 0,
    });

    const forever = (await invoicesOf('forever'))[1];
    expect(figures(forever)).toEqual({
      discounts: [['PCT15', 152]],
      sub: 1010,
      coupons: 152,
      tax: 86,
      total: 944,
    });

    const metric = (await invoicesOf('metric'))[1];
    expect(figures(metric)).toEqual({
      discounts: [['HALF', 500]],
      sub: 1000,
      coupons: 500,
      tax: 50,
      total: 550,
    });
    const plan = (await invoicesOf('plan'))[1];
    expect(figures(plan).total).toBe(0);
  });

  it('1 April: March — ended coupons take nothing, forever ones keep applying', async () => {
    const summary = await run('2028-04-01T00:00:00Z');
    expect(summary.errors).toEqual([]);
    for (const customer of ['once', 'rec', 'draft']) {
      const mar = (await invoicesOf(customer))[2];
      expect(figures(mar), customer).toEqual({ discounts: [], sub: 1000, coupons: 0, tax: 100, total: 1100 });
    }
    const forever = (await invoicesOf('forever'))[2];
    expect(figures(forever)).toEqual({
      discounts: [['PCT15', 150]],
      sub: 1000,
      coupons: 150,
      tax: 85,
      total: 935,
    });
    expect(await applied('forever', 'PCT15')).toMatchObject({ status: 'active' });
    const plan = (await invoicesOf('plan'))[2];
    expect(figures(plan)).toMatchObject({ coupons: 1000, total: 0 });
  });
});
