import * as z from 'zod';
import { BillfoldError } from '../domain/errors.js';
import { toIso } from '../domain/time.js';
import type { ServiceContext } from '../services/context.js';
import * as events from '../services/metering/events.js';
import { recordEvents, type IncomingRecord, type RecordOutcome } from '../services/metering/ingest.js';
import { getCustomerUsage } from '../services/metering/usage.js';
import { CREATE, READ, defineOperation } from './define.js';
import { CustomerRef, Instant, Iso, Pagination, page } from './schemas/common.js';
import {
  CostStatus,
  EVENT_FIELDS,
  RecordResult,
  SERVICE_FIELDS,
  UsageEvent,
  UsageEventInput,
  fastParseUsageEvent,
} from './schemas/metering.js';
import { validationErrorFrom, type SchemaLookup } from './validation.js';

const group = 'usage events';

type RecordResultView = z.input<typeof RecordResult>;

/** The JSON Schema of one event, shown as the batch's item type (items are validated one by one). */
function eventItemSchema(): Record<string, unknown> {
  const { $schema: _s, ...schema } = z.toJSONSchema(UsageEventInput, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as Record<string, unknown>;
  return schema;
}

export const MAX_BATCH = 1000;

const TOKEN_FIELDS = new Set(['input_tokens', 'output_tokens']);
/** Names the fields of an event (or of one of its services) in "unknown field" messages. */
const recordLookup: SchemaLookup = {
  fieldsAt: (path) => (path.length === 2 ? EVENT_FIELDS : path.length === 4 ? SERVICE_FIELDS : undefined),
  isIntegerAt: (path) => TOKEN_FIELDS.has(String(path[path.length - 1])),
};

/** Validates each record on its own, so one bad record never stops the others. */
export function validateRecords(items: unknown[]): IncomingRecord[] {
  return items.map((item, index) => {
    const fast = fastParseUsageEvent(item);
    if (fast) return { index, input: fast };
    const parsed = UsageEventInput.safeParse(item, { reportInput: true });
    if (parsed.success) return { index, input: parsed.data };
    for (const issue of parsed.error.issues)
      (issue as { path: PropertyKey[] }).path = ['events', index, ...issue.path];
    const txn = (item as { transaction_id?: unknown } | null)?.transaction_id;
    return {
      index,
      error: validationErrorFrom(parsed.error, recordLookup).toBody(),
      transactionId: typeof txn === 'string' ? txn : null,
    };
  });
}

function resultOf(o: RecordOutcome): RecordResultView {
  if (!o.ok) return { index: o.index, ok: false, transaction_id: o.transaction_id, error: o.error };
  const result: RecordResultView = {
    index: o.index,
    ok: true,
    transaction_id: o.row.transaction_id,
    duplicate: o.duplicate,
    event_id: o.row.id,
    timestamp: toIso(Number(o.row.timestamp)),
    cost: o.row.cost,
    cost_status: o.row.cost_status as RecordResultView['cost_status'],
    flags: o.flags,
  };
  if (o.row.services) result.services = events.serviceCosts(o.row.services);
  return result;
}

async function recordBatch(ctx: ServiceContext, items: unknown[]) {
  const outcomes = await recordEvents(ctx, validateRecords(items));
  const results = outcomes.map(resultOf);
  let created = 0;
  let duplicates = 0;
  let failed = 0;
  let flagged = 0;
  for (const o of outcomes) {
    if (!o.ok) failed++;
    else if (o.duplicate) duplicates++;
    else created++;
    if (o.ok && o.flags.length) flagged++;
  }
  return { results, summary: { received: items.length, created, duplicates, failed, flagged } };
}

const retryNote =
  'Retrying is safe: send the same transaction_id and the event is stored once (the reply says duplicate: true); a ' +
  'different payload under a used transaction_id is a CONFLICT. Events for a metric code or customer that does not ' +
  'exist yet are stored and flagged, and count once it exists. An unknown external_subscription_id is ' +
  'stored too, flagged UNKNOWN_SUBSCRIPTION: with customer_id the event still counts for that customer; sent ' +
  'alone, it counts for the customer of the first subscription created with that external_id. Do not re-send an event flagged ' +
  'NEEDS_COST_BACKFILL or MISSING_VOLUME_DATA: it is saved; fix it with map_model or fill_volume.';

export const recordUsage = defineOperation({
  name: 'record_usage',
  title: 'Record a usage event',
  description:
    'Records one usage event: what a customer used (`code` names the billable metric, `properties` the values). ' +
    'Name the customer with customer_id, or the subscription with external_subscription_id (the event counts ' +
    'for its customer; with both, they must agree). ' +
    'For AI usage add agent_code and either one service — model + provider with input_tokens/output_tokens (LLM) ' +
    'or quantity (SMS, search…) — or `services` for one outcome backed by several services, never both; its cost ' +
    'is computed exactly from the price catalog. ' +
    retryNote,
  group,
  scope: 'write',
  annotations: { ...CREATE, idempotentHint: true },
  input: UsageEventInput,
  output: z.object({ event: UsageEvent, duplicate: z.boolean() }),
  handler: async (ctx, input) => {
    const [o] = await recordEvents(ctx, [{ index: 0, input }], { fullRows: true });
    if (!o!.ok) throw new BillfoldError(o!.error.code, o!.error.message, o!.error.details, o!.error.hint);
    const late = await events.lateCustomers(ctx, [o!.row]);
    return { event: events.eventView(o!.row, late), duplicate: o!.duplicate };
  },
});

export const recordUsageBatch = defineOperation({
  name: 'record_usage_batch',
  title: 'Record usage events in a batch',
  description:
    `Records 1 to ${MAX_BATCH} usage events in one call (each like record_usage). Every valid record is stored even ` +
    'when others are invalid: `results` reports each record by its index (ok, duplicate, event_id, cost, flags, or ' +
    'the error naming the field). A retry of the whole batch is safe: stored records come back as duplicates. ' +
    retryNote,
  group,
  scope: 'write',
  annotations: { ...CREATE, idempotentHint: true },
  input: z.strictObject({
    events: z
      .array(z.unknown())
      .min(1)
      .max(MAX_BATCH)
      .meta({ items: eventItemSchema() })
      .describe(`1 to ${MAX_BATCH} usage events, each with the fields of record_usage`),
  }),
  output: z.object({
    results: z.array(RecordResult),
    summary: z.object({
      received: z.int(),
      created: z.int(),
      duplicates: z.int(),
      failed: z.int(),
      flagged: z.int().describe('Stored events with a flag (unknown metric or customer, cost not known yet)'),
    }),
  }),
  handler: (ctx, input) => recordBatch(ctx, input.events),
});

export const getEvent = defineOperation({
  name: 'get_event',
  title: 'Get a usage event',
  description:
    'Returns one usage event by its Billfold id (evt_…) or by the transaction_id it was sent with.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    event_id: z.string().trim().min(1).max(255).describe('The event id (evt_…) or your transaction_id'),
  }),
  output: z.object({ event: UsageEvent }),
  handler: async (ctx, input) => ({ event: await events.getEvent(ctx, input.event_id) }),
});

export const listEvents = defineOperation({
  name: 'list_events',
  title: 'List usage events',
  description:
    'Lists usage events, latest timestamp first, with their cost. Filter by customer, subscription ' +
    '(external_subscription_id, as the events were sent), metric code, agent, model, provider, cost_status and ' +
    'a from/to window on the event timestamp.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    customer_id: CustomerRef.optional(),
    external_subscription_id: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .optional()
      .describe('Only the events sent with this external_subscription_id'),
    code: z.string().trim().min(1).max(255).optional().describe('Metric code'),
    agent_code: z.string().trim().min(1).max(255).optional(),
    model: z.string().trim().min(1).max(200).optional(),
    provider: z.string().trim().min(1).max(200).optional(),
    cost_status: CostStatus.optional(),
    from: Instant.optional().describe('Events at or after this instant'),
    to: Instant.optional().describe('Events before this instant'),
    ...page,
  }),
  output: z.object({ events: z.array(UsageEvent), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, ...f }) => events.listEvents(ctx, f, { page: p, per_page }),
});

const UsageBreakdown = z.object({
  filters: z
    .record(z.string(), z.string())
    .describe('The filter values of this share ({} = matched no filter value)'),
  units: z.string(),
  event_count: z.int(),
  share: z.string().nullable().describe('Fraction of the metric total, 0-1'),
});

export const MetricUsage = z.object({
  billable_metric_id: z.string(),
  code: z.string(),
  name: z.string(),
  aggregation_type: z.string(),
  recurring: z.boolean(),
  units: z.string().describe("Aggregated units after the metric's rounding, exact decimal"),
  exact_units: z.string().describe('Before rounding'),
  event_count: z.int().describe('Events of the period that count toward the metric'),
  prorated_units: z
    .string()
    .nullable()
    .describe('recurring unique_count_agg: each value weighted by the share of the period it was present'),
  breakdown: z.array(UsageBreakdown),
  charges: z
    .array(
      z.object({
        subscription_id: z.string(),
        subscription_external_id: z.string(),
        plan_code: z.string(),
        charge_id: z.string(),
        charge_model: z.string(),
        currency: z.string(),
        from: Iso.describe("Start of the subscription's current period (or its start)"),
        to: Iso,
        units: z.string().describe('Units the charge prices so far this period'),
        amount: z
          .string()
          .describe('What the charge amounts to so far, exact (the invoice rounds it half-up once)'),
      }),
    )
    .describe(
      "The charges of the customer's active subscriptions that price this metric, over each subscription's current period so far",
    ),
});

export const getCustomerUsageOp = defineOperation({
  name: 'get_customer_usage',
  title: "Get a customer's usage",
  description:
    "A customer's usage per billable metric over a period: aggregated units (exact, after the metric's rounding), " +
    'event count and the breakdown by filter values. from/to default to the current calendar month in the ' +
    "customer's time zone; `metric_code` limits it to one metric. Events sent with the customer's external_id " +
    'before the customer existed count too. Each metric also lists `charges`: for every active subscription whose ' +
    "plan prices the metric, the charge's amount so far in the subscription's current billing period.",
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    customer_id: CustomerRef,
    from: Instant.optional().describe('Start of the period (inclusive)'),
    to: Instant.optional().describe('End of the period (exclusive)'),
    metric_code: z.string().trim().min(1).max(255).optional().describe('Only this metric'),
  }),
  output: z.object({
    customer_id: z.string(),
    external_customer_id: z.string().nullable(),
    from: Iso,
    to: Iso,
    timezone: z.string(),
    metrics: z.array(MetricUsage),
  }),
  handler: (ctx, input) => getCustomerUsage(ctx, input),
});

export const usageEventOperations = [recordUsage, recordUsageBatch, getEvent, listEvents, getCustomerUsageOp];
