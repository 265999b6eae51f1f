import type { BillableMetricsTable } from '../../db/schema.js';
import { rangeProblem, type Range } from '../../domain/charges.js';
import { minorUnits } from '../../domain/currencies.js';
import { Decimal } from '../../domain/decimal.js';
import { validation } from '../../domain/errors.js';
import type { MetricFilter } from '../../domain/usage.js';
import type { ServiceContext } from '../context.js';
import type {
  ChargeFilterInput,
  ChargePropertiesInput,
  PlanOverridesInput,
} from '../../operations/schemas/billing.js';
import type {
  ChargeModelName,
  ChargeProperties,
  PlanOverrides,
  PlanRecord,
  RangeProperties,
  StoredChargeFilter,
} from './records.js';

/**
 * Checks charge prices as a caller wrote them and turns them into the stored shape (exact
 * decimal strings). Every error names the exact field path (`charges[1].properties.
 * graduated_ranges[1].from_value`) and says what would work.
 */

type PropertyKey = keyof ChargePropertiesInput;

/** The properties each model reads; anything else given is a mistake worth saying. */
const MODEL_KEYS: Record<ChargeModelName, readonly PropertyKey[]> = {
  standard: ['amount'],
  graduated: ['graduated_ranges'],
  volume: ['volume_ranges'],
  package: ['amount', 'package_size', 'free_units'],
  percentage: [
    'rate',
    'fixed_amount',
    'free_units_per_events',
    'free_units_per_total_aggregation',
    'per_transaction_min_amount',
    'per_transaction_max_amount',
  ],
  credit_pool: ['included_credits', 'credits_per_unit', 'amount'],
};

const EXAMPLES: Record<ChargeModelName, string> = {
  standard: '{"amount": "0.05"}',
  graduated:
    '{"graduated_ranges": [{"from_value": 0, "to_value": 100, "per_unit_amount": "0.10", "flat_amount": "0"}, ' +
    '{"from_value": 100, "to_value": null, "per_unit_amount": "0.05", "flat_amount": "0"}]}',
  volume:
    '{"volume_ranges": [{"from_value": 0, "to_value": 100, "per_unit_amount": "0.10", "flat_amount": "0"}, ' +
    '{"from_value": 100, "to_value": null, "per_unit_amount": "0.05", "flat_amount": "0"}]}',
  package: '{"amount": "5", "package_size": 100, "free_units": 0}',
  percentage: '{"rate": "2.9", "fixed_amount": "0.30"}',
  credit_pool: '{"included_credits": "10000", "credits_per_unit": "1", "amount": "0.002"}',
};

function example(model: ChargeModelName): string {
  return `A ${model} charge takes properties like ${EXAMPLES[model]}.`;
}

function required(model: ChargeModelName, field: string, key: string): never {
  throw validation(`${field}.${key}`, `is required for the ${model} charge model`, example(model));
}

function nonNegative(d: Decimal, field: string): string {
  if (d.isNegative()) throw validation(field, `must not be negative (got ${d.toString()})`);
  return d.toString();
}

function ranges(
  model: 'graduated' | 'volume',
  input: NonNullable<ChargePropertiesInput['graduated_ranges']> | undefined,
  field: string,
): RangeProperties[] {
  const key = `${model}_ranges`;
  if (!input) required(model, field, key);
  const parsed: Range[] = input.map((r) => ({
    from_value: r.from_value,
    to_value: r.to_value ?? null,
    per_unit_amount: r.per_unit_amount ?? Decimal.ZERO,
    flat_amount: r.flat_amount ?? Decimal.ZERO,
  }));
  const problem = rangeProblem(parsed, `${field}.${key}`);
  if (problem) {
    // rangeProblem starts its message with the path at fault; report that path as the field.
    const space = problem.indexOf(' ');
    throw validation(
      problem.slice(0, space),
      problem.slice(space + 1),
      `Ranges tile from 0 with no gaps or overlaps and the last is open: ${EXAMPLES[model]}`,
    );
  }
  return parsed.map((r) => ({
    from_value: r.from_value.toString(),
    to_value: r.to_value === null ? null : r.to_value.toString(),
    per_unit_amount: r.per_unit_amount.toString(),
    flat_amount: r.flat_amount.toString(),
  }));
}

/**
 * The stored properties of a charge of `model`, or a VALIDATION_ERROR naming the field under
 * `field` (e.g. `charges[1].properties`). Missing properties are reported key by key.
 */
export function validateChargeProperties(
  model: ChargeModelName,
  properties: ChargePropertiesInput | undefined,
  field: string,
): ChargeProperties {
  const p: ChargePropertiesInput = properties ?? {};
  for (const key of Object.keys(p) as PropertyKey[]) {
    if (p[key] === undefined) continue;
    if (!MODEL_KEYS[model].includes(key)) {
      throw validation(
        `${field}.${key}`,
        `does not apply to the ${model} charge model, which takes ${MODEL_KEYS[model].join(', ')}`,
        example(model),
      );
    }
  }
  switch (model) {
    case 'standard':
      if (!p.amount) required(model, field, 'amount');
      return { amount: nonNegative(p.amount, `${field}.amount`) };
    case 'graduated':
      return { graduated_ranges: ranges(model, p.graduated_ranges, field) };
    case 'volume':
      return { volume_ranges: ranges(model, p.volume_ranges, field) };
    case 'package': {
      if (!p.amount) required(model, field, 'amount');
      if (!p.package_size) required(model, field, 'package_size');
      if (!p.package_size.isPositive()) {
        throw validation(
          `${field}.package_size`,
          `must be greater than 0 (got ${p.package_size.toString()})`,
          'package_size is how many units one package holds, e.g. 100.',
        );
      }
      return {
        amount: nonNegative(p.amount, `${field}.amount`),
        package_size: p.package_size.toString(),
        free_units: nonNegative(p.free_units ?? Decimal.ZERO, `${field}.free_units`),
      };
    }
    case 'credit_pool': {
      if (!p.included_credits) required(model, field, 'included_credits');
      if (!p.amount) required(model, field, 'amount');
      const perUnit = p.credits_per_unit ?? Decimal.ONE;
      if (!perUnit.isPositive()) {
        throw validation(
          `${field}.credits_per_unit`,
          `must be greater than 0 (got ${perUnit.toString()})`,
          'credits_per_unit is how many credits of the pool one unit uses, e.g. 1.',
        );
      }
      return {
        included_credits: nonNegative(p.included_credits, `${field}.included_credits`),
        credits_per_unit: perUnit.toString(),
        amount: nonNegative(p.amount, `${field}.amount`),
      };
    }
    case 'percentage': {
      if (!p.rate) required(model, field, 'rate');
      if (p.rate.isNegative() || p.rate.gt(100)) {
        throw validation(
          `${field}.rate`,
          `must be between 0 and 100 (got ${p.rate.toString()})`,
          'rate is a percent: "2.9" means 2.9 %.',
        );
      }
      const min = p.per_transaction_min_amount ?? null;
      const max = p.per_transaction_max_amount ?? null;
      if (min && max && min.gt(max)) {
        throw validation(
          `${field}.per_transaction_max_amount`,
          `must not be below per_transaction_min_amount ${min.toString()} (got ${max.toString()})`,
        );
      }
      const opt = (d: Decimal | null | undefined, key: string) =>
        d === null || d === undefined ? null : nonNegative(d, `${field}.${key}`);
      return {
        rate: p.rate.toString(),
        fixed_amount: nonNegative(p.fixed_amount ?? Decimal.ZERO, `${field}.fixed_amount`),
        free_units_per_events: p.free_units_per_events ?? null,
        free_units_per_total_aggregation: opt(
          p.free_units_per_total_aggregation,
          'free_units_per_total_aggregation',
        ),
        per_transaction_min_amount: opt(min, 'per_transaction_min_amount'),
        per_transaction_max_amount: opt(max, 'per_transaction_max_amount'),
      };
    }
  }
}

/**
 * An amount of money in `currency` that must be a whole number of its minor unit and not
 * negative (a base fee, a minimum): the decimal string to store.
 */
export function currencyAmount(d: Decimal, currency: string, field: string): string {
  if (d.isNegative()) throw validation(field, `must not be negative (got ${d.toString()})`);
  const units = minorUnits(currency);
  if (!d.round(units).eq(d)) {
    throw validation(
      field,
      `has more decimals than ${currency} allows (${units}) (got ${d.toString()})`,
      `Give it to the ${currency} minor unit, e.g. ${d.round(units).toFixed(units)}.`,
    );
  }
  return d.toFixed(Math.max(units, 0));
}

/**
 * A charge's minimum commitment in units, stored as a decimal string (null: none). Percentage
 * charges price amounts, not units, so they take none.
 */
export function minUnits(
  model: ChargeModelName,
  d: Decimal | null | undefined,
  field: string,
): string | null {
  if (d === undefined || d === null) return null;
  if (model === 'percentage') {
    throw validation(
      field,
      'does not apply to the percentage charge model, which prices transacted amounts rather than units',
      'Use min_amount for a least amount per period instead.',
    );
  }
  if (!d.isPositive()) throw validation(field, `must be greater than 0 (got ${d.toString()})`);
  return d.toString();
}

/**
 * Filters of a charge on `metric`: each key and value must be among the metric's own filters,
 * and no two filters may match the same values.
 */
export function validateChargeFilters(
  model: ChargeModelName,
  filters: readonly ChargeFilterInput[],
  metric: Pick<BillableMetricsTable, 'code' | 'filters'>,
  field: string,
): StoredChargeFilter[] {
  const defs = JSON.parse(metric.filters) as MetricFilter[];
  const seen = new Set<string>();
  return filters.map((f, i) => {
    const at = `${field}[${i}]`;
    const keys = Object.keys(f.values);
    if (keys.length === 0) {
      throw validation(
        `${at}.values`,
        'must name at least one filter key and its values, e.g. {"region": ["eu"]}',
      );
    }
    for (const key of keys) {
      const def = defs.find((d) => d.key === key);
      if (!def) {
        throw validation(
          `${at}.values.${key}`,
          `'${key}' is not a filter of billable metric '${metric.code}'`,
          defs.length
            ? `Its filter keys: ${defs.map((d) => d.key).join(', ')}.`
            : `It has no filters; update_billable_metric with \`filters\` adds them.`,
        );
      }
      f.values[key]!.forEach((v, j) => {
        if (!def.values.includes(v)) {
          throw validation(
            `${at}.values.${key}[${j}]`,
            `'${v}' is not a value of filter '${key}' of billable metric '${metric.code}'`,
            `Its values: ${def.values.join(', ')}.`,
          );
        }
      });
    }
    const signature = JSON.stringify(keys.sort().map((k) => [k, [...new Set(f.values[k])].sort()]));
    if (seen.has(signature)) throw validation(`${at}.values`, 'repeats the values of an earlier filter');
    seen.add(signature);
    return {
      values: Object.fromEntries(keys.map((k) => [k, [...new Set(f.values[k])]])),
      properties: validateChargeProperties(model, f.properties, `${at}.properties`),
      invoice_display_name: f.invoice_display_name ?? null,
    };
  });
}

/**
 * A subscription's plan overrides, checked against its plan: charges are named by billable
 * metric code and must be charges of the plan; prices follow the charge's model. Returns the
 * stored shape (charges keyed by billable_metric_id). `field` prefixes every error path.
 */
export async function validatePlanOverrides(
  ctx: ServiceContext,
  plan: PlanRecord,
  input: PlanOverridesInput,
  field = 'plan_overrides',
): Promise<PlanOverrides> {
  const out: PlanOverrides = {};
  if (input.amount !== undefined) out.amount = currencyAmount(input.amount, plan.currency, `${field}.amount`);
  if (input.minimum_commitment !== undefined) {
    out.minimum_commitment =
      input.minimum_commitment === null
        ? null
        : currencyAmount(input.minimum_commitment, plan.currency, `${field}.minimum_commitment`);
  }
  if (input.charges) {
    const metricIds = plan.charges.map((c) => c.billableMetricId);
    const metrics = metricIds.length
      ? await ctx.db
          .selectFrom('billable_metrics')
          .select(['id', 'code', 'filters'])
          .where('organization_id', '=', ctx.organizationId)
          .where('id', 'in', metricIds)
          .execute()
      : [];
    const seen = new Set<string>();
    out.charges = input.charges.map((o, i) => {
      const at = `${field}.charges[${i}]`;
      const charge = plan.charges.find((c) => c.billableMetricCode === o.billable_metric_code);
      if (!charge) {
        throw validation(
          `${at}.billable_metric_code`,
          `plan '${plan.code}' has no charge for billable metric '${o.billable_metric_code}'`,
          plan.charges.length
            ? `Its charges price: ${plan.charges.map((c) => c.billableMetricCode).join(', ')}.`
            : 'The plan has no charges to override.',
        );
      }
      if (seen.has(charge.billableMetricId)) {
        throw validation(`${at}.billable_metric_code`, `'${o.billable_metric_code}' is overridden twice`);
      }
      seen.add(charge.billableMetricId);
      const stored: NonNullable<PlanOverrides['charges']>[number] = {
        billable_metric_id: charge.billableMetricId,
      };
      if (o.properties !== undefined) {
        stored.properties = validateChargeProperties(charge.chargeModel, o.properties, `${at}.properties`);
      }
      if (o.min_amount !== undefined) {
        stored.min_amount =
          o.min_amount === null ? null : currencyAmount(o.min_amount, plan.currency, `${at}.min_amount`);
      }
      if (o.min_units !== undefined)
        stored.min_units = minUnits(charge.chargeModel, o.min_units, `${at}.min_units`);
      if (o.filters !== undefined) {
        const metric = metrics.find((m) => m.id === charge.billableMetricId) ?? {
          code: charge.billableMetricCode,
          filters: '[]',
        };
        stored.filters = validateChargeFilters(charge.chargeModel, o.filters, metric, `${at}.filters`);
      }
      return stored;
    });
  }
  return out;
}

/** Stored overrides as a subscription shows them: charges named by billable metric code. */
export function planOverridesView(
  overrides: PlanOverrides | null,
  plan: PlanRecord,
): {
  amount?: string;
  minimum_commitment?: string | null;
  charges?: Array<{
    billable_metric_code: string;
    properties?: ChargeProperties;
    min_amount?: string | null;
    min_units?: string | null;
    filters?: StoredChargeFilter[];
  }>;
} | null {
  if (!overrides) return null;
  const { charges, ...rest } = overrides;
  if (!charges) return rest;
  return {
    ...rest,
    charges: charges.map(({ charge_id, billable_metric_id, ...o }) => {
      const c = plan.charges.find((x) => x.id === charge_id || x.billableMetricId === billable_metric_id);
      return { billable_metric_code: c?.billableMetricCode ?? billable_metric_id ?? charge_id ?? '', ...o };
    }),
  };
}
