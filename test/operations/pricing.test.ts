import { beforeAll, expect, it } from 'vitest';
import { describeDoors, type SuiteContext } from '../harness/suite.js';

/**
 * MarginFront's pricing on hand-worked numbers: credit pools, minimum commitments in units,
 * agent-scoped subscriptions, billing models, pricing strategies, one-time fees and the
 * trialing / past_due states. Every subscription starts 2026-10-01 (UTC, calendar, monthly)
 * and October is the period invoiced.
 */
const OCTOBER = { from: '2026-10-01', to: '2026-11-01' };
const AT = (day: number, i = 0) =>
  `2026-10-${String(day).padStart(2, '0')}T10:00:${String(i).padStart(2, '0')}Z`;

async function subscribe(
  t: SuiteContext,
  customer: string,
  plan: string,
  extra: Record<string, unknown> = {},
) {
  await t.door.ok('create_customer', { external_id: customer, name: customer, currency: 'USD' });
  return (
    await t.door.ok('create_subscription', {
      customer_id: customer,
      plan_code: plan,
      external_id: `${customer}-sub`,
      started_at: '2026-10-01',
      ...extra,
    })
  ).subscription;
}

async function record(
  t: SuiteContext,
  customer: string,
  code: string,
  events: Array<{ n?: number; agent?: string; day?: number }>,
) {
  const out = await t.door.ok('record_usage_batch', {
    events: events.map((e, i) => ({
      transaction_id: `${customer}-${code}-${i}`,
      customer_id: customer,
      code,
      timestamp: AT(e.day ?? 10, i % 60),
      properties: e.n === undefined ? {} : { n: e.n },
      ...(e.agent ? { agent_code: e.agent } : {}),
    })),
  });
  expect(out.summary.failed).toBe(0);
}

async function october(t: SuiteContext, customer: string) {
  return (
    await t.door.ok('generate_invoice', {
      customer_id: customer,
      subscription_id: `${customer}-sub`,
      period: OCTOBER,
    })
  ).invoice;
}

/** The lines past a plan's base fee (a 0.00 fee line on usage-only plans). */
const priced = (inv: any) =>
  inv.lines.filter((l: any) => !(l.details.kind === 'fee' && l.amount_cents === 0));
const kinds = (inv: any) => priced(inv).map((l: any) => [l.details.kind, l.amount]);

describeDoors('pricing', (t) => {
  beforeAll(async () => {
    await t.door.ok('update_organization', { timezone: 'UTC' });
    await t.door.ok('create_billable_metric', {
      code: 'tokens',
      name: 'Tokens',
      aggregation_type: 'sum_agg',
      field_name: 'n',
    });
    await t.door.ok('create_billable_metric', {
      code: 'calls',
      name: 'Calls',
      aggregation_type: 'count_agg',
    });
    await t.door.ok('create_billable_metric', {
      code: 'seats',
      name: 'Seats',
      aggregation_type: 'unique_count_agg',
      field_name: 'user',
      recurring: true,
    });
  });

  it('credit pool: units draw credits from the pool, credits beyond it are overage', async () => {
    await t.door.ok('create_plan', {
      code: 'pool',
      name: 'Pool',
      interval: 'monthly',
      currency: 'USD',
      amount: '0',
      charges: [
        {
          billable_metric_code: 'tokens',
          charge_model: 'credit_pool',
          properties: { included_credits: '1000', credits_per_unit: '2', amount: '0.01' },
        },
      ],
    });
    await subscribe(t, 'pool-in', 'pool');
    await subscribe(t, 'pool-over', 'pool');
    // 300 + 150 = 450 units draw 900 credits: all from the pool, nothing to pay.
    await record(t, 'pool-in', 'tokens', [{ n: 300 }, { n: 150 }]);
    // 700 units draw 1400 credits: 1000 from the pool, 400 over × 0.01 = 4.00.
    await record(t, 'pool-over', 'tokens', [{ n: 500 }, { n: 200 }]);
    const within = await october(t, 'pool-in');
    expect(within.total_amount).toBe('0.00');
    expect(priced(within)[0].details).toMatchObject({
      charge_model: 'credit_pool',
      units: '450',
      amount: '0',
    });
    const over = await october(t, 'pool-over');
    expect(over.total_amount).toBe('4.00');
    expect(priced(over)[0].details.breakdown).toEqual([
      { label: '1000 of 1000 included credits', units: '1000', amount: '0' },
      { label: '400 credits over the pool × 0.01', units: '400', amount: '4' },
    ]);
    const missing = await t.door.fail(
      'create_plan',
      {
        code: 'pool-bad',
        name: 'Bad',
        interval: 'monthly',
        amount: '0',
        charges: [
          { billable_metric_code: 'tokens', charge_model: 'credit_pool', properties: { amount: '1' } },
        ],
      },
      'VALIDATION_ERROR',
    );
    expect(missing.message).toBe(
      'charges[0].properties.included_credits: is required for the credit_pool charge model',
    );
  });

  it('minimum commitment in units: the missing units are billed on a true-up line at the charge model', async () => {
    await t.door.ok('create_plan', {
      code: 'commit',
      name: 'Commit',
      interval: 'monthly',
      currency: 'USD',
      amount: '0',
      charges: [
        {
          billable_metric_code: 'tokens',
          charge_model: 'graduated',
          min_units: '100',
          properties: {
            graduated_ranges: [
              { from_value: 0, to_value: 50, per_unit_amount: '1' },
              { from_value: 50, to_value: null, per_unit_amount: '0.5' },
            ],
          },
        },
      ],
    });
    await subscribe(t, 'commit-low', 'commit');
    await subscribe(t, 'commit-high', 'commit');
    await record(t, 'commit-low', 'tokens', [{ n: 30 }]);
    await record(t, 'commit-high', 'tokens', [{ n: 120 }]);
    // 30 units: 30 × 1 = 30.00. Committed 100: 50 × 1 + 50 × 0.5 = 75.00; true-up 75 − 30 = 45.00.
    const low = await october(t, 'commit-low');
    expect(kinds(low)).toEqual([
      ['charge', '30.00'],
      ['unit_commitment', '45.00'],
    ]);
    expect(priced(low)[1].details).toMatchObject({ min_units: '100', units: '30', true_up_units: '70' });
    expect(priced(low)[1].description).toBe('Tokens — minimum commitment of 100 units');
    expect(low.total_amount).toBe('75.00');
    // 120 units is over the commitment: 50 + 70 × 0.5 = 85.00 and no true-up.
    expect(kinds(await october(t, 'commit-high'))).toEqual([['charge', '85.00']]);
    const bad = await t.door.fail(
      'create_plan',
      {
        code: 'commit-bad',
        name: 'Bad',
        interval: 'monthly',
        amount: '0',
        charges: [
          {
            billable_metric_code: 'tokens',
            charge_model: 'standard',
            min_units: '0',
            properties: { amount: '1' },
          },
        ],
      },
      'VALIDATION_ERROR',
    );
    expect(bad.message).toBe('charges[0].min_units: must be greater than 0 (got 0)');
  });

  it("agent-scoped subscriptions bill their agent's usage alone; agents keep metrics apart", async () => {
    await t.door.ok('create_agent', { code: 'bot-a', name: 'Bot A' });
    await t.door.ok('create_agent', { code: 'bot-b', name: 'Bot B' });
    const base = { interval: 'monthly', currency: 'USD', amount: '0' };
    await t.door.ok('create_plan', {
      ...base,
      code: 'a-plan',
      name: 'A plan',
      charges: [{ billable_metric_code: 'calls', charge_model: 'standard', properties: { amount: '0.10' } }],
    });
    await t.door.ok('create_plan', {
      ...base,
      code: 'b-plan',
      name: 'B plan',
      charges: [{ billable_metric_code: 'calls', charge_model: 'standard', properties: { amount: '0.20' } }],
    });
    const attached = await t.door.ok('attach_plan_to_agent', { plan_code: 'a-plan', agent_id: 'bot-a' });
    expect(attached).toMatchObject({ attached: true, agent_code: 'bot-a', plan: { agent_codes: ['bot-a'] } });
    expect(
      (await t.door.ok('attach_plan_to_agent', { plan_code: 'a-plan', agent_id: 'bot-a' })).attached,
    ).toBe(false);
    await t.door.ok('attach_plan_to_agent', { plan_code: 'b-plan', agent_id: 'bot-b' });
    const listed = await t.door.ok('list_plans', { agent_id: 'bot-b' });
    expect(listed.plans.map((p: any) => p.code)).toEqual(['b-plan']);

    await t.door.ok('create_customer', { external_id: 'agents-co', name: 'Agents Co', currency: 'USD' });
    const start = { customer_id: 'agents-co', started_at: '2026-10-01' };
    // A plan attached to one agent gives it; another agent is refused with what would work.
    const subA = (
      await t.door.ok('create_subscription', { ...start, plan_code: 'a-plan', external_id: 'agents-co-a' })
    ).subscription;
    expect(subA).toMatchObject({ agent_code: 'bot-a', billing_model: 'usage' });
    const wrong = await t.door.fail(
      'create_subscription',
      { ...start, plan_code: 'a-plan', external_id: 'agents-co-x', agent_id: 'bot-b' },
      'VALIDATION_ERROR',
    );
    expect(wrong.message).toBe("agent_id: plan 'a-plan' is not attached to agent 'bot-b' (it is to 'bot-a')");
    // Both price `calls`, for different agents: allowed. An org-wide one on `calls` is not.
    await t.door.ok('create_subscription', {
      ...start,
      plan_code: 'b-plan',
      external_id: 'agents-co-b',
      agent_id: 'bot-b',
    });
    await t.door.ok('create_plan', {
      ...base,
      code: 'all-plan',
      name: 'All',
      charges: [{ billable_metric_code: 'calls', charge_model: 'standard', properties: { amount: '1' } }],
    });
    const overlap = await t.door.fail(
      'create_subscription',
      { ...start, plan_code: 'all-plan', external_id: 'agents-co-all' },
      'VALIDATION_ERROR',
    );
    expect(overlap.message).toContain("prices billable metric 'calls', which subscription 'agents-co-a'");
    expect(
      (
        await t.door.fail(
          'detach_plan_from_agent',
          { plan_code: 'a-plan', agent_id: 'bot-a' },
          'INVALID_STATUS',
        )
      ).message,
    ).toContain("subscriptions bill agent 'bot-a' on plan 'a-plan' (agents-co-a)");

    // 3 calls of bot-a, 2 of bot-b, 1 of no agent, 4 of bot-c (no agent has that code yet).
    const events = [
      ...Array.from({ length: 3 }, () => ({ agent: 'bot-a' })),
      ...Array.from({ length: 2 }, () => ({ agent: 'bot-b' })),
      {},
      ...Array.from({ length: 4 }, () => ({ agent: 'bot-c' })),
    ];
    await record(t, 'agents-co', 'calls', events);
    const invoiceOf = async (sub: string) =>
      (await t.door.ok('generate_invoice', { subscription_id: sub, period: OCTOBER })).invoice;
    // bot-a: 3 × 0.10 = 0.30; bot-b: 2 × 0.20 = 0.40.
    const a = await invoiceOf('agents-co-a');
    expect(priced(a)[0].details).toMatchObject({ units: '3' });
    expect(a.total_amount).toBe('0.30');
    expect((await invoiceOf('agents-co-b')).total_amount).toBe('0.40');
    // The customer's usage counts every agent: 3 + 2 + 1 + 4 = 10.
    const usage = await t.door.ok('get_customer_usage', {
      customer_id: 'agents-co',
      metric_code: 'calls',
      ...OCTOBER,
    });
    expect(usage.metrics[0].units).toBe('10');
    const subs = await t.door.ok('list_subscriptions', { agent_id: 'bot-b' });
    expect(subs.subscriptions.map((s: any) => s.external_id)).toEqual(['agents-co-b']);
  });

  it('counts the rest of a filtered charge as one selection: a value in two of its groups counts once', async () => {
    await t.door.ok('create_billable_metric', {
      code: 'users',
      name: 'Users',
      aggregation_type: 'unique_count_agg',
      field_name: 'user',
      filters: [{ key: 'tier', values: ['a', 'b', 'c'] }],
    });
    await t.door.ok('create_plan', {
      code: 'users-plan',
      name: 'Users',
      interval: 'monthly',
      currency: 'USD',
      amount: '0',
      charges: [
        {
          billable_metric_code: 'users',
          charge_model: 'standard',
          properties: { amount: '1' },
          filters: [{ values: { tier: ['a'] }, properties: { amount: '10' } }],
        },
      ],
    });
    await subscribe(t, 'users-co', 'users-plan');
    const out = await t.door.ok('record_usage_batch', {
      events: [
        ['u1', 'a'],
        ['u1', 'b'],
        ['u1', 'c'],
        ['u2', 'c'],
      ].map(([user, tier], i) => ({
        transaction_id: `users-${i}`,
        customer_id: 'users-co',
        code: 'users',
        timestamp: AT(12, i),
        properties: { user, tier },
      })),
    });
    expect(out.summary.failed).toBe(0);
    // tier a: {u1} × 10 = 10.00; the rest (b and c): {u1, u2} = 2 users × 1 = 2.00, not 1 + 2.
    const inv = await october(t, 'users-co');
    expect(priced(inv).map((l: any) => [l.description, l.details.units, l.amount])).toEqual([
      ['Users (tier: a)', '1', '10.00'],
      ['Users (other)', '2', '2.00'],
    ]);
  });

  it('billing model is derived from the plan and a stated one is checked against it', async () => {
    await t.door.ok('create_plan', {
      code: 'hybrid',
      name: 'Hybrid',
      interval: 'monthly',
      currency: 'USD',
      amount: '20',
      charges: [{ billable_metric_code: 'calls', charge_model: 'standard', properties: { amount: '0.01' } }],
    });
    await t.door.ok('create_plan', {
      code: 'seat-plan',
      name: 'Seats',
      interval: 'monthly',
      currency: 'USD',
      amount: '0',
      charges: [{ billable_metric_code: 'seats', charge_model: 'standard', properties: { amount: '9' } }],
    });
    await t.door.ok('create_customer', { external_id: 'bm-co', name: 'BM', currency: 'USD' });
    const bad = await t.door.fail(
      'create_subscription',
      { customer_id: 'bm-co', plan_code: 'hybrid', billing_model: 'usage' },
      'VALIDATION_ERROR',
    );
    expect(bad.message).toBe(
      "billing_model: plan 'hybrid' bills a base fee of 20.00 USD and usage charges, so its billing model is hybrid (got usage)",
    );
    const ok = await t.door.ok('create_subscription', {
      customer_id: 'bm-co',
      plan_code: 'hybrid',
      billing_model: 'hybrid',
    });
    expect(ok.subscription.billing_model).toBe('hybrid');
    const seats = await t.door.ok('create_subscription', { customer_id: 'bm-co', plan_code: 'seat-plan' });
    expect(seats.subscription.billing_model).toBe('seat_based');
  });

  it('pricing strategies create plan charges and fees, and list them in MarginFront terms', async () => {
    await t.door.ok('create_plan', {
      code: 'strat',
      name: 'Strategies',
      interval: 'monthly',
      currency: 'USD',
      amount: '0',
    });
    const fee = await t.door.ok('create_pricing_strategy', {
      plan_code: 'strat',
      charge_type: 'recurring',
      pricing_model: 'flat',
      rate: '49',
    });
    expect(fee.strategy).toMatchObject({
      charge_type: 'recurring',
      pricing_model: 'flat',
      rate: '49.00',
      amount_cents: 4900,
    });
    const tiered = await t.door.ok('create_pricing_strategy', {
      plan_code: 'strat',
      billable_metric_code: 'tokens',
      charge_type: 'usage',
      pricing_model: 'tiered',
      tiers: [
        { up_to: 1000, rate: '0' },
        { up_to: null, rate: '0.002' },
      ],
      minimum_commitment: 500,
    });
    expect(tiered.strategy).toMatchObject({
      charge_type: 'usage',
      pricing_model: 'tiered',
      charge_model: 'graduated',
      billable_metric_code: 'tokens',
      minimum_commitment: '500',
      tiers: [
        { up_to: '1000', rate: '0', flat_amount: '0' },
        { up_to: null, rate: '0.002', flat_amount: '0' },
      ],
    });
    await t.door.ok('create_pricing_strategy', {
      plan_code: 'strat',
      billable_metric_code: 'seats',
      charge_type: 'seat_based',
      pricing_model: 'flat',
      rate: '12',
    });
    await t.door.ok('create_pricing_strategy', {
      plan_code: 'strat',
      charge_type: 'onetime',
      pricing_model: 'flat',
      rate: '100',
    });
    const { strategies } = await t.door.ok('list_pricing_strategies', { plan_code: 'strat' });
    expect(
      strategies.map((s: any) => [s.charge_type, s.pricing_model, s.billable_metric_code, s.rate]),
    ).toEqual([
      ['recurring', 'flat', null, '49.00'],
      ['onetime', 'flat', null, '100.00'],
      ['usage', 'tiered', 'tokens', null],
      ['seat_based', 'flat', 'seats', '12'],
    ]);
    const plan = (await t.door.ok('get_plan', { plan_code: 'strat' })).plan;
    expect(plan).toMatchObject({ amount: '49.00', one_time_amount: '100.00' });
    expect(plan.charges.map((c: any) => [c.billable_metric_code, c.charge_model, c.min_units])).toEqual([
      ['tokens', 'graduated', '500'],
      ['seats', 'standard', null],
    ]);

    const fail = (
      args: Record<string, unknown>,
      code: 'VALIDATION_ERROR' | 'CONFLICT' = 'VALIDATION_ERROR',
    ) => t.door.fail('create_pricing_strategy', { plan_code: 'strat', ...args }, code);
    expect(
      (
        await fail({
          charge_type: 'seat_based',
          pricing_model: 'flat',
          rate: 1,
          billable_metric_code: 'calls',
        })
      ).message,
    ).toBe(
      "charge_type: seat_based prices seats, a recurring unique_count_agg metric, and 'calls' is a count_agg",
    );
    expect((await fail({ charge_type: 'recurring', pricing_model: 'tiered', rate: 1 })).message).toBe(
      'pricing_model: recurring strategies are flat (the plan base fee), not tiered',
    );
    expect(
      (await fail({ charge_type: 'recurring', pricing_model: 'flat', rate: 50 }, 'CONFLICT')).message,
    ).toBe("charge_type: plan 'strat' already has a recurring base fee of 49.00 USD");
    expect(
      (
        await fail(
          { charge_type: 'usage', pricing_model: 'flat', rate: 1, billable_metric_code: 'tokens' },
          'CONFLICT',
        )
      ).message,
    ).toContain("plan 'strat' already prices 'tokens'");
    await t.door.ok('create_plan', {
      code: 'strat2',
      name: 'S2',
      interval: 'monthly',
      currency: 'USD',
      amount: '0',
    });
    const pool = await t.door.fail(
      'create_pricing_strategy',
      {
        plan_code: 'strat2',
        billable_metric_code: 'calls',
        charge_type: 'usage',
        pricing_model: 'credit_pool',
        rate: 1,
      },
      'VALIDATION_ERROR',
    );
    expect(pool.message).toBe(
      'included_credits: is required for credit_pool pricing: the credits included per period',
    );
    const tiers = await t.door.fail(
      'create_pricing_strategy',
      {
        plan_code: 'strat2',
        billable_metric_code: 'calls',
        charge_type: 'usage',
        pricing_model: 'volume',
        tiers: [
          { up_to: 10, rate: 1 },
          { up_to: 5, rate: 1 },
          { up_to: null, rate: 1 },
        ],
      },
      'VALIDATION_ERROR',
    );
    expect(tiers.message).toBe('tiers[1].up_to: must be greater than its from_value 10 (got 5)');
  });

  it('a one-time fee is on the first invoice only', async () => {
    await t.door.ok('create_plan', {
      code: 'setup',
      name: 'Setup',
      interval: 'monthly',
      currency: 'USD',
      amount: '10',
      one_time_amount: '99.50',
    });
    await subscribe(t, 'setup-co', 'setup');
    // October: fee 10.00 + one-time 99.50 = 109.50; November: the fee alone.
    const first = await october(t, 'setup-co');
    expect(kinds(first)).toEqual([
      ['fee', '10.00'],
      ['one_time', '99.50'],
    ]);
    expect(first.lines[1].description).toBe('Setup — one-time fee');
    expect(first.total_amount).toBe('109.50');
    const second = (
      await t.door.ok('generate_invoice', {
        subscription_id: 'setup-co-sub',
        period: { from: '2026-11-01', to: '2026-12-01' },
      })
    ).invoice;
    expect(kinds(second)).toEqual([['fee', '10.00']]);
  });

  it('trialing and past_due are states of active subscriptions, shown and filterable', async () => {
    await t.door.ok('create_plan', {
      code: 'trial',
      name: 'Trial',
      interval: 'monthly',
      currency: 'USD',
      amount: '5',
      trial_period_days: 30,
    });
    await t.door.ok('create_customer', { external_id: 'trial-co', name: 'Trial', currency: 'USD' });
    const trial = await t.door.ok('create_subscription', {
      customer_id: 'trial-co',
      plan_code: 'trial',
      external_id: 'trial-sub',
    });
    expect(trial.subscription).toMatchObject({ status: 'active', trialing: true, past_due: false });
    const trialing = await t.door.ok('list_subscriptions', { status: 'trialing' });
    expect(trialing.subscriptions.map((s: any) => s.external_id)).toEqual(['trial-sub']);

    await t.door.ok('create_plan', {
      code: 'late',
      name: 'Late',
      interval: 'monthly',
      currency: 'USD',
      amount: '5',
    });
    await subscribe(t, 'late-co', 'late');
    const draft = await october(t, 'late-co');
    expect((await t.door.ok('list_subscriptions', { status: 'past_due' })).subscriptions).toEqual([]);
    // Issued 1 November, due 15 November (before today): overdue, so past due.
    await t.door.ok('update_invoice', {
      invoice_id: draft.id,
      issued_at: '2026-11-01',
      due_at: '2026-11-15',
    });
    await t.door.ok('finalize_invoice', { invoice_id: draft.id });
    const pastDue = await t.door.ok('list_subscriptions', { status: 'past_due' });
    expect(pastDue.subscriptions.map((s: any) => [s.external_id, s.past_due])).toEqual([
      ['late-co-sub', true],
    ]);
    // A grace period longer than the delay lifts it; paying the invoice too.
    await t.door.ok('update_organization', { past_due_grace_period_days: 365 });
    expect(
      (await t.door.ok('get_subscription', { subscription_id: 'late-co-sub' })).subscription.past_due,
    ).toBe(false);
    await t.door.ok('update_organization', { past_due_grace_period_days: 0 });
    await t.door.ok('mark_invoice_paid', { invoice_id: draft.id });
    expect((await t.door.ok('list_subscriptions', { status: 'past_due' })).subscriptions).toEqual([]);
    await t.door.fail('list_subscriptions', { status: 'late' }, 'VALIDATION_ERROR');
  });
});
