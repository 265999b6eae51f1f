import { expect, it } from 'vitest';
import { describeDoors } from '../harness/suite.js';

const T = '2026-04-02T09:00:00Z';

describeDoors('agents', (t) => {
  it('creates, finds, lists and renames agents; a retry returns the agent and a taken code is a conflict', async () => {
    const first = await t.door.ok('create_agent', { code: 'cs-bot', name: 'Support bot' });
    expect(first).toMatchObject({ created: true, resolved_events: 0 });
    expect(first.agent).toMatchObject({
      code: 'cs-bot',
      name: 'Support bot',
      description: null,
      metadata: {},
    });
    expect(first.agent.id).toMatch(/^agt_/);
    const retry = await t.door.ok('create_agent', { code: 'cs-bot', name: 'Support bot' });
    expect(retry).toEqual({ agent: first.agent, created: false, resolved_events: 0 });
    const taken = await t.door.fail('create_agent', { code: 'cs-bot', name: 'Other' }, 'CONFLICT');
    expect(taken.message).toContain("agent 'cs-bot' already exists");
    await t.door.ok('create_agent', { code: 'deal-ops', name: 'Deal Ops', description: 'Sales agent' });
    expect((await t.door.ok('get_agent', { agent_id: 'cs-bot' })).agent).toEqual(first.agent);
    expect((await t.door.ok('get_agent', { agent_id: first.agent.id })).agent).toEqual(first.agent);
    const missing = await t.door.fail('get_agent', { agent_id: 'nobody' }, 'NOT_FOUND');
    expect(missing.message).toBe("agent_id: no agent has the id or code 'nobody'");
    const listed = await t.door.ok('list_agents', {});
    expect(listed.agents.map((a: { code: string }) => a.code)).toEqual(['cs-bot', 'deal-ops']);
    const searched = await t.door.ok('list_agents', { search: 'DEAL' });
    expect(searched.agents.map((a: { code: string }) => a.code)).toEqual(['deal-ops']);
    expect(searched.pagination).toMatchObject({ total_count: 1, current_page: 1 });
    const renamed = await t.door.ok('update_agent', { agent_id: 'cs-bot', name: 'Support bot v2' });
    expect(renamed.agent).toMatchObject({ code: 'cs-bot', name: 'Support bot v2' });
    await t.door.fail('update_agent', { agent_id: 'cs-bot', code: 'x' }, 'VALIDATION_ERROR');
  });

  it('stores events of an unknown agent code flagged, lists them as needing attention, and resolves them when the agent is created', async () => {
    await t.door.ok('create_customer', { external_id: 'ag-cust', name: 'Agent customer' });
    await t.door.ok('create_agent', { code: 'known-bot', name: 'Known' });
    const batch = await t.door.ok('record_usage_batch', {
      events: [
        {
          transaction_id: 'ag-1',
          customer_id: 'ag-cust',
          code: 'ag_calls',
          agent_code: 'known-bot',
          timestamp: T,
        },
        {
          transaction_id: 'ag-2',
          customer_id: 'ag-cust',
          code: 'ag_calls',
          agent_code: 'later-bot',
          timestamp: T,
        },
        {
          transaction_id: 'ag-3',
          customer_id: 'ag-cust',
          code: 'ag_calls',
          agent_code: 'later-bot',
          timestamp: T,
        },
        { transaction_id: 'ag-4', customer_id: 'ag-cust', code: 'ag_calls', timestamp: T },
      ],
    });
    // The metric does not exist either: every event is UNKNOWN_METRIC, two also UNKNOWN_AGENT.
    expect(batch.results.map((r: { flags: string[] }) => r.flags)).toEqual([
      ['UNKNOWN_METRIC'],
      ['UNKNOWN_METRIC', 'UNKNOWN_AGENT'],
      ['UNKNOWN_METRIC', 'UNKNOWN_AGENT'],
      ['UNKNOWN_METRIC'],
    ]);
    const known = (await t.door.ok('get_event', { event_id: 'ag-1' })).event;
    expect(known.agent_id).toMatch(/^agt_/);
    const waiting = (await t.door.ok('get_event', { event_id: 'ag-2' })).event;
    expect(waiting).toMatchObject({ agent_code: 'later-bot', agent_id: null });
    const attention = await t.door.ok('get_needs_attention', {});
    expect(attention.unknown_agent_codes).toEqual([{ agent_code: 'later-bot', event_count: 2 }]);

    const created = await t.door.ok('create_agent', { code: 'later-bot', name: 'Later' });
    expect(created.resolved_events).toBe(2);
    const resolved = (await t.door.ok('get_event', { event_id: 'ag-2' })).event;
    expect(resolved.agent_id).toBe(created.agent.id);
    expect(resolved.flags).toEqual(['UNKNOWN_METRIC']);
    expect((await t.door.ok('get_needs_attention', {})).unknown_agent_codes).toEqual([]);
    // A retry of a stored event reports what it is now: its agent is known.
    const again = await t.door.ok('record_usage', {
      transaction_id: 'ag-3',
      customer_id: 'ag-cust',
      code: 'ag_calls',
      agent_code: 'later-bot',
      timestamp: T,
    });
    expect(again).toMatchObject({ duplicate: true, event: { agent_id: created.agent.id } });
  });

  it('adds agents up in usage: a filter group is every agent of it, and the agent key is reserved', async () => {
    await t.door.ok('create_customer', { external_id: 'ag-usage', name: 'Usage customer' });
    await t.door.ok('create_billable_metric', {
      code: 'ag_tokens',
      name: 'Tokens',
      aggregation_type: 'sum_agg',
      field_name: 'n',
      filters: [{ key: 'tier', values: ['fast', 'slow'] }],
    });
    const events = [
      ['a', 'fast', 10],
      ['b', 'fast', 5],
      [null, 'fast', 1],
      ['a', 'slow', 7],
      ['b', null, 2],
    ] as const;
    const out = await t.door.ok('record_usage_batch', {
      events: events.map(([agent, tier, n], i) => ({
        transaction_id: `agu-${i}`,
        customer_id: 'ag-usage',
        code: 'ag_tokens',
        timestamp: T,
        properties: { n, ...(tier ? { tier } : {}) },
        ...(agent ? { agent_code: agent } : {}),
      })),
    });
    expect(out.summary.failed).toBe(0);
    const usage = await t.door.ok('get_customer_usage', {
      customer_id: 'ag-usage',
      metric_code: 'ag_tokens',
      from: '2026-04-01',
      to: '2026-05-01',
    });
    // 10 + 5 + 1 + 7 + 2 = 25; fast = 10 + 5 + 1 = 16 over two agents and none; slow = 7; none = 2.
    const m = usage.metrics[0];
    expect(m).toMatchObject({ units: '25', event_count: 5 });
    const byGroup = Object.fromEntries(
      m.breakdown.map((b: { filters: Record<string, string>; units: string }) => [
        JSON.stringify(b.filters),
        b.units,
      ]),
    );
    expect(byGroup).toEqual({ '{"tier":"fast"}': '16', '{"tier":"slow"}': '7', '{}': '2' });
    const reserved = await t.door.fail(
      'create_billable_metric',
      {
        code: 'ag_bad',
        name: 'Bad',
        aggregation_type: 'count_agg',
        filters: [{ key: '@agent', values: ['a'] }],
      },
      'VALIDATION_ERROR',
    );
    expect(reserved.message).toContain("'@agent' is reserved");
  });
});
