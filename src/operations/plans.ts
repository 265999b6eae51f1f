import * as z from 'zod';
import * as plans from '../services/billing/plans.js';
import * as strategies from '../services/billing/pricing-strategies.js';
import { CREATE, DELETE, READ, UPDATE, defineOperation } from './define.js';
import { AgentRef } from './agents.js';
import { Code, TaxCodes } from './products.js';
import { ChargeInput, Interval, Plan } from './schemas/billing.js';
import { Currency, DecimalInput, Pagination, page, text } from './schemas/common.js';

const group = 'plans';

export const PlanRef = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .describe('The plan\'s code (e.g. "startup") or its Billfold id (plan_…)');

const Fee = DecimalInput.describe('Base fee per period in major units, e.g. "49.00"; 0 for usage-only plans');

const fields = {
  name: text().min(1),
  description: text(1000).nullable().optional(),
  interval: Interval.describe('Billing period length'),
  currency: Currency.optional(),
  amount: Fee,
  pay_in_advance: z
    .boolean()
    .optional()
    .describe('true: the base fee is invoiced at the start of each period; false (default): at its end'),
  trial_period_days: z
    .int()
    .min(0)
    .max(3650)
    .optional()
    .describe('Days at the start of a subscription without base fee (default 0)'),
  minimum_commitment: DecimalInput.nullable()
    .optional()
    .describe('Least invoiced per period before tax; a true-up line makes up the difference'),
  one_time_amount: DecimalInput.nullable()
    .optional()
    .describe(
      "A one-time fee in major units, charged once on a subscription's first invoice (not again after a plan change)",
    ),
  invoice_display_name: text().min(1).nullable().optional(),
  tax_codes: TaxCodes.nullable()
    .optional()
    .describe(
      'Taxes on the plan’s lines, by code; absent: the invoicing defaults (organization and customer taxes)',
    ),
  charges: z.array(ChargeInput).max(100).optional().describe('Usage charges, one per billable metric'),
  usage_thresholds: z
    .array(
      z.strictObject({
        amount: DecimalInput.describe(
          'Usage amount of the period, before tax, in major units, e.g. "100.00"',
        ),
        threshold_display_name: text()
          .min(1)
          .nullable()
          .optional()
          .describe('Shown on the progressive invoice'),
        recurring: z
          .boolean()
          .optional()
          .describe('true: repeats every `amount` after the last step threshold (at most one per plan)'),
      }),
    )
    .max(50)
    .nullable()
    .optional()
    .describe(
      'Progressive billing: when a subscription’s usage amount in its period reaches a threshold, a ' +
        'progressive_billing invoice bills the usage so far; the period’s invoice deducts what those billed. ' +
        'null or [] for none',
    ),
};

export const createPlan = defineOperation({
  name: 'create_plan',
  title: 'Create a plan',
  description:
    'Creates a pricing plan: a recurring base fee (`amount`, in major units, per `interval`) and `charges` that ' +
    'price billable metrics with a charge model (standard, graduated, volume, package, percentage). currency ' +
    "defaults to the organization's; pay_in_advance false and trial_period_days 0 by default. Ranges must tile " +
    'from 0 with no gaps or overlaps and an open last range; `filters` price values of the metric’s own filters; ' +
    '`prorated` only for recurring metrics. Calling it again with the same code and content returns the existing ' +
    'plan (created: false); other content under a taken code is a CONFLICT (use update_plan). Errors name the ' +
    'exact field, e.g. charges[1].properties.graduated_ranges[1].from_value.',
  group,
  scope: 'write',
  annotations: CREATE,
  input: z.strictObject({
    code: Code.describe('Your unique code for the plan, e.g. "startup"'),
    ...fields,
  }),
  output: z.object({ plan: Plan, created: z.boolean() }),
  handler: (ctx, input) => plans.createPlan(ctx, input),
});

export const getPlan = defineOperation({
  name: 'get_plan',
  title: 'Get a plan',
  description:
    'Returns one plan with its base fee (amount_cents and amount), interval, trial, minimum commitment, taxes and ' +
    'charges (billable_metric_code, charge_model, properties as exact decimal strings, filters). `plan_code` is ' +
    'its code or its Billfold id (plan_…); by id a deleted plan is shown too.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({ plan_code: PlanRef }),
  output: z.object({ plan: Plan }),
  handler: async (ctx, input) => ({ plan: await plans.getPlan(ctx, input.plan_code) }),
});

export const listPlans = defineOperation({
  name: 'list_plans',
  title: 'List plans',
  description:
    'Lists live plans by code, with their charges. `search` matches code or name (case-insensitive); ' +
    '`interval` and `currency` filter exactly.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    search: z.string().trim().min(1).max(200).optional(),
    interval: Interval.optional(),
    currency: Currency.optional(),
    agent_id: AgentRef.optional().describe('Only plans attached to this agent (its code or agt_… id)'),
    ...page,
  }),
  output: z.object({ plans: z.array(Plan), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, ...filter }) => plans.listPlans(ctx, filter, { page: p, per_page }),
});

export const updatePlan = defineOperation({
  name: 'update_plan',
  title: 'Update a plan',
  description:
    'Changes the fields you pass. `charges`, when given, replaces the whole list; a charge that prices the same ' +
    'billable metric as before keeps its id. Changes apply to the plan’s subscriptions from their next invoice; ' +
    'invoices already made keep their amounts. `plan_code` is the code or Billfold id (plan_…). A deleted plan ' +
    'cannot change (INVALID_STATUS).',
  group,
  scope: 'write',
  annotations: UPDATE,
  input: z.strictObject({
    plan_code: PlanRef,
    name: fields.name.optional(),
    description: fields.description,
    interval: fields.interval.optional(),
    currency: fields.currency,
    amount: Fee.optional(),
    pay_in_advance: fields.pay_in_advance,
    trial_period_days: fields.trial_period_days,
    minimum_commitment: fields.minimum_commitment,
    one_time_amount: fields.one_time_amount,
    invoice_display_name: fields.invoice_display_name,
    tax_codes: fields.tax_codes,
    charges: fields.charges,
    usage_thresholds: fields.usage_thresholds.describe('Replaces the whole list; null or [] removes them'),
  }),
  output: z.object({ plan: Plan }),
  handler: async (ctx, { plan_code, ...patch }) => ({ plan: await plans.updatePlan(ctx, plan_code, patch) }),
});

export const deletePlan = defineOperation({
  name: 'delete_plan',
  title: 'Delete a plan',
  description:
    'Deletes a plan so no new subscription can use it; its code becomes free. Refused (INVALID_STATUS) while ' +
    'pending or active subscriptions use it: terminate them or move them to another plan first. Terminated ' +
    'subscriptions and invoices keep pointing at it (get_plan by id still shows it). Deleting a deleted plan by ' +
    'id changes nothing.',
  group,
  scope: 'write',
  annotations: DELETE,
  input: z.strictObject({ plan_code: PlanRef }),
  output: z.object({ plan: Plan }),
  handler: async (ctx, input) => ({ plan: await plans.deletePlan(ctx, input.plan_code) }),
});

const PlanAgentInput = z.strictObject({
  plan_code: PlanRef,
  agent_id: AgentRef,
});

export const attachPlanToAgent = defineOperation({
  name: 'attach_plan_to_agent',
  title: 'Attach a plan to an agent',
  description:
    'Offers a plan for an agent (MarginFront: attach a pricing plan to an agent); a plan can be attached to ' +
    'several agents. A plan attached to agents is subscribed to for one of them (create_subscription agent_id), ' +
    "and such a subscription bills only that agent's usage. Attaching again changes nothing (attached: false).",
  group,
  scope: 'write',
  annotations: { ...UPDATE, destructiveHint: false },
  input: PlanAgentInput,
  output: z.object({ plan: Plan, agent_code: z.string(), attached: z.boolean() }),
  handler: (ctx, input) => plans.attachPlanToAgent(ctx, input.plan_code, input.agent_id),
});

export const detachPlanFromAgent = defineOperation({
  name: 'detach_plan_from_agent',
  title: 'Detach a plan from an agent',
  description:
    'Stops offering a plan for an agent. Refused (INVALID_STATUS) while a pending or active subscription bills ' +
    'that agent on the plan. Detaching an agent that is not attached changes nothing (detached: false).',
  group,
  scope: 'write',
  annotations: UPDATE,
  input: PlanAgentInput,
  output: z.object({ plan: Plan, agent_code: z.string(), detached: z.boolean() }),
  handler: (ctx, input) => plans.detachPlanFromAgent(ctx, input.plan_code, input.agent_id),
});

const StrategyTier = z.strictObject({
  up_to: DecimalInput.nullable().describe('Units up to and including this many; null for the last tier'),
  rate: DecimalInput.describe('Price of each unit in the tier'),
  flat_amount: DecimalInput.optional().describe('Added once when the tier holds any units (default 0)'),
});

export const PricingStrategy = z.object({
  id: z.string().describe('The charge id (chg_…), or <plan id>:recurring / :onetime for the plan fees'),
  plan_code: z.string(),
  charge_type: z.enum(strategies.CHARGE_TYPES),
  pricing_model: z.enum([...strategies.PRICING_MODELS, 'package', 'percentage']),
  billable_metric_code: z.string().nullable().describe('The metric (signal) it prices; null for fees'),
  currency: z.string(),
  rate: z.string().nullable().describe('flat: per unit (or the fee); credit_pool: per credit over the pool'),
  tiers: z
    .array(z.object({ up_to: z.string().nullable(), rate: z.string(), flat_amount: z.string() }))
    .nullable(),
  included_credits: z.string().nullable(),
  credits_per_unit: z.string().nullable(),
  minimum_commitment: z.string().nullable().describe('Minimum units per period (the charge min_units)'),
  charge_id: z.string().nullable(),
  charge_model: z
    .string()
    .nullable()
    .describe("The plan charge's model (standard, graduated, volume, credit_pool…)"),
  amount_cents: z.int().nullable().describe('The fee in minor units (recurring and onetime)'),
});

export const createPricingStrategy = defineOperation({
  name: 'create_pricing_strategy',
  title: 'Add a pricing strategy to a plan',
  description:
    "MarginFront's pricing strategy, written as the plan's own pricing: charge_type usage or seat_based adds a " +
    'charge on billable_metric_code (seat_based needs a recurring unique_count_agg metric) priced flat (rate per ' +
    'unit → standard), tiered (tiers → graduated), volume (tiers → volume) or credit_pool (included_credits, ' +
    'credits_per_unit, rate per credit beyond the pool); minimum_commitment is a minimum in units per period. ' +
    "charge_type recurring sets the plan's base fee to rate, onetime its one-time fee (both flat only). A metric " +
    'the plan prices already, or a fee it has already, is a CONFLICT (update_plan changes them). Returns the ' +
    "strategy and all the plan's strategies.",
  group,
  scope: 'write',
  annotations: CREATE,
  input: z.strictObject({
    plan_code: PlanRef,
    billable_metric_code: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .optional()
      .describe('The billable metric (signal) a usage or seat_based strategy prices'),
    charge_type: z.enum(strategies.CHARGE_TYPES),
    pricing_model: z.enum(strategies.PRICING_MODELS),
    rate: DecimalInput.optional().describe(
      'Price per unit (flat), per credit over the pool (credit_pool), or the fee',
    ),
    tiers: z
      .array(StrategyTier)
      .min(1)
      .max(100)
      .optional()
      .describe('tiered and volume: in order, the last up_to null'),
    included_credits: DecimalInput.optional().describe('credit_pool: credits included per period'),
    credits_per_unit: DecimalInput.optional().describe('credit_pool: credits one unit draws (default 1)'),
    minimum_commitment: DecimalInput.optional().describe('Minimum units billed per period'),
    prorated: z
      .boolean()
      .optional()
      .describe('seat_based: bill seats for the part of the period they existed'),
    invoice_display_name: text().min(1).optional(),
  }),
  output: z.object({ strategy: PricingStrategy, strategies: z.array(PricingStrategy) }),
  handler: (ctx, input) => strategies.createPricingStrategy(ctx, input),
});

export const listPricingStrategies = defineOperation({
  name: 'list_pricing_strategies',
  title: "List a plan's pricing strategies",
  description:
    "Every way a plan charges, in MarginFront's words: its recurring base fee, its one-time fee, and each charge " +
    '(usage or seat_based; flat, tiered, volume, credit_pool — or package and percentage, which MarginFront lacks).',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({ plan_code: PlanRef }),
  output: z.object({ plan_code: z.string(), strategies: z.array(PricingStrategy) }),
  handler: (ctx, input) => strategies.listPricingStrategies(ctx, input.plan_code),
});

export const planOperations = [
  createPlan,
  getPlan,
  listPlans,
  updatePlan,
  deletePlan,
  attachPlanToAgent,
  detachPlanFromAgent,
  createPricingStrategy,
  listPricingStrategies,
];
