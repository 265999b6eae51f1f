import * as z from 'zod';
import {
  ACTIVITY_RESOURCE_TYPES,
  ACTIVITY_SOURCES,
  activityResourceType,
  getActivityLog,
  listActivityLogs,
} from '../services/activity.js';
import { getApiLog, listApiLogs } from '../services/api-logs.js';
import { READ, defineOperation } from './define.js';
import { CustomerRef, DateOnly, Iso, Pagination, page } from './schemas/common.js';
import { parseInstant } from '../domain/time.js';

const group = 'logs';
const DOORS = ['mcp_stdio', 'mcp_http', 'mcp_sse', 'http_api', 'cli', 'portal', 'system'] as const;

const ActivityLog = z.object({
  activity_id: z.string(),
  activity_type: z.string().describe('<resource>.<verb>, e.g. invoice.finalized'),
  activity_source: z.enum(ACTIVITY_SOURCES),
  door: z
    .string()
    .describe('How the change arrived: mcp_stdio, mcp_http, mcp_sse, http_api, cli, portal or system'),
  actor: z.object({ type: z.string(), id: z.string().nullable(), name: z.string().nullable() }),
  user_email: z
    .string()
    .nullable()
    .describe("The acting API key's name when it is an email (keys named for their holder), else null"),
  resource_type: z.string(),
  resource_id: z.string(),
  customer_id: z.string().nullable(),
  external_customer_id: z.string().nullable(),
  subscription_id: z.string().nullable(),
  external_subscription_id: z.string().nullable(),
  changes: z
    .record(z.string(), z.unknown())
    .describe('field → [before, after]; for a creation, the new values'),
  request_id: z.string().nullable(),
  logged_at: Iso,
});

/** A resource type in any case, or as Lago's class name (BillableMetric); one that is none is refused. */
const ResourceType = z
  .string()
  .trim()
  .min(1)
  .transform((written, ctx) => {
    const type = activityResourceType(written);
    if (type) return type;
    ctx.addIssue({
      code: 'custom',
      input: written,
      message: `must be a resource type: ${ACTIVITY_RESOURCE_TYPES.join(', ')} (any case; Lago's class names such as BillableMetric work too)`,
    });
    return z.NEVER;
  });

/** `<resource>.<verb>` in any case; anything else could never match an entry. */
const ActivityType = z
  .string()
  .trim()
  .refine((t) => /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/i.test(t), {
    message: 'must be <resource>.<verb>, e.g. invoice.created',
  })
  .transform((t) => t.toLowerCase());

const dateRange = {
  from_date: DateOnly.optional().describe('Only entries logged on or after this date (UTC), YYYY-MM-DD'),
  to_date: DateOnly.optional().describe('Only entries logged on or before this date (UTC), YYYY-MM-DD'),
};
function range(from?: string, to?: string) {
  return {
    from: from ? parseInstant(from)! : undefined,
    to: to ? parseInstant(to)! + 86_400_000 : undefined,
  };
}

export const getActivityLogOp = defineOperation({
  name: 'get_activity_log',
  title: 'Get an activity log entry',
  description:
    'Returns one audit entry: what changed (field → [before, after]), on which resource, by whom and through which door.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({ activity_id: z.string().trim().min(1).describe('The entry id, act_…') }),
  output: z.object({ activity_log: ActivityLog }),
  handler: async (ctx, input) => ({ activity_log: await getActivityLog(ctx, input.activity_id) }),
});

export const listActivityLogsOp = defineOperation({
  name: 'list_activity_logs',
  title: 'List activity log entries',
  description:
    'The audit trail, newest first: every change made in the organization, who made it and through which door. ' +
    'Filter by activity type (e.g. customer.created), source (api, front, system), door, actor (API key id, ' +
    'token subject, or the email a key is named with), customer, subscription, resource ids or types (invoice, ' +
    'Invoice or BillableMetric alike), and dates. A filter value that could never match is refused, not answered empty.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    activity_types: z
      .array(ActivityType)
      .max(50)
      .optional()
      .describe('e.g. ["invoice.created", "customer.updated"]'),
    activity_sources: z.array(z.enum(ACTIVITY_SOURCES)).optional(),
    doors: z.array(z.enum(DOORS)).optional(),
    actor_ids: z
      .array(z.string().min(1))
      .max(50)
      .optional()
      .describe('API key ids (key_…) or token subjects (sub)'),
    user_emails: z
      .array(z.email())
      .max(50)
      .optional()
      .describe('Changes made by the API keys named with these emails (any case), as Lago filters by user'),
    customer_id: CustomerRef.optional(),
    external_customer_id: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .optional()
      .describe(
        "Entries recorded for this customer's external id, exactly (found after the customer is deleted)",
      ),
    subscription_id: z.string().min(1).optional().describe('Subscription id or external_id'),
    resource_ids: z.array(z.string().min(1)).max(100).optional(),
    resource_types: z
      .array(ResourceType)
      .max(20)
      .optional()
      .describe('e.g. ["customer", "invoice"]; any case, or Lago\'s class names ("BillableMetric")'),
    ...dateRange,
    ...page,
  }),
  output: z.object({ activity_logs: z.array(ActivityLog), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, from_date, to_date, ...f }) =>
    listActivityLogs(ctx, { ...f, ...range(from_date, to_date) }, { page: p, per_page }),
});

const ApiLog = z.object({
  request_id: z.string(),
  api_version: z.string(),
  door: z.string(),
  operation: z.string(),
  client: z.string().nullable().describe('The client that called, from its User-Agent or MCP client info'),
  api_key_id: z.string().nullable(),
  token_subject: z
    .string()
    .nullable()
    .describe("The bearer token's subject (sub) when a token, not an API key, made the request"),
  http_method: z.string(),
  http_status: z.int(),
  request_origin: z.string().nullable(),
  request_path: z.string(),
  duration_ms: z.int(),
  error_code: z.string().nullable(),
  request_body: z.unknown(),
  request_response: z.unknown(),
  logged_at: Iso,
});

export const getApiLogOp = defineOperation({
  name: 'get_api_log',
  title: 'Get an API log entry',
  description:
    'Returns one logged request that changed something: operation, door, status, duration, and the request and response bodies (cut to 8 KB).',
  group,
  scope: 'admin',
  annotations: READ,
  input: z.strictObject({
    request_id: z.string().trim().min(1).describe('The request id, req_…, as returned in X-Request-Id'),
  }),
  output: z.object({ api_log: ApiLog }),
  handler: async (ctx, input) => ({ api_log: await getApiLog(ctx, input.request_id) }),
});

export const listApiLogsOp = defineOperation({
  name: 'list_api_logs',
  title: 'List API log entries',
  description:
    'Requests that changed something (any door), newest first, to debug an integration. Filter by HTTP method, ' +
    'status (codes like "422" or outcomes "succeeded"/"failed"), API version, request path, operation, door and dates.',
  group,
  scope: 'admin',
  annotations: READ,
  input: z.strictObject({
    http_methods: z.array(z.enum(['post', 'put', 'delete'])).optional(),
    http_statuses: z
      .array(
        z
          .string()
          .regex(/^(\d{3}|succeeded|failed)$/, 'must be a status code like "404" or succeeded / failed'),
      )
      .optional(),
    api_version: z.string().optional().describe('e.g. "v1"'),
    request_paths: z
      .array(z.string().trim().min(1))
      .max(20)
      .optional()
      .describe(
        'A resource path matches every request about it through any door ("/invoices": create_invoice, ' +
          'mark_invoice_paid, …; Lago\'s "/api/v1/customers/acme" too); a door path matches exactly ("/mcp", ' +
          '"/api/v1/create_invoice"). A path naming no resource is refused.',
      ),
    operations: z.array(z.string().min(1)).optional(),
    doors: z.array(z.enum(DOORS)).optional(),
    ...dateRange,
    ...page,
  }),
  output: z.object({ api_logs: z.array(ApiLog), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, from_date, to_date, ...f }) =>
    listApiLogs(ctx, { ...f, ...range(from_date, to_date) }, { page: p, per_page }),
});

export const logOperations = [getActivityLogOp, listActivityLogsOp, getApiLogOp, listApiLogsOp];
