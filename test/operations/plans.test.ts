import { beforeAll, expect, it } from 'vitest';
import { localPrincipal } from '../../src/interfaces/bootstrap.js';
import { dispatch } from '../../src/interfaces/dispatch.js';
import type { Principal } from '../../src/services/context.js';
import type { ErrorBody } from '../../src/domain/errors.js';
import { newId } from '../../src/domain/ids.js';
import { describeDatabases, describeDoors } from '../harness/suite.js';

const range = (from: number | string, to: number | string | null, per: string, flat = '0') => ({
  from_value: from,
  to_value: to,
  per_unit_amount: per,
  flat_amount: flat,
});

const STARTUP = {
  code: 'startup',
  name: 'Startup',
  interval: 'monthly',
  currency: 'USD',
  amount: '49.00',
  pay_in_advance: true,
  trial_period_days: 14,
  charges: [
    {
      billable_metric_code: 'api_calls',
      charge_model: 'graduated',
      properties: {
        graduated_ranges: [
          range(0, 1000, '0'),
          range(1000, 10000, '0.002'),
          range(10000, null, '0.001', '5'),
        ],
      },
    },
    { billable_metric_code: 'storage_gb', charge_model: 'standard', properties: { amount: '0.25' } },
  ],
};

describeDoors('plans', (t) => {
  beforeAll(async () => {
    await t.door.ok('create_billable_metric', {
      code: 'api_calls',
      name: 'API calls',
      aggregation_type: 'count_agg',
    });
    await t.door.ok('create_billable_metric', {
      code: 'storage_gb',
      name: 'Storage',
      aggregation_type: 'sum_agg',
      field_name: 'gb',
      filters: [{ key: 'region', values: ['us', 'eu'] }],
    });
  });

  it('creates a plan, reads it by code and id, and a retry returns it unchanged', async () => {
    const { plan, created } = await t.door.ok('create_plan', STARTUP);
    expect(created).toBe(true);
    expect(plan).toMatchObject({
      code: 'startup',
      interval: 'monthly',
      currency: 'USD',
      amount_cents: 4900,
      amount: '49.00',
      pay_in_advance: true,
      trial_period_days: 14,
      minimum_commitment: null,
      tax_codes: null,
      deleted_at: null,
    });
    expect(plan.id).toMatch(/^plan_/);
    expect(plan.charges).toHaveLength(2);
    expect(plan.charges[0]).toMatchObject({
      billable_metric_code: 'api_calls',
      charge_model: 'graduated',
      properties: {
        graduated_ranges: [
          { from_value: '0', to_value: '1000', per_unit_amount: '0', flat_amount: '0' },
          { from_value: '1000', to_value: '10000', per_unit_amount: '0.002', flat_amount: '0' },
          { from_value: '10000', to_value: null, per_unit_amount: '0.001', flat_amount: '5' },
        ],
      },
      prorated: false,
    });
    expect(plan.charges[0].id).toMatch(/^chg_/);
    expect((await t.door.ok('get_plan', { plan_code: 'startup' })).plan).toEqual(plan);
    expect((await t.door.ok('get_plan', { plan_code: plan.id })).plan).toEqual(plan);
    const again = await t.door.ok('create_plan', STARTUP);
    expect(again).toEqual({ plan, created: false });
    const other = await t.door.fail('create_plan', { ...STARTUP, amount: '59' }, 'CONFLICT');
    expect(other.hint).toMatch(/update_plan/);
  });

  it('names the range at fault when graduated ranges leave a gap', async () => {
    const err = await t.door.fail(
      'create_plan',
      {
        ...STARTUP,
        code: 'gappy',
        charges: [
          STARTUP.charges[1],
          {
            billable_metric_code: 'api_calls',
            charge_model: 'graduated',
            properties: { graduated_ranges: [range(0, 100, '1'), range(150, null, '0.5')] },
          },
        ],
      },
      'VALIDATION_ERROR',
    );
    expect(err.message).toMatch(/^charges\[1\]\.properties\.graduated_ranges\[1\]\.from_value: must be 100/);
    expect((err.details.issues as Array<{ field: string }>)[0]!.field).toBe(
      'charges[1].properties.graduated_ranges[1].from_value',
    );
    expect(err.hint).toMatch(/tile from 0/);
  });
});

describeDatabases('plan rules', (t) => {
  let principal: Principal;
  beforeAll(async () => {
    const org = await t.env.newOrganization();
    principal = localPrincipal(org.id);
    await call('create_billable_metric', {
      code: 'api_calls',
      name: 'API calls',
      aggregation_type: 'count_agg',
    });
    await call('create_billable_metric', {
      code: 'storage_gb',
      name: 'Storage',
      aggregation_type: 'sum_agg',
      field_name: 'gb',
      filters: [
        { key: 'region', values: ['us', 'eu'] },
        { key: 'tier', values: ['hot', 'cold'] },
      ],
    });
    await call('create_billable_metric', {
      code: 'seats',
      name: 'Seats',
      aggregation_type: 'unique_count_agg',
      field_name: 'seat',
      recurring: true,
    });
    await call('create_billable_metric', {
      code: 'payments',
      name: 'Payments',
      aggregation_type: 'sum_agg',
      field_name: 'amount',
    });
    await call('create_tax', { code: 'vat20', name: 'VAT', rate: '20' });
  });

  async function run(operation: string, args: unknown) {
    return (await dispatch(t.env.rt, { principal, door: 'system', operation, args })).outcome;
  }
  async function call(operation: string, args: unknown): Promise<any> {
    const outcome = await run(operation, args);
    if (!outcome.ok) throw new Error(`${operation}: ${outcome.error.message}`);
    return outcome.output;
  }
  async function fail(operation: string, args: unknown, code: ErrorBody['code']): Promise<ErrorBody> {
    const outcome = await run(operation, args);
    if (outcome.ok) throw new Error(`${operation} succeeded but should fail with ${code}`);
    expect(outcome.error.code, outcome.error.message).toBe(code);
    return outcome.error;
  }
  const plan = (code: string, charges: unknown[], extra: Record<string, unknown> = {}) => ({
    code,
    name: code,
    interval: 'monthly',
    amount: '10',
    charges,
    ...extra,
  });
  async function chargeError(charge: Record<string, unknown>, code = 'bad'): Promise<ErrorBody> {
    return fail('create_plan', plan(code, [charge]), 'VALIDATION_ERROR');
  }
  const fieldOf = (e: ErrorBody) => (e.details.issues as Array<{ field: string }>)[0]!.field;
  const graduated = (ranges: unknown[]) => ({
    billable_metric_code: 'api_calls',
    charge_model: 'graduated',
    properties: { graduated_ranges: ranges },
  });

  it('refuses ranges that do not tile from 0, naming the field', async () => {
    const overlap = await chargeError(graduated([range(0, 100, '1'), range(90, null, '1')]));
    expect(fieldOf(overlap)).toBe('charges[0].properties.graduated_ranges[1].from_value');
    expect(overlap.message).toMatch(/must be 100, the previous range's to_value \(got 90\)/);

    const notZero = await chargeError(graduated([range(1, 100, '1'), range(100, null, '1')]));
    expect(fieldOf(notZero)).toBe('charges[0].properties.graduated_ranges[0].from_value');
    expect(notZero.message).toMatch(/must be 0 \(got 1\)/);

    const closed = await chargeError(graduated([range(0, 100, '1'), range(100, 200, '1')]));
    expect(fieldOf(closed)).toBe('charges[0].properties.graduated_ranges[1].to_value');
    expect(closed.message).toMatch(/must be null: the last range is open/);

    const openMiddle = await chargeError(graduated([range(0, null, '1'), range(100, null, '1')]));
    expect(fieldOf(openMiddle)).toBe('charges[0].properties.graduated_ranges[0]');

    const volumeGap = await chargeError({
      billable_metric_code: 'api_calls',
      charge_model: 'volume',
      properties: { volume_ranges: [range(0, 10, '1'), range(11, null, '1')] },
    });
    expect(fieldOf(volumeGap)).toBe('charges[0].properties.volume_ranges[1].from_value');

    const backwards = await chargeError(graduated([range(0, 0, '1'), range(0, null, '1')]));
    expect(fieldOf(backwards)).toBe('charges[0].properties.graduated_ranges[0].to_value');
  });

  it('names missing and misplaced properties with an example of what works', async () => {
    const missing = await chargeError({ billable_metric_code: 'api_calls', charge_model: 'standard' });
    expect(missing.message).toBe('charges[0].properties.amount: is required for the standard charge model');
    expect(missing.hint).toMatch(/"amount": "0.05"/);

    const noRanges = await chargeError({
      billable_metric_code: 'api_calls',
      charge_model: 'volume',
      properties: {},
    });
    expect(fieldOf(noRanges)).toBe('charges[0].properties.volume_ranges');

    const wrongKey = await chargeError({
      billable_metric_code: 'api_calls',
      charge_model: 'standard',
      properties: { amount: '1', rate: '2' },
    });
    expect(fieldOf(wrongKey)).toBe('charges[0].properties.rate');
    expect(wrongKey.message).toMatch(/does not apply to the standard charge model, which takes amount/);

    const noPackage = await chargeError({
      billable_metric_code: 'api_calls',
      charge_model: 'package',
      properties: { amount: '5' },
    });
    expect(fieldOf(noPackage)).toBe('charges[0].properties.package_size');
    const zeroPackage = await chargeError({
      billable_metric_code: 'api_calls',
      charge_model: 'package',
      properties: { amount: '5', package_size: 0 },
    });
    expect(zeroPackage.message).toMatch(/package_size: must be greater than 0 \(got 0\)/);

    const rate = await chargeError({
      billable_metric_code: 'payments',
      charge_model: 'percentage',
      properties: { rate: '101' },
    });
    expect(rate.message).toMatch(/charges\[0\]\.properties\.rate: must be between 0 and 100 \(got 101\)/);
    const negative = await chargeError({
      billable_metric_code: 'api_calls',
      charge_model: 'standard',
      properties: { amount: '-1' },
    });
    expect(fieldOf(negative)).toBe('charges[0].properties.amount');
    const typo = await chargeError({
      billable_metric_code: 'api_calls',
      charge_model: 'standard',
      properties: { amout: '1' },
    });
    expect(typo.message).toMatch(/amout/);
  });

  it('checks metrics, filters, proration, money precision and taxes', async () => {
    const unknown = await fail(
      'create_plan',
      plan('x', [{ billable_metric_code: 'nope', charge_model: 'standard', properties: { amount: '1' } }]),
      'VALIDATION_ERROR',
    );
    expect(fieldOf(unknown)).toBe('charges[0].billable_metric_code');
    expect(unknown.message).toMatch(/no billable metric has the code 'nope'/);
    expect(unknown.hint).toMatch(/list_billable_metrics/);

    const std = (code: string, extra: Record<string, unknown> = {}) => ({
      billable_metric_code: code,
      charge_model: 'standard',
      properties: { amount: '1' },
      ...extra,
    });
    const dup = await fail(
      'create_plan',
      plan('dup', [std('api_calls'), std('api_calls')]),
      'VALIDATION_ERROR',
    );
    expect(fieldOf(dup)).toBe('charges[1].billable_metric_code');

    const badKey = await chargeError(
      std('storage_gb', { filters: [{ values: { zone: ['a'] }, properties: { amount: '2' } }] }),
    );
    expect(fieldOf(badKey)).toBe('charges[0].filters[0].values.zone');
    expect(badKey.hint).toMatch(/region, tier/);
    const badValue = await chargeError(
      std('storage_gb', { filters: [{ values: { region: ['us', 'apac'] }, properties: { amount: '2' } }] }),
    );
    expect(fieldOf(badValue)).toBe('charges[0].filters[0].values.region[1]');
    expect(badValue.hint).toMatch(/us, eu/);
    const noFilters = await chargeError(
      std('api_calls', { filters: [{ values: { region: ['us'] }, properties: { amount: '2' } }] }),
    );
    expect(noFilters.hint).toMatch(/has no filters/);
    const badFilterProps = await chargeError(
      std('storage_gb', { filters: [{ values: { region: ['eu'] }, properties: {} }] }),
    );
    expect(fieldOf(badFilterProps)).toBe('charges[0].filters[0].properties.amount');

    const prorated = await chargeError(std('api_calls', { prorated: true }));
    expect(fieldOf(prorated)).toBe('charges[0].prorated');
    expect(prorated.message).toMatch(/only to recurring billable metrics, and 'api_calls' is not recurring/);
    const { plan: seats } = await call('create_plan', plan('seats', [std('seats', { prorated: true })]));
    expect(seats.charges[0].prorated).toBe(true);

    const cents = await fail('create_plan', plan('c', [], { amount: '9.999' }), 'VALIDATION_ERROR');
    expect(cents.message).toMatch(/^amount: has more decimals than USD allows \(2\)/);
    const yen = await call('create_plan', plan('yen', [], { amount: '1200', currency: 'jpy' }));
    expect(yen.plan).toMatchObject({ currency: 'JPY', amount_cents: 1200, amount: '1200' });

    const tax = await fail('create_plan', plan('t', [], { tax_codes: ['gst'] }), 'VALIDATION_ERROR');
    expect(tax.message).toMatch(/tax_codes\[0\]: no tax has the code 'gst'/);
    const taxed = await call(
      'create_plan',
      plan('taxed', [], { tax_codes: ['vat20'], minimum_commitment: 100 }),
    );
    expect(taxed.plan).toMatchObject({
      tax_codes: ['vat20'],
      minimum_commitment_cents: 10000,
      minimum_commitment: '100.00',
      currency: 'USD',
    });

    const pct = await call(
      'create_plan',
      plan('pct', [
        {
          billable_metric_code: 'payments',
          charge_model: 'percentage',
          properties: {
            rate: '2.9',
            fixed_amount: '0.30',
            free_units_per_events: 3,
            per_transaction_max_amount: 5,
          },
        },
      ]),
    );
    expect(pct.plan.charges[0].properties).toEqual({
      rate: '2.9',
      fixed_amount: '0.3',
      free_units_per_events: 3,
      free_units_per_total_aggregation: null,
      per_transaction_min_amount: null,
      per_transaction_max_amount: '5',
    });
  });

  it('update_plan changes what is given and keeps charge ids for the same metric', async () => {
    const { plan: p } = await call(
      'create_plan',
      plan('growth', [
        { billable_metric_code: 'api_calls', charge_model: 'standard', properties: { amount: '0.01' } },
        { billable_metric_code: 'payments', charge_model: 'percentage', properties: { rate: '1' } },
      ]),
    );
    const [calls, payments] = p.charges;
    const { plan: renamed } = await call('update_plan', { plan_code: 'growth', name: 'Growth', amount: 20 });
    expect(renamed).toMatchObject({ name: 'Growth', amount: '20.00', interval: 'monthly' });
    expect(renamed.charges).toEqual(p.charges);

    const { plan: next } = await call('update_plan', {
      plan_code: p.id,
      charges: [
        {
          billable_metric_code: 'storage_gb',
          charge_model: 'package',
          properties: { amount: '5', package_size: '100' },
          filters: [
            {
              values: { region: ['eu'] },
              properties: { amount: '6', package_size: 100 },
              invoice_display_name: 'EU',
            },
          ],
        },
        {
          billable_metric_code: 'api_calls',
          charge_model: 'volume',
          properties: { volume_ranges: [range(0, 100, '0.02'), range(100, null, '0.01')] },
        },
      ],
    });
    expect(next.charges.map((c: { billable_metric_code: string }) => c.billable_metric_code)).toEqual([
      'storage_gb',
      'api_calls',
    ]);
    expect(next.charges[1].id).toBe(calls.id);
    expect(next.charges[1].charge_model).toBe('volume');
    expect(next.charges[0].id).not.toBe(payments.id);
    expect(next.charges[0].properties).toEqual({ amount: '5', package_size: '100', free_units: '0' });
    expect(next.charges[0].filters).toEqual([
      {
        values: { region: ['eu'] },
        properties: { amount: '6', package_size: '100', free_units: '0' },
        invoice_display_name: 'EU',
      },
    ]);
    expect((await call('get_plan', { plan_code: 'growth' })).plan).toEqual(next);

    const bad = await fail(
      'update_plan',
      { plan_code: 'growth', charges: [{ billable_metric_code: 'api_calls', charge_model: 'standard' }] },
      'VALIDATION_ERROR',
    );
    expect(fieldOf(bad)).toBe('charges[0].properties.amount');
    await fail('update_plan', { plan_code: 'nope', name: 'x' }, 'NOT_FOUND');
  });

  it('lists plans with search, interval and currency filters', async () => {
    await call('create_plan', plan('list-weekly', [], { name: 'Weekly Basic', interval: 'weekly' }));
    await call(
      'create_plan',
      plan('list-yearly', [], { name: 'Yearly Pro', interval: 'yearly', currency: 'EUR' }),
    );
    const weekly = await call('list_plans', { interval: 'weekly' });
    expect(weekly.plans.map((x: { code: string }) => x.code)).toEqual(['list-weekly']);
    const eur = await call('list_plans', { currency: 'eur' });
    expect(eur.plans.map((x: { code: string }) => x.code)).toEqual(['list-yearly']);
    const search = await call('list_plans', { search: 'PRO' });
    expect(search.plans.map((x: { code: string }) => x.code)).toEqual(['list-yearly']);
    const paged = await call('list_plans', { search: 'list-', per_page: 1, page: 2 });
    expect(paged.plans).toHaveLength(1);
    expect(paged.pagination).toMatchObject({ current_page: 2, total_count: 2, total_pages: 2, prev_page: 1 });
  });

  it('delete_plan refuses while a live subscription uses it, then soft-deletes', async () => {
    const { plan: p } = await call('create_plan', plan('doomed', []));
    const { customer } = await call('create_customer', { external_id: 'plan-user', name: 'Plan User' });
    const now = Date.now();
    // Written directly so this case does not depend on create_subscription.
    await t.env.rt.db.kysely
      .insertInto('subscriptions')
      .values({
        id: newId('subscription', now),
        organization_id: principal.organizationId,
        external_id: 'sub-doomed',
        customer_id: customer.id,
        plan_id: p.id,
        name: null,
        status: 'active',
        billing_time: 'calendar',
        timezone: 'UTC',
        anchor_date: '2026-01-01',
        started_at: now,
        trial_ends_at: null,
        ending_at: null,
        terminated_at: null,
        canceled_at: null,
        plan_overrides: null,
        next_plan_id: null,
        next_plan_at: null,
        previous_subscription_id: null,
        next_billing_at: null,
        metadata: '{}',
        created_at: now,
        updated_at: now,
      })
      .execute();
    const refused = await fail('delete_plan', { plan_code: 'doomed' }, 'INVALID_STATUS');
    expect(refused.message).toMatch(/used by pending or active subscriptions \(sub-doomed\)/);
    expect(refused.hint).toMatch(/terminate_subscription/);
    await t.env.rt.db.kysely
      .updateTable('subscriptions')
      .set({ status: 'terminated', terminated_at: now })
      .where('external_id', '=', 'sub-doomed')
      .where('organization_id', '=', principal.organizationId)
      .execute();
    const { plan: gone } = await call('delete_plan', { plan_code: 'doomed' });
    expect(gone.deleted_at).not.toBeNull();
    await fail('get_plan', { plan_code: 'doomed' }, 'NOT_FOUND');
    expect((await call('get_plan', { plan_code: p.id })).plan.deleted_at).toBe(gone.deleted_at);
    expect((await call('delete_plan', { plan_code: p.id })).plan).toEqual(gone);
    await fail('update_plan', { plan_code: p.id, name: 'x' }, 'INVALID_STATUS');
    expect((await call('list_plans', { search: 'doomed' })).plans).toEqual([]);
    // The code is free again.
    expect((await call('create_plan', plan('doomed', []))).created).toBe(true);
  });
});
