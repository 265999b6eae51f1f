import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeProfile } from '../../harness/profiles.js';
import { startSmtpServer, type TestSmtpServer } from '../../harness/smtp.js';
import { environmentVariables } from '../../harness/suite.js';
import { SEED_TOOLS } from './seed-tools.js';

/**
 * Seed 002 (MarginFront MCP): each example of the document — its example prompts as the calls
 * an assistant makes from them, with the document's own values (acme-001, cs-bot, gpt-4o from
 * openai with 500 input and 120 output tokens, the cold outreach of Exa, Hunter, Claude Opus and
 * Pipedream, "Beta Corp" / beta-001, the gpt-4o-2024-08-06 mapping, 1500 + 400 tokens, April
 * 2026) — through the marginfront profile, checking MarginFront's shapes and the values.
 * The server's clock starts on 12 April 2026, the date the examples use.
 */
const SEED_TIME = Date.parse('2026-04-12T12:00:00Z');

let smtp: TestSmtpServer;
beforeAll(async () => {
  smtp = await startSmtpServer();
  environmentVariables.BILLFOLD_SMTP_URL = smtp.url;
});
afterAll(async () => {
  await smtp?.close();
});

const OUTREACH = {
  customerExternalId: 'acme-001',
  agentCode: 'outreach-bot',
  signalName: 'cold_outreach',
  services: [
    { model: 'exa-search', modelProvider: 'exa', quantity: 1 },
    { model: 'hunter-enrichment', modelProvider: 'hunter', quantity: 1 },
    {
      model: 'claude-opus-4-1',
      modelProvider: 'anthropic',
      inputTokens: 4500,
      outputTokens: 1200,
      quantity: 1,
    },
    { model: 'pipedream-workflow', modelProvider: 'pipedream', quantity: 1 },
  ],
};
const LLM_EVENT = {
  customerExternalId: 'acme-001',
  agentCode: 'cs-bot',
  signalName: 'messages',
  model: 'gpt-4o',
  modelProvider: 'openai',
  inputTokens: 500,
  outputTokens: 120,
};

describeProfile(
  'marginfront',
  (t) => {
    const ids: Record<string, string> = {};
    beforeAll(async () => {
      // What a MarginFront user sets up in its dashboard: the customer, agents and signals.
      const acme = await t.api.ok('create_customer', {
        external_id: 'acme-001',
        name: 'Acme Corp',
        email: 'billing@acme.example',
        currency: 'USD',
      });
      ids.acme = acme.customer.id;
      for (const [code, name] of [
        ['cs-bot', 'Support bot'],
        ['outreach-bot', 'Outreach Writer'],
      ] as const) {
        ids[code] = (await t.api.ok('create_agent', { code, name })).agent.id;
      }
      for (const code of ['messages', 'cold_outreach']) {
        ids[code] = (
          await t.api.ok('create_billable_metric', { code, name: code, aggregation_type: 'count_agg' })
        ).billable_metric.id;
      }
    });

    it('lists the 32 tools of the seed with its parameters and enum words', async () => {
      const { tools } = await t.door.client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(SEED_TOOLS.marginfront!.tools);
      const schema = (name: string) => tools.find((tool) => tool.name === name)!.inputSchema as any;
      expect(schema('record_usage').required).toEqual(['customerExternalId', 'agentCode', 'signalName']);
      expect(schema('record_usage').properties.transaction_id).toBeUndefined();
      expect(schema('get_mrr').properties.variant).toMatchObject({
        enum: ['canonical', 'runRate', 'committed'],
        default: 'canonical',
      });
      expect(schema('get_usage_analytics').properties.groupBy.enum).toEqual([
        'agent',
        'customer',
        'signal',
        'model',
        'day',
      ]);
      expect(schema('list_subscriptions').properties.status.enum).toEqual([
        'active',
        'canceled',
        'past_due',
        'trialing',
      ]);
      expect(schema('list_invoices').properties.status.enum).toEqual([
        'draft',
        'pending',
        'paid',
        'overdue',
        'void',
      ]);
      expect(schema('list_portal_sessions').properties.limit.default).toBe(10);
      expect(schema('list_catalog_services').properties.limit.default).toBe(50);
      expect(schema('record_usage_batch').properties.records.maxItems).toBe(100);
      const readOnly = tools.filter((tool) => tool.annotations?.readOnlyHint).map((tool) => tool.name);
      expect(readOnly).toContain('get_needs_attention');
      expect(readOnly).not.toContain('record_usage');
    });

    it('verify: "Verify my MarginFront connection"', async () => {
      const r = await t.door.ok('verify');
      expect(r.verified).toBe(true);
      expect(r.organization.name).toMatch(/^Test org/);
      expect(r.apiKey.scopes).toEqual(['admin']);
    });

    it('create_customer: "Create a customer called Beta Corp with external ID beta-001", once', async () => {
      const r = await t.door.ok('create_customer', { name: 'Beta Corp', externalId: 'beta-001' });
      expect(r.created).toBe(true);
      expect(r.customer).toMatchObject({ name: 'Beta Corp', externalId: 'beta-001', status: 'active' });
      expect(r.customer.id).toMatch(/^cus_/);
      const again = await t.door.ok('create_customer', { name: 'Beta Corp', externalId: 'beta-001' });
      expect(again.created).toBe(false);
      expect(again.customer.id).toBe(r.customer.id);
      ids.beta = r.customer.id;
    });

    it('list_customers: "Show me my MarginFront customers", with search and limit', async () => {
      const all = await t.door.ok('list_customers');
      // (Newest first; the stdio server's clock is its own, so the order is not checked here.)
      expect(all.customers.map((c: { externalId: string }) => c.externalId).sort()).toEqual([
        'acme-001',
        'beta-001',
      ]);
      expect(all.pagination).toEqual({ page: 1, limit: 20, total: 2, totalPages: 1, hasMore: false });
      const found = await t.door.ok('list_customers', { search: 'acme' });
      expect(found.customers).toHaveLength(1);
      expect(found.customers[0]).toMatchObject({
        id: ids.acme,
        name: 'Acme Corp',
        email: 'billing@acme.example',
      });
      const paged = await t.door.ok('list_customers', { limit: 1, page: 2 });
      expect(paged.customers).toHaveLength(1);
      expect(paged.customers[0].externalId).not.toBe(all.customers[0].externalId);
      expect(paged.pagination).toMatchObject({ page: 2, limit: 1, total: 2, totalPages: 2, hasMore: false });
    });

    it('record_usage, single-service LLM: acme-001 on cs-bot, messages, gpt-4o from openai, 500 in / 120 out', async () => {
      const r = await t.door.ok('record_usage', LLM_EVENT);
      expect(r).toMatchObject({ status: 'PROCESSED', costUsd: '0.00245', duplicate: false, flags: [] });
      expect(r.eventId).toMatch(/^evt_/);
      // 500 × 2.50 / 1M + 120 × 10.00 / 1M, from the catalog's gpt-4o prices.
      expect(r.transactionIdSource).toBe('generated');
      expect(r.note).toContain('no usageDate');
      expect(r.timestamp.startsWith('2026-04-12')).toBe(true);
      // Without a usageDate the same call is another event (three messages are three events).
      const second = await t.door.ok('record_usage', LLM_EVENT);
      expect(second.eventId).not.toBe(r.eventId);
      expect(second.duplicate).toBe(false);
      // With one, Billfold derives the transaction id: a retry is stored once.
      const dated = { ...LLM_EVENT, usageDate: '2026-04-01T00:00:00Z' };
      const first = await t.door.ok('record_usage', dated);
      expect(first).toMatchObject({
        transactionIdSource: 'derived',
        duplicate: false,
        timestamp: '2026-04-01T00:00:00.000Z',
      });
      expect(first.transactionId).toMatch(/^mf_/);
      const retry = await t.door.ok('record_usage', dated);
      expect(retry).toMatchObject({
        eventId: first.eventId,
        transactionId: first.transactionId,
        duplicate: true,
      });
      // Its own transactionId wins; metadata of any JSON is kept as text.
      const own = await t.door.ok('record_usage', {
        ...dated,
        transactionId: 'msg-4711',
        metadata: { conversation: 'c-9', turns: 3 },
      });
      expect(own).toMatchObject({
        transactionId: 'msg-4711',
        transactionIdSource: 'given',
        duplicate: false,
      });
      expect(own.note).toBeUndefined();
      const stored = await t.api.ok('get_event', { event_id: 'msg-4711' });
      expect(stored.event).toMatchObject({
        customer_id: ids.acme,
        agent_code: 'cs-bot',
        agent_id: ids['cs-bot'],
        code: 'messages',
        metadata: { conversation: 'c-9', turns: '3' },
        input_tokens: 500,
        output_tokens: 120,
      });
    });

    it('record_usage, single-service non-LLM: twilio-sms from twilio, quantity 3', async () => {
      const r = await t.door.ok('record_usage', {
        customerExternalId: 'acme-001',
        agentCode: 'cs-bot',
        signalName: 'messages',
        model: 'twilio-sms',
        modelProvider: 'twilio',
        quantity: 3,
      });
      // 3 × 0.0079.
      expect(r).toMatchObject({ status: 'PROCESSED', costUsd: '0.0237' });
    });

    it('record_usage, multi-service: one cold outreach (Exa, Hunter, Claude Opus 4500/1200, Pipedream) as ONE event', async () => {
      const r = await t.door.ok('record_usage', OUTREACH);
      expect(r.status).toBe('NEEDS_COST_BACKFILL');
      // The cost rule: no total until every service is priced.
      expect(r.totalCostUsd).toBeNull();
      expect(r.costUsd).toBeUndefined();
      expect(r.services).toEqual([
        {
          model: 'exa-search',
          modelProvider: 'exa',
          inputTokens: null,
          outputTokens: null,
          quantity: '1',
          costUsd: '0.005',
          status: 'PROCESSED',
        },
        {
          model: 'hunter-enrichment',
          modelProvider: 'hunter',
          inputTokens: null,
          outputTokens: null,
          quantity: '1',
          costUsd: null,
          status: 'NEEDS_COST_BACKFILL',
        },
        {
          model: 'claude-opus-4-1',
          modelProvider: 'anthropic',
          inputTokens: 4500,
          outputTokens: 1200,
          quantity: '1',
          costUsd: '0.1575',
          status: 'PROCESSED',
        },
        {
          model: 'pipedream-workflow',
          modelProvider: 'pipedream',
          inputTokens: null,
          outputTokens: null,
          quantity: '1',
          costUsd: null,
          status: 'NEEDS_COST_BACKFILL',
        },
      ]);
      expect(r.note).toContain('do NOT re-send');
      expect(r.note).toContain('map_model');
    });

    it('record_usage refuses mixed and missing shapes with MarginFront’s names', async () => {
      const both = await t.door.fail('record_usage', {
        ...OUTREACH,
        model: 'gpt-4o',
        modelProvider: 'openai',
      });
      expect(both.error.code).toBe('VALIDATION_ERROR');
      expect(both.error.message).toContain('services cannot come with model, modelProvider');
      const neither = await t.door.fail('record_usage', {
        customerExternalId: 'acme-001',
        agentCode: 'cs-bot',
        signalName: 'messages',
      });
      expect(neither.error.message).toContain(
        'model is required (with modelProvider) unless services[] is sent',
      );
      const half = await t.door.fail('record_usage', { ...LLM_EVENT, modelProvider: undefined });
      expect(half.error.message).toBe('modelProvider is required with model (e.g. "openai")');
      const missing = await t.door.fail('record_usage', { ...LLM_EVENT, customerExternalId: undefined });
      expect(missing.error.message).toContain('customerExternalId is required');
      const tokens = await t.door.fail('record_usage', { ...LLM_EVENT, inputTokens: 1.5 });
      expect(tokens.error.details.issues[0].field).toBe('inputTokens');
      const date = await t.door.fail('record_usage', { ...LLM_EVENT, usageDate: 'yesterday' });
      expect(date.error.message).toContain('usageDate must be an ISO 8601 date');
      const billfoldName = await t.door.fail('record_usage', { ...LLM_EVENT, transaction_id: 'x' });
      expect(billfoldName.error.message).toContain('transaction_id');
    });

    it('record_usage_batch: 3 messages (gpt-4o, 200/50 each) and one cold outreach, each reported', async () => {
      const message = { ...LLM_EVENT, inputTokens: 200, outputTokens: 50 };
      const r = await t.door.ok('record_usage_batch', { records: [message, message, message, OUTREACH] });
      expect(r.summary).toEqual({
        total: 4,
        succeeded: 3,
        failed: 1,
        savedButNeedsAttention: 1,
        notSaved: 0,
        duplicates: 0,
      });
      expect(new Set(r.results.slice(0, 3).map((x: { eventId: string }) => x.eventId)).size).toBe(3);
      for (const x of r.results.slice(0, 3))
        expect(x).toMatchObject({ success: true, saved: true, status: 'PROCESSED', costUsd: '0.001' });
      expect(r.results[3]).toMatchObject({
        index: 3,
        success: false,
        saved: true,
        status: 'NEEDS_COST_BACKFILL',
        totalCostUsd: null,
      });
      expect(r.results[3].servicesStatus.map((s: { status: string }) => s.status)).toEqual([
        'PROCESSED',
        'NEEDS_COST_BACKFILL',
        'PROCESSED',
        'NEEDS_COST_BACKFILL',
      ]);
      // Dated records can be sent again safely: identical ones are told apart by their place.
      const dated = { ...message, usageDate: '2026-04-02' };
      const once = await t.door.ok('record_usage_batch', { records: [dated, dated] });
      expect(once.summary).toMatchObject({ succeeded: 2, duplicates: 0 });
      const twice = await t.door.ok('record_usage_batch', { records: [dated, dated] });
      expect(twice.summary).toMatchObject({ succeeded: 2, duplicates: 2 });
      expect(twice.results.map((x: { eventId: string }) => x.eventId)).toEqual(
        once.results.map((x: { eventId: string }) => x.eventId),
      );
    });

    it('record_usage_batch keeps the good records when one is bad, and names records[i] in MarginFront’s words', async () => {
      const r = await t.door.ok('record_usage_batch', {
        records: [
          { ...LLM_EVENT, usageDate: '2026-04-03' },
          { customerExternalId: 'acme-001', agentCode: 'cs-bot', model: 'gpt-4o', modelProvider: 'openai' },
          { ...LLM_EVENT, services: OUTREACH.services },
        ],
      });
      expect(r.summary).toMatchObject({ total: 3, succeeded: 1, failed: 2, notSaved: 2 });
      expect(r.results[0]).toMatchObject({ index: 0, success: true, saved: true });
      expect(r.results[1]).toMatchObject({ index: 1, success: false, saved: false });
      expect(r.results[1].error.message).toContain('records[1].signalName is required');
      expect(r.results[2].error.message).toContain('records[2].services cannot come with model');
      const tooMany = await t.door.fail('record_usage_batch', { records: Array(101).fill(LLM_EVENT) });
      expect(tooMany.error.message).toContain('records must have at most 100');
    });

    it('get_needs_attention: "Are there any MarginFront events with unknown models?"', async () => {
      const r = await t.door.ok('get_needs_attention');
      const unknown = Object.fromEntries(
        r.unknownModels.map((m: { model: string; modelProvider: string; eventCount: number }) => [
          `${m.modelProvider}/${m.model}`,
          m.eventCount,
        ]),
      );
      // The cold outreach of record_usage and the one of the batch.
      expect(unknown).toEqual({ 'hunter/hunter-enrichment': 2, 'pipedream/pipedream-workflow': 2 });
      expect(r.missingVolume).toEqual({ eventCount: 0 });
      expect(r.unknownSignals).toEqual([]);
      expect(r.endDate.startsWith('2026-04-12')).toBe(true);
      expect(r.startDate.startsWith('2026-03-13')).toBe(true);
      // Before any event: nothing.
      const before = await t.door.ok('get_needs_attention', {
        startDate: '2026-01-01',
        endDate: '2026-01-31',
      });
      expect(before.unknownModels).toEqual([]);
    });

    it('map_model: "Map model gpt-4o-2024-08-06 from openai to gpt-4o from openai", twice', async () => {
      const unmapped = await t.door.ok('record_usage', { ...LLM_EVENT, model: 'gpt-4o-2024-08-06' });
      expect(unmapped).toMatchObject({ status: 'NEEDS_COST_BACKFILL', costUsd: null });
      const args = {
        sourceModel: 'gpt-4o-2024-08-06',
        sourceProvider: 'openai',
        targetModel: 'gpt-4o',
        targetProvider: 'openai',
      };
      const r = await t.door.ok('map_model', args);
      expect(r).toMatchObject({
        created: true,
        backfilledEvents: 1,
        targetModel: 'gpt-4o',
        targetPricingId: 'openai/gpt-4o',
      });
      const again = await t.door.ok('map_model', args);
      expect(again).toMatchObject({ created: false, backfilledEvents: 0, mappingId: r.mappingId });
      const event = await t.api.ok('get_event', { event_id: unmapped.eventId });
      expect(event.event).toMatchObject({ cost: '0.00245', cost_status: 'PROCESSED' });
      const both = await t.door.fail('map_model', { ...args, targetPricingId: 'openai/gpt-4o' });
      expect(both.error.message).toContain('targetPricingId cannot come with targetModel/targetProvider');
      const none = await t.door.fail('map_model', { sourceModel: 'x', sourceProvider: 'y' });
      expect(none.error.message).toContain('targetPricingId or targetModel + targetProvider is required');
    });

    it('get_missing_volume and fill_volume: "Fill in 1500 input and 400 output tokens for event …"', async () => {
      const bare = await t.door.ok('record_usage', {
        ...LLM_EVENT,
        inputTokens: undefined,
        outputTokens: undefined,
      });
      expect(bare.status).toBe('MISSING_VOLUME_DATA');
      expect(bare.note).toContain('fill_volume');
      const missing = await t.door.ok('get_missing_volume');
      expect(missing.events.map((e: { id: string }) => e.id)).toEqual([bare.eventId]);
      expect(missing.events[0]).toMatchObject({
        customerExternalId: 'acme-001',
        agentCode: 'cs-bot',
        signalName: 'messages',
        signalId: ids.messages,
        model: 'gpt-4o',
        inputTokens: null,
        status: 'MISSING_VOLUME_DATA',
      });
      const filled = await t.door.ok('fill_volume', {
        eventId: bare.eventId,
        inputTokens: 1500,
        outputTokens: 400,
      });
      // 1500 × 2.50 / 1M + 400 × 10.00 / 1M.
      expect(filled).toMatchObject({
        changed: true,
        event: { status: 'PROCESSED', usageCost: '0.00775', inputTokens: 1500 },
      });
      const again = await t.door.ok('fill_volume', {
        eventId: bare.eventId,
        inputTokens: 1500,
        outputTokens: 400,
      });
      expect(again.changed).toBe(false);
      expect((await t.door.ok('get_missing_volume')).events).toEqual([]);
      const unknown = await t.door.fail('fill_volume', { eventId: 'abc-123', inputTokens: 1 });
      expect(unknown.error.code).toBe('NOT_FOUND');
      expect(unknown.error.message.startsWith('eventId')).toBe(true);
    });

    it('list_events: "Show me events for customer acme-001 this week", by agent and by signal', async () => {
      const week = await t.door.ok('list_events', {
        customerExternalId: 'acme-001',
        startDate: '2026-04-06',
        endDate: '2026-04-12',
      });
      // Dated 1 to 3 April: outside the week.
      expect(week.events.every((e: { usageDate: string }) => e.usageDate >= '2026-04-06')).toBe(true);
      expect(week.pagination.total).toBe(10);
      expect(week.events[0]).toMatchObject({
        customerId: ids.acme,
        customerExternalId: 'acme-001',
        costCurrency: 'USD',
      });
      const outreach = await t.door.ok('list_events', { agentId: ids['outreach-bot'] });
      expect(outreach.events.map((e: { signalName: string }) => e.signalName)).toEqual([
        'cold_outreach',
        'cold_outreach',
      ]);
      expect(outreach.events[0].services).toHaveLength(4);
      const byCode = await t.door.ok('list_events', {
        agentId: 'outreach-bot',
        signalId: ids.cold_outreach,
        limit: 1,
      });
      expect(byCode.events).toHaveLength(1);
      expect(byCode.pagination).toMatchObject({ total: 2, hasMore: true });
      const april1 = await t.door.ok('list_events', { startDate: '2026-04-01', endDate: '2026-04-01' });
      expect(april1.pagination.total).toBe(2);
      const unknown = await t.door.fail('list_events', { agentId: 'agt_nope' });
      expect(unknown.error.code).toBe('NOT_FOUND');
      expect(unknown.error.message.startsWith('agentId')).toBe(true);
    });

    it('get_usage_analytics: "Show me usage analytics for April grouped by customer", and by signal', async () => {
      const byCustomer = await t.door.ok('get_usage_analytics', {
        startDate: '2026-04-01',
        endDate: '2026-04-30',
        groupBy: 'customer',
      });
      const raw = await t.api.ok('get_usage_analytics', {
        from: '2026-04-01',
        to: '2026-05-01',
        group_by: 'customer',
      });
      expect(byCustomer.summary).toMatchObject({
        totalCost: raw.totals.cost,
        totalEvents: raw.totals.event_count,
        totalTokens: raw.totals.total_tokens,
        currency: 'USD',
      });
      expect(byCustomer.summary.totalEvents).toBe(15);
      expect(byCustomer.breakdown).toHaveLength(1);
      expect(byCustomer.breakdown[0]).toMatchObject({ eventCount: 15, costUsd: raw.totals.cost });
      const bySignal = await t.door.ok('get_usage_analytics', {
        startDate: '2026-04-01',
        endDate: '2026-04-12',
        groupBy: 'signal',
      });
      expect(bySignal.groupBy).toBe('signal');
      expect(
        Object.fromEntries(
          bySignal.breakdown.map((b: { key: string; eventCount: number }) => [b.key, b.eventCount]),
        ),
      ).toEqual({
        messages: 13,
        cold_outreach: 2,
      });
      const bad = await t.door.fail('get_usage_analytics', {
        startDate: '2026-04-01',
        endDate: '2026-04-30',
        groupBy: 'metric',
      });
      expect(bad.error.message).toBe(
        "groupBy must be one of agent, customer, signal, model, day (got 'metric')",
      );
      const missing = await t.door.fail('get_usage_analytics', { endDate: '2026-04-30' });
      expect(missing.error.message).toContain('startDate is required');
    });

    it('get_cost_metrics: "Break down our AI costs by model", per agent, with the prior window', async () => {
      const r = await t.door.ok('get_cost_metrics', {
        startDate: '2026-04-06',
        endDate: '2026-04-12',
        includePriorWindow: true,
      });
      const raw = await t.api.ok('get_cost_metrics', {
        from: '2026-04-06',
        to: '2026-04-13',
        include_prior_window: true,
      });
      expect(r.totalCost).toBe(raw.totals.cost);
      expect(r.byModel.map((b: { key: string }) => b.key)).toEqual(
        raw.by_model.map((b: { key: string }) => b.key),
      );
      expect(r.bySignal.map((b: { key: string }) => b.key).sort()).toEqual(['cold_outreach', 'messages']);
      // No subscription yet: every event is in the no-plan bucket.
      expect(r.byPlan).toEqual([
        expect.objectContaining({
          key: null,
          label: '(no plan)',
          eventCount: r.totalEvents,
          costUsd: r.totalCost,
        }),
      ]);
      // 1 to 3 April lies in the prior week (30 March to 5 April).
      expect(r.prior).toMatchObject({ startDate: '2026-03-30T00:00:00.000Z', totalEvents: 5 });
      const agent = await t.door.ok('get_cost_metrics', {
        startDate: '2026-04-01',
        endDate: '2026-04-30',
        agentId: ids['outreach-bot'],
      });
      // Both cold outreaches wait for Hunter and Pipedream prices: no cost yet (the cost rule).
      expect(agent).toMatchObject({
        agentCode: 'outreach-bot',
        totalEvents: 2,
        totalCost: '0',
        unpricedEvents: 2,
      });
    });

    it('list_catalog_services: canonical names for GPT-4o, Google services, Twilio SMS', async () => {
      const gpt = await t.door.ok('list_catalog_services', { search: 'gpt-4o', provider: 'openai' });
      expect(gpt.services.find((s: { canonicalName: string }) => s.canonicalName === 'gpt-4o')).toMatchObject(
        {
          id: 'openai/gpt-4o',
          provider: 'openai',
          serviceType: 'LLM',
          inputCost: '2.50',
          outputCost: '10.00',
          costUnit: '1M tokens',
          contextWindow: 128000,
        },
      );
      const google = await t.door.ok('list_catalog_services', { provider: 'google' });
      expect(google.services.length).toBeGreaterThan(1);
      expect(google.services.every((s: { provider: string }) => s.provider === 'google')).toBe(true);
      expect(google.pagination.limit).toBe(50);
      const sms = await t.door.ok('list_catalog_services', { search: 'twilio', isApi: true });
      expect(sms.services[0]).toMatchObject({
        canonicalName: 'twilio-sms',
        inputCost: '0.0079',
        costUnit: 'message',
        outputCost: null,
      });
      expect(sms.pricesAsOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    });

    it('pricing: "Create a Growth plan for our Outreach Writer agent", its strategies, and a subscription', async () => {
      const plan = await t.door.ok('create_pricing_plan', {
        name: 'Growth Plan',
        description: 'Outreach at scale',
        agentId: ids['outreach-bot'],
      });
      expect(plan.created).toBe(true);
      expect(plan.plan).toMatchObject({
        name: 'Growth Plan',
        code: 'growth-plan-outreach-bot',
        billingCycle: 'monthly',
        currency: 'USD',
        agentCodes: ['outreach-bot'],
        strategies: [],
      });
      ids.growth = plan.plan.id;
      const again = await t.door.ok('create_pricing_plan', {
        name: 'Growth Plan',
        description: 'Outreach at scale',
        agentId: 'outreach-bot',
      });
      expect(again).toMatchObject({ created: false, plan: { id: ids.growth } });

      const flat = await t.door.ok('create_pricing_strategy', {
        planId: ids.growth,
        signalId: ids.cold_outreach,
        chargeType: 'usage',
        pricingModel: 'flat',
        rate: 2.5,
      });
      expect(flat.strategy).toMatchObject({
        signalName: 'cold_outreach',
        chargeType: 'usage',
        pricingModel: 'flat',
        rate: '2.5',
        currency: 'USD',
      });
      const taken = await t.door.fail('create_pricing_strategy', {
        planId: ids.growth,
        signalId: 'cold_outreach',
        chargeType: 'usage',
        pricingModel: 'flat',
        rate: 3,
      });
      expect(taken.error.code).toBe('CONFLICT');
      const unknown = await t.door.fail('create_pricing_strategy', {
        planId: ids.growth,
        signalId: 'bm_nope',
        chargeType: 'usage',
        pricingModel: 'flat',
        rate: 1,
      });
      expect(unknown.error).toMatchObject({ code: 'NOT_FOUND' });
      expect(unknown.error.message.startsWith('signalId')).toBe(true);
      const got = await t.door.ok('get_pricing_plan', { planId: ids.growth });
      expect(got.plan.strategies).toHaveLength(1);
      expect(
        (await t.door.ok('list_pricing_strategies', { planId: 'growth-plan-outreach-bot' })).strategies,
      ).toEqual(got.plan.strategies);

      // An org-wide plan with a recurring fee and tiered messages, attached to the support bot.
      const starter = await t.door.ok('create_pricing_plan', { name: 'Starter' });
      expect(starter.plan).toMatchObject({ code: 'starter', agentCodes: [] });
      const fee = await t.door.ok('create_pricing_strategy', {
        planId: 'starter',
        signalId: ids.messages,
        chargeType: 'recurring',
        pricingModel: 'flat',
        rate: 49,
      });
      expect(fee.strategy).toMatchObject({ chargeType: 'recurring', rate: '49.00', signalName: null });
      expect(fee.note).toContain('signalId was not used');
      const tiered = await t.door.ok('create_pricing_strategy', {
        planId: 'starter',
        signalId: 'messages',
        chargeType: 'usage',
        pricingModel: 'tiered',
        rate: 0,
        tiers: [
          { upTo: 1000, rate: 0.01 },
          { upTo: null, rate: 0.005 },
        ],
      });
      expect(tiered.strategy.tiers).toEqual([
        { upTo: '1000', rate: '0.01', flatAmount: '0' },
        { upTo: null, rate: '0.005', flatAmount: '0' },
      ]);
      expect(tiered.strategies).toHaveLength(2);
      const attached = await t.door.ok('attach_plan_to_agent', { planId: 'starter', agentId: ids['cs-bot'] });
      expect(attached).toMatchObject({ planCode: 'starter', agentCode: 'cs-bot', attached: true });
      expect(
        (await t.door.ok('attach_plan_to_agent', { planId: 'starter', agentId: 'cs-bot' })).attached,
      ).toBe(false);
      const forOutreach = await t.door.ok('list_pricing_plans', { agentId: 'outreach-bot' });
      expect(forOutreach.plans.map((p: { name: string }) => p.name)).toEqual(['Growth Plan']);
      expect((await t.door.ok('list_pricing_plans')).plans).toHaveLength(2);

      // "Create a Growth Plan subscription for Acme Corp on the Outreach Writer agent, billed monthly, usage model."
      const sub = await t.door.ok('create_subscription', {
        name: 'Acme Corp: Growth Plan',
        customerId: ids.acme,
        agentId: ids['outreach-bot'],
        planId: ids.growth,
        billingCycle: 'monthly',
        billingModel: 'usage',
        startDate: '2026-04-01',
      });
      expect(sub.subscription).toMatchObject({
        name: 'Acme Corp: Growth Plan',
        status: 'active',
        customerId: ids.acme,
        agentCode: 'outreach-bot',
        planId: ids.growth,
        planName: 'Growth Plan',
        billingCycle: 'monthly',
        billingModel: 'usage',
      });
      ids.growthSub = sub.subscription.id;
      const yearly = await t.door.fail('create_subscription', {
        name: 'Beta: Starter',
        customerId: 'beta-001',
        agentId: 'cs-bot',
        planId: 'starter',
        billingCycle: 'yearly',
        billingModel: 'hybrid',
      });
      expect(yearly.error.message).toBe(
        "billingCycle must be monthly, the billing cycle of plan 'Starter' (got 'yearly')",
      );
      const model = await t.door.fail('create_subscription', {
        name: 'Beta: Starter',
        customerId: 'beta-001',
        agentId: 'cs-bot',
        planId: 'starter',
        billingCycle: 'monthly',
        billingModel: 'usage',
      });
      expect(model.error.code).toBe('VALIDATION_ERROR');
      expect(model.error.message.startsWith('billingModel')).toBe(true);
      const beta = await t.door.ok('create_subscription', {
        name: 'Beta: Starter',
        customerId: 'beta-001',
        agentId: 'cs-bot',
        planId: 'starter',
        billingCycle: 'monthly',
        billingModel: 'hybrid',
      });
      expect(beta.subscription).toMatchObject({
        status: 'active',
        billingModel: 'hybrid',
        planName: 'Starter',
      });
    });

    it('get_cost_metrics byPlan: the Growth Plan subscription takes the outreach agent’s events from its start', async () => {
      const r = await t.door.ok('get_cost_metrics', { startDate: '2026-04-01', endDate: '2026-04-30' });
      const raw = await t.api.ok('get_cost_metrics', { from: '2026-04-01', to: '2026-05-01' });
      // The catalogue's rows under MarginFront's names.
      expect(
        r.byPlan.map((b: any) => [b.key, b.label, b.eventCount, b.costUsd, b.unpricedEventCount]),
      ).toEqual(raw.by_plan.map((b: any) => [b.key, b.label, b.event_count, b.cost, b.unpriced_event_count]));
      // Acme's two cold outreaches (outreach-bot, from 1 April) bill against the Growth Plan and
      // wait for prices; Acme's cs-bot usage has no subscription (Starter is Beta's), nor has Beta's.
      const growth = r.byPlan.find((b: { key: string | null }) => b.key === ids.growth);
      expect(growth).toMatchObject({
        label: 'Growth Plan',
        eventCount: 2,
        costUsd: '0',
        unpricedEventCount: 2,
      });
      const none = r.byPlan.find((b: { key: string | null }) => b.key === null);
      expect(none).toMatchObject({ label: '(no plan)', eventCount: r.totalEvents - 2, costUsd: r.totalCost });
      expect(r.byPlan).toHaveLength(2);
    });

    it('generate_invoice and send_invoice: "Generate a draft invoice for Acme Corp’s Growth Plan subscription", then email it', async () => {
      const draft = await t.door.ok('generate_invoice', {
        customerId: ids.acme,
        subscriptionId: ids.growthSub,
      });
      expect(draft.invoice).toMatchObject({
        status: 'draft',
        customerExternalId: 'acme-001',
        currency: 'USD',
        totalAmount: '5.00',
        subscriptionId: ids.growthSub,
      });
      // The plan's fee (none: a usage plan) and the two cold outreaches of April at 2.50.
      expect(
        draft.invoice.lineItems.map((l: { description: string; amount: string }) => [
          l.description,
          l.amount,
        ]),
      ).toEqual([
        ['Growth Plan', '0.00'],
        ['cold_outreach', '5.00'],
      ]);
      expect(draft.invoice.lineItems[1]).toMatchObject({
        units: '2',
        amount: '5.00',
        periodStart: '2026-04-01T00:00:00.000Z',
        periodEnd: '2026-05-01T00:00:00.000Z',
        details: { billableMetricCode: 'cold_outreach', chargeModel: 'standard', eventCount: 2 },
      });
      // The period named by its last day, or by the day after it: the same draft, refreshed.
      for (const billingPeriodEnd of ['2026-04-30', '2026-05-01']) {
        const same = await t.door.ok('generate_invoice', {
          customerId: 'acme-001',
          subscriptionId: ids.growthSub,
          billingPeriodStart: '2026-04-01',
          billingPeriodEnd,
        });
        expect(same.invoice.id).toBe(draft.invoice.id);
      }
      const wrong = await t.door.fail('generate_invoice', {
        customerId: ids.acme,
        subscriptionId: ids.growthSub,
        billingPeriodStart: '2026-04-05',
        billingPeriodEnd: '2026-04-20',
      });
      expect(wrong.error.code).toBe('VALIDATION_ERROR');
      expect(wrong.error.message.startsWith('billingPeriodStart')).toBe(true);
      const other = await t.door.fail('generate_invoice', {
        customerId: 'beta-001',
        subscriptionId: ids.growthSub,
      });
      expect(
        other.error.message.startsWith('customerId') || other.error.message.startsWith('subscriptionId'),
      ).toBe(true);

      expect(
        (await t.door.ok('list_invoices', { status: 'draft' })).invoices.map((i: { id: string }) => i.id),
      ).toEqual([draft.invoice.id]);
      // "Email the latest draft invoice to Acme Corp": issued on the way.
      const mails = smtp.received.length;
      const sent = await t.door.ok('send_invoice', { invoiceId: draft.invoice.id });
      expect(sent).toMatchObject({
        sent: true,
        finalized: true,
        status: 'pending',
        recipientEmail: 'billing@acme.example',
        transport: 'smtp',
      });
      expect(sent.messageId).toBeTruthy();
      expect(sent.invoiceNumber).toMatch(/^INV-/);
      const custom = await t.door.ok('send_invoice', {
        invoiceId: sent.invoiceNumber,
        recipientEmail: 'ap@acme.example',
        subject: 'May invoice — auto-charge in 5 days',
        message: 'Thanks!',
      });
      expect(custom).toMatchObject({
        finalized: false,
        recipientEmail: 'ap@acme.example',
        subject: 'May invoice — auto-charge in 5 days',
      });
      expect(smtp.received.length).toBe(mails + 2);
      expect(smtp.received.at(-1)!.to).toEqual(['ap@acme.example']);

      const pending = await t.door.ok('list_invoices', { status: 'pending' });
      expect(pending.invoices.map((i: { id: string }) => i.id)).toEqual([draft.invoice.id]);
      expect((await t.door.ok('list_invoices', { status: 'draft' })).invoices).toEqual([]);
      expect((await t.door.ok('list_invoices', { status: 'paid', customerId: 'acme-001' })).invoices).toEqual(
        [],
      );
      const got = await t.door.ok('get_invoice', { invoiceId: draft.invoice.id });
      expect(got.invoice).toMatchObject({ status: 'pending', sentCount: 2, amountDue: '5.00', payments: [] });
      await t.api.ok('mark_invoice_paid', { invoice_id: draft.invoice.id, reference: 'stripe-pi-1' });
      const paid = await t.door.ok('get_invoice', { invoiceId: sent.invoiceNumber });
      expect(paid.invoice).toMatchObject({ status: 'paid', amountDue: '0.00' });
      expect(paid.invoice.payments).toMatchObject([
        { amount: '5.00', currency: 'USD', reference: 'stripe-pi-1' },
      ]);
      expect((await t.door.ok('list_invoices', { status: 'paid' })).invoices).toHaveLength(1);
    });

    it('list_subscriptions and get_customer: "Show me all active subscriptions", Acme with its subscriptions', async () => {
      const active = await t.door.ok('list_subscriptions', { status: 'active' });
      expect(active.subscriptions.map((s: { name: string }) => s.name)).toEqual([
        'Beta: Starter',
        'Acme Corp: Growth Plan',
      ]);
      expect(active.subscriptions[1]).toMatchObject({
        planName: 'Growth Plan',
        billingCycle: 'monthly',
        currentPeriodStart: '2026-04-01T00:00:00.000Z',
      });
      expect((await t.door.ok('list_subscriptions', { status: 'trialing' })).subscriptions).toEqual([]);
      expect((await t.door.ok('list_subscriptions', { status: 'past_due' })).subscriptions).toEqual([]);
      expect((await t.door.ok('list_subscriptions', { status: 'canceled' })).subscriptions).toEqual([]);
      await t.api.ok('terminate_subscription', { subscription_id: active.subscriptions[0].id });
      const canceled = await t.door.ok('list_subscriptions', { status: 'canceled' });
      expect(canceled.subscriptions.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual(
        [['Beta: Starter', 'canceled']],
      );
      const acme = await t.door.ok('list_subscriptions', { customerId: 'acme-001', limit: 1 });
      expect(acme.pagination).toMatchObject({ total: 1, limit: 1 });
      const customer = await t.door.ok('get_customer', { customerId: ids.acme });
      expect(customer.customer).toMatchObject({
        name: 'Acme Corp',
        externalId: 'acme-001',
        email: 'billing@acme.example',
      });
      expect(customer.customer.subscriptions.map((s: { id: string }) => s.id)).toEqual([ids.growthSub]);
      const bad = await t.door.fail('list_subscriptions', { status: 'terminated' });
      expect(bad.error.message).toBe(
        "status must be one of active, canceled, past_due, trialing (got 'terminated')",
      );
    });

    it('get_customer_revenue and get_mrr: "What’s our revenue and margin for Acme Corp this quarter?", the three MRRs', async () => {
      const r = await t.door.ok('get_customer_revenue', {
        customerId: ids.acme,
        startDate: '2026-04-01',
        endDate: '2026-06-30',
      });
      const raw = await t.api.ok('get_customer_revenue', {
        customer_id: ids.acme,
        from: '2026-04-01',
        to: '2026-07-01',
      });
      expect(r.revenue).toEqual([
        {
          currency: 'USD',
          revenue: '5.00',
          revenueCents: 500,
          invoiceCount: 1,
          credited: '0.00',
          byType: { usage: '5.00', recurring: '0.00', seat: '0.00', onetime: '0.00' },
        },
      ]);
      expect(r).toMatchObject({
        cost: raw.cost,
        margin: raw.margin,
        marginPercent: raw.margin_percent,
        costCurrency: 'USD',
      });
      expect(r.margin).not.toBeNull();

      const committed = await t.door.ok('get_mrr', { variant: 'committed' });
      expect(committed.variant).toBe('committed');
      const runRate = await t.door.ok('get_mrr', { variant: 'runRate', customerId: 'acme-001' });
      const rawRun = await t.api.ok('get_mrr', { variant: 'run_rate', customer_id: 'acme-001' });
      expect(runRate.variant).toBe('runRate');
      // The last 30 days move with the clock (and the stdio server's clock is its own): the same
      // reading to a cent.
      expect(runRate.mrr).toHaveLength(rawRun.currencies.length);
      expect(Math.abs(runRate.mrr[0].mrrCents - rawRun.currencies[0].mrr_cents)).toBeLessThanOrEqual(1);
      expect(Object.keys(runRate.mrr[0].byType)).toEqual(['usage', 'recurring', 'seat', 'onetime']);
      expect(runRate.mrr[0].currency).toBe('USD');
      const canonical = await t.door.ok('get_mrr');
      expect(canonical).toMatchObject({ variant: 'canonical', periodStart: '2026-03-01T00:00:00.000Z' });
      const bad = await t.door.fail('get_mrr', { variant: 'run_rate' });
      expect(bad.error.message).toBe("variant must be one of canonical, runRate, committed (got 'run_rate')");
    });

    it('portal sessions: "Send acme-001 a portal link", look it up, list it, revoke it', async () => {
      const s = await t.door.ok('create_portal_session', {
        customerExternalId: 'acme-001',
        returnUrl: 'https://app.acme.example/billing',
      });
      expect(s.url).toContain('/portal/');
      expect(s.token).toBeTruthy();
      expect(s).toMatchObject({
        customerId: ids.acme,
        customer: { externalId: 'acme-001', name: 'Acme Corp' },
        redeemed: false,
        status: 'active',
        returnUrl: 'https://app.acme.example/billing',
      });
      expect(s.features).toEqual(['invoices', 'subscriptions', 'usage', 'profile']);
      expect(Date.parse(s.expiresAt) - Date.parse(s.createdAt)).toBe(3_600_000);
      const got = await t.door.ok('get_portal_session', { sessionId: s.id });
      expect(got.session).toMatchObject({ id: s.id, redeemed: false, expired: false });
      expect(got.session.token).toBeUndefined();
      expect(got.session.url).toBeUndefined();
      const same = await t.door.ok('create_portal_session', {
        customerId: ids.acme,
        customerExternalId: 'acme-001',
        features: ['invoices'],
      });
      expect(same.features).toEqual(['invoices']);
      const listed = await t.door.ok('list_portal_sessions', { customerId: ids.acme });
      expect(listed.sessions.map((x: { id: string }) => x.id)).toEqual([same.id, s.id]);
      expect(listed.sessions[0].token).toBeUndefined();
      const revoked = await t.door.ok('revoke_portal_session', { sessionId: s.id });
      expect(revoked).toMatchObject({ revoked: true, changed: true, session: { status: 'revoked' } });
      expect(
        (await t.door.ok('list_portal_sessions', { customerId: 'acme-001' })).sessions.map(
          (x: { id: string }) => x.id,
        ),
      ).toEqual([same.id]);
      const all = await t.door.ok('list_portal_sessions', { includeExpired: true, limit: 1 });
      expect(all).toMatchObject({ total: 2, hasMore: true });
      const neither = await t.door.fail('create_portal_session', {});
      expect(neither.error.message).toBe(
        'customerId or customerExternalId is required: name the customer by one of them',
      );
      const mismatch = await t.door.fail('create_portal_session', {
        customerId: ids.acme,
        customerExternalId: 'beta-001',
      });
      expect(mismatch.error.message).toContain("customerExternalId 'beta-001' is another customer");
      const gone = await t.door.fail('create_portal_session', { customerExternalId: 'nobody' });
      expect(gone.error.code).toBe('NOT_FOUND');
      expect(gone.error.message.startsWith('customerId')).toBe(true);
      const unknown = await t.door.fail('get_portal_session', { sessionId: 'pses_nope' });
      expect(unknown.error.message.startsWith('sessionId')).toBe(true);
    });

    it('a signal that sums quantity: "pages_processed" counts the signal-level quantity, 1 by default', async () => {
      await t.api.ok('create_customer', { external_id: 'docs-co', name: 'Docs Co' });
      await t.api.ok('create_billable_metric', {
        code: 'pages_processed',
        name: 'Pages processed',
        aggregation_type: 'sum_agg',
        field_name: 'quantity',
      });
      const page = { customerExternalId: 'docs-co', agentCode: 'cs-bot', signalName: 'pages_processed' };
      await t.door.ok('record_usage', { ...page, model: 'twilio-sms', modelProvider: 'twilio', quantity: 3 });
      await t.door.ok('record_usage', {
        ...page,
        model: 'gpt-4o',
        modelProvider: 'openai',
        inputTokens: 10,
        outputTokens: 5,
      });
      await t.door.ok('record_usage', { ...page, services: OUTREACH.services.slice(0, 1), quantity: '2.5' });
      const usage = await t.api.ok('get_customer_usage', {
        customer_id: 'docs-co',
        metric_code: 'pages_processed',
      });
      // 3 + 1 (no quantity: one) + 2.5.
      expect(usage.metrics[0].units).toBe('6.5');
    });

    it('bad input: MarginFront parameter names in every error', async () => {
      const status = await t.door.fail('list_invoices', { status: 'finalized' });
      expect(status.error).toMatchObject({ code: 'VALIDATION_ERROR' });
      expect(status.error.message).toBe(
        "status must be one of draft, pending, paid, overdue, void (got 'finalized')",
      );
      const limit = await t.door.fail('list_customers', { limit: 500 });
      expect(limit.error.message).toBe('limit must be at most 100 (got 500)');
      const unknownField = await t.door.fail('list_customers', { per_page: 5 });
      expect(unknownField.error.message).toContain('per_page');
      const customer = await t.door.fail('get_customer', { customerId: 'cus_nope' });
      expect(customer.error.code).toBe('NOT_FOUND');
      expect(customer.error.message.startsWith('customerId')).toBe(true);
      const invoice = await t.door.fail('get_invoice', { invoiceId: 'inv_nope' });
      expect(invoice.error.message.startsWith('invoiceId')).toBe(true);
      const plan = await t.door.fail('get_pricing_plan', { planId: 'plan_nope' });
      expect(plan.error.message.startsWith('planId')).toBe(true);
      const revenue = await t.door.fail('get_customer_revenue', {
        customerId: 'acme-001',
        startDate: '2026-04-01',
      });
      expect(revenue.error.message).toContain('endDate is required');
    });
  },
  { clock: SEED_TIME },
);
