import * as z from 'zod';
import { parseInstant } from '../domain/time.js';
import * as subscriptions from '../services/billing/subscriptions.js';
import { CREATE, READ, UPDATE, defineOperation } from './define.js';
import { BILLING_MODELS } from '../services/billing/records.js';
import { AgentRef } from './agents.js';
import { PlanOverrides, PlanOverridesInput } from './schemas/billing.js';
import { CustomerRef, ExternalId, Iso, IsoNullable, Pagination, page, text } from './schemas/common.js';

const group = 'subscriptions';

export const SubscriptionRef = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .describe(
    'The subscription: its Billfold id (sub_…) or your external_id (which names the live subscription, else the latest)',
  );

const PlanCode = z.string().trim().min(1).max(255).describe('The plan, by code (or its Billfold id plan_…)');

/**
 * A moment as a caller writes it. A bare date is a calendar day in the subscription's time zone
 * (the customer's, else the organization's), so "2026-01-31" starts on 31 January there.
 */
const Moment = z.union([z.string(), z.number()]).transform((v, ctx): subscriptions.TimeInput => {
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v.trim())) {
    const date = v.trim();
    if (parseInstant(date) !== null) return { date };
  } else {
    const ms = parseInstant(v);
    if (ms !== null) return { instant: ms };
  }
  ctx.addIssue({
    code: 'custom',
    message: `must be a date (2026-04-01, midnight in the subscription's time zone), an ISO 8601 date-time with offset (2026-04-01T12:00:00Z) or Unix seconds (got ${JSON.stringify(v)})`,
  });
  return z.NEVER;
});

export const SubscriptionStatus = z.enum(subscriptions.SUBSCRIPTION_STATUSES);
export const BillingModel = z
  .enum(BILLING_MODELS)
  .describe(
    'How the plan bills: usage (charges on usage), recurring (a base fee), seat_based (charges on a recurring unique count: seats), hybrid (more than one)',
  );
export const BillingTime = z
  .enum(['calendar', 'anniversary'])
  .describe(
    'calendar: periods follow the calendar (Mondays, 1st of the month, quarters, 1 January), the first and last prorated by days; ' +
      'anniversary: periods start on the start date (31 January → 28/29 February → 31 March)',
  );

export const Subscription = z.object({
  id: z.string().describe('Billfold id, sub_…; a plan change continues the subscription under a new id'),
  external_id: z.string(),
  customer_id: z.string(),
  customer_external_id: z.string().nullable(),
  plan_code: z.string(),
  name: z.string().nullable(),
  status: SubscriptionStatus,
  billing_time: BillingTime,
  timezone: z.string().describe('The zone its periods are cut in, fixed at creation'),
  started_at: Iso,
  trial_ends_at: IsoNullable.describe('No base fee before this instant; null without a trial'),
  ending_at: IsoNullable.describe('When it will terminate by itself'),
  terminated_at: IsoNullable,
  canceled_at: IsoNullable,
  current_period: z
    .object({ from: Iso, to: Iso })
    .nullable()
    .describe('The billing period running now (to exclusive), clipped to start and end; null unless active'),
  next_plan_code: z.string().nullable().describe('A downgrade waiting for the end of the period'),
  next_plan_at: IsoNullable,
  previous_subscription_id: z.string().nullable().describe('The row this one continues after a plan change'),
  plan_overrides: PlanOverrides.nullable(),
  agent_id: z
    .string()
    .nullable()
    .describe("The agent whose usage it bills (agt_…); null: all of the customer's usage"),
  agent_code: z.string().nullable(),
  billing_model: BillingModel,
  trialing: z.boolean().describe('Active and still in its trial (no base fee before trial_ends_at)'),
  past_due: z
    .boolean()
    .describe(
      "Active with an invoice still owed past its due date and the organization's past_due_grace_period_days",
    ),
  created_at: Iso,
  updated_at: Iso,
});

const Billed = {
  invoice_ids: z.array(z.string()).describe('Invoices issued for what the ended subscription owed'),
  credit_note_id: z
    .string()
    .nullable()
    .describe('Credit note for the unused part of a base fee paid in advance; null when none'),
};

export const createSubscription = defineOperation({
  name: 'create_subscription',
  title: 'Subscribe a customer to a plan',
  description:
    'Starts billing a customer on a plan. customer_id is the Billfold id (cus_…) or your external_id; plan_code ' +
    'names the plan. started_at defaults to now (a future start makes it pending until then); a bare date is ' +
    "midnight in the customer's time zone (else the organization's), which also cuts its periods. billing_time " +
    'calendar (default) aligns periods to the calendar, prorating the first; anniversary starts them on the start ' +
    "date. plan_overrides changes this subscription's prices only. The plan's currency must be the customer's (a " +
    'customer without one takes it). Retrying with the same external_id returns the live subscription (created: ' +
    'false) when customer and plan match; otherwise CONFLICT — change plans with update_subscription. A disabled ' +
    'customer is INVALID_STATUS. Usage is counted per customer, so a plan pricing a billable metric that another ' +
    'pending or active subscription of the customer prices (or will, after its scheduled downgrade) is ' +
    'VALIDATION_ERROR on plan_code: terminate that one first, or put everything on one plan — unless both are ' +
    "scoped to different agents: agent_id makes the subscription bill only that agent's usage (a plan attached " +
    'to agents must be subscribed to for one of them; attached to one, it is the default). billing_model, when ' +
    "given, must be the plan's (usage, recurring, seat_based or hybrid) or it is VALIDATION_ERROR.",
  group,
  scope: 'write',
  annotations: CREATE,
  input: z.strictObject({
    customer_id: CustomerRef,
    plan_code: PlanCode,
    agent_id: AgentRef.optional().describe("Bill only this agent's usage (its code or agt_… id)"),
    billing_model: BillingModel.optional().describe("Checked against the plan's billing model"),
    external_id: ExternalId.optional().describe(
      'Your id for the subscription (the idempotency key); default: its Billfold id',
    ),
    name: text().min(1).nullable().optional().describe('Shown on invoices, e.g. "Acme — Growth"'),
    billing_time: BillingTime.optional(),
    started_at: Moment.optional().describe('When billing starts; default now'),
    ending_at: Moment.nullable().optional().describe('When it terminates by itself; default never'),
    plan_overrides: PlanOverridesInput.optional(),
  }),
  output: z.object({ subscription: Subscription, created: z.boolean() }),
  handler: (ctx, input) => subscriptions.createSubscription(ctx, input),
});

export const getSubscription = defineOperation({
  name: 'get_subscription',
  title: 'Get a subscription',
  description:
    'Returns one subscription: customer, plan, status (pending | active | terminated | canceled), dates, the ' +
    'current billing period, a scheduled downgrade and price overrides. subscription_id is its Billfold id or your ' +
    'external_id (the live subscription under it, else its latest).',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({ subscription_id: SubscriptionRef }),
  output: z.object({ subscription: Subscription }),
  handler: async (ctx, input) => ({
    subscription: await subscriptions.getSubscription(ctx, input.subscription_id),
  }),
});

export const listSubscriptions = defineOperation({
  name: 'list_subscriptions',
  title: 'List subscriptions',
  description:
    'Lists subscriptions, newest first, including ended ones and the earlier rows of plan changes. Filters: ' +
    'customer_id (Billfold id or external_id), plan_code, agent_id, status (pending | active | terminated | ' +
    'canceled, or trialing: active in its trial, or past_due: active with an invoice overdue past the grace ' +
    'period).',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    customer_id: CustomerRef.optional(),
    plan_code: PlanCode.optional(),
    status: z.enum(subscriptions.SUBSCRIPTION_STATUS_FILTERS).optional(),
    agent_id: AgentRef.optional(),
    ...page,
  }),
  output: z.object({ subscriptions: z.array(Subscription), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, ...filter }) =>
    subscriptions.listSubscriptions(ctx, filter, { page: p, per_page }),
});

export const updateSubscription = defineOperation({
  name: 'update_subscription',
  title: 'Update a subscription or change its plan',
  description:
    'Changes name, ending_at (null: never ends), plan_overrides (null removes them) or the plan. A plan_code with ' +
    'a higher or equal base fee per year (weekly ×52, monthly ×12, quarterly ×4) is an upgrade and takes effect ' +
    'now: the current subscription is terminated and billed up to now, the unused part of a fee paid in advance ' +
    'is credited, and a new subscription row with the same external_id continues its periods. A lower one is a ' +
    'downgrade, scheduled for the end of the current period (next_plan_code / next_plan_at); passing the current ' +
    'plan_code again calls it off. plan_overrides sent with plan_code apply to the new plan. A pending ' +
    'subscription just takes the new plan. Ended subscriptions are INVALID_STATUS. A new plan pricing a billable ' +
    'metric that another live subscription of the customer prices is VALIDATION_ERROR on plan_code (this ' +
    'subscription itself does not count).',
  group,
  scope: 'write',
  annotations: UPDATE,
  input: z.strictObject({
    subscription_id: SubscriptionRef,
    name: text().min(1).nullable().optional(),
    ending_at: Moment.nullable().optional().describe('When it terminates by itself; null: never'),
    plan_code: PlanCode.optional().describe('Move to this plan (upgrade now, downgrade at period end)'),
    plan_overrides: PlanOverridesInput.nullable().optional(),
  }),
  output: z.object({
    subscription: Subscription.describe(
      'The live subscription after the change (a new row after an upgrade)',
    ),
    plan_change: z
      .enum(['upgrade', 'downgrade', 'replaced', 'scheduled_change_canceled'])
      .nullable()
      .describe(
        'upgrade: done now; downgrade: scheduled; replaced: a pending subscription took the plan; scheduled_change_canceled: a waiting downgrade was called off',
      ),
    ...Billed,
  }),
  handler: (ctx, { subscription_id, ...patch }) =>
    subscriptions.updateSubscription(ctx, subscription_id, patch),
});

export const terminateSubscription = defineOperation({
  name: 'terminate_subscription',
  title: 'Terminate a subscription',
  description:
    'Ends a subscription. when "now" (default): it terminates at once and what it owes is invoiced (usage and a ' +
    'fee in arrears up to now); the unused part of a fee paid in advance is credited. A pending subscription is ' +
    'canceled instead, with nothing billed. when "period_end": ending_at is set to the end of the current period ' +
    'and the billing run terminates it then. Terminating an ended subscription is INVALID_STATUS.',
  group,
  scope: 'write',
  annotations: { ...UPDATE, idempotentHint: false },
  input: z.strictObject({
    subscription_id: SubscriptionRef,
    when: z.enum(['now', 'period_end']).default('now'),
  }),
  output: z.object({ subscription: Subscription, ...Billed }),
  handler: (ctx, input) => subscriptions.terminateSubscription(ctx, input.subscription_id, input.when),
});

export const subscriptionOperations = [
  createSubscription,
  getSubscription,
  listSubscriptions,
  updateSubscription,
  terminateSubscription,
];
