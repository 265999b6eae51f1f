import * as z from 'zod';
import * as deliveries from '../services/webhooks/deliveries.js';
import * as endpoints from '../services/webhooks/endpoints.js';
import { EVENT_TYPES } from '../services/webhooks/event-types.js';
import { PAYLOAD_FORMATS } from '../services/webhooks/formats.js';
import { CREATE, DELETE, READ, UPDATE, defineOperation } from './define.js';
import { Instant, Iso, IsoNullable, Pagination, Url, page, text } from './schemas/common.js';

const group = 'webhooks';

const EventTypeName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .describe('An event type, e.g. invoice.finalized (list_event_types shows them all)');

/** As a filter: one of the catalogue's types (an unknown one would silently match nothing). */
const EventTypeFilter = z
  .enum(EVENT_TYPES.map((e) => e.type) as [string, ...string[]])
  .describe('Only deliveries of this event type');

const PayloadFormat = z
  .enum(PAYLOAD_FORMATS)
  .describe(
    'The body each delivery carries: "billfold" (default) { id, type, created_at, organization_id, data }, or "lago", Lago\'s { webhook_type, object_type, organization_id, <object_type>: {…} } with wallets, wallet transactions and customers as Lago writes them (other objects as Billfold does)',
  );

const EndpointId = z.string().trim().min(1).max(255).describe('The endpoint id, we_…');

export const WebhookEndpoint = z.object({
  id: z.string().describe('we_…'),
  url: z.string(),
  description: z.string().nullable(),
  event_types: z
    .array(z.string())
    .nullable()
    .describe('The event types it receives; null for every type, including types added later'),
  enabled: z.boolean(),
  disabled_reason: z
    .string()
    .nullable()
    .describe('Why it stopped receiving: a 410 Gone, three days of failures, or disabled by hand'),
  disabled_at: IsoNullable,
  secret_hint: z
    .string()
    .describe('The start of the signing secret, to tell secrets apart; never the secret'),
  previous_secret_expires_at: IsoNullable.describe(
    'After a rotation: until when the previous secret also signs each delivery',
  ),
  failing_since: IsoNullable.describe(
    'The first failed attempt since the last success; 3 days of it disables',
  ),
  last_success_at: IsoNullable,
  last_failure_at: IsoNullable,
  payload_format: PayloadFormat,
  created_at: Iso,
  updated_at: Iso,
});

const Secret = z
  .string()
  .describe(
    'The signing secret (whsec_…), shown only now: verify each delivery with it, using any Standard Webhooks library',
  );

export const createWebhookEndpoint = defineOperation({
  name: 'create_webhook_endpoint',
  title: 'Create a webhook endpoint',
  description:
    'Registers a URL that receives events (invoice.finalized, customer.created, …) as signed HTTP POSTs, and returns ' +
    'its signing secret `whsec_…` — shown only in this answer. `event_types` limits it to some types (list_event_types); ' +
    'leave it out for every type. Deliveries follow the Standard Webhooks specification (webhook-id, webhook-timestamp, ' +
    'webhook-signature headers), are retried for 3 days and keep the same webhook-id on every retry. The URL must be ' +
    'public http(s). Calling it again with the same URL returns that endpoint (created: false) without its secret; ' +
    'rotate_webhook_secret issues a new one.',
  group,
  scope: 'admin',
  annotations: { ...CREATE, idempotentHint: true },
  input: z.strictObject({
    url: Url.describe('Where to POST events: a public http(s) URL'),
    event_types: z.array(EventTypeName).min(1).max(100).nullable().optional(),
    description: text(500).nullable().optional(),
    enabled: z
      .boolean()
      .optional()
      .describe('false: registered but receives nothing until enabled (default true)'),
    payload_format: PayloadFormat.optional(),
  }),
  output: z.object({ webhook_endpoint: WebhookEndpoint, secret: Secret.nullable(), created: z.boolean() }),
  handler: (ctx, input) => endpoints.createEndpoint(ctx, input),
  // The URL's name is resolved before the change's transaction opens.
  transactions: 'steps',
});

export const getWebhookEndpoint = defineOperation({
  name: 'get_webhook_endpoint',
  title: 'Get a webhook endpoint',
  description:
    'Returns one webhook endpoint: its URL, the event types it receives, whether it is enabled (and why not), its health ' +
    '(last success, failing since) and a hint of its secret.',
  group,
  scope: 'admin',
  annotations: READ,
  input: z.strictObject({ endpoint_id: EndpointId }),
  output: z.object({ webhook_endpoint: WebhookEndpoint }),
  handler: async (ctx, input) => ({ webhook_endpoint: await endpoints.getEndpoint(ctx, input.endpoint_id) }),
});

export const listWebhookEndpoints = defineOperation({
  name: 'list_webhook_endpoints',
  title: 'List webhook endpoints',
  description: 'Lists the organization’s webhook endpoints, oldest first; `enabled` filters by state.',
  group,
  scope: 'admin',
  annotations: READ,
  input: z.strictObject({ enabled: z.boolean().optional(), ...page }),
  output: z.object({ webhook_endpoints: z.array(WebhookEndpoint), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, ...f }) => endpoints.listEndpoints(ctx, f, { page: p, per_page }),
});

export const updateWebhookEndpoint = defineOperation({
  name: 'update_webhook_endpoint',
  title: 'Update a webhook endpoint',
  description:
    'Changes what you pass: `url`, `event_types` (null for every type), `description`, `enabled`. Enabling an endpoint ' +
    'that was disabled (by hand, by a 410 Gone, or after 3 days of failures) starts it afresh; events that happened ' +
    'while it was disabled are not sent. Disabling it fails its pending deliveries (retry_webhook_delivery can send them later).',
  group,
  scope: 'admin',
  annotations: UPDATE,
  input: z.strictObject({
    endpoint_id: EndpointId,
    url: Url.optional(),
    event_types: z.array(EventTypeName).min(1).max(100).nullable().optional(),
    description: text(500).nullable().optional(),
    enabled: z.boolean().optional(),
    payload_format: PayloadFormat.optional(),
  }),
  output: z.object({ webhook_endpoint: WebhookEndpoint }),
  handler: async (ctx, { endpoint_id, ...patch }) => ({
    webhook_endpoint: await endpoints.updateEndpoint(ctx, endpoint_id, patch),
  }),
  transactions: 'steps',
});

export const deleteWebhookEndpoint = defineOperation({
  name: 'delete_webhook_endpoint',
  title: 'Delete a webhook endpoint',
  description:
    'Deletes a webhook endpoint: it receives nothing more and its pending deliveries fail. Its delivery history stays ' +
    'readable with list_webhook_deliveries.',
  group,
  scope: 'admin',
  annotations: DELETE,
  input: z.strictObject({ endpoint_id: EndpointId }),
  output: z.object({ webhook_endpoint: WebhookEndpoint, deleted: z.literal(true) }),
  handler: async (ctx, input) => ({
    webhook_endpoint: await endpoints.deleteEndpoint(ctx, input.endpoint_id),
    deleted: true as const,
  }),
});

export const rotateWebhookSecret = defineOperation({
  name: 'rotate_webhook_secret',
  title: 'Rotate a webhook signing secret',
  description:
    'Issues a new signing secret for an endpoint and returns it (shown only now). The previous secret keeps signing ' +
    'alongside it for `previous_secret_expires_in_hours` (default 24; 0 stops it at once): each delivery then carries ' +
    'both signatures, so receivers verify with either while they switch.',
  group,
  scope: 'admin',
  annotations: { ...UPDATE, idempotentHint: false },
  input: z.strictObject({
    endpoint_id: EndpointId,
    previous_secret_expires_in_hours: z.int().min(0).max(168).optional(),
  }),
  output: z.object({ webhook_endpoint: WebhookEndpoint, secret: Secret }),
  handler: (ctx, input) =>
    endpoints.rotateSecret(ctx, input.endpoint_id, input.previous_secret_expires_in_hours ?? 24),
});

const EventType = z.object({
  type: z.string(),
  object: z.string().describe('The key of data: the object, as its get_ operation returns it'),
  source: z
    .enum(['change', 'schedule'])
    .describe('change: a request changed something; schedule: Billfold noticed a date or a threshold'),
  description: z.string(),
});

export const listEventTypes = defineOperation({
  name: 'list_event_types',
  title: 'List webhook event types',
  description:
    'Every event a webhook endpoint can receive, with the object its payload carries. Each delivery is a JSON ' +
    '`{ id, type, created_at, organization_id, data: { <object>: {...} } }`, the object as its get_ operation returns it ' +
    'when the change committed.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({}),
  output: z.object({ event_types: z.array(EventType) }),
  handler: async () => ({ event_types: EVENT_TYPES.map((e) => ({ ...e })) }),
});

const DeliveryStatus = z.enum(deliveries.DELIVERY_STATUSES);

export const WebhookDelivery = z.object({
  id: z.string().describe('whd_…'),
  event_id: z.string().describe('The webhook-id header, the same on every attempt (and for every endpoint)'),
  event_type: z.string(),
  endpoint_id: z.string(),
  endpoint_url: z.string().nullable(),
  object: z.string().describe('The kind of object the event is about'),
  object_id: z.string(),
  status: DeliveryStatus.describe('pending (not yet delivered, retries left), succeeded, or failed'),
  attempts: z.int(),
  next_attempt_at: IsoNullable.describe('Pending: when the next attempt is due'),
  last_attempt_at: IsoNullable,
  last_response_status: z
    .int()
    .nullable()
    .describe('The HTTP status of the last attempt; null when none came'),
  last_error: z.string().nullable().describe('What went wrong last time (status, timeout, refused address)'),
  succeeded_at: IsoNullable,
  created_at: Iso,
  updated_at: Iso,
});

const WebhookDeliveryDetail = WebhookDelivery.extend({
  payload: z.record(z.string(), z.unknown()).describe('The exact JSON every attempt sends'),
  last_response_body: z.string().nullable().describe('The start of what the receiver answered last'),
  attempt_log: z.array(
    z.object({
      attempted_at: Iso,
      duration_ms: z.int(),
      response_status: z.int().nullable(),
      error: z.string().nullable(),
    }),
  ),
});

export const listWebhookDeliveries = defineOperation({
  name: 'list_webhook_deliveries',
  title: 'List webhook deliveries',
  description:
    'What was sent to which endpoint, newest first, each with its status (pending, succeeded, failed), attempts and ' +
    'last response. Filter by endpoint, event type, event id, status, the object an event is about, and when the ' +
    'event happened (`from`, `to`).',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    endpoint_id: EndpointId.optional(),
    event_type: EventTypeFilter.optional(),
    event_id: z.string().trim().min(1).max(255).optional().describe('whe_…, the webhook-id receivers saw'),
    status: DeliveryStatus.optional(),
    object_id: z.string().trim().min(1).max(255).optional().describe('e.g. an invoice id, inv_…'),
    from: Instant.optional().describe('Events from this instant on'),
    to: Instant.optional().describe('Events before this instant'),
    ...page,
  }),
  output: z.object({ webhook_deliveries: z.array(WebhookDelivery), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, ...f }) => deliveries.listDeliveries(ctx, f, { page: p, per_page }),
});

const DeliveryId = z.string().trim().min(1).max(255).describe('The delivery id, whd_…');

export const getWebhookDelivery = defineOperation({
  name: 'get_webhook_delivery',
  title: 'Get a webhook delivery',
  description:
    'One delivery with its payload (the exact JSON sent), its latest attempts (time, duration, status or error) and ' +
    'the start of the last answer.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({ delivery_id: DeliveryId }),
  output: z.object({ webhook_delivery: WebhookDeliveryDetail }),
  handler: async (ctx, input) => ({ webhook_delivery: await deliveries.getDelivery(ctx, input.delivery_id) }),
});

export const retryWebhookDelivery = defineOperation({
  name: 'retry_webhook_delivery',
  title: 'Retry a webhook delivery',
  description:
    'Sends a delivery again at the next dispatch (within a second under billfold serve), with the same webhook-id: a ' +
    'failed one gets another attempt, a pending one goes now instead of waiting, a succeeded one is sent again. Its ' +
    'endpoint must be enabled.',
  group,
  scope: 'write',
  annotations: { ...UPDATE, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  input: z.strictObject({ delivery_id: DeliveryId }),
  output: z.object({ webhook_delivery: WebhookDeliveryDetail }),
  handler: async (ctx, input) => ({
    webhook_delivery: await deliveries.retryDelivery(ctx, input.delivery_id),
  }),
});

export const webhookOperations = [
  createWebhookEndpoint,
  getWebhookEndpoint,
  listWebhookEndpoints,
  updateWebhookEndpoint,
  deleteWebhookEndpoint,
  rotateWebhookSecret,
  listEventTypes,
  listWebhookDeliveries,
  getWebhookDelivery,
  retryWebhookDelivery,
];
