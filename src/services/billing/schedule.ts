import { nextPeriod, periodContaining, type Period } from '../../domain/periods.js';
import { dateInZone, startOfDayInZone } from '../../domain/time.js';
import type { PeriodInstants } from './lines.js';
import type { PlanRecord, SubscriptionRecord } from './records.js';

/**
 * When a subscription is invoiced, and for what. Its billing moments are: its start (when the
 * plan pays in advance: the first period's fee), the end of each period while it runs (that
 * period's usage and arrears fee, and the next period's advance fee), and its end when that
 * falls inside a period (the usage and arrears fee up to then).
 *
 * Each invoiced thing is an item with a ledger key (kind, period start instant): `advance` for
 * a period's advance fee, `arrears` for a period's usage (and fee when paid in arrears),
 * `one_time` for the plan's one-time fee, on the first invoice of a subscription that does not
 * continue another (a plan change).
 */

export type ItemKind = 'advance' | 'arrears' | 'one_time';

export interface BillingItem {
  kind: ItemKind;
  p: PeriodInstants;
  /** Usage counts from here (the period's start, or the subscription's when later)… */
  usageFrom: number;
  /** …to here (the period's end, or the subscription's end when earlier). */
  usageTo: number;
}

export function periodInstants(period: Period, tz: string): PeriodInstants {
  return { period, from: startOfDayInZone(period.from, tz), to: startOfDayInZone(period.to, tz) };
}

export function periodAt(sub: SubscriptionRecord, plan: PlanRecord, at: number): PeriodInstants {
  return periodInstants(
    periodContaining(dateInZone(at, sub.timezone), plan.interval, sub.billingTime, sub.anchorDate),
    sub.timezone,
  );
}

export function followingPeriod(
  sub: SubscriptionRecord,
  plan: PlanRecord,
  p: PeriodInstants,
): PeriodInstants {
  return periodInstants(nextPeriod(p.period, plan.interval, sub.billingTime, sub.anchorDate), sub.timezone);
}

/** The instant the subscription stops: terminated, or its planned end; null while open-ended. */
export function endOf(sub: SubscriptionRecord): number | null {
  return sub.terminatedAt ?? sub.endingAt;
}

/** The first period boundary at or after `t`. */
function boundaryAtOrAfter(sub: SubscriptionRecord, plan: PlanRecord, t: number): number {
  const p = periodAt(sub, plan, t);
  return p.from >= t ? p.from : p.to;
}

/**
 * The earliest billing moment at or after `after`, or null when there is none (canceled, or
 * ended before it). At creation pass the subscription's started_at; after billing moment B,
 * pass B + 1.
 */
export function nextBillingMoment(
  sub: SubscriptionRecord,
  plan: PlanRecord,
  after: number,
  end: number | null = endOf(sub),
): number | null {
  if (sub.status === 'canceled') return null;
  const start = sub.startedAt;
  if (end !== null && end <= start) return null;
  if (plan.payInAdvance && start >= after) return start;
  const t = boundaryAtOrAfter(sub, plan, Math.max(after, start + 1));
  if (end !== null && end < t) return end >= after ? end : null;
  return t;
}

export function item(
  sub: SubscriptionRecord,
  kind: ItemKind,
  p: PeriodInstants,
  end: number | null,
): BillingItem {
  return {
    kind,
    p,
    usageFrom: Math.max(p.from, sub.startedAt),
    usageTo: end !== null && end < p.to ? end : p.to,
  };
}

/** The one-time fee's item, when the plan has one and the subscription is not a continuation. */
function oneTimeItem(sub: SubscriptionRecord, plan: PlanRecord, end: number | null): BillingItem | null {
  if (plan.oneTimeAmount === null || !plan.oneTimeAmount.isPositive()) return null;
  if (sub.previousSubscriptionId !== null) return null;
  return item(sub, 'one_time', periodAt(sub, plan, sub.startedAt), end);
}

/** What is invoiced at billing moment `at` (see nextBillingMoment). */
export function itemsAt(
  sub: SubscriptionRecord,
  plan: PlanRecord,
  at: number,
  end: number | null = endOf(sub),
): BillingItem[] {
  const items: BillingItem[] = [];
  const start = sub.startedAt;
  // The one-time fee goes on the first invoice, whatever that invoice bills.
  const oneTime = at === nextBillingMoment(sub, plan, start, end) ? oneTimeItem(sub, plan, end) : null;
  if (oneTime) items.push(oneTime);
  if (at === start) {
    if (plan.payInAdvance) items.push(item(sub, 'advance', periodAt(sub, plan, start), end));
    return items;
  }
  if (at < start) return items;
  const ended = periodAt(sub, plan, at - 1);
  const onBoundary = ended.to === at;
  if (onBoundary || at === end) items.push(item(sub, 'arrears', ended, end));
  if (plan.payInAdvance && onBoundary && (end === null || end > at))
    items.push(item(sub, 'advance', followingPeriod(sub, plan, ended), end));
  return items;
}

/** The items a period owes in all (generate_invoice): its usage, and its fee either way. */
export function periodItems(
  sub: SubscriptionRecord,
  plan: PlanRecord,
  p: PeriodInstants,
  end: number | null = endOf(sub),
): BillingItem[] {
  const items = [item(sub, 'arrears', p, end)];
  if (plan.payInAdvance) items.unshift(item(sub, 'advance', p, end));
  const oneTime = p.from <= sub.startedAt && sub.startedAt < p.to ? oneTimeItem(sub, plan, end) : null;
  if (oneTime) items.unshift(oneTime);
  return items;
}
