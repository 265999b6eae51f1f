/**
 * The usage events the ingestion benchmarks send, and the customers and metrics they need:
 * API calls, storage with a region filter, LLM calls with tokens priced from the catalog, and
 * active users, a quarter each, from 50 customers, timestamped within the last ten minutes.
 */
export const MIX_DESCRIPTION =
  '25% count (api_calls), 25% sum with region filter, 25% LLM tokens priced from the catalog, 25% unique count';

const CUSTOMERS = 50;
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];
const MODELS = [
  ['openai', 'gpt-4o-mini'],
  ['anthropic', 'claude-sonnet-4-5'],
  ['google', 'gemini-2.5-flash'],
] as const;

/** Creates the mix's customers and metrics through `call` (an operation name and its input). */
export async function setUpMix(call: (operation: string, args: unknown) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < CUSTOMERS; i++)
    await call('create_customer', { external_id: `bench-cust-${i}`, name: `Bench ${i}` });
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
    filters: [{ key: 'region', values: REGIONS }],
  });
  await call('create_billable_metric', {
    code: 'llm_tokens',
    name: 'LLM tokens',
    aggregation_type: 'sum_agg',
    field_name: 'tokens',
  });
  await call('create_billable_metric', {
    code: 'active_users',
    name: 'Active users',
    aggregation_type: 'unique_count_agg',
    field_name: 'user_id',
  });
}

/** Event `n` of a run; transaction ids are `${run}-${n}`, so each run's are new. */
export function mixEvent(run: string, n: number, now: number) {
  const customer_id = `bench-cust-${n % CUSTOMERS}`;
  // Real-time ingestion: events of the last ten minutes.
  const timestamp = Math.floor((now - (n % 600) * 1000) / 1000);
  const transaction_id = `${run}-${n}`;
  switch (n % 4) {
    case 0:
      return {
        transaction_id,
        customer_id,
        code: 'api_calls',
        timestamp,
        properties: { endpoint: '/v1/search' },
      };
    case 1:
      return {
        transaction_id,
        customer_id,
        code: 'storage_gb',
        timestamp,
        properties: { gb: ((n % 1000) / 100).toFixed(2), region: REGIONS[n % 3] },
      };
    case 2: {
      const [provider, model] = MODELS[n % 3]!;
      return {
        transaction_id,
        customer_id,
        code: 'llm_tokens',
        timestamp,
        agent_code: 'support-bot',
        model,
        provider,
        input_tokens: 500 + (n % 700),
        output_tokens: 100 + (n % 300),
        properties: { tokens: 600 + (n % 700) + (n % 300) },
      };
    }
    default:
      return {
        transaction_id,
        customer_id,
        code: 'active_users',
        timestamp,
        properties: { user_id: `u-${n % 5000}` },
      };
  }
}

/** `total` events of a run as record_usage_batch bodies (JSON) of `batch` events each. */
export function mixBodies(run: string, total: number, batch: number): string[] {
  const now = Date.now();
  const out: string[] = [];
  for (let start = 0; start < total; start += batch) {
    const events = [];
    for (let i = start; i < Math.min(total, start + batch); i++) events.push(mixEvent(run, i, now));
    out.push(JSON.stringify({ events }));
  }
  return out;
}
