import * as z from 'zod';
import * as coupons from '../services/billing/coupons.js';
import { CREATE, DELETE, READ, UPDATE, defineOperation } from './define.js';
import { Code } from './products.js';
import { AppliedCoupon, Coupon, CouponFrequency, CouponType } from './schemas/billing.js';
import { Currency, CustomerRef, DecimalInput, Instant, Pagination, page, text } from './schemas/common.js';

const group = 'coupons';

const CouponRef = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .describe('The coupon code (e.g. "WELCOME10") or its Billfold id (cpn_…)');

const CodeList = z.array(z.string().trim().min(1).max(255)).max(100);

const terms = {
  amount: DecimalInput.describe('fixed_amount coupons: the amount off in major units, e.g. "25.00"'),
  amount_currency: Currency.describe("fixed_amount coupons: its currency (default the organization's)"),
  percentage_rate: DecimalInput.describe(
    'percentage coupons: percent off, more than 0 and at most 100, e.g. "10"',
  ),
  frequency: CouponFrequency,
  frequency_duration: z.int().min(1).max(1200).describe('recurring coupons: how many invoices it applies to'),
};

const limits = {
  expiration_at: Instant.nullable().optional().describe('After this instant it can no longer be applied'),
  reusable: z
    .boolean()
    .optional()
    .describe('false: a customer can have it applied only once, ever (default true)'),
  plan_codes: CodeList.optional().describe('Only lines of subscriptions to these plans are discounted'),
  billable_metric_codes: CodeList.optional().describe(
    'Only charge lines of these billable metrics are discounted (not together with plan_codes)',
  ),
};

export const createCoupon = defineOperation({
  name: 'create_coupon',
  title: 'Create a coupon',
  description:
    'Creates a coupon customers can be given with apply_coupon. coupon_type fixed_amount takes `amount` (major ' +
    "units) and amount_currency (default the organization's); percentage takes percentage_rate. frequency once " +
    '(default; a fixed amount not used up carries over to the next invoice), recurring (frequency_duration ' +
    'invoices) or forever. Coupons reduce subscription invoices before tax: those limited to billable metrics ' +
    'first, then those limited to plans, then the rest, oldest first. reusable defaults to true. Calling it again ' +
    'with the same code and terms returns the existing coupon (created: false); other terms under a taken code are ' +
    'a CONFLICT.',
  group,
  scope: 'write',
  annotations: CREATE,
  input: z.strictObject({
    code: Code.describe('Your unique code for the coupon, e.g. "WELCOME10"'),
    name: text().min(1),
    description: text(1000).nullable().optional(),
    coupon_type: CouponType,
    amount: terms.amount.optional(),
    amount_currency: terms.amount_currency.optional(),
    percentage_rate: terms.percentage_rate.optional(),
    frequency: terms.frequency.optional(),
    frequency_duration: terms.frequency_duration.optional(),
    ...limits,
  }),
  output: z.object({ coupon: Coupon, created: z.boolean() }),
  handler: (ctx, input) => coupons.createCoupon(ctx, input),
});

export const getCoupon = defineOperation({
  name: 'get_coupon',
  title: 'Get a coupon',
  description:
    'Returns one coupon: its terms, limits, expiration and status (terminated once deleted or expired). ' +
    '`coupon_code` is its code or Billfold id (cpn_…); by id a deleted coupon is shown too.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({ coupon_code: CouponRef }),
  output: z.object({ coupon: Coupon }),
  handler: async (ctx, input) => ({ coupon: await coupons.getCoupon(ctx, input.coupon_code) }),
});

export const listCoupons = defineOperation({
  name: 'list_coupons',
  title: 'List coupons',
  description:
    'Lists coupons that are not deleted, by code. `status` active: can still be applied; terminated: expired. ' +
    '`search` matches code or name (case-insensitive).',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    search: z.string().trim().min(1).max(200).optional(),
    status: z.enum(['active', 'terminated']).optional(),
    ...page,
  }),
  output: z.object({ coupons: z.array(Coupon), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, ...filter }) => coupons.listCoupons(ctx, filter, { page: p, per_page }),
});

export const updateCoupon = defineOperation({
  name: 'update_coupon',
  title: 'Update a coupon',
  description:
    'Changes the fields you pass. New terms (type, amount, rate, frequency) apply to later apply_coupon calls; ' +
    'coupons already applied keep the terms they were applied with, while plan and metric limits apply to them ' +
    'from their next invoice. A later expiration_at extends an expired coupon; null removes the expiration.',
  group,
  scope: 'write',
  annotations: UPDATE,
  input: z.strictObject({
    coupon_code: CouponRef,
    name: text().min(1).optional(),
    description: text(1000).nullable().optional(),
    coupon_type: CouponType.optional(),
    amount: terms.amount.optional(),
    amount_currency: terms.amount_currency.optional(),
    percentage_rate: terms.percentage_rate.optional(),
    frequency: terms.frequency.optional(),
    frequency_duration: terms.frequency_duration.nullable().optional(),
    ...limits,
  }),
  output: z.object({ coupon: Coupon }),
  handler: async (ctx, { coupon_code, ...patch }) => ({
    coupon: await coupons.updateCoupon(ctx, coupon_code, patch),
  }),
});

export const deleteCoupon = defineOperation({
  name: 'delete_coupon',
  title: 'Delete a coupon',
  description:
    'Deletes a coupon so it can no longer be applied; its code becomes free. Coupons already applied to ' +
    'customers keep working until they run out or remove_applied_coupon ends them. Deleting a deleted coupon by ' +
    'id changes nothing.',
  group,
  scope: 'write',
  annotations: DELETE,
  input: z.strictObject({ coupon_code: CouponRef }),
  output: z.object({ coupon: Coupon }),
  handler: async (ctx, input) => ({ coupon: await coupons.deleteCoupon(ctx, input.coupon_code) }),
});

export const applyCoupon = defineOperation({
  name: 'apply_coupon',
  title: 'Apply a coupon to a customer',
  description:
    "Gives a customer a coupon; it reduces the customer's subscription invoices from the next one. " +
    '`customer_id` is the Billfold id (cus_…) or your external_id. frequency, frequency_duration, amount (with ' +
    'amount_currency) or percentage_rate override the coupon’s terms for this customer. Refused: unknown coupon ' +
    '(NOT_FOUND), expired or deleted coupon (INVALID_STATUS), a non-reusable coupon this customer already had ' +
    "(CONFLICT), a fixed amount in another currency than the customer's (VALIDATION_ERROR).",
  group,
  scope: 'write',
  annotations: CREATE,
  input: z.strictObject({
    customer_id: CustomerRef,
    coupon_code: CouponRef,
    frequency: terms.frequency.optional(),
    frequency_duration: terms.frequency_duration.optional(),
    amount: terms.amount.optional(),
    amount_currency: Currency.optional().describe('Currency of the amount override'),
    percentage_rate: terms.percentage_rate.optional(),
  }),
  output: z.object({ applied_coupon: AppliedCoupon }),
  handler: async (ctx, input) => ({ applied_coupon: await coupons.applyCoupon(ctx, input) }),
});

export const listAppliedCoupons = defineOperation({
  name: 'list_applied_coupons',
  title: 'List applied coupons',
  description:
    'Lists coupons applied to customers, newest first, with what is left of each (amount_remaining for once ' +
    'fixed amounts, frequency_duration_remaining for recurring ones). Filters: status (active | terminated), ' +
    'customer_id (Billfold id or external_id), coupon_codes.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    status: z.enum(['active', 'terminated']).optional(),
    customer_id: CustomerRef.optional(),
    coupon_codes: CodeList.optional(),
    ...page,
  }),
  output: z.object({ applied_coupons: z.array(AppliedCoupon), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, ...filter }) =>
    coupons.listAppliedCoupons(ctx, filter, { page: p, per_page }),
});

export const removeAppliedCoupon = defineOperation({
  name: 'remove_applied_coupon',
  title: 'Remove an applied coupon',
  description:
    'Ends a coupon applied to a customer (status terminated): later invoices no longer take it; invoices it ' +
    'already reduced keep their discount. `applied_coupon_id` is the acp_… id list_applied_coupons shows. ' +
    'Removing one already terminated changes nothing.',
  group,
  scope: 'write',
  annotations: DELETE,
  input: z.strictObject({
    applied_coupon_id: z.string().trim().min(1).max(255).describe('The applied coupon, acp_…'),
  }),
  output: z.object({ applied_coupon: AppliedCoupon, changed: z.boolean() }),
  handler: (ctx, input) => coupons.removeAppliedCoupon(ctx, input.applied_coupon_id),
});

export const couponOperations = [
  createCoupon,
  getCoupon,
  listCoupons,
  updateCoupon,
  deleteCoupon,
  applyCoupon,
  listAppliedCoupons,
  removeAppliedCoupon,
];
