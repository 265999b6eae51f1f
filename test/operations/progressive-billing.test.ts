import { expect, it } from 'vitest';
import { runProgressiveBilling } from '../../src/services/billing/progressive.js';
import { describeDoors } from '../harness/suite.js';

/**
 * Progressive billing on hand-worked numbers. Plan "metered": a 20.00 fee in arrears and calls
 * at 0.50 each; thresholds 10.00 ("Tier 1") and 25.00 ("Tier 2"), and 20.00 recurring after
 * them (levels 45.00, 65.00, …). The subscription starts 2026-10-01; October is the period.
 */
const ms = (iso: string) => Date.parse(iso);

describeDoors('progressive billing', (t) => {
  it('bills two thresholds as they are reached and deducts them from the period’s invoice', async () => {
    await t.door.ok('create_customer', { external_id: 'pb-1', name: 'Progressive One', currency: 'USD' });
    await t.door.ok('create_billable_metric', {
      code: 'pb_calls',
      name: 'Calls',
      aggregation_type: 'count_agg',
    });
    const { plan } = await t.door.ok('create_plan', {
      code: 'metered',
      name: 'Metered',
      interval: 'monthly',
      amount: '20',
      tax_codes: [],
      charges: [
        { billable_metric_code: 'pb_calls', charge_model: 'standard', properties: { amount: '0.50' } },
      ],
      usage_thresholds: [
        { amount: '25', threshold_display_name: 'Tier 2' },
        { amount: '20', recurring: true },
        { amount: '10.00', threshold_display_name: 'Tier 1' },
      ],
    });
    expect(plan.usage_thresholds.map((u: any) => [u.amount, u.recurring, u.threshold_display_name])).toEqual([
      ['10.00', false, 'Tier 1'],
      ['25.00', false, 'Tier 2'],
      ['20.00', true, null],
    ]);
    await t.door.ok('create_subscription', {
      customer_id: 'pb-1',
      plan_code: 'metered',
      external_id: 'pb-1-sub',
      started_at: '2026-10-01',
    });
    let n = 0;
    const calls = async (count: number, day: number) =>
      t.door.ok('record_usage_batch', {
        events: Array.from({ length: count }, () => ({
          transaction_id: `pb-${n++}`,
          customer_id: 'pb-1',
          code: 'pb_calls',
          timestamp: `2026-10-${String(day).padStart(2, '0')}T10:00:00Z`,
        })),
      });
    const check = async (iso: string) => runProgressiveBilling(t.env.rt, ms(iso));
    const progressive = async () =>
      (await t.door.ok('list_invoices', { customer_id: 'pb-1', invoice_type: 'progressive_billing' }))
        .invoices;

    // 18 calls = 9.00: under 10.00, nothing.
    await calls(18, 5);
    await check('2026-10-05T12:00:00Z');
    expect(await progressive()).toEqual([]);

    // 6 more = 24 calls = 12.00 ≥ 10.00: invoice #1 bills 12.00.
    await calls(6, 9);
    await check('2026-10-10T00:00:00Z');
    let list = await progressive();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      status: 'finalized',
      total_amount: '12.00',
      invoice_type: 'progressive_billing',
    });
    // Checked again: the level is billed once.
    await check('2026-10-11T00:00:00Z');
    expect(await progressive()).toHaveLength(1);

    // 30 more calls, 10 of them dated 2 October (arriving late): 54 calls = 27.00 ≥ 25.00.
    // Invoice #2 bills 27.00 − 12.00 already billed = 15.00.
    await calls(10, 2);
    await calls(20, 15);
    await check('2026-10-16T00:00:00Z');
    list = await progressive();
    expect(list).toHaveLength(2);
    const second = (
      await t.door.ok('get_invoice', { invoice_id: list.find((i: any) => i.total_amount !== '12.00').id })
    ).invoice;
    expect(second.total_amount).toBe('15.00');
    expect(second.lines[0].details).toMatchObject({ period_amount: '27', progressive_billed: '12.00' });

    // 10 more = 64 calls = 32.00: under the next level (25.00 + 20.00 = 45.00), nothing.
    await calls(10, 20);
    await check('2026-10-21T00:00:00Z');
    expect(await progressive()).toHaveLength(2);

    // The period's invoice: fee 20.00 + calls 32.00 − 27.00 billed progressively = 25.00.
    // Altogether 12.00 + 15.00 + 25.00 = 52.00 = 20.00 + 64 × 0.50.
    const { invoice } = await t.door.ok('generate_invoice', {
      subscription_id: 'pb-1-sub',
      period: { from: '2026-10-01', to: '2026-11-01' },
    });
    expect(invoice.total_amount).toBe('25.00');
    const usage = invoice.lines.find((l: any) => l.details.kind === 'charge');
    expect(usage).toMatchObject({ amount: '5.00' });
    expect(usage.details).toMatchObject({ period_amount: '32', progressive_billed: '27.00', units: '64' });
    // The period is invoiced now: no progressive invoice follows, whatever arrives.
    await calls(40, 22);
    await check('2026-10-23T00:00:00Z');
    expect(await progressive()).toHaveLength(2);
  });

  it('names the field of a wrong threshold', async () => {
    await t.door.ok('create_billable_metric', { code: 'pb_bad', name: 'Bad', aggregation_type: 'count_agg' });
    const base = {
      name: 'Bad',
      interval: 'monthly',
      amount: '0',
      currency: 'USD',
      charges: [{ billable_metric_code: 'pb_bad', charge_model: 'standard', properties: { amount: '1' } }],
    };
    const two = await t.door.fail(
      'create_plan',
      {
        ...base,
        code: 'bad-1',
        usage_thresholds: [
          { amount: '5', recurring: true },
          { amount: '9', recurring: true },
        ],
      },
      'VALIDATION_ERROR',
    );
    expect(two.message).toMatch(/^usage_thresholds\[1\]\.recurring: only one threshold may be recurring/);
    const cents = await t.door.fail(
      'create_plan',
      { ...base, code: 'bad-2', usage_thresholds: [{ amount: '5.001' }] },
      'VALIDATION_ERROR',
    );
    expect(cents.message).toMatch(/^usage_thresholds\[0\]\.amount: has more decimals than USD allows/);
    const zero = await t.door.fail(
      'create_plan',
      { ...base, code: 'bad-3', usage_thresholds: [{ amount: '0' }] },
      'VALIDATION_ERROR',
    );
    expect(zero.message).toMatch(/^usage_thresholds\[0\]\.amount: must be greater than 0/);
    const dup = await t.door.fail(
      'create_plan',
      { ...base, code: 'bad-4', usage_thresholds: [{ amount: '5' }, { amount: '5.00' }] },
      'VALIDATION_ERROR',
    );
    expect(dup.message).toMatch(
      /^usage_thresholds\[1\]\.amount: 5\.00 is already the amount of usage_thresholds\[0\]/,
    );
  });
});
