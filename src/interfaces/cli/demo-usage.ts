import type { DemoStep } from './demo.js';

/**
 * Demo usage: four billable metrics and a month of realistic events for the demo customers —
 * API calls, storage by region, seats, and LLM calls priced from the catalog (one with a model
 * the catalog does not know, so get_needs_attention has something to show). Idempotent within
 * a month: transaction ids are derived from the month and the event.
 */
const METRICS = [
  {
    code: 'api_calls',
    name: 'API calls',
    aggregation_type: 'count_agg',
    description: 'Requests to the public API',
  },
  {
    code: 'storage_gb',
    name: 'Storage',
    aggregation_type: 'weighted_sum_agg',
    field_name: 'gb',
    recurring: true,
    rounding_function: 'round',
    rounding_precision: 2,
    description: 'Gigabytes stored, time-weighted over the period',
    filters: [{ key: 'region', values: ['us-east-1', 'eu-west-1'] }],
  },
  {
    code: 'seats',
    name: 'Seats',
    aggregation_type: 'unique_count_agg',
    field_name: 'user_id',
    recurring: true,
    description: 'Distinct users with access; operation_type remove frees a seat',
  },
  {
    code: 'llm_tokens',
    name: 'LLM tokens',
    aggregation_type: 'sum_agg',
    field_name: 'tokens',
    expression: 'input + output',
  },
  {
    code: 'outreach',
    name: 'Outreach messages',
    aggregation_type: 'count_agg',
    description: 'Messages the outreach agent sent',
  },
];

const CUSTOMERS = ['acme-001', 'globex-002', 'initech-003', 'umbrella-004', 'soylent-005', 'hooli-011'];
const MODELS = [
  ['openai', 'gpt-4o-mini'],
  ['anthropic', 'claude-sonnet-4-5'],
  ['google', 'gemini-2.5-flash'],
  ['openai', 'gpt-4o-2024-08-06'],
] as const;

export const demoUsageStep: DemoStep = async (call) => {
  for (const m of METRICS) {
    try {
      await call('get_billable_metric', { code: m.code });
    } catch {
      await call('create_billable_metric', m);
    }
  }
  const now = Date.now();
  const d = new Date(now);
  const monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const month = new Date(monthStart).toISOString().slice(0, 7);
  const at = (day: number, hour: number) => monthStart + day * 86_400_000 + hour * 3_600_000;
  const events: Array<Record<string, unknown>> = [];
  CUSTOMERS.forEach((customer, c) => {
    const days = Math.max(1, Math.min(28, Math.floor((now - monthStart) / 86_400_000) + 1));
    for (let day = 0; day < days; day++) {
      for (let i = 0; i < 4 + ((c + day) % 5); i++) {
        events.push({
          transaction_id: `demo-${month}-${customer}-api-${day}-${i}`,
          customer_id: customer,
          code: 'api_calls',
          timestamp: new Date(at(day, 8 + i)).toISOString(),
          properties: { endpoint: i % 2 ? '/v1/search' : '/v1/documents' },
        });
      }
      const [provider, model] = MODELS[(c + day) % MODELS.length]!;
      const input = 800 + ((c * 131 + day * 17) % 2400);
      const output = 150 + ((c * 29 + day * 13) % 600);
      events.push({
        transaction_id: `demo-${month}-${customer}-llm-${day}`,
        customer_id: customer,
        code: 'llm_tokens',
        agent_code: c % 2 ? 'research-agent' : 'support-bot',
        timestamp: new Date(at(day, 14)).toISOString(),
        model,
        provider,
        input_tokens: input,
        output_tokens: output,
        properties: { input, output },
      });
    }
    events.push({
      transaction_id: `demo-${month}-${customer}-storage-start`,
      customer_id: customer,
      code: 'storage_gb',
      timestamp: new Date(at(0, 0)).toISOString(),
      properties: { gb: 20 + c * 15, region: c % 2 ? 'eu-west-1' : 'us-east-1' },
    });
    for (let s = 0; s < 3 + c; s++) {
      events.push({
        transaction_id: `demo-${month}-${customer}-seat-${s}`,
        customer_id: customer,
        code: 'seats',
        timestamp: new Date(at(s, 9)).toISOString(),
        properties: { user_id: `${customer}-user-${s}` },
      });
    }
    // One outcome backed by several services: a search, an LLM call and an SMS.
    events.push({
      transaction_id: `demo-${month}-${customer}-outreach`,
      customer_id: customer,
      code: 'outreach',
      agent_code: 'outreach-bot',
      timestamp: new Date(at(1, 11)).toISOString(),
      quantity: 1,
      services: [
        { model: 'exa-search', provider: 'exa', quantity: 2 },
        { model: 'claude-haiku-4-5', provider: 'anthropic', input_tokens: 4500, output_tokens: 1200 },
        { model: 'twilio-sms', provider: 'twilio', quantity: 1 },
      ],
    });
  });
  // Only what has happened yet: a rerun later in the month adds the new days and repeats the rest.
  const past = events.filter((e) => Date.parse(e.timestamp as string) <= now);
  let stored = 0;
  for (let i = 0; i < past.length; i += 1000) {
    const out = (await call('record_usage_batch', { events: past.slice(i, i + 1000) })) as {
      summary: { created: number; duplicates: number };
    };
    stored += out.summary.created + out.summary.duplicates;
  }
  return `${METRICS.length} billable metrics and ${stored} usage events`;
};
