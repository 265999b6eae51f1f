import * as z from 'zod';
import * as plans from '../services/billing/plans.js';
import { CREATE, DELETE, READ, UPDATE, defineOperation } from './define.js';
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
  invoice_display_name: text().min(1).nullable().optional(),
  tax_codes: TaxCodes.nullable()
    .optional()
    .describe(
      'Taxes on the plan’s lines, by code; absent: the invoicing defaults (organization and customer taxes)',
    ),
  charges: z.array(ChargeInput).max(100).optional().describe('Usage charges, one per billable metric'),
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
    invoice_display_name: fields.invoice_display_name,
    tax_codes: fields.tax_codes,
    charges: fields.charges,
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

export const planOperations = [createPlan, getPlan, listPlans, updatePlan, deletePlan];
