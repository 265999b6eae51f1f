import type { PlanChargesTable, PlansTable, SubscriptionsTable } from '../../db/schema.js';
import type { ChargeModel, Range } from '../../domain/charges.js';
import { minorUnits } from '../../domain/currencies.js';
import { Decimal } from '../../domain/decimal.js';
import type { BillingTime, Interval } from '../../domain/periods.js';

/**
 * Plans, charges and subscriptions as billing code works with them: parsed once from their
 * rows into exact decimals and domain charge models. Storage keeps charge properties in the
 * shape the API shows (decimal strings); this module is the one place that reads them.
 */

export const CHARGE_MODELS = [
  'standard',
  'graduated',
  'volume',
  'package',
  'percentage',
  'credit_pool',
] as const;
export type ChargeModelName = (typeof CHARGE_MODELS)[number];

/** A range as stored and shown: decimal strings, `to_value` null for the open last range. */
export interface RangeProperties {
  from_value: string;
  to_value: string | null;
  per_unit_amount: string;
  flat_amount: string;
}

/** Charge properties as stored and shown; which keys apply depends on the charge model. */
export interface ChargeProperties {
  amount?: string;
  graduated_ranges?: RangeProperties[];
  volume_ranges?: RangeProperties[];
  package_size?: string;
  free_units?: string;
  rate?: string;
  fixed_amount?: string;
  free_units_per_events?: number | null;
  free_units_per_total_aggregation?: string | null;
  per_transaction_min_amount?: string | null;
  per_transaction_max_amount?: string | null;
  included_credits?: string;
  credits_per_unit?: string;
}

/** Pricing for the events whose properties match `values` (every key, any of its values). */
export interface StoredChargeFilter {
  values: Record<string, string[]>;
  properties: ChargeProperties;
  invoice_display_name: string | null;
}

export interface ChargeFilterRecord {
  values: Record<string, string[]>;
  properties: ChargeProperties;
  model: ChargeModel;
  invoiceDisplayName: string | null;
}

export interface ChargeRecord {
  id: string;
  position: number;
  billableMetricId: string;
  billableMetricCode: string;
  /** The metric's name: what an invoice line says unless the charge has a display name. */
  billableMetricName: string;
  chargeModel: ChargeModelName;
  properties: ChargeProperties;
  /** The model with exact decimals, ready for `chargeAmount`. */
  model: ChargeModel;
  minAmount: Decimal | null;
  /** The least units billed per period (a true-up line prices the rest at the charge's model). */
  minUnits: Decimal | null;
  filters: ChargeFilterRecord[];
  prorated: boolean;
  invoiceDisplayName: string | null;
  /** On a recurring unique_count_agg metric: it prices seats. */
  seatBased: boolean;
}

export interface MetricNames {
  code: string;
  name: string;
  /** A recurring unique count: what a seat price is a charge on. */
  seats?: boolean;
}

export interface PlanRecord {
  row: PlansTable;
  id: string;
  code: string;
  name: string;
  interval: Interval;
  currency: string;
  amount: Decimal;
  payInAdvance: boolean;
  trialPeriodDays: number;
  minimumCommitment: Decimal | null;
  /** Charged once, on a subscription's first invoice. */
  oneTimeAmount: Decimal | null;
  invoiceDisplayName: string | null;
  taxCodes: string[] | null;
  charges: ChargeRecord[];
  /** The agents the plan is attached to (none: it is offered for any agent or none). */
  agents: Array<{ id: string; code: string }>;
  /** Progressive billing: the usage amounts that make an invoice before the period ends. */
  usageThresholds: UsageThresholdRecord[];
}

/** A usage threshold as stored in plans.usage_thresholds. */
export interface StoredUsageThreshold {
  id: string;
  amount: string;
  threshold_display_name: string | null;
  recurring: boolean;
}

export interface UsageThresholdRecord {
  id: string;
  amount: Decimal;
  /** In the plan currency's minor unit. */
  amountCents: bigint;
  thresholdDisplayName: string | null;
  recurring: boolean;
}

export function usageThresholdRecords(
  json: string | null | undefined,
  currency: string,
): UsageThresholdRecord[] {
  if (!json) return [];
  const units = minorUnits(currency);
  return (JSON.parse(json) as StoredUsageThreshold[]).map((t) => {
    const amount = Decimal.parse(t.amount);
    return {
      id: t.id,
      amount,
      amountCents: amount.rescale(units, 'half_up').coef,
      thresholdDisplayName: t.threshold_display_name,
      recurring: t.recurring,
    };
  });
}

/** What a subscription may change about its plan's prices. */
export interface PlanOverrides {
  amount?: string;
  minimum_commitment?: string | null;
  charges?: Array<{
    /** The plan's charge, by id or by its billable metric's id. */
    charge_id?: string;
    billable_metric_id?: string;
    properties?: ChargeProperties;
    min_amount?: string | null;
    min_units?: string | null;
    filters?: StoredChargeFilter[];
  }>;
}

export interface SubscriptionRecord {
  row: SubscriptionsTable;
  id: string;
  externalId: string;
  customerId: string;
  planId: string;
  status: 'pending' | 'active' | 'terminated' | 'canceled';
  billingTime: BillingTime;
  timezone: string;
  anchorDate: string;
  startedAt: number;
  trialEndsAt: number | null;
  endingAt: number | null;
  terminatedAt: number | null;
  overrides: PlanOverrides | null;
  /** A scheduled downgrade: the plan it moves to at `nextPlanAt`, with its own overrides. */
  nextPlanId: string | null;
  nextPlanAt: number | null;
  nextPlanOverrides: PlanOverrides | null;
  previousSubscriptionId: string | null;
  /** The agent whose usage it bills; null: all of its customer's usage. */
  agentId: string | null;
}

const dec = (v: string | null | undefined, fallback: Decimal = Decimal.ZERO): Decimal =>
  v === null || v === undefined ? fallback : Decimal.parse(v);

function toRanges(ranges: RangeProperties[] | undefined): Range[] {
  return (ranges ?? []).map((r) => ({
    from_value: dec(r.from_value),
    to_value: r.to_value === null ? null : dec(r.to_value),
    per_unit_amount: dec(r.per_unit_amount),
    flat_amount: dec(r.flat_amount),
  }));
}

/** The domain charge model for stored properties (validated when the plan was written). */
export function toChargeModel(model: ChargeModelName, p: ChargeProperties): ChargeModel {
  switch (model) {
    case 'standard':
      return { model, amount: dec(p.amount) };
    case 'credit_pool':
      return {
        model,
        properties: {
          included_credits: dec(p.included_credits),
          credits_per_unit: dec(p.credits_per_unit, Decimal.ONE),
          amount: dec(p.amount),
        },
      };
    case 'graduated':
      return { model, ranges: toRanges(p.graduated_ranges) };
    case 'volume':
      return { model, ranges: toRanges(p.volume_ranges) };
    case 'package':
      return {
        model,
        properties: {
          amount: dec(p.amount),
          package_size: dec(p.package_size, Decimal.ONE),
          free_units: dec(p.free_units),
        },
      };
    case 'percentage':
      return {
        model,
        properties: {
          rate: dec(p.rate),
          fixed_amount: dec(p.fixed_amount),
          free_units_per_events: p.free_units_per_events ?? null,
          free_units_per_total_aggregation:
            p.free_units_per_total_aggregation == null ? null : dec(p.free_units_per_total_aggregation),
          per_transaction_min_amount:
            p.per_transaction_min_amount == null ? null : dec(p.per_transaction_min_amount),
          per_transaction_max_amount:
            p.per_transaction_max_amount == null ? null : dec(p.per_transaction_max_amount),
        },
      };
  }
}

function filterRecord(model: ChargeModelName, f: StoredChargeFilter): ChargeFilterRecord {
  return {
    values: f.values,
    properties: f.properties,
    model: toChargeModel(model, f.properties),
    invoiceDisplayName: f.invoice_display_name,
  };
}

export function chargeRecord(r: PlanChargesTable, metric: MetricNames): ChargeRecord {
  const chargeModel = r.charge_model as ChargeModelName;
  const properties = JSON.parse(r.properties) as ChargeProperties;
  return {
    id: r.id,
    position: r.position,
    billableMetricId: r.billable_metric_id,
    billableMetricCode: metric.code,
    billableMetricName: metric.name,
    chargeModel,
    properties,
    model: toChargeModel(chargeModel, properties),
    minAmount: r.min_amount === null ? null : Decimal.parse(r.min_amount),
    minUnits: r.min_units == null ? null : Decimal.parse(r.min_units),
    filters: (JSON.parse(r.filters) as StoredChargeFilter[]).map((f) => filterRecord(chargeModel, f)),
    prorated: r.prorated === 1,
    invoiceDisplayName: r.invoice_display_name,
    seatBased: metric.seats === true,
  };
}

/**
 * A plan and its live charges (rows with deleted_at set are left out), in position order;
 * `metrics` maps billable metric ids to their codes and names.
 */
export function planRecord(
  row: PlansTable,
  charges: readonly PlanChargesTable[],
  metrics: ReadonlyMap<string, MetricNames>,
  agents: Array<{ id: string; code: string }> = [],
): PlanRecord {
  return {
    row,
    id: row.id,
    code: row.code,
    name: row.name,
    interval: row.interval as Interval,
    currency: row.currency,
    amount: Decimal.parse(row.amount),
    payInAdvance: row.pay_in_advance === 1,
    trialPeriodDays: row.trial_period_days,
    minimumCommitment: row.minimum_commitment === null ? null : Decimal.parse(row.minimum_commitment),
    oneTimeAmount: row.one_time_amount == null ? null : Decimal.parse(row.one_time_amount),
    invoiceDisplayName: row.invoice_display_name,
    taxCodes: row.tax_codes === null ? null : (JSON.parse(row.tax_codes) as string[]),
    charges: charges
      .filter((c) => c.plan_id === row.id && c.deleted_at === null)
      .sort((a, b) => a.position - b.position)
      .map((c) =>
        chargeRecord(
          c,
          metrics.get(c.billable_metric_id) ?? { code: c.billable_metric_id, name: c.billable_metric_id },
        ),
      ),
    agents,
    usageThresholds: usageThresholdRecords(row.usage_thresholds, row.currency),
  };
}

export function subscriptionRecord(row: SubscriptionsTable): SubscriptionRecord {
  return {
    row,
    id: row.id,
    externalId: row.external_id,
    customerId: row.customer_id,
    planId: row.plan_id,
    status: row.status as SubscriptionRecord['status'],
    billingTime: row.billing_time as BillingTime,
    timezone: row.timezone,
    anchorDate: row.anchor_date,
    startedAt: row.started_at,
    trialEndsAt: row.trial_ends_at,
    endingAt: row.ending_at,
    terminatedAt: row.terminated_at,
    overrides: row.plan_overrides === null ? null : (JSON.parse(row.plan_overrides) as PlanOverrides),
    nextPlanId: row.next_plan_id,
    nextPlanAt: row.next_plan_at,
    nextPlanOverrides:
      row.next_plan_overrides === null ? null : (JSON.parse(row.next_plan_overrides) as PlanOverrides),
    previousSubscriptionId: row.previous_subscription_id,
    agentId: row.agent_id ?? null,
  };
}

/**
 * How a plan bills (MarginFront's billing model): by usage, a recurring fee, seats, or more
 * than one of these (hybrid). A base fee is recurring; a charge on a recurring unique count
 * prices seats; any other charge prices usage. A plan with none of them is recurring (free).
 */
export const BILLING_MODELS = ['usage', 'recurring', 'seat_based', 'hybrid'] as const;
export type BillingModel = (typeof BILLING_MODELS)[number];

export function billingModelOf(plan: PlanRecord): BillingModel {
  const kinds = new Set<BillingModel>();
  if (plan.amount.isPositive()) kinds.add('recurring');
  for (const c of plan.charges) kinds.add(c.seatBased ? 'seat_based' : 'usage');
  if (kinds.size > 1) return 'hybrid';
  return kinds.values().next().value ?? 'recurring';
}

/** The plan as one subscription pays for it: its overrides replace the plan's prices. */
export function effectivePlan(plan: PlanRecord, overrides: PlanOverrides | null): PlanRecord {
  if (!overrides) return plan;
  const charges = plan.charges.map((c) => {
    const o = overrides.charges?.find(
      (x) => x.charge_id === c.id || (!x.charge_id && x.billable_metric_id === c.billableMetricId),
    );
    if (!o) return c;
    const properties = o.properties ?? c.properties;
    return {
      ...c,
      properties,
      model: toChargeModel(c.chargeModel, properties),
      minAmount:
        o.min_amount === undefined ? c.minAmount : o.min_amount === null ? null : Decimal.parse(o.min_amount),
      minUnits:
        o.min_units === undefined ? c.minUnits : o.min_units === null ? null : Decimal.parse(o.min_units),
      filters: o.filters ? o.filters.map((f) => filterRecord(c.chargeModel, f)) : c.filters,
    };
  });
  return {
    ...plan,
    amount: overrides.amount !== undefined ? Decimal.parse(overrides.amount) : plan.amount,
    minimumCommitment:
      overrides.minimum_commitment === undefined
        ? plan.minimumCommitment
        : overrides.minimum_commitment === null
          ? null
          : Decimal.parse(overrides.minimum_commitment),
    charges,
  };
}
