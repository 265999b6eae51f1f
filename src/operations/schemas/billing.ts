import * as z from 'zod';
import { CHARGE_MODELS } from '../../services/billing/records.js';
import { DecimalInput, Iso, IsoNullable } from './common.js';

/**
 * Plans, charges, plan overrides and coupons: the shapes the plan, coupon and subscription
 * operations share. Inputs take decimals as strings or numbers; which properties a charge
 * needs depends on its model and is checked by services/billing/charge-validation.ts, so the
 * error can name the model and the exact field.
 */

export const ChargeModel = z
  .enum(CHARGE_MODELS)
  .describe(
    'standard: units × amount; graduated: each range prices the units in it; volume: all units at the range ' +
      'the total falls in; package: per started package of package_size units after free_units; percentage: ' +
      'rate % of transacted amounts plus fixed_amount per paying transaction; credit_pool: each unit draws ' +
      'credits_per_unit credits from included_credits per period, and credits beyond the pool cost amount each',
  );

export const Interval = z.enum(['weekly', 'monthly', 'quarterly', 'yearly']);

const Dec = DecimalInput;
const OptionalDec = Dec.nullable().optional();

export const RangeInput = z.strictObject({
  from_value: Dec.describe('Lower bound (exclusive, except 0): the first range starts at 0'),
  to_value: OptionalDec.describe('Upper bound (inclusive); null or absent for the last, open range'),
  per_unit_amount: Dec.optional().describe('Price of each unit in the range (default 0)'),
  flat_amount: Dec.optional().describe('Added once when the range holds any units (default 0)'),
});

export const ChargePropertiesInput = z
  .strictObject({
    amount: Dec.optional().describe(
      'standard: price per unit; package: price per package; credit_pool: price per credit beyond the pool',
    ),
    graduated_ranges: z.array(RangeInput).min(1).max(100).optional().describe('graduated only'),
    volume_ranges: z.array(RangeInput).min(1).max(100).optional().describe('volume only'),
    package_size: Dec.optional().describe('package: units per package, greater than 0'),
    free_units: Dec.optional().describe('package: units free before packages count (default 0)'),
    rate: Dec.optional().describe('percentage: percent of each transaction, 0–100 (e.g. "2.9")'),
    fixed_amount: Dec.optional().describe('percentage: added per paying transaction (default 0)'),
    free_units_per_events: z
      .int()
      .min(0)
      .nullable()
      .optional()
      .describe('percentage: the first N transactions are free'),
    free_units_per_total_aggregation: OptionalDec.describe(
      'percentage: the first X of transacted amount is free',
    ),
    per_transaction_min_amount: OptionalDec.describe('percentage: least fee per paying transaction'),
    per_transaction_max_amount: OptionalDec.describe('percentage: greatest fee per paying transaction'),
    included_credits: Dec.optional().describe('credit_pool: credits included each period'),
    credits_per_unit: Dec.optional().describe('credit_pool: credits one unit draws (default 1)'),
  })
  .describe(
    'Prices of the charge model, decimals as strings: standard {amount}; graduated {graduated_ranges}; volume ' +
      '{volume_ranges}; package {amount, package_size, free_units}; percentage {rate, fixed_amount, ' +
      'free_units_per_events, free_units_per_total_aggregation, per_transaction_min_amount, per_transaction_max_amount}; ' +
      'credit_pool {included_credits, credits_per_unit, amount}. ' +
      'Ranges: [{from_value, to_value, per_unit_amount, flat_amount}] tiling from 0, the last with to_value null.',
  );
export type ChargePropertiesInput = z.output<typeof ChargePropertiesInput>;

export const ChargeFilterInput = z.strictObject({
  values: z
    .record(z.string().min(1).max(100), z.array(z.string().min(1).max(255)).min(1).max(200))
    .describe(
      'Event property key → the values this price applies to, among the billable metric\'s own filters, e.g. {"region": ["eu"]}',
    ),
  properties: ChargePropertiesInput,
  invoice_display_name: z.string().trim().min(1).max(255).nullable().optional(),
});
export type ChargeFilterInput = z.output<typeof ChargeFilterInput>;

const MinAmount = Dec.nullable()
  .optional()
  .describe(
    'Least the charge bills per period, in major units of the plan currency (a true-up makes up the rest)',
  );

const MinUnits = Dec.nullable()
  .optional()
  .describe(
    'Minimum commitment in units per period: fewer units used are billed as this many (a true-up line prices the rest at the charge model)',
  );

export const ChargeInput = z.strictObject({
  billable_metric_code: z.string().trim().min(1).max(255).describe('Code of the billable metric it prices'),
  charge_model: ChargeModel,
  properties: ChargePropertiesInput.optional(),
  min_amount: MinAmount,
  min_units: MinUnits,
  filters: z
    .array(ChargeFilterInput)
    .max(100)
    .optional()
    .describe('Prices for events matching property values; other events take the charge properties'),
  prorated: z
    .boolean()
    .optional()
    .describe(
      'Recurring metrics only: bill the units for the part of the period they existed (default false)',
    ),
  invoice_display_name: z.string().trim().min(1).max(255).nullable().optional(),
});
export type ChargeInput = z.output<typeof ChargeInput>;

export const PlanOverridesInput = z
  .strictObject({
    amount: Dec.optional().describe('Base fee instead of the plan amount'),
    minimum_commitment: Dec.nullable()
      .optional()
      .describe('Minimum per period instead of the plan’s; null: none'),
    charges: z
      .array(
        z.strictObject({
          billable_metric_code: z
            .string()
            .trim()
            .min(1)
            .max(255)
            .describe('The plan charge to price differently, by its billable metric code'),
          properties: ChargePropertiesInput.optional(),
          min_amount: MinAmount,
          min_units: MinUnits,
          filters: z.array(ChargeFilterInput).max(100).optional(),
        }),
      )
      .max(100)
      .optional(),
  })
  .describe('Prices for this subscription only; the plan keeps its own. Charge models stay the plan’s.');
export type PlanOverridesInput = z.output<typeof PlanOverridesInput>;

// Outputs.

const RangeOut = z.object({
  from_value: z.string(),
  to_value: z.string().nullable(),
  per_unit_amount: z.string(),
  flat_amount: z.string(),
});

export const ChargeProperties = z.object({
  amount: z.string().optional(),
  graduated_ranges: z.array(RangeOut).optional(),
  volume_ranges: z.array(RangeOut).optional(),
  package_size: z.string().optional(),
  free_units: z.string().optional(),
  rate: z.string().optional(),
  fixed_amount: z.string().optional(),
  free_units_per_events: z.int().nullable().optional(),
  free_units_per_total_aggregation: z.string().nullable().optional(),
  per_transaction_min_amount: z.string().nullable().optional(),
  per_transaction_max_amount: z.string().nullable().optional(),
  included_credits: z.string().optional(),
  credits_per_unit: z.string().optional(),
});

export const ChargeFilter = z.object({
  values: z.record(z.string(), z.array(z.string())),
  properties: ChargeProperties,
  invoice_display_name: z.string().nullable(),
});

export const Charge = z.object({
  id: z.string().describe('Charge id, chg_…; kept across update_plan while it prices the same metric'),
  billable_metric_id: z.string(),
  billable_metric_code: z.string(),
  charge_model: ChargeModel,
  properties: ChargeProperties.describe('Prices as exact decimal strings'),
  min_amount: z.string().nullable(),
  min_units: z.string().nullable().describe('Minimum commitment in units per period; null: none'),
  filters: z.array(ChargeFilter),
  prorated: z.boolean(),
  invoice_display_name: z.string().nullable(),
});

export const Plan = z.object({
  id: z.string().describe('Billfold id, plan_…'),
  code: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  interval: Interval,
  currency: z.string(),
  amount_cents: z.int().describe("Base fee per period, in the currency's minor unit"),
  amount: z.string().describe('Base fee per period, as an exact decimal string'),
  pay_in_advance: z.boolean(),
  trial_period_days: z.int(),
  minimum_commitment_cents: z.int().nullable(),
  minimum_commitment: z.string().nullable(),
  one_time_amount_cents: z.int().nullable(),
  one_time_amount: z
    .string()
    .nullable()
    .describe("Charged once, on a subscription's first invoice; null: none"),
  invoice_display_name: z.string().nullable(),
  tax_codes: z.array(z.string()).nullable().describe('null: the invoicing defaults apply'),
  charges: z.array(Charge),
  usage_thresholds: z
    .array(
      z.object({
        id: z.string().describe('Billfold id, uth_…'),
        amount_cents: z.int(),
        amount: z.string(),
        threshold_display_name: z.string().nullable(),
        recurring: z.boolean(),
      }),
    )
    .describe('Progressive billing thresholds: steps by amount, then the recurring one; empty: none'),
  agent_codes: z
    .array(z.string())
    .describe('The agents the plan is attached to (attach_plan_to_agent); empty: offered for any agent'),
  created_at: Iso,
  updated_at: Iso,
  deleted_at: IsoNullable,
});

/** Stored overrides as shown on a subscription: charges named by their metric code. */
export const PlanOverrides = z.object({
  amount: z.string().optional(),
  minimum_commitment: z.string().nullable().optional(),
  charges: z
    .array(
      z.object({
        billable_metric_code: z.string(),
        properties: ChargeProperties.optional(),
        min_amount: z.string().nullable().optional(),
        min_units: z.string().nullable().optional(),
        filters: z.array(ChargeFilter).optional(),
      }),
    )
    .optional(),
});

export const CouponType = z.enum(['fixed_amount', 'percentage']);
export const CouponFrequency = z
  .enum(['once', 'recurring', 'forever'])
  .describe(
    'once: one invoice (a fixed amount carries what it could not use to the next); recurring: frequency_duration invoices; forever: every invoice',
  );

export const Coupon = z.object({
  id: z.string().describe('Billfold id, cpn_…'),
  code: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  coupon_type: CouponType,
  amount_cents: z.int().nullable(),
  amount: z.string().nullable().describe('Fixed amount in major units (fixed_amount coupons)'),
  amount_currency: z.string().nullable(),
  percentage_rate: z.string().nullable().describe('Percent (percentage coupons), e.g. "10"'),
  frequency: CouponFrequency,
  frequency_duration: z.int().nullable(),
  expiration_at: IsoNullable,
  reusable: z.boolean(),
  plan_codes: z.array(z.string()),
  billable_metric_codes: z.array(z.string()),
  status: z
    .enum(['active', 'terminated'])
    .describe('terminated once deleted or past expiration_at: it can no longer be applied'),
  terminated_at: IsoNullable,
  created_at: Iso,
  updated_at: Iso,
  deleted_at: IsoNullable,
});

export const AppliedCoupon = z.object({
  id: z.string().describe('Applied coupon id, acp_…'),
  coupon_id: z.string(),
  coupon_code: z.string(),
  coupon_name: z.string(),
  customer_id: z.string(),
  external_customer_id: z.string().nullable(),
  status: z.enum(['active', 'terminated']),
  coupon_type: CouponType,
  frequency: CouponFrequency,
  frequency_duration: z.int().nullable(),
  frequency_duration_remaining: z.int().nullable(),
  amount_cents: z.int().nullable(),
  amount: z.string().nullable(),
  amount_currency: z.string().nullable(),
  amount_remaining_cents: z.int().nullable(),
  amount_remaining: z.string().nullable(),
  percentage_rate: z.string().nullable(),
  plan_codes: z.array(z.string()),
  billable_metric_codes: z.array(z.string()),
  expiration_at: IsoNullable,
  created_at: Iso,
  terminated_at: IsoNullable,
});
