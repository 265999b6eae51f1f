import { expect, it } from 'vitest';
import { describeDoors } from '../harness/suite.js';

/**
 * Cost by plan, worked by hand. One priced tool, `pc-tool` at 0.0125 USD a call (set_service_price),
 * metric `pc_calls` (count). Plans, monthly in USD: Basic (10.00) and Pro (50.00, dearer, so a
 * change to it is an upgrade at once), both pricing pc_calls; Agent (pc_calls, attached to agent
 * pc-bot); Flat (a 5.00 fee, no charges). Subscriptions start at S, three days ago.
 *
 * - pc-up on Basic, upgraded to Pro at U (now): 1 call at S − 1 h (before it started: no plan,
 *   0.0125); 4 at S + 1 h and 2 at U − 1 ms (Basic: 0.05 + 0.025); 8 at U (Pro: 0.10);
 * - pc-pro on Pro: 10 at S + 2 h (Pro: 0.125);
 * - pc-none, no subscription: 3 at S + 1 h (no plan: 0.0375);
 * - pc-agents on Agent for pc-bot: 6 by pc-bot (Agent: 0.075) and 5 by no agent (no plan: 0.0625);
 * - pc-flat on Flat: 2 (Flat: 0.025; Flat prices nothing, the cost still counts for the plan the
 *   customer is on).
 *
 * By plan: Pro 0.225 (2 events), no plan 0.1125 (3), Basic 0.075 (2), Agent 0.075 (1), Flat
 * 0.025 (1); total 0.5125 over 9 events.
 */
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
type Row = {
  key: string | null;
  label: string | null;
  event_count: number;
  cost: string;
  cost_cents: number;
};
const rows = (r: Row[]) => r.map((x) => [x.key, x.label, x.event_count, x.cost]);

describeDoors('cost by plan', (t) => {
  it('attributes each event to the plan of the subscription that bills it at its time, with a plan change mid-period, an agent, a flat plan and no subscription', async () => {
    const S = Date.now() - 72 * HOUR;
    await t.door.ok('set_service_price', {
      provider: 'pc-vendor',
      model: 'pc-tool',
      unit_price: '0.0125',
      unit: 'call',
    });
    await t.door.ok('create_billable_metric', {
      code: 'pc_calls',
      name: 'Calls',
      aggregation_type: 'count_agg',
    });
    await t.door.ok('create_agent', { code: 'pc-bot', name: 'PC bot' });
    const calls = [
      { billable_metric_code: 'pc_calls', charge_model: 'standard', properties: { amount: '0.01' } },
    ];
    const plan = { interval: 'monthly', currency: 'USD' };
    const basic = (
      await t.door.ok('create_plan', {
        ...plan,
        code: 'pc-basic',
        name: 'Basic',
        amount: '10',
        charges: calls,
      })
    ).plan;
    const pro = (
      await t.door.ok('create_plan', { ...plan, code: 'pc-pro', name: 'Pro', amount: '50', charges: calls })
    ).plan;
    const agent = (
      await t.door.ok('create_plan', {
        ...plan,
        code: 'pc-agent',
        name: 'Agent',
        amount: '0',
        charges: calls,
      })
    ).plan;
    const flat = (await t.door.ok('create_plan', { ...plan, code: 'pc-flat', name: 'Flat', amount: '5' }))
      .plan;
    await t.door.ok('attach_plan_to_agent', { plan_code: 'pc-agent', agent_id: 'pc-bot' });
    for (const c of ['pc-up', 'pc-pro', 'pc-none', 'pc-agents', 'pc-flat'])
      await t.door.ok('create_customer', { external_id: c, name: c.toUpperCase(), currency: 'USD' });
    const subscribe = (customer: string, code: string) =>
      t.door.ok('create_subscription', {
        customer_id: customer,
        plan_code: code,
        external_id: `${customer}-sub`,
        started_at: iso(S),
      });
    await subscribe('pc-up', 'pc-basic');
    await subscribe('pc-pro', 'pc-pro');
    await subscribe('pc-agents', 'pc-agent');
    await subscribe('pc-flat', 'pc-flat');
    const change = await t.door.ok('update_subscription', {
      subscription_id: 'pc-up-sub',
      plan_code: 'pc-pro',
    });
    expect(change).toMatchObject({ plan_change: 'upgrade', subscription: { plan_code: 'pc-pro' } });
    const U = Date.parse(change.subscription.started_at);

    let n = 0;
    const events = (
      [
        ['pc-up', S - HOUR, 1],
        ['pc-up', S + HOUR, 4],
        ['pc-up', U - 1, 2],
        ['pc-up', U, 8],
        ['pc-pro', S + 2 * HOUR, 10],
        ['pc-none', S + HOUR, 3],
        ['pc-agents', S + HOUR, 6, 'pc-bot'],
        ['pc-agents', S + HOUR, 5],
        ['pc-flat', S + HOUR, 2],
      ] as const
    ).map(([customer, at, quantity, agentCode]) => ({
      transaction_id: `pc-${n++}`,
      customer_id: customer,
      code: 'pc_calls',
      timestamp: iso(at),
      provider: 'pc-vendor',
      model: 'pc-tool',
      quantity,
      ...(agentCode ? { agent_code: agentCode } : {}),
    }));
    const batch = await t.door.ok('record_usage_batch', { events });
    expect(batch.results.map((r: { cost: string }) => r.cost)).toEqual([
      '0.0125',
      '0.05',
      '0.025',
      '0.1',
      '0.125',
      '0.0375',
      '0.075',
      '0.0625',
      '0.025',
    ]);

    const window = { from: iso(S - 24 * HOUR), to: iso(Date.now() + 24 * HOUR) };
    const all = await t.door.ok('get_cost_metrics', window);
    expect(all.totals).toMatchObject({ event_count: 9, cost: '0.5125', cost_cents: 51 });
    expect(rows(all.by_plan)).toEqual([
      [pro.id, 'Pro', 2, '0.225'],
      [null, '(no plan)', 3, '0.1125'],
      [basic.id, 'Basic', 2, '0.075'],
      [agent.id, 'Agent', 1, '0.075'],
      [flat.id, 'Flat', 1, '0.025'],
    ]);
    expect(all.by_plan.map((r: Row) => r.cost_cents)).toEqual([23, 11, 8, 8, 3]);

    // One customer: its usage before the start, on Basic up to the change, on Pro from it.
    const up = await t.door.ok('get_cost_metrics', { ...window, customer_id: 'pc-up' });
    expect(rows(up.by_plan)).toEqual([
      [pro.id, 'Pro', 1, '0.1'],
      [basic.id, 'Basic', 2, '0.075'],
      [null, '(no plan)', 1, '0.0125'],
    ]);
    // A window that ends at the change leaves Pro out.
    const before = await t.door.ok('get_usage_analytics', {
      from: window.from,
      to: iso(U),
      customer_id: 'pc-up',
      group_by: 'plan',
    });
    expect(rows(before.breakdown)).toEqual([
      [basic.id, 'Basic', 2, '0.075'],
      [null, '(no plan)', 1, '0.0125'],
    ]);
    // One agent: its usage on the agent's plan.
    const bot = await t.door.ok('get_usage_analytics', { ...window, agent_code: 'pc-bot', group_by: 'plan' });
    expect(bot.group_by).toBe('plan');
    expect(rows(bot.breakdown)).toEqual([[agent.id, 'Agent', 1, '0.075']]);
    // The plans' costs add up to the total.
    const sum = await t.door.ok('get_usage_analytics', { ...window, group_by: 'plan' });
    expect(rows(sum.breakdown)).toEqual(rows(all.by_plan));

    const wrong = await t.door.fail(
      'get_usage_analytics',
      { ...window, group_by: 'plans' },
      'VALIDATION_ERROR',
    );
    expect(wrong.message).toContain('group_by');
    expect(wrong.message).toContain('plan');
  });
});
