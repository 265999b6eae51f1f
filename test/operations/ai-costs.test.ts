import { expect, it } from 'vitest';
import { describeDoors } from '../harness/suite.js';

const T = '2026-04-02T09:00:00Z';

describeDoors('AI costs', (t) => {
  it('prices LLM, per-unit and multi-service events exactly from the catalog', async () => {
    const catalog = await t.door.ok('list_catalog_services', { provider: 'anthropic', search: 'sonnet 4.5' });
    expect(catalog.prices_as_of).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(catalog.services[0]).toMatchObject({
      id: 'anthropic/claude-sonnet-4-5',
      canonical_name: 'claude-sonnet-4-5',
      input_price_per_million: '3.00',
      output_price_per_million: '15.00',
      source: 'catalog',
    });
    const sms = await t.door.ok('list_catalog_services', { service_type: 'SMS', is_api: true });
    expect(sms.services.length).toBeGreaterThan(0);
    const base = { customer_id: 'ai-cust', code: 'messages', agent_code: 'cs-bot', timestamp: T };
    const llm = await t.door.ok('record_usage', {
      ...base,
      transaction_id: 'ai-1',
      model: 'claude-sonnet-4-5',
      provider: 'anthropic',
      input_tokens: 1234567,
      output_tokens: 7,
    });
    // 1,234,567 × 3.00 / 10^6 + 7 × 15.00 / 10^6 = 3.703701 + 0.000105
    expect(llm.event).toMatchObject({ cost: '3.703806', cost_status: 'PROCESSED', cost_currency: 'USD' });
    const multi = await t.door.ok('record_usage', {
      ...base,
      transaction_id: 'ai-2',
      quantity: 1,
      services: [
        { model: 'exa-search', provider: 'exa', quantity: 3 },
        { model: 'gpt-4o-mini', provider: 'openai', input_tokens: 4500, output_tokens: 1200 },
        { model: 'twilio-sms', provider: 'twilio', quantity: 2 },
      ],
    });
    // 3 × 0.005 + (4500 × 0.15 + 1200 × 0.60) / 10^6 + 2 × 0.0079 = 0.015 + 0.001395 + 0.0158
    expect(multi.event.cost).toBe('0.032195');
    expect(multi.event.services.map((s: { cost: string }) => s.cost)).toEqual([
      '0.015',
      '0.001395',
      '0.0158',
    ]);
    const metrics = await t.door.ok('get_cost_metrics', {
      from: '2026-04-01',
      to: '2026-05-01',
      agent_code: 'cs-bot',
      include_prior_window: true,
    });
    expect(metrics.totals).toMatchObject({
      event_count: 2,
      cost: '3.736001',
      cost_cents: 374,
      input_tokens: 1239067,
    });
    expect(metrics.by_model.map((r: { key: string; cost: string }) => [r.key, r.cost])).toEqual([
      ['claude-sonnet-4-5', '3.703806'],
      ['twilio-sms', '0.0158'],
      ['exa-search', '0.015'],
      ['gpt-4o-mini', '0.001395'],
    ]);
    expect(metrics.prior).toMatchObject({
      from: '2026-03-02T00:00:00.000Z',
      cost_change: '3.736001',
      cost_change_percent: null,
    });
    const analytics = await t.door.ok('get_usage_analytics', {
      from: '2026-04-01',
      to: '2026-05-01',
      group_by: 'day',
    });
    expect(analytics.breakdown).toEqual([
      expect.objectContaining({ key: '2026-04-02', event_count: 2, cost: '3.736001' }),
    ]);
  });

  it("breaks usage and cost down by the calendar days of a time zone, across daylight saving, by default the organization's", async () => {
    const sms = {
      customer_id: 'tz-cust',
      code: 'texts',
      agent_code: 'tz-bot',
      model: 'twilio-sms',
      provider: 'twilio',
    };
    await t.door.ok('record_usage_batch', {
      events: [
        // New York: 23:30 on 7 March (EST, UTC-5); UTC: 8 March; Kolkata: 10:00 on 8 March.
        { ...sms, transaction_id: 'tz-1', timestamp: '2026-03-08T04:30:00Z', quantity: 1 },
        // New York: 00:30 on 9 March, daylight time since 07:00Z on the 8th (UTC-4); a fixed
        // UTC-5 would put it on the 8th.
        { ...sms, transaction_id: 'tz-2', timestamp: '2026-03-09T04:30:00Z', quantity: 1 },
        // New York: 23:30 on 8 March (EDT); UTC and Kolkata: 9 March.
        { ...sms, transaction_id: 'tz-3', timestamp: '2026-03-09T03:30:00Z', quantity: 1 },
        // One outcome, one LLM service: its tokens are added to its day outside SQL.
        // New York: 13:40 on 7 March; UTC: 7 March; Kolkata: 00:10 on 8 March.
        {
          customer_id: 'tz-cust',
          code: 'texts',
          agent_code: 'tz-bot',
          transaction_id: 'tz-4',
          timestamp: '2026-03-07T18:40:00Z',
          services: [{ model: 'gpt-4o-mini', provider: 'openai', input_tokens: 1000, output_tokens: 500 }],
        },
      ],
    });
    const window = { from: '2026-03-01', to: '2026-04-01', agent_code: 'tz-bot' };
    const days = (rows: Array<{ key: string; event_count: number; cost: string; input_tokens: number }>) =>
      rows.map((r) => [r.key, r.event_count, r.cost, r.input_tokens]);
    // 0.0079 per text; (1,000 × 0.15 + 500 × 0.60) / 10^6 = 0.00045 for the LLM call.
    const newYork = await t.door.ok('get_usage_analytics', {
      ...window,
      group_by: 'day',
      timezone: 'America/New_York',
    });
    expect(newYork.timezone).toBe('America/New_York');
    expect(days(newYork.breakdown)).toEqual([
      ['2026-03-07', 2, '0.00835', 1000],
      ['2026-03-08', 1, '0.0079', 0],
      ['2026-03-09', 1, '0.0079', 0],
    ]);
    const utc = await t.door.ok('get_cost_metrics', { ...window, timezone: 'UTC' });
    expect(utc.timezone).toBe('UTC');
    expect(days(utc.by_day)).toEqual([
      ['2026-03-07', 1, '0.00045', 1000],
      ['2026-03-08', 1, '0.0079', 0],
      ['2026-03-09', 2, '0.0158', 0],
    ]);

    const before = (await t.door.ok('get_organization', {})).organization.timezone;
    await t.door.ok('update_organization', { timezone: 'Asia/Kolkata' });
    try {
      const kolkata = await t.door.ok('get_cost_metrics', window);
      expect(kolkata.timezone).toBe('Asia/Kolkata');
      expect(days(kolkata.by_day)).toEqual([
        ['2026-03-08', 2, '0.00835', 1000],
        ['2026-03-09', 2, '0.0158', 0],
      ]);
      const same = await t.door.ok('get_usage_analytics', { ...window, group_by: 'day' });
      expect(days(same.breakdown)).toEqual(days(kolkata.by_day));
    } finally {
      await t.door.ok('update_organization', { timezone: before });
    }

    const wrong = await t.door.fail(
      'get_usage_analytics',
      { ...window, timezone: 'Mars/Olympus' },
      'VALIDATION_ERROR',
    );
    expect(wrong.message).toMatch(/^timezone must be an IANA time zone such as Europe\/Paris/);
  });

  it('keeps events of an unknown model until map_model prices them, remembers the mapping, and is idempotent', async () => {
    const base = { customer_id: 'map-cust', code: 'chat', timestamp: T };
    const unknown = await t.door.ok('record_usage_batch', {
      events: [
        {
          ...base,
          transaction_id: 'm-1',
          model: 'gpt-4o-2024-08-06',
          provider: 'openai',
          input_tokens: 1000,
          output_tokens: 1000,
        },
        {
          ...base,
          transaction_id: 'm-2',
          services: [
            { model: 'gpt-4o-2024-08-06', provider: 'OpenAI', input_tokens: 2000 },
            { model: 'exa-search', provider: 'exa', quantity: 1 },
          ],
        },
        { ...base, transaction_id: 'm-3', model: 'gpt-4o', provider: 'openai' },
      ],
    });
    expect(unknown.results.map((r: { cost_status: string }) => r.cost_status)).toEqual([
      'NEEDS_COST_BACKFILL',
      'NEEDS_COST_BACKFILL',
      'MISSING_VOLUME_DATA',
    ]);
    expect(unknown.results[1].services.map((s: { cost_status: string }) => s.cost_status)).toEqual([
      'NEEDS_COST_BACKFILL',
      'PROCESSED',
    ]);
    const attention = await t.door.ok('get_needs_attention', {});
    expect(attention.unknown_models).toEqual([
      { provider: 'openai', model: 'gpt-4o-2024-08-06', event_count: 2 },
    ]);
    expect(attention.missing_volume.event_count).toBe(1);
    const mapped = await t.door.ok('map_model', {
      source_model: 'gpt-4o-2024-08-06',
      source_provider: 'openai',
      target_model: 'gpt-4o',
      target_provider: 'openai',
    });
    expect(mapped).toMatchObject({
      created: true,
      backfilled_events: 2,
      mapping: { target_price_id: 'openai/gpt-4o' },
    });
    // 1000 × 2.50 / 10^6 + 1000 × 10.00 / 10^6; 2000 × 2.50 / 10^6 + 0.005
    expect((await t.door.ok('get_event', { event_id: 'm-1' })).event).toMatchObject({
      cost: '0.0125',
      cost_status: 'PROCESSED',
    });
    expect((await t.door.ok('get_event', { event_id: 'm-2' })).event.cost).toBe('0.01');
    const again = await t.door.ok('map_model', {
      source_model: 'gpt-4o-2024-08-06',
      source_provider: 'openai',
      target_price_id: 'openai/gpt-4o',
    });
    expect(again).toMatchObject({ created: false, backfilled_events: 0, mapping: { id: mapped.mapping.id } });
    const later = await t.door.ok('record_usage', {
      ...base,
      transaction_id: 'm-4',
      model: 'gpt-4o-2024-08-06',
      provider: 'openai',
      output_tokens: 1,
    });
    expect(later.event).toMatchObject({ cost: '0.00001', cost_status: 'PROCESSED' });
    const bad = await t.door.fail(
      'map_model',
      { source_model: 'x', source_provider: 'y', target_model: 'nope', target_provider: 'openai' },
      'NOT_FOUND',
    );
    expect(bad.message).toContain(
      "target_model: 'nope' from 'openai' is neither in the catalog nor one of your prices",
    );

    const missing = await t.door.ok('get_missing_volume', {});
    expect(missing.events.map((e: { transaction_id: string }) => e.transaction_id)).toEqual(['m-3']);
    const filled = await t.door.ok('fill_volume', {
      event_id: 'm-3',
      input_tokens: 1500,
      output_tokens: 400,
    });
    expect(filled).toMatchObject({
      changed: true,
      event: { cost: '0.00775', cost_status: 'PROCESSED', input_tokens: 1500 },
    });
    const refill = await t.door.ok('fill_volume', { event_id: 'm-3', input_tokens: 9 });
    expect(refill).toEqual({ changed: false, event: filled.event });
  });

  it("uses the organization's own price before the catalog's and prices waiting events at once", async () => {
    await t.door.ok('record_usage', {
      transaction_id: 'own-1',
      customer_id: 'own-cust',
      code: 'sms',
      timestamp: T,
      model: 'our-sms-gateway',
      provider: 'acme',
      quantity: '3',
    });
    const set = await t.door.ok('set_service_price', {
      provider: 'acme',
      model: 'our-sms-gateway',
      unit_price: '0.00333',
      unit: 'message',
      service_type: 'SMS',
    });
    expect(set).toMatchObject({
      created: true,
      backfilled_events: 1,
      service: { source: 'organization', unit_price: '0.00333' },
    });
    expect((await t.door.ok('get_event', { event_id: 'own-1' })).event.cost).toBe('0.00999');
    await t.door.ok('set_service_price', {
      provider: 'openai',
      model: 'gpt-4o',
      input_price_per_million: '2',
      output_price_per_million: 8,
    });
    const negotiated = await t.door.ok('record_usage', {
      transaction_id: 'own-2',
      customer_id: 'own-cust',
      code: 'chat',
      timestamp: T,
      model: 'gpt-4o',
      provider: 'openai',
      input_tokens: 1000000,
      output_tokens: 1000000,
    });
    expect(negotiated.event.cost).toBe('10');
    const both = await t.door.fail(
      'set_service_price',
      { provider: 'x', model: 'y', unit_price: 1, input_price_per_million: 1 },
      'VALIDATION_ERROR',
    );
    expect(both.message).toMatch(/^unit_price: give either per-token prices/);
  });
});
