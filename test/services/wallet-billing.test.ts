import { beforeAll, expect, it } from 'vitest';
import { runBilling } from '../../src/services/billing/run.js';
import { caller, utc, type Caller } from '../harness/billing.js';
import { describeDatabases } from '../harness/suite.js';

/**
 * Subscription invoices paid from wallets at finalization, figures worked by hand.
 *
 * Organization in UTC, VAT 20 % on everything. Plan `api`: 10.00 EUR a month in arrears, calls
 * at 0.05 (a sum of `n`). Subscriptions start 1 January 2028; the run of 1 February bills
 * January, that of 1 March February. Order on the invoice: lines, coupons, tax, then wallets.
 *
 * - part: coupon FIX2 (2.00 once); wallet of 30 granted credits at 0.50 = 15.00. January: fee
 *   10.00 + 100 calls × 0.05 = 5.00 → 15.00 − coupon 2.00 = 13.00, VAT 2.60, total 15.60. The
 *   wallet pays all it has, 15.00 (30 credits): prepaid_credit_amount 15.00, amount due 0.60.
 *   Balance 0, consumed 30 credits = 15.00.
 * - first: wallet bought 40 credits at 0.50 (a credit invoice of 20.00), unpaid on 1 February.
 *   January: 10.00 + 20 calls = 1.00 → 11.00, VAT 2.20, total 13.20; the pending purchase pays
 *   nothing: due 13.20. The top-up invoice is paid on 10 February: 40 credits, 20.00. February:
 *   10.00, VAT 2.00, total 12.00, all paid from the wallet: 12.00 ÷ 0.50 = 24 credits; 16 left
 *   (8.00), due 0, payment_status succeeded. In March 30 calls so far = 1.50 not yet invoiced:
 *   ongoing balance 8.00 − 1.50 = 6.50, 13 credits. Voiding February's invoice gives back the
 *   24 credits: 40 credits, 20.00, consumed 0.
 * - odd: 100 granted credits at 0.70 = 70.00. January: 10.00, VAT 2.00, total 12.00; 12.00 ÷ 0.70
 *   = 17.142857… credits, rounded half-up to 5 decimals: 17.14286. Left 82.85714 credits and
 *   58.00 (70.00 − 12.00), each the exact sum of its transactions.
 * - order: three wallets at 1.00 a credit, made in this order: B (priority 2, 100 credits), C
 *   (priority 2, 100), A (priority 1, 10). January: 10.00, VAT 2.00, total 12.00. A pays first
 *   (priority 1) all it has, 10.00; then B, the older of the two at priority 2, the 2.00 left.
 *   A 0, B 98, C 100.
 * - bare: no wallet, no coupon, billed in the same batch as the others: 10.00 + 40 calls = 2.00
 *   → 12.00, VAT 2.40, total 14.40, all of it due; nothing drawn, nothing discounted.
 */
describeDatabases('wallets paying subscription invoices', (t) => {
  let c: Caller;
  let clock = utc('2027-12-20T00:00:00Z');
  const run = (at: string) => {
    clock = utc(at);
    return runBilling({ ...t.env.rt, now: () => clock }, clock);
  };
  const invoiceOf = async (customer: string, invoice_type = 'subscription') => {
    const { invoices } = await c.call('list_invoices', {
      customer_id: customer,
      invoice_type,
      per_page: 100,
    });
    return [...invoices].sort((a: any, b: any) => (a.lines[0].from < b.lines[0].from ? -1 : 1));
  };
  const wallet = async (id: string) => (await c.call('get_wallet', { wallet_id: id })).wallet;
  const figures = (inv: any) => ({
    sub: inv.sub_total_amount_cents,
    coupons: inv.coupons_amount_cents,
    tax: inv.taxes_amount_cents,
    total: inv.total_amount_cents,
    prepaid: inv.prepaid_credit_amount_cents,
    due: inv.amount_due_cents,
    payment_status: inv.payment_status,
  });
  let firstTopUp: string;

  beforeAll(async () => {
    const org = await t.env.newOrganization();
    c = caller(t.env, org.id, () => clock);
    await c.call('update_organization', { timezone: 'UTC', default_currency: 'EUR' });
    await c.call('create_tax', { code: 'vat20', name: 'VAT', rate: '20', applied_to_organization: true });
    await c.call('create_billable_metric', {
      code: 'calls',
      name: 'Calls',
      aggregation_type: 'sum_agg',
      field_name: 'n',
    });
    await c.call('create_plan', {
      code: 'api',
      name: 'API',
      interval: 'monthly',
      currency: 'EUR',
      amount: '10',
      pay_in_advance: false,
      charges: [{ billable_metric_code: 'calls', charge_model: 'standard', properties: { amount: '0.05' } }],
    });
    const calls: Record<string, number> = { part: 100, first: 20, odd: 0, bare: 40, order: 0 };
    for (const customer of ['part', 'first', 'odd', 'bare', 'order']) {
      await c.call('create_customer', { external_id: customer, name: customer, currency: 'EUR' });
      await c.call('create_subscription', {
        customer_id: customer,
        plan_code: 'api',
        external_id: `${customer}-api`,
        started_at: '2028-01-01',
      });
      if (calls[customer])
        await c.call('record_usage', {
          customer_id: customer,
          code: 'calls',
          transaction_id: `${customer}-jan`,
          timestamp: '2028-01-15T10:00:00Z',
          properties: { n: calls[customer] },
        });
    }
    await c.call('create_coupon', {
      code: 'FIX2',
      name: 'FIX2',
      coupon_type: 'fixed_amount',
      amount: '2',
      amount_currency: 'EUR',
      frequency: 'once',
    });
    await c.call('apply_coupon', { customer_id: 'part', coupon_code: 'FIX2' });
    await c.call('create_wallet', {
      customer_id: 'part',
      rate_amount: '0.50',
      granted_credits: 30,
      external_id: 'w-part',
    });
    firstTopUp = (
      await c.call('create_wallet', {
        customer_id: 'first',
        rate_amount: '0.50',
        paid_credits: 40,
        external_id: 'w-first',
      })
    ).invoice_id;
    for (const [name, priority, credits] of [
      ['B', 2, 100],
      ['C', 2, 100],
      ['A', 1, 10],
    ] as const) {
      // A minute apart: their ids, and so their ages, are in this order.
      clock += 60_000;
      await c.call('create_wallet', {
        customer_id: 'order',
        rate_amount: '1',
        granted_credits: credits,
        priority,
        external_id: `w-order-${name}`,
      });
    }
    await c.call('create_wallet', {
      customer_id: 'odd',
      rate_amount: '0.70',
      granted_credits: 100,
      external_id: 'w-odd',
    });
  });

  it('pays part of an invoice from a short wallet, after coupons and tax', async () => {
    await run('2028-02-01T00:00:00Z');
    const [jan] = await invoiceOf('part');
    expect(figures(jan)).toEqual({
      sub: 1500,
      coupons: 200,
      tax: 260,
      total: 1560,
      prepaid: 1500,
      due: 60,
      payment_status: 'pending',
    });
    expect(jan.prepaid_credit_amount).toBe('15.00');
    expect(await wallet('w-part')).toMatchObject({
      credits_balance: '0',
      balance_cents: 0,
      consumed_credits: '30',
      consumed_amount_cents: 1500,
    });
    const out = await c.call('list_wallet_transactions', {
      wallet_id: 'w-part',
      transaction_type: 'outbound',
    });
    expect(out.wallet_transactions).toEqual([
      expect.objectContaining({
        status: 'settled',
        reason: 'invoice',
        credits: '30',
        amount_cents: 1500,
        invoice_id: jan.id,
      }),
    ]);
    // What is left is paid as any invoice is.
    await c.call('mark_invoice_paid', { invoice_id: jan.id });
  });

  it('rounds the credits of a draw at an odd rate and keeps both balances exact', async () => {
    const [jan] = await invoiceOf('odd');
    expect(figures(jan)).toMatchObject({ total: 1200, prepaid: 1200, due: 0, payment_status: 'succeeded' });
    expect(await wallet('w-odd')).toMatchObject({
      credits_balance: '82.85714',
      balance_cents: 5800,
      consumed_credits: '17.14286',
      consumed_amount_cents: 1200,
    });
  });

  it('draws from wallets by priority, then the oldest first', async () => {
    const [jan] = await invoiceOf('order');
    expect(figures(jan)).toMatchObject({ total: 1200, prepaid: 1200, due: 0, payment_status: 'succeeded' });
    expect({
      A: (await wallet('w-order-A')).balance_cents,
      B: (await wallet('w-order-B')).balance_cents,
      C: (await wallet('w-order-C')).balance_cents,
    }).toEqual({ A: 0, B: 9800, C: 10000 });
  });

  it('in the same run, bills a customer with no wallet and no coupon in full', async () => {
    const [jan] = await invoiceOf('bare');
    expect(figures(jan)).toEqual({
      sub: 1200,
      coupons: 0,
      tax: 240,
      total: 1440,
      prepaid: 0,
      due: 1440,
      payment_status: 'pending',
    });
    expect(jan.status).toBe('finalized');
  });

  it('uses purchased credits only once their invoice is paid', async () => {
    const [jan] = await invoiceOf('first');
    expect(figures(jan)).toMatchObject({ total: 1320, prepaid: 0, due: 1320 });
    expect(await wallet('w-first')).toMatchObject({ credits_balance: '0', balance_cents: 0 });
    clock = utc('2028-02-10T00:00:00Z');
    await c.call('mark_invoice_paid', { invoice_id: firstTopUp });
    expect(await wallet('w-first')).toMatchObject({ credits_balance: '40', balance_cents: 2000 });
    await run('2028-03-01T00:00:00Z');
    const [, feb] = await invoiceOf('first');
    expect(figures(feb)).toEqual({
      sub: 1000,
      coupons: 0,
      tax: 200,
      total: 1200,
      prepaid: 1200,
      due: 0,
      payment_status: 'succeeded',
    });
    expect(await wallet('w-first')).toMatchObject({
      credits_balance: '16',
      balance_cents: 800,
      consumed_credits: '24',
    });
    clock = utc('2028-03-05T00:00:00Z');
    await c.call('record_usage', {
      customer_id: 'first',
      code: 'calls',
      transaction_id: 'first-mar',
      timestamp: '2028-03-04T10:00:00Z',
      properties: { n: 30 },
    });
    expect(await wallet('w-first')).toMatchObject({
      ongoing_usage_balance_cents: 150,
      credits_ongoing_usage_balance: '3',
      ongoing_balance_cents: 650,
      credits_ongoing_balance: '13',
    });
    // Voided, the invoice gives its credits back.
    await c.call('void_invoice', { invoice_id: feb.id });
    expect(await wallet('w-first')).toMatchObject({
      credits_balance: '40',
      balance_cents: 2000,
      consumed_credits: '0',
      consumed_amount_cents: 0,
    });
    const voided = await c.call('list_wallet_transactions', { wallet_id: 'w-first', status: 'voided' });
    expect(voided.wallet_transactions).toEqual([
      expect.objectContaining({ transaction_type: 'outbound', credits: '24' }),
    ]);
    // Revenue counts the subscription invoices (January's 11.00 before tax; February's is
    // voided) and shows the 20.00 top-up beside them as prepaid credits, outside the total.
    const { revenue } = await c.call('get_customer_revenue', {
      customer_id: 'first',
      from: '2027-12-01',
      to: '2028-04-01',
    });
    expect(revenue).toEqual([
      expect.objectContaining({
        currency: 'EUR',
        revenue_cents: 1100,
        by_type: expect.objectContaining({
          recurring_cents: 1000,
          usage_cents: 100,
          one_off_cents: 0,
          prepaid_credits_cents: 2000,
        }),
      }),
    ]);
  });
});
