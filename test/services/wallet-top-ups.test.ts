import { beforeAll, expect, it } from 'vitest';
import { runBilling } from '../../src/services/billing/run.js';
import { runWalletSchedule } from '../../src/services/wallets/recurring.js';
import { caller, utc, type Caller } from '../harness/billing.js';
import { describeDatabases } from '../harness/suite.js';

/**
 * Recurring top-ups and expirations, figures worked by hand. Organization in UTC, no tax. Plan
 * `api`: 10.00 EUR a month in arrears, calls at 0.05 (a sum of `n`), from 1 January 2028.
 *
 * - low: wallet at 1.00 a credit with 20 granted credits and one rule: at an ongoing balance of 5
 *   credits or less, buy back to 30 (method target, invoice required). 15 January: 300 calls =
 *   15.00 not yet invoiced → ongoing 20 − 15 = 5 credits, at the threshold: a top-up of
 *   30 − 5 = 25 credits, invoiced 25.00, pending. The next run does nothing (that top-up is
 *   pending). Paid: 45 credits, ongoing 30. 1 February: January's invoice 10.00 + 15.00 = 25.00 is
 *   paid from the wallet, 20 credits left, no usage yet: ongoing 20, above 5. 10 February: 400
 *   calls = 20.00 → ongoing 0: a top-up of 30 credits (30.00).
 * - sched: wallet at 2.00 a credit, 3 credits granted every month from 31 March 09:00. Run at
 *   that moment: 3 credits (6.00); again at once: nothing. Next 30 April 09:00 (the 31st where
 *   the month has it), missed; run on 31 May 10:00: one top-up (not two), next 30 June 09:00.
 *   6 credits, 12.00.
 * - exp: a wallet expiring on 13 January 2028 with 10 granted credits ends then; January's
 *   10.00 + 100 calls = 15.00 is then billed in full.
 */
describeDatabases('recurring wallet top-ups', (t) => {
  let c: Caller;
  let clock = utc('2027-12-20T00:00:00Z');
  const at = (iso: string) => {
    clock = utc(iso);
    return { ...t.env.rt, now: () => clock };
  };
  const schedule = (iso: string) => runWalletSchedule(at(iso), clock);
  const wallet = async (id: string) => (await c.call('get_wallet', { wallet_id: id })).wallet;
  const inbound = async (id: string) =>
    (await c.call('list_wallet_transactions', { wallet_id: id, transaction_type: 'inbound' }))
      .wallet_transactions;
  const usage = (customer: string, id: string, ts: string, n: number) =>
    c.call('record_usage', {
      customer_id: customer,
      code: 'calls',
      transaction_id: id,
      timestamp: ts,
      properties: { n },
    });

  beforeAll(async () => {
    const org = await t.env.newOrganization();
    c = caller(t.env, org.id, () => clock);
    await c.call('update_organization', { timezone: 'UTC', default_currency: 'EUR' });
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
    for (const customer of ['low', 'sched', 'exp']) {
      await c.call('create_customer', { external_id: customer, name: customer, currency: 'EUR' });
      await c.call('create_subscription', {
        customer_id: customer,
        plan_code: 'api',
        external_id: `${customer}-api`,
        started_at: '2028-01-01',
      });
    }
    await c.call('create_wallet', {
      customer_id: 'low',
      external_id: 'w-low',
      rate_amount: '1',
      granted_credits: 20,
      recurring_transaction_rules: [
        { trigger: 'threshold', threshold_credits: '5', method: 'target', target_ongoing_balance: '30' },
      ],
    });
    await c.call('create_wallet', {
      customer_id: 'sched',
      external_id: 'w-sched',
      rate_amount: '2',
      recurring_transaction_rules: [
        { trigger: 'interval', interval: 'monthly', started_at: '2028-03-31T09:00:00Z', granted_credits: 3 },
      ],
    });
    await runBilling(at('2028-01-01T00:00:00Z'), clock); // the subscriptions start
    await c.call('create_wallet', {
      customer_id: 'exp',
      external_id: 'w-exp',
      rate_amount: '1',
      granted_credits: 10,
      expiration_at: '2028-01-13T00:00:00Z',
    });
  });

  it('ends a wallet at its expiration: its credits no longer pay', async () => {
    at('2028-01-10T00:00:00Z');
    await usage('exp', 'exp-1', '2028-01-10T10:00:00Z', 100);
    expect(await schedule('2028-01-12T23:59:59Z')).toMatchObject({ expired: 0 });
    expect(await schedule('2028-01-13T00:00:00Z')).toMatchObject({ expired: 1 });
    expect(await wallet('w-exp')).toMatchObject({ status: 'terminated', credits_balance: '10' });
    // January's invoice (1 February, below) is billed in full: 10.00 + 100 × 0.05 = 15.00.
  });

  it('buys back to the target when the ongoing balance falls to the threshold', async () => {
    at('2028-01-14T00:00:00Z');
    await usage('low', 'low-1', '2028-01-14T10:00:00Z', 200);
    // 200 calls = 10.00: ongoing 10 credits, above 5: nothing.
    await schedule('2028-01-14T12:00:00Z');
    expect(await inbound('w-low')).toHaveLength(1);
    await usage('low', 'low-2', '2028-01-15T10:00:00Z', 100);
    expect(await wallet('w-low')).toMatchObject({ credits_balance: '20', credits_ongoing_balance: '5' });
    expect(await schedule('2028-01-15T12:00:00Z')).toMatchObject({ errors: [] });
    expect(await inbound('w-low')).toHaveLength(2);
    const [topUp] = await inbound('w-low');
    expect(topUp).toMatchObject({
      status: 'pending',
      reason: 'purchased',
      source: 'threshold',
      credits: '25',
      amount_cents: 2500,
    });
    await schedule('2028-01-15T12:01:00Z');
    expect(await inbound('w-low')).toHaveLength(2);
    await c.call('mark_invoice_paid', { invoice_id: topUp.invoice_id });
    expect(await wallet('w-low')).toMatchObject({ credits_balance: '45', credits_ongoing_balance: '30' });

    await runBilling(at('2028-02-01T00:00:00Z'), clock);
    const { invoices } = await c.call('list_invoices', { customer_id: 'low', invoice_type: 'subscription' });
    expect(invoices[0]).toMatchObject({
      total_amount_cents: 2500,
      prepaid_credit_amount_cents: 2500,
      amount_due_cents: 0,
    });
    expect(await wallet('w-low')).toMatchObject({ credits_balance: '20', credits_ongoing_balance: '20' });
    const expired = await c.call('list_invoices', { customer_id: 'exp', invoice_type: 'subscription' });
    expect(expired.invoices[0]).toMatchObject({
      total_amount_cents: 1500,
      prepaid_credit_amount_cents: 0,
      amount_due_cents: 1500,
    });
    await schedule('2028-02-01T00:01:00Z');
    expect(await inbound('w-low')).toHaveLength(2);

    at('2028-02-10T00:00:00Z');
    await usage('low', 'low-3', '2028-02-10T10:00:00Z', 400);
    await schedule('2028-02-10T12:00:00Z');
    expect(await inbound('w-low')).toHaveLength(3);
    const again = await inbound('w-low');
    expect(again[0]).toMatchObject({
      status: 'pending',
      source: 'threshold',
      credits: '30',
      amount_cents: 3000,
    });
  });

  it('tops up on a schedule, once for the runs missed while nothing ran', async () => {
    await schedule('2028-03-31T08:59:59Z');
    expect(await inbound('w-sched')).toHaveLength(0);
    await schedule('2028-03-31T09:00:00Z');
    await schedule('2028-03-31T09:00:30Z');
    let w = await wallet('w-sched');
    expect(w).toMatchObject({ credits_balance: '3', balance_cents: 600 });
    expect(w.recurring_transaction_rules[0].next_run_at).toBe('2028-04-30T09:00:00.000Z');
    await schedule('2028-05-31T10:00:00Z');
    w = await wallet('w-sched');
    expect(w).toMatchObject({ credits_balance: '6', balance_cents: 1200 });
    expect(w.recurring_transaction_rules[0].next_run_at).toBe('2028-06-30T09:00:00.000Z');
    const txs = await inbound('w-sched');
    expect(txs.map((x: any) => [x.source, x.reason, x.status, x.credits])).toEqual([
      ['interval', 'granted', 'settled', '3'],
      ['interval', 'granted', 'settled', '3'],
    ]);
  });
});
