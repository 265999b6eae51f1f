import { expect, it } from 'vitest';
import { describeDoors } from '../harness/suite.js';

const T = '2026-03-10T12:00:00Z';

describeDoors('usage events', (t) => {
  it('records an event, returns it with duplicate: true on a retry and refuses a different payload under the same transaction_id', async () => {
    await t.door.ok('create_customer', { external_id: 'ev-cust', name: 'Events Inc' });
    await t.door.ok('create_billable_metric', {
      code: 'ev_calls',
      name: 'Calls',
      aggregation_type: 'count_agg',
    });
    const event = {
      transaction_id: 'ev-1',
      customer_id: 'ev-cust',
      code: 'ev_calls',
      timestamp: T,
      properties: { endpoint: '/search' },
      metadata: { request: 'r-1' },
    };
    const first = await t.door.ok('record_usage', event);
    expect(first.duplicate).toBe(false);
    expect(first.event).toMatchObject({
      transaction_id: 'ev-1',
      external_customer_id: 'ev-cust',
      code: 'ev_calls',
      timestamp: '2026-03-10T12:00:00.000Z',
      properties: { endpoint: '/search' },
      metadata: { request: 'r-1' },
      flags: [],
    });
    expect(first.event.id).toMatch(/^evt_/);
    expect(first.event.customer_id).toMatch(/^cus_/);
    // Unix seconds are the same instant, so the same payload.
    const retry = await t.door.ok('record_usage', { ...event, timestamp: Date.parse(T) / 1000 });
    expect(retry).toEqual({ event: first.event, duplicate: true });
    const conflict = await t.door.fail(
      'record_usage',
      { ...event, properties: { endpoint: '/other' } },
      'CONFLICT',
    );
    expect(conflict.message).toContain("transaction_id: 'ev-1' was already used");
    expect(conflict.details.event_id).toBe(first.event.id);
    const byTxn = await t.door.ok('get_event', { event_id: 'ev-1' });
    expect(byTxn.event).toEqual(first.event);
    const listed = await t.door.ok('list_events', { customer_id: 'ev-cust', code: 'ev_calls' });
    expect(listed.events.map((e: { id: string }) => e.id)).toEqual([first.event.id]);
  });

  it('tells retries of events stored with the earlier fingerprint from new payloads', async () => {
    const { legacyPayloadHash } = await import('../../src/services/metering/ingest.js');
    const { UsageEventInput } = await import('../../src/operations/schemas/metering.js');
    const event = {
      transaction_id: `ev-legacy-${t.door.name}`,
      customer_id: 'ev-cust',
      code: 'ev_calls',
      timestamp: T,
      properties: { b: 2, a: { y: 1, x: [1, 2] } },
      metadata: { request: 'r-2' },
      quantity: '1.50',
    };
    const first = await t.door.ok('record_usage', event);
    expect(first.event.id).toMatch(/^evt_/);
    // As an earlier release stored it: the whole validated input's SHA-1, 27 characters.
    const legacy = legacyPayloadHash(UsageEventInput.parse(event));
    expect(legacy).toHaveLength(27);
    await t.env.rt.db.kysely
      .updateTable('usage_events')
      .set({ payload_hash: legacy })
      .where('id', '=', first.event.id)
      .execute();
    // The same payload, keys and number forms otherwise: a retry.
    const retry = await t.door.ok('record_usage_batch', {
      events: [{ ...event, properties: { a: { x: [1, 2], y: 1 }, b: 2 }, quantity: 1.5 }],
    });
    expect(retry.results[0]).toMatchObject({ ok: true, duplicate: true, event_id: first.event.id });
    const other = await t.door.ok('record_usage_batch', { events: [{ ...event, quantity: '2' }] });
    expect(other.results[0]).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
  });

  it('lists the events sent with one external_subscription_id', async () => {
    await t.door.ok('create_customer', { external_id: 'ev-sub-cust', name: 'Subs Inc' });
    const base = { customer_id: 'ev-sub-cust', code: 'ev_sub_calls', timestamp: T };
    await t.door.ok('record_usage_batch', {
      events: [
        { ...base, transaction_id: 'ev-sub-1', external_subscription_id: 'ev-sub-a' },
        { ...base, transaction_id: 'ev-sub-2', external_subscription_id: 'ev-sub-b' },
        { ...base, transaction_id: 'ev-sub-3' },
      ],
    });
    const a = await t.door.ok('list_events', { external_subscription_id: 'ev-sub-a' });
    expect(a.events.map((e: { transaction_id: string }) => e.transaction_id)).toEqual(['ev-sub-1']);
    expect(a.pagination.total_count).toBe(1);
    const none = await t.door.ok('list_events', { external_subscription_id: 'ev-sub-none' });
    expect(none.events).toEqual([]);
  });

  it('stores text that quoting could mangle exactly as sent: quotes, backslashes, braces, commas, NULL, non-ASCII', async () => {
    const awkward = 'a "quoted" \\back\\slash, {braced} NULL ümlaut 日本 🚀';
    const events = [
      {
        transaction_id: 'awk "1", {x}',
        customer_id: 'awk-cust',
        code: 'awk\\code',
        timestamp: T,
        properties: { text: awkward, nested: { list: ['NULL', '', '{}', '"'] } },
        metadata: { note: awkward },
        agent_code: 'NULL',
      },
      {
        transaction_id: 'NULL',
        customer_id: 'awk-cust',
        code: 'awk\\code',
        timestamp: T,
        properties: { text: '' },
      },
    ];
    const out = await t.door.ok('record_usage_batch', { events });
    expect(out.summary).toMatchObject({ received: 2, created: 2, failed: 0 });
    for (const e of events) {
      const { event } = await t.door.ok('get_event', { event_id: e.transaction_id });
      expect(event).toMatchObject({
        transaction_id: e.transaction_id,
        code: e.code,
        properties: e.properties,
        metadata: e.metadata ?? {},
        agent_code: e.agent_code ?? null,
      });
    }
    // Sent again, the same payloads are recognised as the stored ones.
    const again = await t.door.ok('record_usage_batch', { events });
    expect(again.summary).toMatchObject({ received: 2, created: 0, duplicates: 2 });
  });

  it('stores every valid record of a batch and reports each bad one by index with the field it names', async () => {
    const out = await t.door.ok('record_usage_batch', {
      events: [
        { transaction_id: 'b-ok-1', customer_id: 'batch-cust', code: 'b_code', timestamp: T },
        { transaction_id: 'b-bad-type', customer_id: 'batch-cust', code: 'b_code', input_tokens: 'many' },
        {
          transaction_id: 'b-both',
          customer_id: 'batch-cust',
          code: 'b_code',
          model: 'gpt-4o',
          provider: 'openai',
          services: [{ model: 'exa-search', provider: 'exa', quantity: 1 }],
        },
        { transaction_id: 'b-unknown', customer_id: 'batch-cust', code: 'b_code', colour: 'red' },
        {
          transaction_id: 'b-huge',
          customer_id: 'batch-cust',
          code: 'b_code',
          properties: { blob: 'x'.repeat(20_000) },
        },
        { customer_id: 'batch-cust', code: 'b_code' },
        { transaction_id: 'b-ok-2', customer_id: 'batch-cust', code: 'b_code', timestamp: T },
        { transaction_id: 'b-ok-1', customer_id: 'batch-cust', code: 'b_code', timestamp: T },
      ],
    });
    expect(out.summary).toEqual({ received: 8, created: 2, duplicates: 1, failed: 5, flagged: 3 });
    const byIndex = (i: number) => out.results.find((r: { index: number }) => r.index === i);
    expect(byIndex(0)).toMatchObject({
      ok: true,
      duplicate: false,
      flags: ['UNKNOWN_METRIC', 'UNKNOWN_CUSTOMER'],
    });
    expect(byIndex(1).error.message).toBe("events[1].input_tokens must be an integer (got 'many')");
    expect(byIndex(2).error.message).toBe(
      'events[2].services cannot come with model, provider, input_tokens or output_tokens: send either one service (model + provider) or several (services), not both in one event',
    );
    expect(byIndex(3).error.message).toContain(
      "unknown field 'colour' in events[3]; the fields are: transaction_id",
    );
    expect(byIndex(4).error.message).toMatch(
      /^events\[4\]\.properties must be at most 16384 characters as JSON/,
    );
    expect(byIndex(5).error.message).toBe('events[5].transaction_id is required');
    expect(byIndex(5).transaction_id).toBeNull();
    expect(byIndex(6).ok).toBe(true);
    expect(byIndex(7)).toMatchObject({ ok: true, duplicate: true, event_id: byIndex(0).event_id });
    for (const i of [1, 2, 3, 4, 5]) expect(byIndex(i).error.code).toBe('VALIDATION_ERROR');
    const listed = await t.door.ok('list_events', { customer_id: 'batch-cust' });
    expect(listed.pagination.total_count).toBe(2);
  });

  it('tells stored events from new ones wherever they sit in a batch, and counts each once', async () => {
    await t.door.ok('create_customer', { external_id: 'mix-cust', name: 'Mix' });
    await t.door.ok('create_billable_metric', {
      code: 'mix_calls',
      name: 'Calls',
      aggregation_type: 'count_agg',
    });
    const ev = (n: number, endpoint = '/a') => ({
      transaction_id: `mix-${n}`,
      customer_id: 'mix-cust',
      code: 'mix_calls',
      timestamp: T,
      properties: { endpoint },
    });
    const before = await t.door.ok('record_usage_batch', { events: [ev(2), ev(3)] });
    expect(before.summary).toMatchObject({ created: 2, duplicates: 0 });
    // First event new, later ones stored: the same payload is a duplicate, another a conflict.
    const newFirst = await t.door.ok('record_usage_batch', { events: [ev(1), ev(2), ev(3, '/b'), ev(4)] });
    expect(newFirst.summary).toEqual({ received: 4, created: 2, duplicates: 1, failed: 1, flagged: 0 });
    expect(newFirst.results[1]).toMatchObject({
      ok: true,
      duplicate: true,
      event_id: before.results[0].event_id,
    });
    expect(newFirst.results[2].error).toMatchObject({
      code: 'CONFLICT',
      details: { field: 'transaction_id' },
    });
    expect(newFirst.results[2].error.details.event_id).toBe(before.results[1].event_id);
    // First event stored, later ones new: the new ones are created.
    const storedFirst = await t.door.ok('record_usage_batch', { events: [ev(1), ev(5), ev(4), ev(6)] });
    expect(storedFirst.summary).toEqual({ received: 4, created: 2, duplicates: 2, failed: 0, flagged: 0 });
    expect(storedFirst.results.map((r: { duplicate: boolean }) => r.duplicate)).toEqual([
      true,
      false,
      true,
      false,
    ]);
    const usage = await t.door.ok('get_customer_usage', {
      customer_id: 'mix-cust',
      metric_code: 'mix_calls',
      from: '2026-03-01T00:00:00Z',
      to: '2026-04-01T00:00:00Z',
    });
    expect(usage.metrics[0]).toMatchObject({ code: 'mix_calls', units: '6', event_count: 6 });
  });

  it('writes one activity entry for each call that stored events, none for a pure retry', async () => {
    await t.door.ok('create_customer', { external_id: 'act-cust', name: 'Audited' });
    await t.door.ok('create_billable_metric', {
      code: 'act_calls',
      name: 'Calls',
      aggregation_type: 'count_agg',
    });
    const ev = (n: number, code: string) => ({
      transaction_id: `act-${n}`,
      customer_id: 'act-cust',
      code,
      timestamp: T,
    });
    const entries = async () =>
      (
        await t.door.ok('list_activity_logs', {
          activity_types: ['usage_events.recorded'],
          customer_id: 'act-cust',
        })
      ).activity_logs;
    const first = await t.door.ok('record_usage_batch', {
      events: [ev(1, 'act_calls'), ev(2, 'act_unknown'), { transaction_id: 'act-bad', code: 'act_calls' }],
    });
    expect(first.summary).toMatchObject({ created: 2, failed: 1 });
    const [entry] = await entries();
    expect(entry).toMatchObject({
      resource_type: 'usage_event',
      resource_id: first.results[0].event_id,
      external_customer_id: 'act-cust',
      changes: {
        first_event_id: first.results[0].event_id,
        created: 2,
        duplicates: 0,
        failed: 1,
        codes: ['act_calls', 'act_unknown'],
      },
    });
    await t.door.ok('record_usage_batch', { events: [ev(1, 'act_calls'), ev(2, 'act_unknown')] });
    expect(await entries()).toHaveLength(1);
    // Only events of a metric that does not exist yet: nothing to aggregate, still an entry.
    const unknown = await t.door.ok('record_usage_batch', {
      events: [ev(3, 'act_unknown'), ev(1, 'act_calls')],
    });
    const latest = await entries();
    expect(latest).toHaveLength(2);
    expect(latest[0].changes).toEqual({
      first_event_id: unknown.results[0].event_id,
      created: 1,
      duplicates: 1,
      failed: 0,
      codes: ['act_unknown'],
    });
  });

  it('refuses 1,001 events and an empty batch, naming events', async () => {
    const events = Array.from({ length: 1001 }, (_, i) => ({
      transaction_id: `x-${i}`,
      customer_id: 'c',
      code: 'x',
    }));
    const e = await t.door.fail('record_usage_batch', { events }, 'VALIDATION_ERROR');
    expect(e.message).toBe('events must have at most 1000 items');
    const empty = await t.door.fail('record_usage_batch', { events: [] }, 'VALIDATION_ERROR');
    expect(empty.message).toBe('events must have at least 1 item');
    const single = await t.door.fail(
      'record_usage',
      { transaction_id: 's', customer_id: 'c', code: 'x', model: 'gpt-4o' },
      'VALIDATION_ERROR',
    );
    expect(single.message).toBe('provider is required with model (e.g. "openai")');
  });

  it('counts events of an unknown customer and metric once both exist', async () => {
    const events = [1, 2, 3].map((i) => ({
      transaction_id: `late-${i}`,
      customer_id: 'late-cust',
      code: 'late_metric',
      timestamp: `2026-03-0${i}T00:00:00Z`,
      properties: { gb: i },
    }));
    const out = await t.door.ok('record_usage_batch', { events });
    expect(out.results.every((r: { flags: string[] }) => r.flags.includes('UNKNOWN_METRIC'))).toBe(true);
    const attention = await t.door.ok('get_needs_attention', {});
    expect(attention.unknown_metric_codes).toContainEqual({ code: 'late_metric', event_count: 3 });
    expect(attention.unknown_customers).toContainEqual({ external_customer_id: 'late-cust', event_count: 3 });
    const created = await t.door.ok('create_billable_metric', {
      code: 'late_metric',
      name: 'Late',
      aggregation_type: 'sum_agg',
      field_name: 'gb',
    });
    expect(created.events_counted).toBe(3);
    const customer = await t.door.ok('create_customer', { external_id: 'late-cust', name: 'Late Ltd' });
    const usage = await t.door.ok('get_customer_usage', {
      customer_id: customer.customer.id,
      metric_code: 'late_metric',
      from: '2026-03-01',
      to: '2026-04-01',
    });
    expect(usage.metrics[0]).toMatchObject({ units: '6', event_count: 3 });
    const after = await t.door.ok('get_needs_attention', {});
    expect(
      after.unknown_metric_codes.find((c: { code: string }) => c.code === 'late_metric'),
    ).toBeUndefined();
    expect(
      after.unknown_customers.find(
        (c: { external_customer_id: string }) => c.external_customer_id === 'late-cust',
      ),
    ).toBeUndefined();
    const event = await t.door.ok('get_event', { event_id: 'late-2' });
    expect(event.event).toMatchObject({ customer_id: customer.customer.id, value: '2', flags: [] });
  });
});

describeDoors(
  'usage events by subscription',
  (t) => {
    it('attributes an event naming external_subscription_id to its customer, checks agreement and keeps unknown ones', async () => {
      await t.door.ok('create_customer', { external_id: 'sub-ev-cust', name: 'Subscriber', currency: 'EUR' });
      await t.door.ok('create_customer', { external_id: 'sub-ev-other', name: 'Other', currency: 'EUR' });
      await t.door.ok('create_billable_metric', {
        code: 'sub_calls',
        name: 'Calls',
        aggregation_type: 'count_agg',
      });
      await t.door.ok('create_plan', {
        code: 'sub-ev-plan',
        name: 'Plan',
        interval: 'monthly',
        currency: 'EUR',
        amount: '0',
      });
      await t.door.ok('create_subscription', {
        customer_id: 'sub-ev-cust',
        plan_code: 'sub-ev-plan',
        external_id: 'sub-ev-1',
      });
      const customer = (await t.door.ok('get_customer', { customer_id: 'sub-ev-cust' })).customer;

      const only = await t.door.ok('record_usage', {
        transaction_id: 'se-1',
        external_subscription_id: 'sub-ev-1',
        code: 'sub_calls',
        timestamp: T,
      });
      expect(only.event).toMatchObject({
        customer_id: customer.id,
        external_customer_id: 'sub-ev-cust',
        external_subscription_id: 'sub-ev-1',
        flags: [],
      });
      const both = await t.door.ok('record_usage', {
        transaction_id: 'se-2',
        customer_id: 'sub-ev-cust',
        external_subscription_id: 'sub-ev-1',
        code: 'sub_calls',
        timestamp: T,
      });
      expect(both.event).toMatchObject({ customer_id: customer.id, flags: [] });
      const disagree = await t.door.fail(
        'record_usage',
        {
          transaction_id: 'se-3',
          customer_id: 'sub-ev-other',
          external_subscription_id: 'sub-ev-1',
          code: 'sub_calls',
        },
        'VALIDATION_ERROR',
      );
      expect(disagree.message).toMatch(
        /^external_subscription_id: subscription 'sub-ev-1' belongs to customer 'sub-ev-cust'/,
      );
      const neither = await t.door.fail(
        'record_usage',
        { transaction_id: 'se-4', code: 'sub_calls' },
        'VALIDATION_ERROR',
      );
      expect(neither.message).toContain('customer_id');

      const batch = await t.door.ok('record_usage_batch', {
        events: [
          { transaction_id: 'se-5', external_subscription_id: 'sub-ev-1', code: 'sub_calls', timestamp: T },
          {
            transaction_id: 'se-6',
            external_subscription_id: 'no-such-sub',
            code: 'sub_calls',
            timestamp: T,
          },
          {
            transaction_id: 'se-7',
            customer_id: 'sub-ev-other',
            external_subscription_id: 'sub-ev-1',
            code: 'sub_calls',
          },
          {
            transaction_id: 'se-8',
            customer_id: 'sub-ev-other',
            external_subscription_id: 'no-such-sub',
            code: 'sub_calls',
            timestamp: T,
          },
        ],
      });
      expect(batch.summary).toEqual({ received: 4, created: 3, duplicates: 0, failed: 1, flagged: 2 });
      expect(batch.results.map((r: { ok: boolean; flags?: string[] }) => [r.ok, r.flags])).toEqual([
        [true, []],
        [true, ['UNKNOWN_SUBSCRIPTION']],
        [false, undefined],
        [true, ['UNKNOWN_SUBSCRIPTION']],
      ]);
      expect(batch.results[2].error.details.issues[0].field).toBe('external_subscription_id');
      const unknown = await t.door.ok('get_event', { event_id: 'se-6' });
      expect(unknown.event).toMatchObject({
        customer_id: null,
        external_customer_id: null,
        external_subscription_id: 'no-such-sub',
        flags: ['UNKNOWN_SUBSCRIPTION'],
      });

      // The subscription's events count for its customer: se-1, se-2, se-5.
      const usage = await t.door.ok('get_customer_usage', {
        customer_id: 'sub-ev-cust',
        from: '2026-03-01',
        to: '2026-04-01',
      });
      expect(usage.metrics.find((m: { code: string }) => m.code === 'sub_calls')).toMatchObject({
        units: '3',
        event_count: 3,
      });
    });
  },
  { doors: ['http_api', 'mcp_http'] },
);
