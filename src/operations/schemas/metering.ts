import * as z from 'zod';
import { COST_STATUSES } from '../../domain/cost.js';
import { Decimal } from '../../domain/decimal.js';
import { parseInstant } from '../../domain/time.js';
import { AGENT_GROUP_KEY, AGGREGATION_TYPES, ROUNDING_FUNCTIONS } from '../../domain/usage.js';
import { CustomerRef, DecimalInput, ErrorShape, Instant, Iso, Metadata } from './common.js';

/** Billable metrics, usage events and costs: the shapes their operations share. */

export const AggregationType = z.enum(AGGREGATION_TYPES);
export const RoundingFunction = z.enum(ROUNDING_FUNCTIONS);
export const CostStatus = z.enum(COST_STATUSES);

export const MetricCode = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'must use letters, digits and _ . : - only (e.g. "storage_gb")')
  .describe('Unique code of the metric in the organization, e.g. "storage_gb"; events name it in `code`');

export const MetricFilter = z.strictObject({
  key: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .refine((k) => k !== AGENT_GROUP_KEY, {
      message: `'${AGENT_GROUP_KEY}' is reserved for the agent of an event (agent_code); name the property otherwise`,
    })
    .describe('Event property to break usage down by, e.g. "region"'),
  values: z
    .array(z.string().trim().min(1).max(255))
    .min(1)
    .max(200)
    .describe('The values to tell apart, e.g. ["us-east-1", "eu-west-1"]'),
});

export const BillableMetric = z.object({
  id: z.string().describe('Billfold id, bm_…'),
  code: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  aggregation_type: AggregationType,
  field_name: z.string().nullable(),
  recurring: z.boolean(),
  rounding_function: RoundingFunction.nullable(),
  rounding_precision: z.int().nullable(),
  expression: z.string().nullable(),
  weighted_interval: z.literal('seconds').nullable(),
  filters: z.array(z.object({ key: z.string(), values: z.array(z.string()) })),
  created_at: Iso,
  updated_at: Iso,
});

export const metricFields = {
  name: z.string().trim().min(1).max(255).describe('Display name, e.g. "Storage"'),
  description: z.string().trim().max(1000).nullable().optional(),
  aggregation_type: AggregationType.describe(
    'count_agg: number of events; sum_agg: sum of field_name; max_agg: largest value; unique_count_agg: distinct values; ' +
      'weighted_sum_agg: time-weighted level of a gauge whose events are deltas; latest_agg: value of the latest event',
  ),
  field_name: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .nullable()
    .optional()
    .describe('The event property aggregated (required except for count_agg), e.g. "gb_used"'),
  recurring: z
    .boolean()
    .optional()
    .describe(
      'sum_agg, unique_count_agg, weighted_sum_agg only: the value carries over from earlier periods',
    ),
  rounding_function: RoundingFunction.nullable()
    .optional()
    .describe('Rounds the aggregated value: round (half up), ceil or floor'),
  rounding_precision: z
    .int()
    .min(-15)
    .max(15)
    .nullable()
    .optional()
    .describe('Decimals kept by rounding_function (default 0; negative rounds to tens, hundreds…)'),
  expression: z
    .string()
    .trim()
    .min(1)
    .max(1000)
    .nullable()
    .optional()
    .describe(
      'Arithmetic over event properties computed per event into field_name: + - * / ( ) round ceil floor, e.g. "(ended_at - started_at) * units"',
    ),
  weighted_interval: z.literal('seconds').nullable().optional().describe('weighted_sum_agg only; seconds'),
  filters: z.array(MetricFilter).max(20).optional().describe('Break usage down by property values'),
};

/** Event properties: any JSON, limited so one event cannot carry megabytes. */
export const MAX_PROPERTIES_CHARS = 16_384;
export const MAX_PROPERTY_KEYS = 100;
export const Properties = z
  .record(z.string().min(1).max(100), z.unknown())
  .superRefine((p, ctx) => {
    const keys = Object.keys(p).length;
    if (keys > MAX_PROPERTY_KEYS) {
      ctx.addIssue({ code: 'custom', message: `must have at most ${MAX_PROPERTY_KEYS} keys (got ${keys})` });
      return;
    }
    const size = JSON.stringify(p).length;
    if (size > MAX_PROPERTIES_CHARS) {
      ctx.addIssue({
        code: 'custom',
        message: `must be at most ${MAX_PROPERTIES_CHARS} characters as JSON (got ${size})`,
      });
    }
  })
  .describe(
    'The measured values, e.g. {"gb_used": 12.5, "region": "eu-west-1"}; unique_count_agg reads "operation_type": "add" | "remove"',
  );

const TokenCount = z.int().min(0).max(1_000_000_000_000);
const Quantity = DecimalInput.refine((d) => !d.isNegative(), { message: 'must not be negative' });
const Name = (what: string) => z.string().trim().min(1).max(200).describe(what);

export const ServiceEntry = z.strictObject({
  model: Name('Model or service name, e.g. "claude-sonnet-4-5" or "exa-search"'),
  provider: Name('Provider in lowercase, e.g. "anthropic", "exa"'),
  input_tokens: TokenCount.optional().describe('LLM input tokens'),
  output_tokens: TokenCount.optional().describe('LLM output tokens'),
  quantity: Quantity.optional().describe('Units of a non-LLM service (searches, messages, minutes)'),
});

/** Events may name the subscription instead of the customer (Lago's external_subscription_id). */
export const ExternalSubscriptionRef = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .describe(
    "The subscription's external_id: the event counts for that subscription's customer (instead of, or agreeing with, customer_id)",
  );

const eventShape = {
  transaction_id: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .describe(
      'Your unique id for this event: the idempotency key. When you retry after a timeout or error, send the SAME transaction_id — the event is stored once; a new event needs a new one.',
    ),
  customer_id: CustomerRef.optional().describe(
    "The customer's Billfold id (cus_…) or your external_id for it; required unless external_subscription_id is given",
  ),
  external_subscription_id: ExternalSubscriptionRef.optional(),
  code: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .describe('The billable metric code this event counts toward, e.g. "api_calls"'),
  timestamp: Instant.optional().describe('When the usage happened (ISO 8601 or Unix seconds); default now'),
  properties: Properties.optional(),
  metadata: Metadata.optional(),
  agent_code: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .optional()
    .describe('The AI agent or product that incurred it, e.g. "cs-bot-v2"'),
  model: Name('One service: the model or service used, e.g. "gpt-4o"; omit when sending services').optional(),
  provider: Name(
    'One service: its provider in lowercase, e.g. "openai"; omit when sending services',
  ).optional(),
  input_tokens: TokenCount.optional().describe('One LLM service: input tokens'),
  output_tokens: TokenCount.optional().describe('One LLM service: output tokens'),
  quantity: Quantity.optional().describe(
    'One non-LLM service: billing units (messages, searches); with services: how many outcomes this event is (default 1)',
  ),
  services: z
    .array(ServiceEntry)
    .min(1)
    .max(50)
    .optional()
    .describe(
      'Several services behind one outcome (e.g. a search, an LLM call and an SMS); never with top-level model/provider',
    ),
};

export const EVENT_FIELDS = Object.keys(eventShape);
export const SERVICE_FIELDS = Object.keys(ServiceEntry.shape);

/** One usage event, with the rule that it is either one service (model + provider) or several. */
export const UsageEventInput = z.strictObject(eventShape).superRefine((e, ctx) => {
  if (e.customer_id === undefined && e.external_subscription_id === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['customer_id'],
      input: undefined,
      message: 'is required unless external_subscription_id names the subscription the usage belongs to',
    });
  }
  const single = e.model !== undefined || e.provider !== undefined;
  if (e.services && (single || e.input_tokens !== undefined || e.output_tokens !== undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: ['services'],
      input: undefined,
      message:
        'cannot come with model, provider, input_tokens or output_tokens: send either one service (model + provider) or several (services), not both in one event',
    });
    return;
  }
  if (e.model !== undefined && e.provider === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['provider'],
      input: undefined,
      message: 'is required with model (e.g. "openai")',
    });
  }
  if (e.provider !== undefined && e.model === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['model'],
      input: undefined,
      message: 'is required with provider (e.g. "gpt-4o")',
    });
  }
  if (!single && !e.services && (e.input_tokens !== undefined || e.output_tokens !== undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [e.input_tokens !== undefined ? 'input_tokens' : 'output_tokens'],
      input: undefined,
      message: 'needs model and provider, which say how tokens are priced',
    });
  }
});

export const ServiceCost = z.object({
  model: z.string(),
  provider: z.string(),
  input_tokens: z.int().nullable(),
  output_tokens: z.int().nullable(),
  quantity: z.string().nullable(),
  cost: z.string().nullable().describe('US dollars, exact'),
  cost_status: CostStatus,
});

export const EventFlag = z.enum([
  'UNKNOWN_METRIC',
  'UNKNOWN_CUSTOMER',
  'UNKNOWN_SUBSCRIPTION',
  'UNKNOWN_AGENT',
  'INVALID_VALUE',
  ...COST_STATUSES,
]);

export const UsageEvent = z.object({
  id: z.string().describe('Billfold id, evt_…'),
  transaction_id: z.string(),
  customer_id: z.string().nullable().describe('Billfold id of the customer; null while no customer matches'),
  external_customer_id: z
    .string()
    .nullable()
    .describe(
      "The customer reference the event was sent with (the subscription's customer when it named only the subscription); null when neither is known",
    ),
  code: z.string(),
  billable_metric_id: z.string().nullable().describe('null while no billable metric has this code'),
  external_subscription_id: z.string().nullable(),
  timestamp: Iso,
  properties: z.record(z.string(), z.unknown()),
  metadata: z.record(z.string(), z.string()),
  agent_code: z.string().nullable(),
  agent_id: z
    .string()
    .nullable()
    .describe('The agent agent_code names (agt_…); null while no agent has the code (create_agent)'),
  model: z.string().nullable(),
  provider: z.string().nullable(),
  input_tokens: z.int().nullable(),
  output_tokens: z.int().nullable(),
  quantity: z.string().nullable(),
  services: z.array(ServiceCost).nullable(),
  cost: z.string().nullable().describe('Exact cost in US dollars; null when unknown or not an AI event'),
  cost_currency: z.literal('USD'),
  cost_status: CostStatus.nullable().describe(
    'PROCESSED, NEEDS_COST_BACKFILL (unknown model: map_model) or MISSING_VOLUME_DATA (fill_volume); null without a model',
  ),
  value: z.string().nullable().describe('The number the metric aggregates from this event'),
  value_error: z
    .string()
    .nullable()
    .describe('Why the event cannot count toward its metric (it is stored regardless)'),
  flags: z
    .array(EventFlag)
    .describe(
      'What needs attention: unknown metric, customer, agent or subscription (external_subscription_id matched none), invalid value, cost status',
    ),
  created_at: Iso,
});

export const RecordResult = z.object({
  index: z.int().describe('Position of the record in `events`, from 0'),
  ok: z.boolean(),
  transaction_id: z.string().nullable(),
  duplicate: z
    .boolean()
    .optional()
    .describe('true when this transaction_id was already stored with the same payload'),
  event_id: z.string().optional(),
  timestamp: Iso.optional(),
  cost: z.string().nullable().optional(),
  cost_status: CostStatus.nullable().optional(),
  services: z.array(ServiceCost).optional(),
  flags: z.array(EventFlag).optional(),
  error: ErrorShape.optional(),
});

export { CustomerRef };

const FAST_FIELDS = new Set(EVENT_FIELDS.filter((f) => f !== 'services'));

function plainObject(v: unknown): v is Record<string, unknown> {
  return (
    v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype
  );
}

/**
 * Whether an object is at most `max` characters as JSON, without serializing it when an upper
 * bound already says so: a character takes at most six in JSON (\u0000), a number 25. Nested
 * values are measured exactly.
 */
function jsonFitsIn(o: Record<string, unknown>, max: number): boolean {
  let bound = 2;
  for (const k in o) {
    const v = o[k];
    bound += k.length * 6 + 4;
    if (typeof v === 'string') bound += v.length * 6 + 2;
    else if (typeof v === 'number' || typeof v === 'boolean' || v === null) bound += 25;
    else return JSON.stringify(o).length <= max;
  }
  return bound <= max || JSON.stringify(o).length <= max;
}

function cleanString(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length >= 1 && v.length <= max && v.trim() === v;
}

/**
 * The common, valid event checked by hand — the ingestion hot path validates a thousand of
 * them per call. It accepts a subset of what UsageEventInput accepts and returns exactly what
 * UsageEventInput would (same fields, same order, same values: a property test holds it to
 * that); anything else (services, an unknown field, any doubt) returns null and goes through
 * the schema, which also words the errors.
 */
export function fastParseUsageEvent(raw: unknown): z.output<typeof UsageEventInput> | null {
  if (!plainObject(raw)) return null;
  for (const k in raw) if (!FAST_FIELDS.has(k) || raw[k] === undefined) return null;
  if (!cleanString(raw.transaction_id, 255) || !cleanString(raw.code, 255)) return null;
  const out: Record<string, unknown> = { transaction_id: raw.transaction_id };
  if (raw.customer_id !== undefined) {
    if (!cleanString(raw.customer_id, 255)) return null;
    out.customer_id = raw.customer_id;
  }
  if (raw.external_subscription_id !== undefined) {
    if (!cleanString(raw.external_subscription_id, 255)) return null;
    out.external_subscription_id = raw.external_subscription_id;
  } else if (raw.customer_id === undefined) return null;
  out.code = raw.code;
  if (raw.timestamp !== undefined) {
    if (typeof raw.timestamp !== 'string' && typeof raw.timestamp !== 'number') return null;
    const ms = parseInstant(raw.timestamp);
    if (ms === null) return null;
    out.timestamp = ms;
  }
  if (raw.properties !== undefined) {
    const p = raw.properties;
    if (!plainObject(p)) return null;
    let n = 0;
    for (const k in p) {
      if (k.length < 1 || k.length > 100 || p[k] === undefined) return null;
      n++;
    }
    if (n > MAX_PROPERTY_KEYS || !jsonFitsIn(p, MAX_PROPERTIES_CHARS)) return null;
    out.properties = p;
  }
  if (raw.metadata !== undefined) {
    const m = raw.metadata;
    if (!plainObject(m)) return null;
    let n = 0;
    for (const k in m) {
      const v = m[k];
      if (k.length < 1 || k.length > 64 || typeof v !== 'string' || v.length > 1000) return null;
      n++;
    }
    if (n > 50) return null;
    out.metadata = m;
  }
  if (raw.agent_code !== undefined) {
    if (!cleanString(raw.agent_code, 255)) return null;
    out.agent_code = raw.agent_code;
  }
  if ((raw.model === undefined) !== (raw.provider === undefined)) return null;
  if (raw.model !== undefined) {
    if (!cleanString(raw.model, 200) || !cleanString(raw.provider, 200)) return null;
    out.model = raw.model;
    out.provider = raw.provider;
  }
  for (const f of ['input_tokens', 'output_tokens'] as const) {
    const v = raw[f];
    if (v === undefined) continue;
    if (raw.model === undefined || !Number.isSafeInteger(v) || (v as number) < 0 || (v as number) > 1e12)
      return null;
    out[f] = v;
  }
  if (raw.quantity !== undefined) {
    if (typeof raw.quantity !== 'string' && typeof raw.quantity !== 'number') return null;
    const d = Decimal.tryParse(raw.quantity);
    if (!d || d.isNegative()) return null;
    out.quantity = d;
  }
  return out as z.output<typeof UsageEventInput>;
}
