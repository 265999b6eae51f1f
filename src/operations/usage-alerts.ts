import * as z from 'zod';
import * as alerts from '../services/metering/alerts.js';
import { CREATE, DELETE, READ, defineOperation } from './define.js';
import { CustomerRef, ExternalId, Iso, Pagination, PositiveMoney, page, text } from './schemas/common.js';
import { MetricCode } from './schemas/metering.js';
import { SubscriptionRef } from './subscriptions.js';

const group = 'usage alerts';

export const UsageAlert = z.object({
  id: z.string().describe('ua_…'),
  code: z.string().nullable(),
  name: z.string().nullable(),
  customer_id: z.string(),
  external_customer_id: z.string().nullable(),
  subscription_external_id: z
    .string()
    .nullable()
    .describe('Set for an alert on a subscription (it follows the subscription across plan changes)'),
  billable_metric_code: z.string(),
  threshold_type: z.enum(alerts.THRESHOLD_TYPES),
  threshold: z.string().describe('Units, or an amount in major units of `currency`, as an exact decimal'),
  currency: z.string().nullable(),
  last_triggered: z
    .object({ at: Iso, value: z.string(), period_from: Iso })
    .nullable()
    .describe('When it last fired, what it measured then, and the period it fired in'),
  created_at: Iso,
  updated_at: Iso,
});

export const createUsageAlert = defineOperation({
  name: 'create_usage_alert',
  title: 'Create a usage alert',
  description:
    'Watches a billable metric and sends the webhook event usage.threshold_reached — once per period — when its ' +
    '`threshold_type` "units" or "amount" (what its charges come to, in the customer’s currency) reaches `threshold`. ' +
    'On a subscription (`subscription_id`) the period is its billing period; on a customer (`customer_id`) the ' +
    'calendar month in the customer’s time zone. Checked every minute by billfold serve. With `code`, calling it ' +
    'again returns the same alert.',
  group,
  scope: 'write',
  annotations: CREATE,
  input: z.strictObject({
    subscription_id: SubscriptionRef.optional(),
    customer_id: CustomerRef.optional(),
    billable_metric_code: MetricCode,
    threshold_type: z.enum(alerts.THRESHOLD_TYPES),
    threshold: PositiveMoney.describe('Units, or an amount in major units, as a decimal string or number'),
    code: ExternalId.optional().describe('Your key for it, unique in the organization'),
    name: text(255).nullable().optional(),
  }),
  output: z.object({ usage_alert: UsageAlert, created: z.boolean() }),
  handler: (ctx, input) => alerts.createUsageAlert(ctx, input),
});

export const listUsageAlerts = defineOperation({
  name: 'list_usage_alerts',
  title: 'List usage alerts',
  description:
    'Lists usage alerts, newest first, with when each last fired; filter by customer, subscription or billable metric.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    customer_id: CustomerRef.optional(),
    subscription_id: SubscriptionRef.optional(),
    billable_metric_code: MetricCode.optional(),
    ...page,
  }),
  output: z.object({ usage_alerts: z.array(UsageAlert), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, ...f }) => alerts.listUsageAlerts(ctx, f, { page: p, per_page }),
});

export const deleteUsageAlert = defineOperation({
  name: 'delete_usage_alert',
  title: 'Delete a usage alert',
  description:
    'Deletes a usage alert, named by its id (ua_…) or its code: it is measured no more and sends no more usage.threshold_reached events.',
  group,
  scope: 'write',
  annotations: DELETE,
  input: z.strictObject({
    usage_alert_id: z.string().trim().min(1).max(255).describe('The alert’s id (ua_…) or code'),
  }),
  output: z.object({ usage_alert: UsageAlert, deleted: z.literal(true) }),
  handler: async (ctx, input) => ({
    usage_alert: await alerts.deleteUsageAlert(ctx, input.usage_alert_id),
    deleted: true as const,
  }),
});

export const usageAlertOperations = [createUsageAlert, listUsageAlerts, deleteUsageAlert];
