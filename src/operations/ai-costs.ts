import * as z from 'zod';
import * as analytics from '../services/metering/analytics.js';
import * as costs from '../services/metering/costs.js';
import { READ, UPDATE, defineOperation } from './define.js';
import { CustomerRef, DecimalInput, Instant, Iso, Pagination, TimeZone, page } from './schemas/common.js';
import { UsageEvent } from './schemas/metering.js';

const group = 'AI costs';

const CatalogService = z.object({
  id: z
    .string()
    .describe(
      'Catalog id (openai/gpt-4o) or your own price id (svc_…): map_model accepts it as target_price_id',
    ),
  provider: z.string().describe('Send this as `provider`'),
  canonical_name: z.string().describe('Send this as `model`'),
  display_name: z.string(),
  service_type: z.string(),
  is_api: z.boolean().describe('true for per-unit services, false for per-token models'),
  input_price_per_million: z.string().nullable().describe('US dollars per million input tokens'),
  output_price_per_million: z.string().nullable().describe('US dollars per million output tokens'),
  unit_price: z.string().nullable().describe('US dollars per unit'),
  unit: z.string().nullable(),
  context_window: z.int().nullable(),
  currency: z.literal('USD'),
  source: z.enum(['catalog', 'organization']),
});

const Price = DecimalInput.refine((d) => !d.isNegative(), { message: 'must not be negative' });
const Name = z.string().trim().min(1).max(200);

const window = {
  from: Instant.optional().describe('Only events at or after this instant'),
  to: Instant.optional().describe('Only events before this instant'),
};

export const listCatalogServices = defineOperation({
  name: 'list_catalog_services',
  title: 'List priced services',
  description:
    'The price catalog: public list prices of LLMs and API services (OpenAI, Anthropic, Google, Mistral, ' +
    'embeddings, web search, SMS…) plus your own prices, which take precedence. Use it to find the canonical ' +
    '`model` and `provider` to send with record_usage so the cost resolves at once. `prices_as_of` is the date ' +
    'the list prices were taken.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    provider: z.string().trim().min(1).max(100).optional().describe('e.g. openai, anthropic, google, twilio'),
    service_type: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .optional()
      .describe('e.g. LLM, Embeddings, Web Search, SMS'),
    is_api: z.boolean().optional().describe('true: per-unit services only; false: per-token models only'),
    search: z.string().trim().min(1).max(200).optional().describe('Text in the canonical or display name'),
    ...page,
  }),
  output: z.object({ services: z.array(CatalogService), prices_as_of: z.string(), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, ...f }) => costs.listCatalogServices(ctx, f, { page: p, per_page }),
});

export const setServicePrice = defineOperation({
  name: 'set_service_price',
  title: 'Set your price for a service',
  description:
    "Sets the organization's own or negotiated price for a model or service, used instead of the catalog's list " +
    'price for events recorded from now on. Per-token models take input_price_per_million and/or ' +
    'output_price_per_million; per-unit services take unit_price and unit. Events waiting for a price ' +
    '(NEEDS_COST_BACKFILL) are priced at once. Calling it again updates the price.',
  group,
  scope: 'write',
  annotations: UPDATE,
  input: z.strictObject({
    provider: Name.describe('e.g. openai'),
    model: Name.describe('The model or service name your events send, e.g. gpt-4o or our-sms-gateway'),
    display_name: z.string().trim().min(1).max(200).optional(),
    service_type: z.string().trim().min(1).max(100).optional().describe('e.g. LLM, Embeddings, SMS'),
    input_price_per_million: Price.optional().describe('US dollars per million input tokens, e.g. "2.50"'),
    output_price_per_million: Price.optional().describe('US dollars per million output tokens'),
    unit_price: Price.optional().describe('US dollars per unit, e.g. "0.0079"'),
    unit: z.string().trim().min(1).max(50).optional().describe('e.g. message, search, minute'),
    context_window: z.int().min(1).optional(),
  }),
  output: z.object({ service: CatalogService, created: z.boolean(), backfilled_events: z.int() }),
  handler: (ctx, input) => costs.setServicePrice(ctx, input),
});

export const getNeedsAttention = defineOperation({
  name: 'get_needs_attention',
  title: 'Find events that need attention',
  description:
    'What keeps stored events from being priced or counted: unknown model/provider pairs (fix with map_model or ' +
    'set_service_price), events missing tokens or quantity (get_missing_volume, fill_volume), metric codes with ' +
    'no billable metric (create_billable_metric), customer references with no customer (create_customer with ' +
    'that external_id), agent codes with no agent (create_agent with that code), and values a metric cannot use ' +
    '— each with its event count. These events ARE saved; ' +
    'never re-send them. from/to limit it to a window (default: all events).',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject(window),
  output: z.object({
    unknown_models: z.array(z.object({ provider: z.string(), model: z.string(), event_count: z.int() })),
    missing_volume: z.object({ event_count: z.int() }),
    unknown_metric_codes: z.array(z.object({ code: z.string(), event_count: z.int() })),
    unknown_customers: z.array(z.object({ external_customer_id: z.string(), event_count: z.int() })),
    unknown_agent_codes: z
      .array(z.object({ agent_code: z.string(), event_count: z.int() }))
      .describe(
        'Agent codes events name that no agent has: the events count for subscriptions of that agent once create_agent makes it',
      ),
    invalid_values: z.array(z.object({ code: z.string(), event_count: z.int(), example_error: z.string() })),
    total_events: z.int(),
  }),
  handler: (ctx, input) => costs.getNeedsAttention(ctx, input),
});

export const mapModel = defineOperation({
  name: 'map_model',
  title: 'Map an unknown model to a known price',
  description:
    'Tells Billfold how to price a model it does not know (e.g. "gpt-4o-2024-08-06" from openai → gpt-4o): the ' +
    'mapping is remembered for future events and every stored event waiting for that model is priced now ' +
    '(`backfilled_events`). Name the target by target_model + target_provider, or by target_price_id from ' +
    'list_catalog_services. Safe to repeat: the same mapping again changes nothing.',
  group,
  scope: 'write',
  annotations: { ...UPDATE, destructiveHint: false },
  input: z.strictObject({
    source_model: Name.describe('The unknown model as your events send it'),
    source_provider: Name.describe('Its provider as your events send it'),
    target_model: Name.optional().describe('A known model to price it as'),
    target_provider: Name.optional(),
    target_price_id: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .optional()
      .describe('Or the id of a catalog entry or your price'),
  }),
  output: z.object({
    mapping: z.object({
      id: z.string(),
      source_provider: z.string(),
      source_model: z.string(),
      target_provider: z.string(),
      target_model: z.string(),
      target_price_id: z.string(),
      created_at: Iso,
      updated_at: Iso,
    }),
    created: z.boolean(),
    backfilled_events: z.int(),
  }),
  handler: (ctx, input) => costs.mapModel(ctx, input),
});

export const getMissingVolume = defineOperation({
  name: 'get_missing_volume',
  title: 'List events missing tokens or quantity',
  description:
    'Events stored as MISSING_VOLUME_DATA: their service is priced but they came without tokens (LLM) or ' +
    'quantity (per-unit service). Supply the numbers with fill_volume.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({ ...window, ...page }),
  output: z.object({ events: z.array(UsageEvent), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, ...w }) => costs.getMissingVolume(ctx, w, { page: p, per_page }),
});

export const fillVolume = defineOperation({
  name: 'fill_volume',
  title: 'Fill in missing tokens or quantity',
  description:
    'Supplies the missing volume of a MISSING_VOLUME_DATA event (input_tokens/output_tokens for an LLM, quantity ' +
    'for a per-unit service; service_index picks the service of a multi-service event) and prices it. Safe to ' +
    'repeat: an event already priced is returned unchanged (`changed: false`).',
  group,
  scope: 'write',
  annotations: { ...UPDATE, destructiveHint: false },
  input: z.strictObject({
    event_id: z.string().trim().min(1).max(255).describe('The event id (evt_…) or its transaction_id'),
    input_tokens: z.int().min(0).optional(),
    output_tokens: z.int().min(0).optional(),
    quantity: Price.optional(),
    service_index: z.int().min(0).optional().describe('Which service of a multi-service event, from 0'),
  }),
  output: z.object({ event: UsageEvent, changed: z.boolean() }),
  handler: (ctx, input) => costs.fillVolume(ctx, input),
});

const Totals = z.object({
  event_count: z.int(),
  units: z.string().describe("Σ of each event's metric value (its quantity, or 1, when it has none)"),
  input_tokens: z.int(),
  output_tokens: z.int(),
  total_tokens: z.int(),
  cost: z.string().describe('Exact total cost in US dollars'),
  cost_cents: z.int().describe('The same, rounded half-up to cents'),
  cost_currency: z.literal('USD'),
  unpriced_event_count: z.int().describe('Events whose cost is not known yet (see get_needs_attention)'),
});
const BreakdownRow = Totals.extend({
  key: z
    .string()
    .nullable()
    .describe(
      'Customer id or reference, metric code, agent code, plan id (null: usage of no subscription), model, provider or YYYY-MM-DD',
    ),
  label: z.string().nullable(),
});

/** How usage is attributed to plans, said once for both analytics operations. */
const PLAN_RULE =
  "By plan, an event counts for the plan of the subscription that bills it: the customer's (the agent's, when " +
  "scoped to one) running at the event's time and pricing its metric, or else the one running then; usage before a " +
  'plan change counts for the old plan, from the change on for the new; usage of no subscription has key null.';

const range = {
  from: Instant.describe('Start of the window (inclusive), ISO 8601 or Unix seconds'),
  to: Instant.describe('End of the window (exclusive), ISO 8601 or Unix seconds'),
  timezone: TimeZone.optional().describe(
    "IANA time zone whose calendar days the day breakdown uses, e.g. America/New_York; default the organization's",
  ),
};

export const getUsageAnalytics = defineOperation({
  name: 'get_usage_analytics',
  title: 'Usage analytics',
  description:
    'Totals of a window — events, units, tokens and exact cost — and, with group_by, the breakdown by customer, ' +
    "metric, agent, plan, model, provider or day (calendar days of `timezone`, by default the organization's). " +
    'Multi-service events count once per service by model/provider. ' +
    PLAN_RULE,
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    ...range,
    group_by: z.enum(analytics.GROUP_BYS).optional(),
    customer_id: CustomerRef.optional(),
    agent_code: z.string().trim().min(1).max(255).optional(),
  }),
  output: z.object({
    from: Iso,
    to: Iso,
    group_by: z.enum(analytics.GROUP_BYS).nullable(),
    timezone: z.string().describe('The time zone of the days in the breakdown'),
    totals: Totals,
    breakdown: z.array(BreakdownRow),
  }),
  handler: (ctx, input) => analytics.getUsageAnalytics(ctx, input),
});

export const getCostMetrics = defineOperation({
  name: 'get_cost_metrics',
  title: 'Cost metrics',
  description:
    'The cost of usage over a window — whole organization, or one customer or agent: total and event count with ' +
    "breakdowns by day (in `timezone`, by default the organization's), agent, customer, metric, plan and model. include_prior_window adds the preceding window of the " +
    'same length and the change. ' +
    PLAN_RULE,
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    ...range,
    customer_id: CustomerRef.optional(),
    agent_code: z.string().trim().min(1).max(255).optional(),
    include_prior_window: z.boolean().optional(),
  }),
  output: z.object({
    from: Iso,
    to: Iso,
    customer_id: z.string().nullable(),
    agent_code: z.string().nullable(),
    timezone: z.string().describe('The time zone of by_day'),
    totals: Totals,
    by_day: z.array(BreakdownRow),
    by_agent: z.array(BreakdownRow),
    by_customer: z.array(BreakdownRow),
    by_metric: z.array(BreakdownRow),
    by_plan: z.array(BreakdownRow).describe('Keyed by plan id; key null: usage of no subscription'),
    by_model: z.array(BreakdownRow),
    prior: z
      .object({
        from: Iso,
        to: Iso,
        totals: Totals,
        cost_change: z.string(),
        cost_change_percent: z.string().nullable(),
      })
      .nullable(),
  }),
  handler: (ctx, input) => analytics.getCostMetrics(ctx, input),
});

export const aiCostOperations = [
  listCatalogServices,
  setServicePrice,
  getNeedsAttention,
  mapModel,
  getMissingVolume,
  fillVolume,
  getUsageAnalytics,
  getCostMetrics,
];
