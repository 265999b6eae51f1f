import { chargeAmount, type ChargeBreakdown, type ChargeModel } from '../../domain/charges.js';
import { minorUnits } from '../../domain/currencies.js';
import { Decimal } from '../../domain/decimal.js';
import { activeDays, periodDays, type Period } from '../../domain/periods.js';
import { addDaysToDate, dateInZone } from '../../domain/time.js';
import type { InvoiceLineInput } from '../invoices.js';
import type { ChargeRecord, PlanRecord, SubscriptionRecord } from './records.js';

/**
 * The lines of a subscription invoice, computed from a plan, the days a subscription is active
 * in a period and the period's usage. Pure: the caller fetches usage (charge-usage.ts).
 *
 * Rules:
 * - The base fee is the plan's amount for a whole period; a period the subscription covers only
 *   partly (first, last, trial days) pays amount × paying days / period days. That ratio rarely
 *   terminates as a decimal, so the fee is rounded half-up to the currency's minor unit once,
 *   here, from the exact fraction; a whole period keeps the plan's amount exactly.
 * - A day counts as active when the subscription is active at any moment of it (the start day
 *   and the termination day are both paid); trial days are the dates before the trial's end date.
 *   One exception: a subscription that hands over to another plan mid-day (an upgrade) does not
 *   pay the change day, since the row continuing it is active that day too and pays it; so the
 *   day is paid once, by the new plan.
 * - Charge lines carry the exact charge amount as unit_amount (quantity 1); the invoice rounds
 *   each line half-up once.
 * - A charge's min_units applies per period (not prorated): when fewer units were used, a true-up
 *   line prices the missing units at the charge's own model, as the amount of min_units less the
 *   amount of the units used (never below 0). Then its min_amount, also per period and not
 *   prorated, tops the charge up on a line of its own.
 * - A plan's one-time fee is a line of the subscription's first invoice, at its amount.
 * - The minimum commitment is prorated like the fee (by paying days) and rounded half-up to the
 *   minor unit; the true-up line makes the period's rounded fee + charge lines reach it.
 */

export type LineKind =
  'fee' | 'one_time' | 'charge' | 'unit_commitment' | 'charge_minimum' | 'minimum_commitment';

export interface BillingLine extends InvoiceLineInput {
  description: string;
  quantity: Decimal;
  unit_amount: Decimal;
  from: number;
  to: number;
  details: Record<string, unknown> & { kind: LineKind };
  /** The line's amount rounded as the invoice will round it, in minor units. */
  amountMinor: bigint;
  /** For coupons limited to plans or metrics. */
  plan_code: string;
  billable_metric_code: string | null;
}

/** What a subscription is active for, as dates in its time zone (ends exclusive). */
export interface ActiveDates {
  /** The first active day. */
  from: string;
  /** The day after the last active day; null while it runs. */
  to: string | null;
  /** The first day that pays the fee (after the trial). */
  paidFrom: string;
}

/** The day after the one holding the last active instant before `end`. */
function dateAfterEnd(end: number, tz: string): string {
  return addDaysToDate(dateInZone(end - 1, tz), 1);
}

/**
 * Active dates of `sub` when it ends at `end` (epoch ms, exclusive; null: no end known).
 * `handedOver`: a row continuing it on another plan starts at `end`, and pays the day of `end`.
 */
export function activeDates(sub: SubscriptionRecord, end: number | null, handedOver = false): ActiveDates {
  const from = dateInZone(sub.startedAt, sub.timezone);
  const trialEnd = sub.trialEndsAt === null ? from : dateInZone(sub.trialEndsAt, sub.timezone);
  const to =
    end === null ? null : handedOver ? dateInZone(end, sub.timezone) : dateAfterEnd(end, sub.timezone);
  return {
    from,
    // Ending before it started paying (handed over on its first day): no day at all.
    to: to !== null && to < from ? from : to,
    paidFrom: trialEnd > from ? trialEnd : from,
  };
}

/** The ms instant each end of a period starts at, in the subscription's zone. */
export interface PeriodInstants {
  period: Period;
  from: number;
  to: number;
}

function minor(amount: Decimal, currency: string): bigint {
  return amount.rescale(minorUnits(currency), 'half_up').coef;
}

/** `amount` × days / periodDays, exact when whole, else rounded half-up to the minor unit once. */
export function prorate(amount: Decimal, days: number, total: number, currency: string): Decimal {
  if (days === total) return amount;
  if (days === 0) return Decimal.ZERO;
  return amount.mul(Decimal.fromInt(days)).div(Decimal.fromInt(total), minorUnits(currency), 'half_up');
}

export interface FeeShare {
  /** Days of the period the fee is paid for. */
  days: number;
  periodDays: number;
  trialDays: number;
  amount: Decimal;
}

/** The base fee a subscription owes for a period, with the days behind it. */
export function feeShare(plan: PlanRecord, dates: ActiveDates, period: Period): FeeShare {
  const total = periodDays(period);
  const active = activeDays(period, dates.from, dates.to);
  const days = activeDays(period, dates.paidFrom, dates.to);
  return {
    days,
    periodDays: total,
    trialDays: active - days,
    amount: prorate(plan.amount, days, total, plan.currency),
  };
}

export function feeLine(
  plan: PlanRecord,
  dates: ActiveDates,
  p: PeriodInstants,
  taxCodes: string[] | undefined,
): BillingLine | null {
  const share = feeShare(plan, dates, p.period);
  if (share.days === 0) return null;
  return {
    description: plan.invoiceDisplayName ?? plan.name,
    quantity: Decimal.ONE,
    unit_amount: share.amount,
    ...(taxCodes ? { tax_codes: taxCodes } : {}),
    from: p.from,
    to: p.to,
    charge_id: null,
    details: {
      kind: 'fee',
      plan_code: plan.code,
      pay_in_advance: plan.payInAdvance,
      amount: plan.amount.toString(),
      period_from: p.period.from,
      period_to: p.period.to,
      days: share.days,
      period_days: share.periodDays,
      trial_days: share.trialDays,
      prorated: share.days !== share.periodDays,
    },
    amountMinor: minor(share.amount, plan.currency),
    plan_code: plan.code,
    billable_metric_code: null,
  };
}

/** The plan's one-time fee, for the first invoice of a subscription (`p`: its first period). */
export function oneTimeLine(
  plan: PlanRecord,
  p: PeriodInstants,
  taxCodes: string[] | undefined,
): BillingLine | null {
  if (plan.oneTimeAmount === null || !plan.oneTimeAmount.isPositive()) return null;
  return {
    description: `${plan.invoiceDisplayName ?? plan.name} — one-time fee`,
    quantity: Decimal.ONE,
    unit_amount: plan.oneTimeAmount,
    ...(taxCodes ? { tax_codes: taxCodes } : {}),
    from: p.from,
    to: p.to,
    charge_id: null,
    details: { kind: 'one_time', plan_code: plan.code, amount: plan.oneTimeAmount.toString() },
    amountMinor: minor(plan.oneTimeAmount, plan.currency),
    plan_code: plan.code,
    billable_metric_code: null,
  };
}

/** The usage behind one charge line: units, or (percentage) each transaction's amount. */
export interface BucketUsage {
  units: Decimal;
  eventCount: number;
  /** Percentage charges: the amounts of the period's events, in time order. */
  transactions: Decimal[];
  /** Prorated charges: units weighted by the share of the period each was present. */
  proratedUnits: Decimal | null;
}

/** A charge's usage: one bucket per filter (in the charge's order), and the rest. */
export interface ChargeUsage {
  filters: BucketUsage[];
  rest: BucketUsage;
}

function filterLabel(values: Record<string, string[]>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}: ${v.join(', ')}`)
    .join('; ');
}

function breakdownView(b: ChargeBreakdown[]) {
  return b.map((x) => ({ label: x.label, units: x.units.toString(), amount: x.amount.toString() }));
}

function chargeLine(
  plan: PlanRecord,
  charge: ChargeRecord,
  model: ChargeModel,
  usage: BucketUsage,
  window: { from: number; to: number },
  description: string,
  filter: Record<string, string[]> | null,
  taxCodes: string[] | undefined,
): BillingLine {
  const prorated = charge.prorated && usage.proratedUnits !== null;
  const units = prorated ? usage.proratedUnits! : usage.units;
  const result = chargeAmount(model, units, usage.transactions);
  return {
    description,
    quantity: Decimal.ONE,
    unit_amount: result.amount,
    ...(taxCodes ? { tax_codes: taxCodes } : {}),
    from: window.from,
    to: window.to,
    charge_id: charge.id,
    details: {
      kind: 'charge',
      billable_metric_code: charge.billableMetricCode,
      charge_model: charge.chargeModel,
      units: result.units.toString(),
      event_count: usage.eventCount,
      ...(prorated ? { prorated: true, units_before_proration: usage.units.toString() } : {}),
      ...(filter ? { filter } : {}),
      amount: result.amount.toString(),
      breakdown: breakdownView(result.breakdown),
    },
    amountMinor: minor(result.amount, plan.currency),
    plan_code: plan.code,
    billable_metric_code: charge.billableMetricCode,
  };
}

/**
 * The lines of one charge for a usage window: one per filter and one for the events matching
 * none (when the charge has filters), else one; then a top-up line when min_amount is not met.
 */
export function chargeLines(
  plan: PlanRecord,
  charge: ChargeRecord,
  usage: ChargeUsage,
  window: { from: number; to: number },
  taxCodes: string[] | undefined,
): BillingLine[] {
  const name = charge.invoiceDisplayName ?? charge.billableMetricName;
  const lines: BillingLine[] = charge.filters.map((f, i) =>
    chargeLine(
      plan,
      charge,
      f.model,
      usage.filters[i]!,
      window,
      f.invoiceDisplayName ?? `${name} (${filterLabel(f.values)})`,
      f.values,
      taxCodes,
    ),
  );
  if (!charge.filters.length || usage.rest.eventCount > 0 || !usage.rest.units.isZero()) {
    const rest = chargeLine(
      plan,
      charge,
      charge.model,
      usage.rest,
      window,
      charge.filters.length ? `${name} (other)` : name,
      null,
      taxCodes,
    );
    lines.push(rest);
  }
  if (charge.minUnits !== null) {
    const used = Decimal.sum(lines.map((l) => Decimal.parse(String(l.details.units))));
    const trueUp = unitCommitmentLine(plan, charge, charge.minUnits, used, window, name, taxCodes);
    if (trueUp) lines.push(trueUp);
  }
  if (charge.minAmount !== null) {
    const total = Decimal.sum(lines.map((l) => l.unit_amount));
    if (total.lt(charge.minAmount)) {
      const topUp = charge.minAmount.sub(total);
      lines.push({
        description: `${name} — minimum ${charge.minAmount.toString()}`,
        quantity: Decimal.ONE,
        unit_amount: topUp,
        ...(taxCodes ? { tax_codes: taxCodes } : {}),
        from: window.from,
        to: window.to,
        charge_id: charge.id,
        details: {
          kind: 'charge_minimum',
          billable_metric_code: charge.billableMetricCode,
          min_amount: charge.minAmount.toString(),
          charge_amount: total.toString(),
          top_up: topUp.toString(),
        },
        amountMinor: minor(topUp, plan.currency),
        plan_code: plan.code,
        billable_metric_code: charge.billableMetricCode,
      });
    }
  }
  return lines;
}

/** The line that bills a charge's missing units up to its minimum commitment in units. */
function unitCommitmentLine(
  plan: PlanRecord,
  charge: ChargeRecord,
  minUnits: Decimal,
  used: Decimal,
  window: { from: number; to: number },
  name: string,
  taxCodes: string[] | undefined,
): BillingLine | null {
  if (!used.lt(minUnits)) return null;
  const amount = chargeAmount(charge.model, minUnits).amount.sub(chargeAmount(charge.model, used).amount);
  if (!amount.isPositive()) return null;
  const missing = minUnits.sub(used);
  return {
    description: `${name} — minimum commitment of ${minUnits.toString()} units`,
    quantity: Decimal.ONE,
    unit_amount: amount,
    ...(taxCodes ? { tax_codes: taxCodes } : {}),
    from: window.from,
    to: window.to,
    charge_id: charge.id,
    details: {
      kind: 'unit_commitment',
      billable_metric_code: charge.billableMetricCode,
      min_units: minUnits.toString(),
      units: used.toString(),
      true_up_units: missing.toString(),
      amount: amount.toString(),
    },
    amountMinor: minor(amount, plan.currency),
    plan_code: plan.code,
    billable_metric_code: charge.billableMetricCode,
  };
}

/**
 * The true-up that brings a period's fee and charges to its minimum commitment. `fee` is the
 * period's fee whether it was invoiced in advance or is on this invoice; `charges` the period's
 * charge lines.
 */
export function commitmentLine(
  plan: PlanRecord,
  dates: ActiveDates,
  p: PeriodInstants,
  charges: readonly BillingLine[],
  taxCodes: string[] | undefined,
): BillingLine | null {
  if (plan.minimumCommitment === null || !plan.minimumCommitment.isPositive()) return null;
  const share = feeShare(plan, dates, p.period);
  if (share.days === 0) return null;
  const commitment = prorate(plan.minimumCommitment, share.days, share.periodDays, plan.currency);
  const commitmentMinor = minor(commitment, plan.currency);
  const billed = minor(share.amount, plan.currency) + charges.reduce((s, l) => s + l.amountMinor, 0n);
  if (billed >= commitmentMinor) return null;
  const trueUpMinor = commitmentMinor - billed;
  const trueUp = Decimal.fromMinor(trueUpMinor, minorUnits(plan.currency));
  return {
    description: `Minimum commitment true-up`,
    quantity: Decimal.ONE,
    unit_amount: trueUp,
    ...(taxCodes ? { tax_codes: taxCodes } : {}),
    from: p.from,
    to: p.to,
    charge_id: null,
    details: {
      kind: 'minimum_commitment',
      minimum_commitment: plan.minimumCommitment.toString(),
      commitment_for_period: Decimal.fromMinor(commitmentMinor, minorUnits(plan.currency)).toString(),
      days: share.days,
      period_days: share.periodDays,
      billed: Decimal.fromMinor(billed, minorUnits(plan.currency)).toString(),
    },
    amountMinor: trueUpMinor,
    plan_code: plan.code,
    billable_metric_code: null,
  };
}
