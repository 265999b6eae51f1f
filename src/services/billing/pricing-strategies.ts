import { Decimal } from '../../domain/decimal.js';
import { BillfoldError, validation } from '../../domain/errors.js';
import { minorUnits } from '../../domain/currencies.js';
import { moneyFields } from '../../domain/money.js';
import type { ChargeInput, ChargePropertiesInput } from '../../operations/schemas/billing.js';
import type { ServiceContext } from '../context.js';
import { metricsByCode } from '../metering/metrics.js';
import { resolvePlan } from './load.js';
import { addCharge, setPlanFee } from './plans.js';
import type { ChargeRecord, PlanRecord, RangeProperties } from './records.js';

/**
 * MarginFront's pricing strategies, as a view of a plan: a strategy is one way the plan charges
 * — its recurring base fee, its one-time fee, or a charge on a billable metric (usage, or seats
 * when the metric is a recurring unique count). Creating one writes that fee or charge; listing
 * reads them back in MarginFront's words. The rules are the plan's (plans.ts); this module only
 * maps names and shapes.
 */

export const CHARGE_TYPES = ['usage', 'recurring', 'seat_based', 'onetime'] as const;
export type ChargeType = (typeof CHARGE_TYPES)[number];
export const PRICING_MODELS = ['flat', 'tiered', 'volume', 'credit_pool'] as const;
export type PricingModel = (typeof PRICING_MODELS)[number];

/** A tier as MarginFront writes it: units up to `up_to` (null: the rest) at `rate` each. */
export interface Tier {
  up_to: Decimal | null;
  rate: Decimal;
  flat_amount?: Decimal;
}

export interface PricingStrategyInput {
  plan_code: string;
  billable_metric_code?: string;
  charge_type: ChargeType;
  pricing_model: PricingModel;
  rate?: Decimal;
  tiers?: Tier[];
  included_credits?: Decimal;
  credits_per_unit?: Decimal;
  minimum_commitment?: Decimal;
  prorated?: boolean;
  invoice_display_name?: string;
}

export interface PricingStrategyView {
  id: string;
  plan_code: string;
  charge_type: ChargeType;
  pricing_model: PricingModel | 'package' | 'percentage';
  billable_metric_code: string | null;
  currency: string;
  rate: string | null;
  tiers: Array<{ up_to: string | null; rate: string; flat_amount: string }> | null;
  included_credits: string | null;
  credits_per_unit: string | null;
  minimum_commitment: string | null;
  charge_id: string | null;
  charge_model: string | null;
  amount_cents: number | null;
}

const MODEL_OF: Record<PricingModel, ChargeInput['charge_model']> = {
  flat: 'standard',
  tiered: 'graduated',
  volume: 'volume',
  credit_pool: 'credit_pool',
};

function rangesOf(tiers: Tier[] | undefined, field: string): ChargePropertiesInput['graduated_ranges'] {
  if (!tiers?.length) {
    throw validation(
      field,
      'is required for tiered and volume pricing: [{up_to, rate}], the last with up_to null',
      'e.g. [{"up_to": 1000, "rate": "0.01"}, {"up_to": null, "rate": "0.005"}]',
    );
  }
  let from = Decimal.ZERO;
  return tiers.map((t) => {
    const range = {
      from_value: from,
      to_value: t.up_to,
      per_unit_amount: t.rate,
      flat_amount: t.flat_amount,
    };
    if (t.up_to !== null) from = t.up_to;
    return range;
  });
}

function requireRate(input: PricingStrategyInput): Decimal {
  if (input.rate === undefined) {
    throw validation('rate', `is required for ${input.charge_type} ${input.pricing_model} pricing`);
  }
  return input.rate;
}

/** The plan charge a usage or seat strategy is. */
function chargeOf(input: PricingStrategyInput, metricCode: string): ChargeInput {
  const model = MODEL_OF[input.pricing_model];
  let properties: ChargePropertiesInput;
  switch (input.pricing_model) {
    case 'flat':
      properties = { amount: requireRate(input) };
      break;
    case 'tiered':
      properties = { graduated_ranges: rangesOf(input.tiers, 'tiers') };
      break;
    case 'volume':
      properties = { volume_ranges: rangesOf(input.tiers, 'tiers') };
      break;
    case 'credit_pool':
      properties = {
        included_credits: input.included_credits,
        credits_per_unit: input.credits_per_unit,
        amount: requireRate(input),
      };
      break;
  }
  return {
    billable_metric_code: metricCode,
    charge_model: model,
    properties,
    min_units: input.minimum_commitment ?? null,
    prorated: input.prorated,
    invoice_display_name: input.invoice_display_name ?? null,
  };
}

/** The charge's field paths, as the strategy's input names them. */
const PATHS: Array<[RegExp, string]> = [
  [/charges\[0\]\.properties\.(graduated|volume)_ranges/g, 'tiers'],
  [/charges\[0\]\.properties\.amount/g, 'rate'],
  [/charges\[0\]\.properties\.(included_credits|credits_per_unit)/g, '$1'],
  [/charges\[0\]\.min_units/g, 'minimum_commitment'],
  [/charges\[0\]\./g, ''],
  [/(tiers\[\d+\])\.to_value/g, '$1.up_to'],
  [/(tiers\[\d+\])\.per_unit_amount/g, '$1.rate'],
  [/(tiers\[\d+\])\.from_value/g, "$1 (the previous tier's up_to)"],
];

function inStrategyTerms(e: BillfoldError): BillfoldError {
  const map = (t: string) => PATHS.reduce((acc, [re, to]) => acc.replace(re, to), t);
  const issues = (e.details.issues as Array<{ field: string; message: string }> | undefined)?.map((i) => ({
    field: map(i.field),
    message: map(i.message),
  }));
  return new BillfoldError(
    e.code,
    map(e.message),
    issues ? { ...e.details, issues } : e.details,
    e.hint === undefined ? undefined : map(e.hint),
  );
}

function notFor(input: PricingStrategyInput, field: keyof PricingStrategyInput, why: string): void {
  if (input[field] !== undefined)
    throw validation(field, `does not apply to ${input.charge_type} strategies: ${why}`);
}

export async function createPricingStrategy(
  ctx: ServiceContext,
  input: PricingStrategyInput,
): Promise<{ strategy: PricingStrategyView; strategies: PricingStrategyView[] }> {
  let plan: PlanRecord;
  let pick: (p: PlanRecord) => PricingStrategyView | undefined;
  if (input.charge_type === 'recurring' || input.charge_type === 'onetime') {
    const fee = input.charge_type === 'recurring' ? 'the plan base fee' : "the plan's one-time fee";
    if (input.pricing_model !== 'flat') {
      throw validation(
        'pricing_model',
        `${input.charge_type} strategies are flat (${fee}), not ${input.pricing_model}`,
        'Tiered, volume and credit pool pricing apply to usage and seat_based strategies.',
      );
    }
    for (const f of [
      'billable_metric_code',
      'tiers',
      'included_credits',
      'credits_per_unit',
      'minimum_commitment',
    ] as const)
      notFor(input, f, `the strategy is ${fee}`);
    const which = input.charge_type === 'recurring' ? 'amount' : 'one_time_amount';
    plan = await setPlanFee(ctx, input.plan_code, which, requireRate(input));
    pick = (p) => strategiesOf(p).find((s) => s.charge_type === input.charge_type);
  } else {
    if (!input.billable_metric_code) {
      throw validation(
        'billable_metric_code',
        `is required for ${input.charge_type} strategies: the billable metric (MarginFront's signal) it prices`,
        'list_billable_metrics shows the codes.',
      );
    }
    const metric = (await metricsByCode(ctx, [input.billable_metric_code])).get(input.billable_metric_code);
    if (metric) {
      const seats = metric.aggregation_type === 'unique_count_agg' && metric.recurring === 1;
      if (seats !== (input.charge_type === 'seat_based')) {
        throw validation(
          'charge_type',
          seats
            ? `billable metric '${metric.code}' counts seats (a recurring unique count): its strategies are seat_based`
            : `seat_based prices seats, a recurring unique_count_agg metric, and '${metric.code}' is a ${metric.recurring === 1 ? 'recurring ' : ''}${metric.aggregation_type}`,
          seats
            ? 'Give charge_type seat_based.'
            : 'Give charge_type usage, or create a recurring unique_count_agg metric for seats (create_billable_metric).',
        );
      }
    }
    if (input.pricing_model !== 'tiered' && input.pricing_model !== 'volume')
      notFor(input, 'tiers', 'flat and credit pool pricing take a rate');
    if (input.pricing_model !== 'credit_pool') {
      notFor(input, 'included_credits', 'only credit pool pricing has a pool');
      notFor(input, 'credits_per_unit', 'only credit pool pricing has a pool');
    }
    if (input.pricing_model === 'credit_pool' && input.included_credits === undefined) {
      throw validation(
        'included_credits',
        'is required for credit_pool pricing: the credits included per period',
        'e.g. included_credits "10000", credits_per_unit "1", rate "0.002" (per credit beyond the pool)',
      );
    }
    try {
      plan = await addCharge(ctx, input.plan_code, chargeOf(input, input.billable_metric_code));
    } catch (e) {
      throw e instanceof BillfoldError ? inStrategyTerms(e) : e;
    }
    pick = (p) => strategiesOf(p).find((s) => s.billable_metric_code === input.billable_metric_code);
  }
  return { strategy: pick(plan)!, strategies: strategiesOf(plan) };
}

export async function listPricingStrategies(
  ctx: ServiceContext,
  planRef: string,
): Promise<{ plan_code: string; strategies: PricingStrategyView[] }> {
  const plan = await resolvePlan(ctx, planRef, { includeDeleted: true });
  return { plan_code: plan.code, strategies: strategiesOf(plan) };
}

function rangesView(r: RangeProperties[]) {
  return r.map((x) => ({ up_to: x.to_value, rate: x.per_unit_amount, flat_amount: x.flat_amount }));
}

function chargeStrategy(plan: PlanRecord, c: ChargeRecord): PricingStrategyView {
  const p = c.properties;
  const base = {
    id: c.id,
    plan_code: plan.code,
    charge_type: (c.seatBased ? 'seat_based' : 'usage') as ChargeType,
    billable_metric_code: c.billableMetricCode,
    currency: plan.currency,
    rate: null,
    tiers: null,
    included_credits: null,
    credits_per_unit: null,
    minimum_commitment: c.minUnits?.toString() ?? null,
    charge_id: c.id,
    charge_model: c.chargeModel,
    amount_cents: null,
  };
  switch (c.chargeModel) {
    case 'standard':
      return { ...base, pricing_model: 'flat', rate: p.amount ?? null };
    case 'graduated':
      return { ...base, pricing_model: 'tiered', tiers: rangesView(p.graduated_ranges ?? []) };
    case 'volume':
      return { ...base, pricing_model: 'volume', tiers: rangesView(p.volume_ranges ?? []) };
    case 'credit_pool':
      return {
        ...base,
        pricing_model: 'credit_pool',
        rate: p.amount ?? null,
        included_credits: p.included_credits ?? null,
        credits_per_unit: p.credits_per_unit ?? null,
      };
    case 'package':
      return { ...base, pricing_model: 'package', rate: p.amount ?? null };
    case 'percentage':
      return { ...base, pricing_model: 'percentage', rate: p.rate ?? null };
  }
}

function feeStrategy(plan: PlanRecord, type: 'recurring' | 'onetime', amount: Decimal): PricingStrategyView {
  const money = moneyFields('amount', amount.toMinor(minorUnits(plan.currency)), plan.currency);
  return {
    id: `${plan.id}:${type}`,
    plan_code: plan.code,
    charge_type: type,
    pricing_model: 'flat',
    billable_metric_code: null,
    currency: plan.currency,
    rate: money.amount,
    tiers: null,
    included_credits: null,
    credits_per_unit: null,
    minimum_commitment: null,
    charge_id: null,
    charge_model: null,
    amount_cents: money.amount_cents,
  };
}

/** Every way a plan charges, as strategies: its base fee, one-time fee, then its charges in order. */
export function strategiesOf(plan: PlanRecord): PricingStrategyView[] {
  const out: PricingStrategyView[] = [];
  if (plan.amount.isPositive()) out.push(feeStrategy(plan, 'recurring', plan.amount));
  if (plan.oneTimeAmount?.isPositive()) out.push(feeStrategy(plan, 'onetime', plan.oneTimeAmount));
  for (const c of plan.charges) out.push(chargeStrategy(plan, c));
  return out;
}
