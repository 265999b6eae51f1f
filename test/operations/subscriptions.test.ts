import { beforeAll, expect, it } from 'vitest';
import { localPrincipal } from '../../src/interfaces/bootstrap.js';
import { dispatch } from '../../src/interfaces/dispatch.js';
import { loadSubscription } from '../../src/services/billing/load.js';
import {
  applyScheduledChanges,
  getSubscription,
  lifecycleDueAt,
  terminateSubscription,
  updateSubscription,
  createSubscription,
} from '../../src/services/billing/subscriptions.js';
import { createServiceContext, type Principal, type ServiceContext } from '../../src/services/context.js';
import { caller, type Caller } from '../harness/billing.js';
import { describeDatabases, describeDoors } from '../harness/suite.js';

const ms = (iso: string) => Date.parse(iso);
const iso = (s: string) => new Date(s).toISOString();

describeDoors('subscriptions', (t) => {
  beforeAll(async () => {
    await t.door.ok('update_organization', { timezone: 'UTC', default_currency: 'EUR' });
    await t.door.ok('create_customer', { external_id: 'acme', name: 'Acme', currency: 'EUR' });
    await t.door.ok('create_customer', { external_id: 'yankee', name: 'Yankee Inc', currency: 'USD' });
    await t.door.ok('create_customer', { external_id: 'fresh', name: 'No currency yet' });
    await t.door.ok('create_plan', {
      code: 'basic',
      name: 'Basic',
      interval: 'monthly',
      currency: 'EUR',
      amount: '10',
    });
    await t.door.ok('create_plan', {
      code: 'pro',
      name: 'Pro',
      interval: 'monthly',
      currency: 'EUR',
      amount: '30',
    });
  });

  it('creates active and pending subscriptions, retries safely and names what is wrong', async () => {
    const { subscription: active, created } = await t.door.ok('create_subscription', {
      customer_id: 'acme',
      plan_code: 'basic',
      external_id: 'acme-main',
      name: 'Acme main',
    });
    expect(created).toBe(true);
    expect(active).toMatchObject({
      external_id: 'acme-main',
      customer_external_id: 'acme',
      plan_code: 'basic',
      status: 'active',
      billing_time: 'calendar',
      timezone: 'UTC',
      trial_ends_at: null,
      next_plan_code: null,
      previous_subscription_id: null,
    });
    expect(active.id).toMatch(/^sub_/);
    expect(active.current_period).not.toBeNull();

    const again = await t.door.ok('create_subscription', {
      customer_id: 'acme',
      plan_code: 'basic',
      external_id: 'acme-main',
    });
    expect(again).toMatchObject({ created: false, subscription: { id: active.id } });
    const conflict = await t.door.fail(
      'create_subscription',
      { customer_id: 'acme', plan_code: 'pro', external_id: 'acme-main' },
      'CONFLICT',
    );
    expect(conflict.hint).toContain('update_subscription');

    const { subscription: pending } = await t.door.ok('create_subscription', {
      customer_id: 'acme',
      plan_code: 'pro',
      started_at: '2099-01-01T00:00:00Z',
    });
    expect(pending).toMatchObject({
      status: 'pending',
      current_period: null,
      started_at: '2099-01-01T00:00:00.000Z',
    });
    // Without an external_id the subscription's own id stands in.
    expect(pending.external_id).toBe(pending.id);

    const currency = await t.door.fail(
      'create_subscription',
      { customer_id: 'yankee', plan_code: 'basic' },
      'VALIDATION_ERROR',
    );
    expect(currency.message).toMatch(/^plan_code: plan 'basic' is priced in EUR .* billed in USD/);

    const { subscription: fresh } = await t.door.ok('create_subscription', {
      customer_id: 'fresh',
      plan_code: 'basic',
    });
    expect(fresh.status).toBe('active');
    expect((await t.door.ok('get_customer', { customer_id: 'fresh' })).customer.currency).toBe('EUR');

    await t.door.ok('disable_customer', { customer_id: 'yankee' });
    await t.door.ok('create_plan', {
      code: 'usd',
      name: 'USD',
      interval: 'monthly',
      currency: 'USD',
      amount: '5',
    });
    await t.door.fail('create_subscription', { customer_id: 'yankee', plan_code: 'usd' }, 'INVALID_STATUS');

    const billing = await t.door.fail(
      'create_subscription',
      { customer_id: 'acme', plan_code: 'basic', billing_time: 'monthly' },
      'VALIDATION_ERROR',
    );
    expect(billing.message).toContain('billing_time');
    const unknown = await t.door.fail(
      'create_subscription',
      { customer_id: 'acme', plan_code: 'nope' },
      'NOT_FOUND',
    );
    expect(unknown.message).toContain("'nope'");
    await t.door.fail('create_subscription', { customer_id: 'nobody', plan_code: 'basic' }, 'NOT_FOUND');
    const ending = await t.door.fail(
      'create_subscription',
      { customer_id: 'acme', plan_code: 'basic', started_at: '2026-03-01', ending_at: '2026-02-01' },
      'VALIDATION_ERROR',
    );
    expect(ending.message).toMatch(/^ending_at: must be after started_at/);
  });

  it('lists by customer, plan and status, and terminates or cancels', async () => {
    await t.door.ok('create_customer', { external_id: 'lister', name: 'Lister', currency: 'EUR' });
    await t.door.ok('create_subscription', { customer_id: 'lister', plan_code: 'basic', external_id: 'l-1' });
    await t.door.ok('create_subscription', {
      customer_id: 'lister',
      plan_code: 'pro',
      external_id: 'l-2',
      started_at: '2099-06-01',
    });
    const all = await t.door.ok('list_subscriptions', { customer_id: 'lister' });
    expect(all.subscriptions.map((s: { external_id: string }) => s.external_id)).toEqual(['l-2', 'l-1']);
    expect(all.pagination.total_count).toBe(2);
    const pro = await t.door.ok('list_subscriptions', { customer_id: 'lister', plan_code: 'pro' });
    expect(pro.subscriptions.map((s: { external_id: string }) => s.external_id)).toEqual(['l-2']);
    const pending = await t.door.ok('list_subscriptions', { customer_id: 'lister', status: 'pending' });
    expect(pending.subscriptions.map((s: { external_id: string }) => s.external_id)).toEqual(['l-2']);
    await t.door.fail('list_subscriptions', { status: 'paused' }, 'VALIDATION_ERROR');

    const canceled = await t.door.ok('terminate_subscription', { subscription_id: 'l-2' });
    expect(canceled.subscription).toMatchObject({ status: 'canceled', terminated_at: null });
    expect(canceled.subscription.canceled_at).not.toBeNull();
    expect(canceled.invoice_ids).toEqual([]);

    const ended = await t.door.ok('terminate_subscription', { subscription_id: 'l-1' });
    expect(ended.subscription).toMatchObject({ status: 'terminated', current_period: null });
    expect(ended.subscription.terminated_at).not.toBeNull();
    const again = await t.door.fail('terminate_subscription', { subscription_id: 'l-1' }, 'INVALID_STATUS');
    expect(again.message).toContain('already terminated');
    const got = await t.door.ok('get_subscription', { subscription_id: ended.subscription.id });
    expect(got.subscription.status).toBe('terminated');
    expect(
      (await t.door.ok('list_subscriptions', { customer_id: 'lister', status: 'active' })).subscriptions,
    ).toEqual([]);
  });
});

/** Lifecycle scenarios at chosen moments: services called with a clock set to each instant. */
describeDatabases('subscription lifecycle', (t) => {
  let principal: Principal;
  beforeAll(async () => {
    const org = await t.env.newOrganization();
    principal = localPrincipal(org.id);
    await call('update_organization', { timezone: 'UTC', default_currency: 'EUR' });
    await call('create_customer', { external_id: 'utc', name: 'UTC Ltd', currency: 'EUR' });
    await call('create_customer', {
      external_id: 'paris',
      name: 'Paris SA',
      currency: 'EUR',
      timezone: 'Europe/Paris',
    });
    await call('create_plan', {
      code: 'basic',
      name: 'Basic',
      interval: 'monthly',
      currency: 'EUR',
      amount: '10',
    });
    await call('create_plan', {
      code: 'premium',
      name: 'Premium',
      interval: 'monthly',
      currency: 'EUR',
      amount: '30',
    });
    // 120 a year, like basic: an equal fee counts as an upgrade.
    await call('create_plan', {
      code: 'annual',
      name: 'Annual',
      interval: 'yearly',
      currency: 'EUR',
      amount: '120',
    });
    await call('create_plan', {
      code: 'trial',
      name: 'Trial',
      interval: 'monthly',
      currency: 'EUR',
      amount: '10',
      trial_period_days: 14,
    });
  });

  async function call(operation: string, args: unknown): Promise<any> {
    const { outcome } = await dispatch(t.env.rt, { principal, door: 'system', operation, args });
    if (!outcome.ok) throw new Error(`${operation}: ${outcome.error.message}`);
    return outcome.output;
  }

  /** Runs `fn` in one transaction with the clock at `when`. */
  function at<R>(when: string, fn: (ctx: ServiceContext) => Promise<R>): Promise<R> {
    const env = { ...t.env.rt, now: () => ms(when) };
    return t.env.rt.db.kysely
      .transaction()
      .execute((trx) => fn(createServiceContext(env, trx, principal, 'system', 'req_lifecycle')));
  }

  const create = (when: string, input: Parameters<typeof createSubscription>[1]) =>
    at(when, (ctx) => createSubscription(ctx, input)).then((r) => r.subscription);
  const view = (when: string, ref: string) => at(when, (ctx) => getSubscription(ctx, ref));

  it('cuts calendar periods in the customer zone, clipped to start and end', async () => {
    const sub = await create('2026-01-15T08:00:00Z', {
      customer_id: 'utc',
      plan_code: 'basic',
      external_id: 'cal',
      started_at: { date: '2026-01-15' },
      ending_at: { date: '2026-02-20' },
    });
    expect(sub.current_period).toEqual({ from: iso('2026-01-15'), to: iso('2026-02-01') });
    expect((await view('2026-02-10T00:00:00Z', 'cal')).current_period).toEqual({
      from: iso('2026-02-01'),
      to: iso('2026-02-20'),
    });

    // Paris: a date is midnight there, and periods follow Paris days across the DST change.
    const paris = await create('2026-01-31T12:00:00Z', {
      customer_id: 'paris',
      plan_code: 'basic',
      external_id: 'paris-cal',
      started_at: { date: '2026-01-31' },
    });
    expect(paris).toMatchObject({ timezone: 'Europe/Paris', started_at: '2026-01-30T23:00:00.000Z' });
    expect((await view('2026-04-10T00:00:00Z', 'paris-cal')).current_period).toEqual({
      from: '2026-03-31T22:00:00.000Z',
      to: '2026-04-30T22:00:00.000Z',
    });
  });

  it('runs anniversary periods from the start date: 31 January, 28/29 February, 31 March', async () => {
    const sub = await create('2026-01-31T09:00:00Z', {
      customer_id: 'paris',
      plan_code: 'basic',
      external_id: 'anniv',
      billing_time: 'anniversary',
      started_at: { date: '2026-01-31' },
    });
    expect(sub.current_period).toEqual({ from: '2026-01-30T23:00:00.000Z', to: '2026-02-27T23:00:00.000Z' });
    // 28 February → 31 March, which in Paris starts at 22:00 UTC (summer time from 29 March).
    expect((await view('2026-03-05T00:00:00Z', 'anniv')).current_period).toEqual({
      from: '2026-02-27T23:00:00.000Z',
      to: '2026-03-30T22:00:00.000Z',
    });
    await create('2028-01-31T09:00:00Z', {
      customer_id: 'utc',
      plan_code: 'basic',
      external_id: 'leap',
      billing_time: 'anniversary',
      started_at: { date: '2028-01-31' },
    });
    expect((await view('2028-02-10T00:00:00Z', 'leap')).current_period).toEqual({
      from: iso('2028-01-31'),
      to: iso('2028-02-29'),
    });
    expect((await view('2028-03-01T00:00:00Z', 'leap')).current_period).toEqual({
      from: iso('2028-02-29'),
      to: iso('2028-03-31'),
    });
  });

  it('starts a pending subscription when its time comes and counts trial days from the start', async () => {
    const sub = await create('2026-05-10T00:00:00Z', {
      customer_id: 'utc',
      plan_code: 'trial',
      external_id: 'later',
      started_at: { instant: ms('2026-06-01T00:00:00Z') },
    });
    expect(sub).toMatchObject({ status: 'pending', trial_ends_at: '2026-06-15T00:00:00.000Z' });
    const record = await at('2026-05-10T00:00:00Z', (ctx) => loadSubscription(ctx, 'later'));
    expect(lifecycleDueAt(record)).toBe(ms('2026-06-01T00:00:00Z'));
    expect(record.row.next_billing_at).toBe(ms('2026-06-01T00:00:00Z'));
    expect(
      await at('2026-05-20T00:00:00Z', (ctx) => applyScheduledChanges(ctx, record, ms('2026-05-20'))),
    ).toBe(record);
    const started = await at('2026-06-01T00:00:05Z', (ctx) =>
      applyScheduledChanges(ctx, record, ms('2026-06-01T00:00:00Z')),
    );
    expect(started).toMatchObject({ id: record.id, status: 'active' });
    expect(lifecycleDueAt(started!)).toBeNull();
    expect((await view('2026-06-02T00:00:00Z', 'later')).status).toBe('active');
  });

  it('updates name and ending_at, and refuses an ending_at in the past', async () => {
    await create('2026-01-05T00:00:00Z', { customer_id: 'utc', plan_code: 'basic', external_id: 'upd' });
    const out = await at('2026-01-10T00:00:00Z', (ctx) =>
      updateSubscription(ctx, 'upd', { name: 'Renamed', ending_at: { date: '2026-03-15' } }),
    );
    expect(out).toMatchObject({
      plan_change: null,
      subscription: { name: 'Renamed', ending_at: iso('2026-03-15') },
    });
    const record = await at('2026-01-10T00:00:00Z', (ctx) => loadSubscription(ctx, 'upd'));
    expect(lifecycleDueAt(record)).toBe(ms('2026-03-15'));
    await expect(
      at('2026-01-10T00:00:00Z', (ctx) =>
        updateSubscription(ctx, 'upd', { ending_at: { date: '2026-01-01' } }),
      ),
    ).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: expect.stringMatching(/^ending_at: must be after now/),
    });
    const cleared = await at('2026-01-11T00:00:00Z', (ctx) =>
      updateSubscription(ctx, 'upd', { ending_at: null }),
    );
    expect(cleared.subscription.ending_at).toBeNull();
  });

  it('schedules a downgrade for the period end and applies it then', async () => {
    const sub = await create('2026-01-10T00:00:00Z', {
      customer_id: 'utc',
      plan_code: 'premium',
      external_id: 'down',
      started_at: { date: '2026-01-10' },
    });
    const out = await at('2026-01-20T10:00:00Z', (ctx) =>
      updateSubscription(ctx, 'down', { plan_code: 'basic' }),
    );
    expect(out).toMatchObject({
      plan_change: 'downgrade',
      subscription: {
        id: sub.id,
        plan_code: 'premium',
        next_plan_code: 'basic',
        next_plan_at: iso('2026-02-01'),
      },
    });
    const before = await at('2026-01-20T10:00:00Z', (ctx) => loadSubscription(ctx, 'down'));
    expect(lifecycleDueAt(before)).toBe(ms('2026-02-01'));
    expect(before.row.next_billing_at).toBe(ms('2026-02-01'));
    // Not yet due: nothing changes.
    expect(
      await at('2026-01-25T00:00:00Z', (ctx) => applyScheduledChanges(ctx, before, ms('2026-01-25'))),
    ).toBe(before);

    const after = await at('2026-02-01T00:01:00Z', (ctx) =>
      applyScheduledChanges(ctx, before, ms('2026-02-01')),
    );
    expect(after).toMatchObject({
      externalId: 'down',
      status: 'active',
      startedAt: ms('2026-02-01'),
      anchorDate: '2026-01-10',
      previousSubscriptionId: sub.id,
      nextPlanId: null,
    });
    expect(after!.id).not.toBe(sub.id);
    const now = await view('2026-02-02T00:00:00Z', 'down');
    expect(now).toMatchObject({ id: after!.id, plan_code: 'basic', previous_subscription_id: sub.id });
    expect(now.current_period).toEqual({ from: iso('2026-02-01'), to: iso('2026-03-01') });
    expect(await view('2026-02-02T00:00:00Z', sub.id)).toMatchObject({
      status: 'terminated',
      terminated_at: iso('2026-02-01'),
      plan_code: 'premium',
    });
    // Applying again (a second run) changes nothing.
    const twice = await at('2026-02-01T00:02:00Z', (ctx) =>
      applyScheduledChanges(ctx, before, ms('2026-02-01')),
    );
    expect(twice?.id).toBe(after!.id);
    const rows = await call('list_subscriptions', {
      customer_id: 'utc',
      plan_code: 'basic',
      status: 'active',
    });
    expect(rows.subscriptions.filter((s: { external_id: string }) => s.external_id === 'down')).toHaveLength(
      1,
    );
  });

  it('takes an upgrade (or an equal yearly fee) at once on a new row that keeps the periods', async () => {
    const sub = await create('2026-01-10T00:00:00Z', {
      customer_id: 'utc',
      plan_code: 'basic',
      external_id: 'up',
      started_at: { date: '2026-01-10' },
    });
    const out = await at('2026-01-20T00:00:00Z', (ctx) =>
      updateSubscription(ctx, 'up', { plan_code: 'premium' }),
    );
    expect(out.plan_change).toBe('upgrade');
    expect(out.subscription).toMatchObject({
      external_id: 'up',
      plan_code: 'premium',
      status: 'active',
      started_at: iso('2026-01-20'),
      previous_subscription_id: sub.id,
      current_period: { from: iso('2026-01-20'), to: iso('2026-02-01') },
    });
    expect(await view('2026-01-20T00:00:00Z', sub.id)).toMatchObject({
      status: 'terminated',
      terminated_at: iso('2026-01-20'),
    });
    const continued = await at('2026-01-20T00:00:00Z', (ctx) => loadSubscription(ctx, 'up'));
    expect(continued.anchorDate).toBe('2026-01-10');

    await create('2026-01-10T00:00:00Z', { customer_id: 'utc', plan_code: 'basic', external_id: 'eq' });
    const equal = await at('2026-01-20T00:00:00Z', (ctx) =>
      updateSubscription(ctx, 'eq', { plan_code: 'annual' }),
    );
    expect(equal).toMatchObject({ plan_change: 'upgrade', subscription: { plan_code: 'annual' } });

    // Downgrade then the same plan again: the scheduled change is called off.
    await at('2026-01-21T00:00:00Z', (ctx) => updateSubscription(ctx, 'up', { plan_code: 'basic' }));
    const off = await at('2026-01-22T00:00:00Z', (ctx) =>
      updateSubscription(ctx, 'up', { plan_code: 'premium' }),
    );
    expect(off).toMatchObject({
      plan_change: 'scheduled_change_canceled',
      subscription: { next_plan_code: null, next_plan_at: null },
    });
  });

  it('terminates at the period end through the billing run, and a pending one is canceled', async () => {
    await create('2026-01-10T00:00:00Z', { customer_id: 'utc', plan_code: 'basic', external_id: 'end' });
    const out = await at('2026-01-20T00:00:00Z', (ctx) => terminateSubscription(ctx, 'end', 'period_end'));
    expect(out.subscription).toMatchObject({ status: 'active', ending_at: iso('2026-02-01') });
    const record = await at('2026-01-20T00:00:00Z', (ctx) => loadSubscription(ctx, 'end'));
    expect(
      await at('2026-02-01T00:00:10Z', (ctx) => applyScheduledChanges(ctx, record, ms('2026-02-01'))),
    ).toBeNull();
    expect(await view('2026-02-01T00:00:10Z', 'end')).toMatchObject({
      status: 'terminated',
      terminated_at: iso('2026-02-01'),
    });
    await expect(
      at('2026-02-02T00:00:00Z', (ctx) => terminateSubscription(ctx, 'end')),
    ).rejects.toMatchObject({ code: 'INVALID_STATUS' });
    await expect(
      at('2026-02-02T00:00:00Z', (ctx) => updateSubscription(ctx, 'end', { name: 'x' })),
    ).rejects.toMatchObject({ code: 'INVALID_STATUS' });
  });
});

/**
 * Usage is counted per customer, so only one live subscription of a customer may price a
 * billable metric: create_subscription and update_subscription refuse a plan that would make
 * two of them bill the same events.
 */
describeDatabases('one subscription prices a metric per customer', (t) => {
  let c: Caller;
  beforeAll(async () => {
    const org = await t.env.newOrganization();
    c = caller(t.env, org.id);
    await c.call('create_billable_metric', { code: 'calls', name: 'Calls', aggregation_type: 'count_agg' });
    await c.call('create_billable_metric', { code: 'seats', name: 'Seats', aggregation_type: 'count_agg' });
    const charge = (code: string) => ({
      billable_metric_code: code,
      charge_model: 'standard',
      properties: { amount: '1' },
    });
    for (const [code, amount, metrics] of [
      ['calls', '10', ['calls']],
      ['calls-pro', '30', ['calls']],
      ['seats', '5', ['seats']],
      ['seats-cheap', '2', ['seats']],
      ['both', '50', ['calls', 'seats']],
      ['flat', '1', []],
    ] as const)
      await c.call('create_plan', {
        code,
        name: code,
        interval: 'monthly',
        currency: 'USD',
        amount,
        charges: metrics.map(charge),
      });
    for (const customer of ['g1', 'g2', 'g3'])
      await c.call('create_customer', { external_id: customer, name: customer, currency: 'USD' });
  });

  const subscribe = (customer: string, plan: string, externalId: string, more: object = {}) =>
    c.call('create_subscription', {
      customer_id: customer,
      plan_code: plan,
      external_id: externalId,
      ...more,
    });

  it('create_subscription refuses a plan pricing a metric another live subscription prices', async () => {
    await subscribe('g1', 'calls', 'g1-a');
    const e = await c.fail(
      'create_subscription',
      { customer_id: 'g1', plan_code: 'both', external_id: 'g1-b' },
      'VALIDATION_ERROR',
    );
    expect(e.message).toBe(
      "plan_code: plan 'both' prices billable metric 'calls', which subscription 'g1-a' (plan 'calls') of " +
        "customer 'g1' already prices; usage is counted per customer, so both would bill the same events",
    );
    expect(e.hint).toMatch(/^Terminate subscription 'g1-a' first \(terminate_subscription\)/);
    expect(e.details).toMatchObject({ subscription_external_id: 'g1-a', billable_metric_codes: ['calls'] });
    expect((await c.call('list_subscriptions', { customer_id: 'g1' })).subscriptions).toHaveLength(1);
  });

  it('allows plans pricing other metrics, or none', async () => {
    await subscribe('g1', 'seats', 'g1-b');
    await subscribe('g1', 'flat', 'g1-c');
    // Another customer may price the same metric.
    await subscribe('g2', 'calls', 'g2-a');
  });

  it('update_subscription refuses an upgrade onto a metric another subscription prices', async () => {
    const e = await c.fail(
      'update_subscription',
      { subscription_id: 'g1-b', plan_code: 'both' },
      'VALIDATION_ERROR',
    );
    expect(e.message).toMatch(
      /^plan_code: plan 'both' prices billable metric 'calls', which subscription 'g1-a'/,
    );
    expect((await c.call('get_subscription', { subscription_id: 'g1-b' })).subscription.plan_code).toBe(
      'seats',
    );
  });

  it('an upgrade does not count the subscription it replaces', async () => {
    const out = await c.call('update_subscription', { subscription_id: 'g1-a', plan_code: 'calls-pro' });
    expect(out).toMatchObject({ plan_change: 'upgrade', subscription: { plan_code: 'calls-pro' } });
  });

  it('refuses a scheduled downgrade onto a metric another subscription prices', async () => {
    const e = await c.fail(
      'update_subscription',
      { subscription_id: 'g1-a', plan_code: 'seats-cheap' },
      'VALIDATION_ERROR',
    );
    expect(e.message).toMatch(
      /^plan_code: plan 'seats-cheap' prices billable metric 'seats', which subscription 'g1-b' \(plan 'seats'\)/,
    );
    expect(
      (await c.call('get_subscription', { subscription_id: 'g1-a' })).subscription.next_plan_code,
    ).toBeNull();
  });

  it('counts pending subscriptions and the plan a subscription will downgrade to', async () => {
    await subscribe('g2', 'seats', 'g2-later', { started_at: '2099-01-01' });
    const pending = await c.fail(
      'create_subscription',
      { customer_id: 'g2', plan_code: 'seats', external_id: 'g2-b' },
      'VALIDATION_ERROR',
    );
    expect(pending.message).toMatch(/which subscription 'g2-later' \(plan 'seats'\)/);

    await subscribe('g3', 'calls-pro', 'g3-a');
    const down = await c.call('update_subscription', { subscription_id: 'g3-a', plan_code: 'seats-cheap' });
    expect(down.plan_change).toBe('downgrade');
    const e = await c.fail(
      'create_subscription',
      { customer_id: 'g3', plan_code: 'seats', external_id: 'g3-b' },
      'VALIDATION_ERROR',
    );
    expect(e.message).toMatch(
      /prices billable metric 'seats', which subscription 'g3-a' \(plan 'seats-cheap', from its scheduled change at /,
    );
  });

  it('allows the metric again once the other subscription is terminated', async () => {
    await c.call('terminate_subscription', { subscription_id: 'g1-a' });
    const { subscription } = await subscribe('g1', 'calls', 'g1-d');
    expect(subscription).toMatchObject({ status: 'active', plan_code: 'calls' });
    await c.call('terminate_subscription', { subscription_id: 'g1-b' });
    const up = await c.call('update_subscription', { subscription_id: 'g1-d', plan_code: 'both' });
    expect(up.plan_change).toBe('upgrade');
  });
});
