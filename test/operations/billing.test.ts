import { beforeAll, expect, it } from 'vitest';
import { caller, type Caller } from '../harness/billing.js';
import { describeDatabases, describeDoors } from '../harness/suite.js';

const range = (from: number, to: number | null, per: string, flat = '0') => ({
  from_value: from,
  to_value: to,
  per_unit_amount: per,
  flat_amount: flat,
});

const MARCH = { from: '2028-03-01', to: '2028-04-01' };
const APRIL = { from: '2028-04-01', to: '2028-05-01' };

/**
 * Invoices from subscriptions through generate_invoice, on hand-worked numbers. Every customer
 * here is subscribed on 2028-03-01 (UTC, calendar, monthly) unless said otherwise.
 */
describeDatabases('generate_invoice: charge models and proration', (t) => {
  let c: Caller;
  let n = 0;
  beforeAll(async () => {
    const org = await t.env.newOrganization();
    c = caller(t.env, org.id);
    await c.call('update_organization', { timezone: 'UTC' });
    await c.call('create_billable_metric', {
      code: 'units',
      name: 'Units',
      aggregation_type: 'sum_agg',
      field_name: 'n',
      filters: [{ key: 'region', values: ['us', 'eu'] }],
    });
    await c.call('create_billable_metric', {
      code: 'payments',
      name: 'Payments',
      aggregation_type: 'sum_agg',
      field_name: 'amount',
    });
  });

  /** A plan with one charge, a customer subscribed to it, events, and the March invoice. */
  async function invoiceFor(
    charge: Record<string, unknown> | null,
    events: Array<{ n?: number; amount?: string; region?: string; at?: string }>,
    plan: Record<string, unknown> = {},
    sub: Record<string, unknown> = {},
    period: unknown = MARCH,
  ): Promise<any> {
    const id = ++n;
    await c.call('create_plan', {
      code: `p${id}`,
      name: `Plan ${id}`,
      interval: 'monthly',
      currency: 'USD',
      amount: '0',
      pay_in_advance: false,
      charges: charge ? [charge] : [],
      ...plan,
    });
    await c.call('create_customer', { external_id: `c${id}`, name: `Customer ${id}`, currency: 'USD' });
    await c.call('create_subscription', {
      customer_id: `c${id}`,
      plan_code: `p${id}`,
      external_id: `s${id}`,
      started_at: '2028-03-01',
      ...sub,
    });
    let k = 0;
    for (const e of events) {
      const { at, n: units, amount, region } = e;
      await c.call('record_usage', {
        customer_id: `c${id}`,
        code: amount !== undefined ? 'payments' : 'units',
        transaction_id: `c${id}-${k}`,
        timestamp: at ?? `2028-03-10T10:00:${String(k++).padStart(2, '0')}Z`,
        properties: amount !== undefined ? { amount } : { n: units, ...(region ? { region } : {}) },
      });
    }
    const { invoice } = await c.call('generate_invoice', {
      customer_id: `c${id}`,
      subscription_id: `s${id}`,
      ...(period ? { period } : {}),
    });
    return invoice;
  }
  const charges = (inv: any) => inv.lines.filter((l: any) => l.details.kind === 'charge');

  it('standard: units × amount', async () => {
    const inv = await invoiceFor(
      { billable_metric_code: 'units', charge_model: 'standard', properties: { amount: '0.5' } },
      [{ n: 3 }, { n: 4 }],
    );
    expect(inv.status).toBe('draft');
    expect(inv.invoice_type).toBe('subscription');
    const [line] = charges(inv);
    expect(line).toMatchObject({ unit_amount: '3.5', amount_cents: 350, from: '2028-03-01T00:00:00.000Z' });
    expect(line.details).toMatchObject({ units: '7', charge_model: 'standard', event_count: 2 });
  });

  it('graduated: zero units, exactly on a boundary, one above, into the open last range', async () => {
    const charge = {
      billable_metric_code: 'units',
      charge_model: 'graduated',
      properties: {
        graduated_ranges: [range(0, 10, '1'), range(10, 20, '0.5', '2'), range(20, null, '0.1')],
      },
    };
    const cases: Array<[number, string]> = [
      [0, '0'], // no range has units: no flat amount either
      [10, '10'], // 10 × 1, all in the first range
      [11, '12.5'], // 10 + 1 × 0.5 + flat 2
      [25, '17.5'], // 10 + (10 × 0.5 + 2) + 5 × 0.1
    ];
    for (const [units, amount] of cases) {
      const inv = await invoiceFor(charge, units ? [{ n: units }] : []);
      const [line] = charges(inv);
      expect(line.unit_amount, `${units} units`).toBe(amount);
      expect(line.details.units).toBe(String(units));
    }
  });

  it('volume: all units at the range the total falls in', async () => {
    const charge = {
      billable_metric_code: 'units',
      charge_model: 'volume',
      properties: { volume_ranges: [range(0, 10, '1'), range(10, null, '0.8', '5')] },
    };
    for (const [units, amount] of [
      [0, '0'],
      [10, '10'], // on the edge: the first range
      [11, '13.8'], // 11 × 0.8 + 5
    ] as Array<[number, string]>) {
      const [line] = charges(await invoiceFor(charge, units ? [{ n: units }] : []));
      expect(line.unit_amount, `${units} units`).toBe(amount);
    }
  });

  it('package: whole packages after the free units', async () => {
    const charge = {
      billable_metric_code: 'units',
      charge_model: 'package',
      properties: { amount: '5', package_size: '100', free_units: '10' },
    };
    for (const [units, amount] of [
      [10, '0'],
      [110, '5'],
      [111, '10'],
    ] as Array<[number, string]>) {
      const [line] = charges(await invoiceFor(charge, [{ n: units }]));
      expect(line.unit_amount, `${units} units`).toBe(amount);
    }
  });

  it('percentage: per transaction, after the free events, clamped to min and max; min_amount tops up', async () => {
    const inv = await invoiceFor(
      {
        billable_metric_code: 'payments',
        charge_model: 'percentage',
        min_amount: '10',
        properties: {
          rate: '2',
          fixed_amount: '0.1',
          free_units_per_events: 1,
          per_transaction_min_amount: '0.2',
          per_transaction_max_amount: '5',
        },
      },
      [{ amount: '100' }, { amount: '50' }, { amount: '1000' }, { amount: '5' }],
    );
    // 100 free; 50 → 1 + 0.1 = 1.1; 1000 → 20.1 capped at 5; 5 → 0.2 (0.1 + 0.1, at the minimum).
    const [line] = charges(inv);
    expect(line.unit_amount).toBe('6.3');
    const top = inv.lines.find((l: any) => l.details.kind === 'charge_minimum');
    expect(top).toMatchObject({ unit_amount: '3.7' });
    expect(top.details).toMatchObject({ min_amount: '10', charge_amount: '6.3' });
    expect(inv.sub_total_amount_cents).toBe(1000);
  });

  it('filters: a line per filter value and one for events matching none', async () => {
    const inv = await invoiceFor(
      {
        billable_metric_code: 'units',
        charge_model: 'standard',
        properties: { amount: '1' },
        filters: [{ values: { region: ['eu'] }, properties: { amount: '2' } }],
      },
      [{ n: 3, region: 'us' }, { n: 4, region: 'eu' }, { n: 5 }],
    );
    const lines = charges(inv);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ unit_amount: '8' });
    expect(lines[0].details).toMatchObject({ units: '4', filter: { region: ['eu'] } });
    expect(lines[1]).toMatchObject({ unit_amount: '8' });
    expect(lines[1].details.units).toBe('8');
  });

  it('filters on a recurring unique count: a seat in two of the filter values counts once', async () => {
    await c.call('create_billable_metric', {
      code: 'seats',
      name: 'Seats',
      aggregation_type: 'unique_count_agg',
      field_name: 'seat',
      recurring: true,
      filters: [{ key: 'region', values: ['us', 'eu'] }],
    });
    await c.call('create_plan', {
      code: 'p-seats',
      name: 'Seats',
      interval: 'monthly',
      currency: 'USD',
      amount: '0',
      charges: [
        {
          billable_metric_code: 'seats',
          charge_model: 'standard',
          properties: { amount: '1' },
          filters: [{ values: { region: ['eu', 'us'] }, properties: { amount: '2' } }],
        },
      ],
    });
    await c.call('create_customer', { external_id: 'c-seats', name: 'Seats', currency: 'USD' });
    await c.call('create_subscription', {
      customer_id: 'c-seats',
      plan_code: 'p-seats',
      external_id: 's-seats',
      started_at: '2028-03-01',
    });
    const events: Array<[string, Record<string, unknown>]> = [
      ['2028-03-01T00:00:00Z', { seat: 's1', region: 'eu' }],
      ['2028-03-11T00:00:00Z', { seat: 's1', region: 'us' }],
      ['2028-03-01T00:00:00Z', { seat: 's2', region: 'eu' }],
      ['2028-03-05T00:00:00Z', { seat: 's2', region: 'eu', operation_type: 'remove' }],
      ['2028-03-25T00:00:00Z', { seat: 's2', region: 'eu' }],
      ['2028-03-30T00:00:00Z', { seat: 's3' }],
    ];
    await c.call('record_usage_batch', {
      events: events.map(([timestamp, properties], i) => ({
        transaction_id: `seats-${i}`,
        customer_id: 'c-seats',
        code: 'seats',
        timestamp,
        properties,
      })),
    });
    const { invoice } = await c.call('generate_invoice', {
      customer_id: 'c-seats',
      subscription_id: 's-seats',
      period: MARCH,
    });
    const lines = charges(invoice);
    expect(lines).toHaveLength(2);
    // s1 (eu and us) and s2 (eu): two seats at 2, not three.
    expect(lines[0].details).toMatchObject({ units: '2', filter: { region: ['eu', 'us'] } });
    expect(lines[0].unit_amount).toBe('4');
    // s3 matches no filter value.
    expect(lines[1].details.units).toBe('1');
    expect(lines[1].unit_amount).toBe('1');
  });

  it('prorates a calendar first period by days, in a leap February', async () => {
    const inv = await invoiceFor(
      null,
      [],
      { amount: '31' },
      { started_at: '2028-02-10' },
      {
        from: '2028-02-01',
        to: '2028-03-01',
      },
    );
    // 20 of 29 days: 31 × 20 / 29 = 21.3793… → 21.38
    const fee = inv.lines[0];
    expect(fee.unit_amount).toBe('21.38');
    expect(fee.details).toMatchObject({ kind: 'fee', days: 20, period_days: 29, prorated: true });
    expect(fee.from).toBe('2028-02-01T00:00:00.000Z');
  });

  it('anniversary periods run from the start date: 31 January → 29 February 2028, not prorated', async () => {
    const inv = await invoiceFor(
      null,
      [],
      { amount: '31' },
      { started_at: '2028-01-31', billing_time: 'anniversary' },
      { from: '2028-01-31', to: '2028-02-29' },
    );
    expect(inv.lines[0].unit_amount).toBe('31');
    expect(inv.lines[0].details).toMatchObject({ days: 29, period_days: 29, prorated: false });
    const err = await c.fail(
      'generate_invoice',
      { customer_id: `c${n}`, subscription_id: `s${n}`, period: { from: '2028-02-01', to: '2028-03-01' } },
      'VALIDATION_ERROR',
    );
    expect(err.message).toMatch(/the period holding 2028-02-01 is 2028-01-31–2028-02-29/);
    const next = await c.call('generate_invoice', {
      customer_id: `c${n}`,
      subscription_id: `s${n}`,
      at: '2028-03-15T00:00:00Z',
    });
    expect(next.invoice.lines[0].details).toMatchObject({
      period_from: '2028-02-29',
      period_to: '2028-03-31',
    });
  });

  it('trial days carry no fee; an in-advance fee is on the period it pays for', async () => {
    const inv = await invoiceFor(null, [], { amount: '31', pay_in_advance: true, trial_period_days: 10 });
    // March 1–10 is trial: 21 of 31 days paid.
    expect(inv.lines[0].unit_amount).toBe('21');
    expect(inv.lines[0].details).toMatchObject({ trial_days: 10, days: 21, pay_in_advance: true });
  });

  it('refreshes its draft when called again, and names what is wrong', async () => {
    const inv = await invoiceFor(
      { billable_metric_code: 'units', charge_model: 'standard', properties: { amount: '1' } },
      [{ n: 2 }],
    );
    await c.call('record_usage', {
      customer_id: `c${n}`,
      code: 'units',
      transaction_id: `late-${n}`,
      timestamp: '2028-03-20T00:00:00Z',
      properties: { n: 5 },
    });
    const again = await c.call('generate_invoice', {
      customer_id: `c${n}`,
      subscription_id: `s${n}`,
      period: MARCH,
    });
    expect(again.invoice.id).toBe(inv.id);
    expect(charges(again.invoice)[0].unit_amount).toBe('7');
    await c.call('finalize_invoice', { invoice_id: inv.id });
    const done = await c.fail(
      'generate_invoice',
      { customer_id: `c${n}`, subscription_id: `s${n}`, period: MARCH },
      'CONFLICT',
    );
    expect(done.message).toMatch(/already invoiced/);
    await c.fail(
      'generate_invoice',
      { customer_id: 'c1', subscription_id: `s${n}`, period: MARCH },
      'VALIDATION_ERROR',
    );
    await c.fail('generate_invoice', { customer_id: `c${n}`, subscription_id: 'nope' }, 'NOT_FOUND');
    const before = await c.fail(
      'generate_invoice',
      { customer_id: `c${n}`, subscription_id: `s${n}`, period: { from: '2028-01-01', to: '2028-02-01' } },
      'VALIDATION_ERROR',
    );
    expect(before.message).toMatch(/not active/);
  });

  it('coupons come off before tax: the metric coupon from its line only, then a percentage of the rest', async () => {
    await c.call('create_coupon', {
      code: `UNITS5-${n}`,
      name: 'Units credit',
      coupon_type: 'fixed_amount',
      amount: '5',
      amount_currency: 'USD',
      frequency: 'once',
      billable_metric_codes: ['units'],
    });
    await c.call('create_coupon', {
      code: `TENOFF-${n}`,
      name: 'Ten off',
      coupon_type: 'percentage',
      percentage_rate: '10',
      frequency: 'recurring',
      frequency_duration: 2,
    });
    const id = n + 1;
    await c.call('create_customer', { external_id: `c${id}`, name: 'Coupon Co', currency: 'USD' });
    await c.call('apply_coupon', { customer_id: `c${id}`, coupon_code: `UNITS5-${n}` });
    await c.call('apply_coupon', { customer_id: `c${id}`, coupon_code: `TENOFF-${n}` });
    await c.call('create_tax', { code: `vat20-${id}`, name: 'VAT', rate: '20', customer_ids: [`c${id}`] });
    n = id - 1;
    // Fee 40 + charge 3 × 1 = 43. Units credit: 3 (its line only, it keeps 2); ten off: 10 % of
    // the 40 left = 4. Subtotal 43, discounts 7, taxable 36, VAT 7.20, total 43.20.
    const plan = { amount: '40' };
    const sub = {};
    const inv = await (async () => {
      const next = ++n;
      await c.call('create_plan', {
        code: `p${next}`,
        name: 'Coupon plan',
        interval: 'monthly',
        currency: 'USD',
        amount: plan.amount,
        pay_in_advance: false,
        charges: [{ billable_metric_code: 'units', charge_model: 'standard', properties: { amount: '1' } }],
      });
      await c.call('create_subscription', {
        customer_id: `c${next}`,
        plan_code: `p${next}`,
        external_id: `s${next}`,
        started_at: '2028-03-01',
        ...sub,
      });
      await c.call('record_usage', {
        customer_id: `c${next}`,
        code: 'units',
        transaction_id: `coupon-${next}`,
        timestamp: '2028-03-03T00:00:00Z',
        properties: { n: 3 },
      });
      return (
        await c.call('generate_invoice', {
          customer_id: `c${next}`,
          subscription_id: `s${next}`,
          period: MARCH,
        })
      ).invoice;
    })();
    expect(inv.discounts.map((d: any) => [d.coupon_code?.split('-')[0], d.amount_cents])).toEqual([
      ['UNITS5', 300],
      ['TENOFF', 400],
    ]);
    expect(inv.lines.map((l: any) => l.discount_amount_cents)).toEqual([400, 300]);
    expect(inv).toMatchObject({
      sub_total_amount_cents: 4300,
      coupons_amount_cents: 700,
      taxes_amount_cents: 720,
      total_amount_cents: 4320,
    });
    // Refreshing the draft gives the coupons back before taking them again: same result.
    const again = await c.call('generate_invoice', {
      customer_id: `c${n}`,
      subscription_id: `s${n}`,
      period: MARCH,
    });
    expect(again.invoice.coupons_amount_cents).toBe(700);
    const { applied_coupons } = await c.call('list_applied_coupons', { customer_id: `c${n}` });
    const units = applied_coupons.find((a: any) => a.coupon_code.startsWith('UNITS5'));
    expect(units.amount_remaining_cents).toBe(200);

    // Voided, the finalized invoice gives back what it took: the units credit's 3 and the
    // period of the ten-off it used; the next period takes them afresh.
    const couponsOf = async () =>
      Object.fromEntries(
        (await c.call('list_applied_coupons', { customer_id: `c${n}` })).applied_coupons.map((a: any) => [
          a.coupon_code.split('-')[0],
          [a.status, a.amount_remaining_cents, a.frequency_duration_remaining],
        ]),
      );
    await c.call('finalize_invoice', { invoice_id: again.invoice.id });
    expect(await couponsOf()).toEqual({ UNITS5: ['active', 200, null], TENOFF: ['active', null, 1] });
    const voided = await c.call('void_invoice', { invoice_id: again.invoice.id, reason: 'billed in error' });
    expect(voided.invoice).toMatchObject({ status: 'voided', coupons_amount_cents: 700 });
    expect(await couponsOf()).toEqual({ UNITS5: ['active', 500, null], TENOFF: ['active', null, 2] });
    await c.call('record_usage', {
      customer_id: `c${n}`,
      code: 'units',
      transaction_id: `coupon-${n}-april`,
      timestamp: '2028-04-03T00:00:00Z',
      properties: { n: 3 },
    });
    const april = await c.call('generate_invoice', {
      customer_id: `c${n}`,
      subscription_id: `s${n}`,
      period: APRIL,
    });
    expect(april.invoice.discounts.map((d: any) => [d.coupon_code?.split('-')[0], d.amount_cents])).toEqual([
      ['UNITS5', 300],
      ['TENOFF', 400],
    ]);
    expect(await couponsOf()).toEqual({ UNITS5: ['active', 200, null], TENOFF: ['active', null, 1] });
  });

  it("get_customer_usage shows each charge's amount so far in the current period", async () => {
    const id = ++n;
    await c.call('create_plan', {
      code: `p${id}`,
      name: 'Usage',
      interval: 'monthly',
      currency: 'USD',
      amount: '5',
      pay_in_advance: false,
      charges: [
        {
          billable_metric_code: 'units',
          charge_model: 'graduated',
          properties: { graduated_ranges: [range(0, 10, '0'), range(10, null, '0.5')] },
        },
      ],
    });
    await c.call('create_customer', { external_id: `c${id}`, name: 'Usage Co', currency: 'USD' });
    const now = Date.now();
    await c.call('create_subscription', {
      customer_id: `c${id}`,
      plan_code: `p${id}`,
      external_id: `s${id}`,
      started_at: new Date(now - 40 * 86_400_000).toISOString(),
    });
    await c.call('record_usage', {
      customer_id: `c${id}`,
      code: 'units',
      transaction_id: `usage-${id}`,
      timestamp: new Date(now - 1000).toISOString(),
      properties: { n: 14 },
    });
    const usage = await c.call('get_customer_usage', { customer_id: `c${id}`, metric_code: 'units' });
    expect(usage.metrics[0].charges).toEqual([
      expect.objectContaining({
        subscription_external_id: `s${id}`,
        plan_code: `p${id}`,
        charge_model: 'graduated',
        units: '14',
        amount: '2', // 4 above the free 10, at 0.5
        currency: 'USD',
      }),
    ]);
  });

  it('preview_invoice writes nothing', async () => {
    const id = ++n;
    await c.call('create_plan', {
      code: `p${id}`,
      name: 'Preview',
      interval: 'monthly',
      currency: 'USD',
      amount: '12',
      pay_in_advance: true,
      charges: [{ billable_metric_code: 'units', charge_model: 'standard', properties: { amount: '1' } }],
    });
    await c.call('create_customer', { external_id: `c${id}`, name: 'Preview Co', currency: 'USD' });
    await c.call('create_subscription', {
      customer_id: `c${id}`,
      plan_code: `p${id}`,
      external_id: `s${id}`,
      started_at: '2028-03-01',
    });
    const db = t.env.rt.db.kysely;
    const counts = async () =>
      Promise.all(
        (['invoices', 'invoice_lines', 'subscription_billings', 'activity_logs', 'counters'] as const).map(
          async (table) =>
            Number((await db.selectFrom(table).select(db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n),
        ),
      );
    const before = await counts();
    const preview = await c.call('preview_invoice', { customer_id: `c${id}`, subscription_id: `s${id}` });
    expect(preview.billing_at).toBe('2028-03-01T00:00:00.000Z');
    expect(preview.invoice.lines).toHaveLength(1);
    expect(preview.invoice.lines[0]).toMatchObject({ unit_amount: '12' });
    const period = await c.call('preview_invoice', {
      customer_id: `c${id}`,
      subscription_id: `s${id}`,
      period: MARCH,
    });
    expect(period.invoice.lines.map((l: any) => l.details.kind)).toEqual(['fee', 'charge']);
    expect(await counts()).toEqual(before);
    const { invoices } = await c.call('list_invoices', { customer_id: `c${id}` });
    expect(invoices).toHaveLength(0);
  });
});

describeDoors(
  'billing operations',
  (t) => {
    beforeAll(async () => {
      await t.door.ok('update_organization', { timezone: 'UTC' });
      await t.door.ok('create_billable_metric', {
        code: 'calls',
        name: 'Calls',
        aggregation_type: 'count_agg',
      });
      await t.door.ok('create_plan', {
        code: 'basic',
        name: 'Basic',
        interval: 'monthly',
        currency: 'USD',
        amount: '10',
        pay_in_advance: false,
        charges: [
          { billable_metric_code: 'calls', charge_model: 'standard', properties: { amount: '0.25' } },
        ],
      });
      await t.door.ok('create_customer', { external_id: 'door-cust', name: 'Door Co', currency: 'USD' });
      await t.door.ok('create_subscription', {
        customer_id: 'door-cust',
        plan_code: 'basic',
        external_id: 'door-sub',
        started_at: '2028-03-01',
      });
      for (let i = 0; i < 3; i++)
        await t.door.ok('record_usage', {
          customer_id: 'door-cust',
          code: 'calls',
          transaction_id: `call-${i}`,
          timestamp: '2028-03-05T00:00:00Z',
        });
    });

    it('previews, then generates the draft of a period', async () => {
      const preview = await t.door.ok('preview_invoice', {
        customer_id: 'door-cust',
        subscription_id: 'door-sub',
      });
      expect(preview.billing_at).toBe('2028-04-01T00:00:00.000Z');
      expect(preview.invoice.total_amount).toBe('10.75');
      const { invoice } = await t.door.ok('generate_invoice', {
        customer_id: 'door-cust',
        subscription_id: 'door-sub',
        at: '2028-03-20T00:00:00Z',
      });
      expect(invoice).toMatchObject({
        status: 'draft',
        total_amount_cents: 1075,
        invoice_type: 'subscription',
      });
      expect(invoice.lines[1].details).toMatchObject({ units: '3', charge_model: 'standard' });
      await t.door.fail(
        'generate_invoice',
        {
          customer_id: 'door-cust',
          subscription_id: 'door-sub',
          period: { from: '2028-03-02', to: '2028-04-01' },
        },
        'VALIDATION_ERROR',
      );
    });
  },
  { doors: ['http_api', 'mcp_http'] },
);
