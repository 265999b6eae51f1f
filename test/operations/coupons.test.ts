import { beforeAll, expect, it } from 'vitest';
import type { ErrorBody } from '../../src/domain/errors.js';
import { localPrincipal } from '../../src/interfaces/bootstrap.js';
import { dispatch } from '../../src/interfaces/dispatch.js';
import {
  couponsToApply,
  recordRedemptions,
  releaseRedemptions,
} from '../../src/services/billing/coupon-ledger.js';
import { createServiceContext, type Principal, type ServiceContext } from '../../src/services/context.js';
import { describeDatabases, describeDoors } from '../harness/suite.js';

describeDoors('coupons', (t) => {
  it('creates a coupon, applies it to a customer by external id, lists and removes it', async () => {
    await t.door.ok('create_customer', { external_id: 'acme', name: 'Acme', currency: 'USD' });
    const { coupon, created } = await t.door.ok('create_coupon', {
      code: 'WELCOME10',
      name: 'Welcome',
      coupon_type: 'fixed_amount',
      amount: '10.00',
      amount_currency: 'usd',
      frequency: 'recurring',
      frequency_duration: 3,
    });
    expect(created).toBe(true);
    expect(coupon).toMatchObject({
      code: 'WELCOME10',
      coupon_type: 'fixed_amount',
      amount_cents: 1000,
      amount: '10.00',
      amount_currency: 'USD',
      frequency: 'recurring',
      frequency_duration: 3,
      reusable: true,
      status: 'active',
    });
    expect(coupon.id).toMatch(/^cpn_/);
    expect((await t.door.ok('get_coupon', { coupon_code: 'WELCOME10' })).coupon).toEqual(coupon);
    expect(
      await t.door.ok('create_coupon', {
        code: 'WELCOME10',
        name: 'Welcome',
        coupon_type: 'fixed_amount',
        amount: 10,
        amount_currency: 'USD',
        frequency: 'recurring',
        frequency_duration: 3,
      }),
    ).toEqual({ coupon, created: false });

    const { applied_coupon } = await t.door.ok('apply_coupon', {
      customer_id: 'acme',
      coupon_code: 'WELCOME10',
      frequency_duration: 6,
    });
    expect(applied_coupon).toMatchObject({
      coupon_code: 'WELCOME10',
      external_customer_id: 'acme',
      status: 'active',
      frequency: 'recurring',
      frequency_duration: 6,
      frequency_duration_remaining: 6,
      amount_cents: 1000,
      amount: '10.00',
      amount_currency: 'USD',
    });
    const listed = await t.door.ok('list_applied_coupons', { customer_id: 'acme', status: 'active' });
    expect(listed.applied_coupons).toEqual([applied_coupon]);
    const unknown = await t.door.fail(
      'apply_coupon',
      { customer_id: 'acme', coupon_code: 'NOPE' },
      'NOT_FOUND',
    );
    expect(unknown.message).toMatch(/coupon_code: no coupon has the code or id 'NOPE'/);

    const removed = await t.door.ok('remove_applied_coupon', { applied_coupon_id: applied_coupon.id });
    expect(removed.changed).toBe(true);
    expect(removed.applied_coupon.status).toBe('terminated');
    const again = await t.door.ok('remove_applied_coupon', { applied_coupon_id: applied_coupon.id });
    expect(again.changed).toBe(false);
  });
});

describeDatabases('coupon rules', (t) => {
  let principal: Principal;
  beforeAll(async () => {
    const org = await t.env.newOrganization();
    principal = localPrincipal(org.id);
    await call('create_customer', { external_id: 'usd-co', name: 'USD Co', currency: 'USD' });
    await call('create_customer', { external_id: 'eur-co', name: 'EUR Co', currency: 'EUR' });
    await call('create_billable_metric', {
      code: 'api_calls',
      name: 'API calls',
      aggregation_type: 'count_agg',
    });
    await call('create_plan', {
      code: 'pro',
      name: 'Pro',
      interval: 'monthly',
      amount: '10',
      currency: 'USD',
    });
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
  async function inTransaction<T>(fn: (ctx: ServiceContext) => Promise<T>): Promise<T> {
    return t.env.rt.db.kysely
      .transaction()
      .execute((trx) => fn(createServiceContext(t.env.rt, trx, principal, 'system', 'req_coupon_test')));
  }
  const fixed = (code: string, extra: Record<string, unknown> = {}) => ({
    code,
    name: code,
    coupon_type: 'fixed_amount',
    amount: '20',
    amount_currency: 'USD',
    ...extra,
  });
  const pct = (code: string, extra: Record<string, unknown> = {}) => ({
    code,
    name: code,
    coupon_type: 'percentage',
    percentage_rate: '10',
    ...extra,
  });
  const applied = async (customer: string, code: string) =>
    (await call('list_applied_coupons', { customer_id: customer, coupon_codes: [code] })).applied_coupons[0];

  it('checks coupon terms and limits, naming the field', async () => {
    const e1 = await fail('create_coupon', fixed('a', { amount: undefined }), 'VALIDATION_ERROR');
    expect(e1.message).toMatch(/^amount: is required for a fixed_amount coupon/);
    const e2 = await fail('create_coupon', pct('b', { percentage_rate: '101' }), 'VALIDATION_ERROR');
    expect(e2.message).toMatch(/^percentage_rate: must be greater than 0 and at most 100 \(got 101\)/);
    const e3 = await fail('create_coupon', pct('c', { frequency: 'recurring' }), 'VALIDATION_ERROR');
    expect(e3.message).toMatch(/^frequency_duration: is required for a recurring coupon/);
    const e4 = await fail('create_coupon', pct('d', { frequency_duration: 2 }), 'VALIDATION_ERROR');
    expect(e4.message).toMatch(/^frequency_duration: applies only to recurring coupons/);
    const e5 = await fail(
      'create_coupon',
      pct('e', { plan_codes: ['pro'], billable_metric_codes: ['api_calls'] }),
      'VALIDATION_ERROR',
    );
    expect(e5.message).toMatch(/^billable_metric_codes: cannot be combined with plan_codes/);
    const e6 = await fail('create_coupon', pct('f', { plan_codes: ['pro', 'nope'] }), 'VALIDATION_ERROR');
    expect(e6.message).toMatch(/^plan_codes\[1\]: no plan has the code 'nope'/);
    const e7 = await fail('create_coupon', pct('g', { billable_metric_codes: ['nope'] }), 'VALIDATION_ERROR');
    expect(e7.message).toMatch(/^billable_metric_codes\[0\]: no billable metric/);
    const e8 = await fail('create_coupon', pct('h', { expiration_at: '2020-01-01' }), 'VALIDATION_ERROR');
    expect(e8.message).toMatch(/^expiration_at: must be in the future/);
    const e9 = await fail('create_coupon', fixed('i', { amount: '1.001' }), 'VALIDATION_ERROR');
    expect(e9.message).toMatch(/^amount: has more decimals than USD allows/);
    const e10 = await fail('create_coupon', fixed('j', { percentage_rate: '5' }), 'VALIDATION_ERROR');
    expect(e10.message).toMatch(/^percentage_rate: applies only to percentage coupons/);

    const { coupon } = await call(
      'create_coupon',
      pct('limited', { plan_codes: ['pro'], frequency: 'forever' }),
    );
    expect(coupon).toMatchObject({
      plan_codes: ['pro'],
      percentage_rate: '10',
      amount: null,
      frequency: 'forever',
    });
    const taken = await fail('create_coupon', pct('limited', { percentage_rate: '15' }), 'CONFLICT');
    expect(taken.hint).toMatch(/update_coupon/);

    const { coupon: updated } = await call('update_coupon', {
      coupon_code: 'limited',
      percentage_rate: '15',
      name: 'Limited',
      plan_codes: [],
      billable_metric_codes: ['api_calls'],
    });
    expect(updated).toMatchObject({
      name: 'Limited',
      percentage_rate: '15',
      plan_codes: [],
      billable_metric_codes: ['api_calls'],
    });
    const toFixed = await call('update_coupon', {
      coupon_code: 'limited',
      coupon_type: 'fixed_amount',
      amount: 5,
    });
    expect(toFixed.coupon).toMatchObject({
      coupon_type: 'fixed_amount',
      amount: '5.00',
      percentage_rate: null,
    });

    const listed = await call('list_coupons', { search: 'limit', status: 'active' });
    expect(listed.coupons.map((c: { code: string }) => c.code)).toEqual(['limited']);
  });

  it('refuses expired, deleted, non-reusable and wrong-currency applications', async () => {
    await call('create_coupon', pct('soon', { expiration_at: '2999-01-01' }));
    // Let it expire: the API refuses expiration dates in the past.
    await t.env.rt.db.kysely
      .updateTable('coupons')
      .set({ expiration_at: Date.now() - 1000 })
      .where('organization_id', '=', principal.organizationId)
      .where('code', '=', 'soon')
      .execute();
    const expired = await fail(
      'apply_coupon',
      { customer_id: 'usd-co', coupon_code: 'soon' },
      'INVALID_STATUS',
    );
    expect(expired.message).toMatch(/coupon 'soon' expired at .* and can no longer be applied/);
    expect(expired.hint).toMatch(/expiration_at/);
    expect((await call('get_coupon', { coupon_code: 'soon' })).coupon.status).toBe('terminated');
    expect(
      (await call('list_coupons', { status: 'terminated' })).coupons.map((c: { code: string }) => c.code),
    ).toContain('soon');
    await call('update_coupon', { coupon_code: 'soon', expiration_at: null });
    await call('apply_coupon', { customer_id: 'usd-co', coupon_code: 'soon' });

    await call('create_coupon', pct('once-only', { reusable: false }));
    const first = await call('apply_coupon', { customer_id: 'usd-co', coupon_code: 'once-only' });
    await call('remove_applied_coupon', { applied_coupon_id: first.applied_coupon.id });
    const twice = await fail('apply_coupon', { customer_id: 'usd-co', coupon_code: 'once-only' }, 'CONFLICT');
    expect(twice.message).toMatch(/is not reusable and was already applied to customer 'usd-co'/);
    await call('apply_coupon', { customer_id: 'eur-co', coupon_code: 'once-only' });

    await call('create_coupon', pct('stack'));
    await call('apply_coupon', { customer_id: 'usd-co', coupon_code: 'stack' });
    await call('apply_coupon', { customer_id: 'usd-co', coupon_code: 'stack' });

    await call('create_coupon', fixed('usd20'));
    const currency = await fail(
      'apply_coupon',
      { customer_id: 'eur-co', coupon_code: 'usd20' },
      'VALIDATION_ERROR',
    );
    expect(currency.message).toMatch(/coupon 'usd20' is 20.00 USD, but customer 'eur-co' is billed in EUR/);
    expect(currency.hint).toMatch(/amount_currency: "EUR"/);
    const inEur = await call('apply_coupon', {
      customer_id: 'eur-co',
      coupon_code: 'usd20',
      amount: '15',
      amount_currency: 'EUR',
      frequency: 'forever',
    });
    expect(inEur.applied_coupon).toMatchObject({
      amount_cents: 1500,
      amount_currency: 'EUR',
      frequency: 'forever',
      amount_remaining_cents: null,
    });
    const wrongOverride = await fail(
      'apply_coupon',
      { customer_id: 'usd-co', coupon_code: 'usd20', percentage_rate: '5' },
      'VALIDATION_ERROR',
    );
    expect(wrongOverride.message).toMatch(/^percentage_rate: applies only to percentage coupons/);
    const noDuration = await fail(
      'apply_coupon',
      { customer_id: 'usd-co', coupon_code: 'usd20', frequency: 'recurring' },
      'VALIDATION_ERROR',
    );
    expect(noDuration.message).toMatch(/^frequency_duration: is required/);

    // Deleting keeps coupons already applied working.
    const kept = await call('apply_coupon', { customer_id: 'usd-co', coupon_code: 'usd20' });
    const { coupon: gone } = await call('delete_coupon', { coupon_code: 'usd20' });
    expect(gone).toMatchObject({ status: 'terminated' });
    expect(gone.deleted_at).not.toBeNull();
    const deleted = await fail(
      'apply_coupon',
      { customer_id: 'usd-co', coupon_code: 'usd20' },
      'INVALID_STATUS',
    );
    expect(deleted.message).toMatch(/was deleted and can no longer be applied/);
    await fail('get_coupon', { coupon_code: 'usd20' }, 'NOT_FOUND');
    expect((await call('get_coupon', { coupon_code: gone.id })).coupon.deleted_at).toBe(gone.deleted_at);
    expect((await applied('usd-co', 'usd20')).status).toBe('active');
    const usable = await inTransaction(async (ctx) =>
      couponsToApply(ctx, kept.applied_coupon.customer_id, 'USD', Date.now()),
    );
    expect(usable.map((c) => c.id)).toContain(kept.applied_coupon.id);

    const badCode = await fail('list_applied_coupons', { coupon_codes: ['zzz'] }, 'VALIDATION_ERROR');
    expect(badCode.message).toMatch(/^coupon_codes\[0\]: no coupon has the code 'zzz'/);
    const terminated = await call('list_applied_coupons', { status: 'terminated', customer_id: 'usd-co' });
    expect(terminated.applied_coupons.map((a: { coupon_code: string }) => a.coupon_code)).toEqual([
      'once-only',
    ]);
    await fail('remove_applied_coupon', { applied_coupon_id: 'acp_nope' }, 'NOT_FOUND');
  });

  it('the ledger uses coupons up by their frequency and a release gives it back', async () => {
    const { customer } = await call('create_customer', {
      external_id: 'ledger-co',
      name: 'Ledger',
      currency: 'USD',
    });
    await call('create_coupon', fixed('l-once', { amount: '30' }));
    await call('create_coupon', pct('l-pct-once'));
    await call('create_coupon', pct('l-recurring', { frequency: 'recurring', frequency_duration: 2 }));
    await call('create_coupon', fixed('l-forever', { amount: '5', frequency: 'forever' }));
    await call('create_coupon', fixed('l-eur', { amount: '5', amount_currency: 'EUR' }));
    for (const code of ['l-once', 'l-pct-once', 'l-recurring', 'l-forever']) {
      await call('apply_coupon', { customer_id: 'ledger-co', coupon_code: code });
    }
    await call('apply_coupon', {
      customer_id: 'ledger-co',
      coupon_code: 'l-eur',
      amount: 5,
      amount_currency: 'USD',
    });
    const eurOnly = await call('create_customer', { external_id: 'ledger-eur', name: 'E', currency: 'EUR' });
    await call('apply_coupon', { customer_id: 'ledger-eur', coupon_code: 'l-eur' });

    const ids: Record<string, string> = {};
    for (const code of ['l-once', 'l-pct-once', 'l-recurring', 'l-forever', 'l-eur'])
      ids[code] = (await applied('ledger-co', code)).id;

    const toApply = await inTransaction((ctx) => couponsToApply(ctx, customer.id, 'USD', Date.now()));
    const byId = new Map(toApply.map((c) => [c.id, c]));
    expect(byId.get(ids['l-once']!)).toMatchObject({ coupon_type: 'fixed_amount', amount_available: 3000n });
    expect(byId.get(ids['l-forever']!)).toMatchObject({ amount_available: 500n });
    expect(byId.get(ids['l-pct-once']!)!.percentage_rate!.toString()).toBe('10');
    expect(byId.has(ids['l-eur']!)).toBe(true); // applied with a USD amount override
    expect(await inTransaction((ctx) => couponsToApply(ctx, customer.id, 'EUR', Date.now()))).toHaveLength(2);
    const eurCoupons = await inTransaction((ctx) =>
      couponsToApply(ctx, eurOnly.customer.id, 'USD', Date.now()),
    );
    expect(eurCoupons).toEqual([]);
    expect(await inTransaction((ctx) => couponsToApply(ctx, customer.id, 'USD', 0))).toEqual([]);

    const outcome = (code: string, discount: bigint) => ({ id: ids[code]!, discount, per_line: {} });
    await inTransaction((ctx) =>
      recordRedemptions(ctx, 'inv_first', [
        outcome('l-once', 1200n),
        outcome('l-pct-once', 300n),
        outcome('l-recurring', 250n),
        outcome('l-forever', 500n),
      ]),
    );
    expect(await applied('ledger-co', 'l-once')).toMatchObject({
      status: 'active',
      amount_remaining_cents: 1800,
      amount_remaining: '18.00',
    });
    expect((await applied('ledger-co', 'l-pct-once')).status).toBe('terminated');
    expect(await applied('ledger-co', 'l-recurring')).toMatchObject({
      status: 'active',
      frequency_duration_remaining: 1,
    });
    expect((await applied('ledger-co', 'l-forever')).status).toBe('active');
    const afterFirst = await inTransaction((ctx) => couponsToApply(ctx, customer.id, 'USD', Date.now()));
    expect(afterFirst.find((c) => c.id === ids['l-once'])!.amount_available).toBe(1800n);
    expect(afterFirst.some((c) => c.id === ids['l-pct-once'])).toBe(false);

    await inTransaction((ctx) =>
      recordRedemptions(ctx, 'inv_second', [outcome('l-once', 1800n), outcome('l-recurring', 250n)]),
    );
    expect(await applied('ledger-co', 'l-once')).toMatchObject({
      status: 'terminated',
      amount_remaining_cents: 0,
    });
    expect(await applied('ledger-co', 'l-recurring')).toMatchObject({
      status: 'terminated',
      frequency_duration_remaining: 0,
    });

    await inTransaction((ctx) => releaseRedemptions(ctx, 'inv_second'));
    expect(await applied('ledger-co', 'l-once')).toMatchObject({
      status: 'active',
      amount_remaining_cents: 1800,
      terminated_at: null,
    });
    expect(await applied('ledger-co', 'l-recurring')).toMatchObject({
      status: 'active',
      frequency_duration_remaining: 1,
    });
    await inTransaction((ctx) => releaseRedemptions(ctx, 'inv_first'));
    expect(await applied('ledger-co', 'l-once')).toMatchObject({ amount_remaining_cents: 3000 });
    expect((await applied('ledger-co', 'l-pct-once')).status).toBe('active');
    expect((await applied('ledger-co', 'l-recurring')).frequency_duration_remaining).toBe(2);
    const left = await t.env.rt.db.kysely
      .selectFrom('coupon_redemptions')
      .select('id')
      .where('organization_id', '=', principal.organizationId)
      .execute();
    expect(left).toEqual([]);
    // Releasing twice is harmless.
    await inTransaction((ctx) => releaseRedemptions(ctx, 'inv_first'));
    expect((await applied('ledger-co', 'l-recurring')).frequency_duration_remaining).toBe(2);

    // A coupon removed by hand after a redemption that did not end it stays removed on release.
    await inTransaction((ctx) => recordRedemptions(ctx, 'inv_third', [outcome('l-forever', 500n)]));
    await call('remove_applied_coupon', { applied_coupon_id: ids['l-forever'] });
    await inTransaction((ctx) => releaseRedemptions(ctx, 'inv_third'));
    expect((await applied('ledger-co', 'l-forever')).status).toBe('terminated');

    // An older invoice given back after a newer one used the coupon up: what comes back is
    // usable, so the coupon is active again, and the newer invoice no longer counts as ending it.
    await inTransaction((ctx) =>
      recordRedemptions(ctx, 'inv_march', [outcome('l-once', 1000n), outcome('l-recurring', 250n)]),
    );
    await inTransaction((ctx) =>
      recordRedemptions(ctx, 'inv_april', [outcome('l-once', 2000n), outcome('l-recurring', 250n)]),
    );
    expect(await applied('ledger-co', 'l-once')).toMatchObject({
      status: 'terminated',
      amount_remaining_cents: 0,
    });
    expect((await applied('ledger-co', 'l-recurring')).status).toBe('terminated');
    await inTransaction((ctx) => releaseRedemptions(ctx, 'inv_march'));
    expect(await applied('ledger-co', 'l-once')).toMatchObject({
      status: 'active',
      amount_remaining_cents: 1000,
      terminated_at: null,
    });
    expect(await applied('ledger-co', 'l-recurring')).toMatchObject({
      status: 'active',
      frequency_duration_remaining: 1,
    });
    // Removed by hand, then April given back: the amount returns, the coupon stays removed.
    await call('remove_applied_coupon', { applied_coupon_id: ids['l-once'] });
    await inTransaction((ctx) => releaseRedemptions(ctx, 'inv_april'));
    expect(await applied('ledger-co', 'l-once')).toMatchObject({
      status: 'terminated',
      amount_remaining_cents: 3000,
    });
    expect(await applied('ledger-co', 'l-recurring')).toMatchObject({
      status: 'active',
      frequency_duration_remaining: 2,
    });
  });
});
