import { Decimal } from './decimal.js';

/**
 * Charge models: how many currency units a quantity of a billable metric costs in one period.
 * Amounts here are exact and unrounded; the invoice line rounds once, half-up, to the currency.
 *
 * Ranges (graduated and volume) are continuous and tile from 0: each range's `from_value` is the
 * previous range's `to_value`, and only the last may be open (`to_value: null`). A range holds the
 * units above its `from_value` up to and including its `to_value`: with ranges 0–10 and 10–∞,
 * 10 units all fall in the first and 10.5 units put 0.5 in the second.
 */

export interface Range {
  from_value: Decimal;
  to_value: Decimal | null;
  per_unit_amount: Decimal;
  flat_amount: Decimal;
}

export interface PackageProperties {
  amount: Decimal;
  package_size: Decimal;
  free_units: Decimal;
}

export interface PercentageProperties {
  /** Percent, e.g. 2.9 for 2.9 %. */
  rate: Decimal;
  /** Added for every transaction that pays. */
  fixed_amount: Decimal;
  /** The first N transactions are free. */
  free_units_per_events: number | null;
  /** The first X of transacted amount is free. */
  free_units_per_total_aggregation: Decimal | null;
  per_transaction_min_amount: Decimal | null;
  per_transaction_max_amount: Decimal | null;
}

/**
 * MarginFront's credit pool: each unit draws `credits_per_unit` credits from a pool of
 * `included_credits` per period; the credits drawn beyond the pool cost `amount` each.
 */
export interface CreditPoolProperties {
  included_credits: Decimal;
  credits_per_unit: Decimal;
  amount: Decimal;
}

export type ChargeModel =
  | { model: 'standard'; amount: Decimal }
  | { model: 'credit_pool'; properties: CreditPoolProperties }
  | { model: 'graduated'; ranges: Range[] }
  | { model: 'volume'; ranges: Range[] }
  | { model: 'package'; properties: PackageProperties }
  | { model: 'percentage'; properties: PercentageProperties };

/** One line of the computation, for invoices that show how an amount came about. */
export interface ChargeBreakdown {
  /** e.g. "0–10", "10–∞", "3 packages of 100", "2.9 % of 1250.00". */
  label: string;
  units: Decimal;
  amount: Decimal;
}

export interface ChargeResult {
  units: Decimal;
  amount: Decimal;
  breakdown: ChargeBreakdown[];
}

/**
 * Checks that ranges tile from 0 without gaps or overlaps; returns the problem in words (with
 * the index of the range at fault) or null when they are sound.
 */
export function rangeProblem(ranges: Range[], field = 'ranges'): string | null {
  if (ranges.length === 0) return `${field} must have at least one range`;
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    const expectedFrom = i === 0 ? Decimal.ZERO : ranges[i - 1]!.to_value;
    if (expectedFrom === null)
      return `${field}[${i - 1}] has no to_value, so only the last range may be open`;
    if (!r.from_value.eq(expectedFrom)) {
      return i === 0
        ? `${field}[0].from_value must be 0 (got ${r.from_value.toString()}): ranges tile from 0`
        : `${field}[${i}].from_value must be ${expectedFrom.toString()}, the previous range's to_value (got ${r.from_value.toString()}): ranges are continuous, e.g. 0–10, 10–100, 100–∞`;
    }
    if (r.to_value !== null && !r.to_value.gt(r.from_value)) {
      return `${field}[${i}].to_value must be greater than its from_value ${r.from_value.toString()} (got ${r.to_value.toString()})`;
    }
    if (r.per_unit_amount.isNegative() || r.flat_amount.isNegative())
      return `${field}[${i}] amounts must not be negative`;
  }
  if (ranges[ranges.length - 1]!.to_value !== null) {
    return `${field}[${ranges.length - 1}].to_value must be null: the last range is open so every quantity has a price`;
  }
  return null;
}

function rangeLabel(r: Range): string {
  return `${r.from_value.toString()}–${r.to_value === null ? '∞' : r.to_value.toString()}`;
}

function standard(units: Decimal, amount: Decimal): ChargeResult {
  const total = units.mul(amount);
  return {
    units,
    amount: total,
    breakdown: [{ label: `${units.toString()} × ${amount.toString()}`, units, amount: total }],
  };
}

function graduated(units: Decimal, ranges: Range[]): ChargeResult {
  const breakdown: ChargeBreakdown[] = [];
  let total = Decimal.ZERO;
  for (const r of ranges) {
    if (!units.gt(r.from_value)) break;
    const top = r.to_value === null ? units : Decimal.min(units, r.to_value);
    const inRange = top.sub(r.from_value);
    const amount = inRange.mul(r.per_unit_amount).add(r.flat_amount);
    breakdown.push({ label: rangeLabel(r), units: inRange, amount });
    total = total.add(amount);
  }
  return { units, amount: total, breakdown };
}

function volume(units: Decimal, ranges: Range[]): ChargeResult {
  if (!units.isPositive()) return { units, amount: Decimal.ZERO, breakdown: [] };
  const r = ranges.find((x) => x.to_value === null || units.lte(x.to_value))!;
  const amount = units.mul(r.per_unit_amount).add(r.flat_amount);
  return { units, amount, breakdown: [{ label: rangeLabel(r), units, amount }] };
}

function packaged(units: Decimal, p: PackageProperties): ChargeResult {
  const paying = Decimal.max(units.sub(p.free_units), Decimal.ZERO);
  const packages = paying.isZero() ? Decimal.ZERO : paying.div(p.package_size, 0, 'ceil');
  const amount = packages.mul(p.amount);
  return {
    units,
    amount,
    breakdown: [
      { label: `${packages.toString()} package(s) of ${p.package_size.toString()}`, units: paying, amount },
    ],
  };
}

function creditPool(units: Decimal, p: CreditPoolProperties): ChargeResult {
  const drawn = Decimal.max(units, Decimal.ZERO).mul(p.credits_per_unit);
  const fromPool = Decimal.min(drawn, p.included_credits);
  const overage = drawn.sub(fromPool);
  const amount = overage.mul(p.amount);
  return {
    units,
    amount,
    breakdown: [
      {
        label: `${fromPool.toString()} of ${p.included_credits.toString()} included credits`,
        units: fromPool,
        amount: Decimal.ZERO,
      },
      {
        label: `${overage.toString()} credits over the pool × ${p.amount.toString()}`,
        units: overage,
        amount,
      },
    ],
  };
}

/**
 * Percentage of transacted amounts. `transactions` are the period's events' amounts in time
 * order. The free allowance lasts until the first of its limits is reached (N transactions, or
 * X of amount; a transaction that crosses X pays on the part above it). Each paying transaction
 * pays rate % of its paying part plus `fixed_amount`, clamped to the per-transaction min/max.
 */
function percentage(transactions: Decimal[], p: PercentageProperties): ChargeResult {
  let freeEvents = 0;
  let freeAmount = Decimal.ZERO;
  let total = Decimal.ZERO;
  let paidUnits = Decimal.ZERO;
  let payingCount = 0;
  const units = Decimal.sum(transactions);
  const hasFreeEvents = p.free_units_per_events !== null && p.free_units_per_events > 0;
  const hasFreeAmount =
    p.free_units_per_total_aggregation !== null && p.free_units_per_total_aggregation.isPositive();
  for (const t of transactions) {
    let paying = t;
    const freeLeft =
      (hasFreeEvents || hasFreeAmount) &&
      (!hasFreeEvents || freeEvents < p.free_units_per_events!) &&
      (!hasFreeAmount || freeAmount.lt(p.free_units_per_total_aggregation!));
    if (freeLeft) {
      freeEvents++;
      if (hasFreeAmount) {
        const room = p.free_units_per_total_aggregation!.sub(freeAmount);
        const free = Decimal.min(room, t);
        freeAmount = freeAmount.add(free);
        paying = t.sub(free);
      } else {
        paying = Decimal.ZERO;
      }
      if (!paying.isPositive()) continue;
    }
    let fee = percentOf(paying, p.rate).add(p.fixed_amount);
    if (p.per_transaction_min_amount !== null) fee = Decimal.max(fee, p.per_transaction_min_amount);
    if (p.per_transaction_max_amount !== null) fee = Decimal.min(fee, p.per_transaction_max_amount);
    total = total.add(fee);
    paidUnits = paidUnits.add(paying);
    payingCount++;
  }
  return {
    units,
    amount: total,
    breakdown: [
      {
        label: `${p.rate.toString()} % of ${paidUnits.toString()} on ${payingCount} paying transaction(s)`,
        units: paidUnits,
        amount: total,
      },
    ],
  };
}

const ONE_HUNDREDTH = Decimal.of(1n, 2);

/** `rate` percent of `amount`, exactly (a percentage is a shift of two decimal places). */
export function percentOf(amount: Decimal, rate: Decimal): Decimal {
  return amount.mul(rate).mul(ONE_HUNDREDTH);
}

/**
 * The amount of a charge. `units` is the period's aggregated quantity; `transactions` (the
 * individual amounts, in time order) is needed by the percentage model only.
 */
export function chargeAmount(model: ChargeModel, units: Decimal, transactions: Decimal[] = []): ChargeResult {
  switch (model.model) {
    case 'standard':
      return standard(units, model.amount);
    case 'credit_pool':
      return creditPool(units, model.properties);
    case 'graduated':
      return graduated(units, model.ranges);
    case 'volume':
      return volume(units, model.ranges);
    case 'package':
      return packaged(units, model.properties);
    case 'percentage':
      return percentage(transactions, model.properties);
  }
}
