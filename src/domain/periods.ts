import { addDaysToDate, daysBetween, daysInMonth } from './time.js';

/**
 * Billing periods as calendar dates in the subscriber's time zone: a period runs from `from`
 * (inclusive) to `to` (exclusive), both YYYY-MM-DD. Calendar billing aligns periods to the
 * interval (Mondays, the 1st of the month, quarters, 1 January); anniversary billing starts
 * them on the subscription's start date, keeping its day of the month where the month has it:
 * started 31 January, periods start 31 January, 28 (or 29) February, 31 March.
 */
export type Interval = 'weekly' | 'monthly' | 'quarterly' | 'yearly';
export type BillingTime = 'calendar' | 'anniversary';
export const INTERVALS: readonly Interval[] = ['weekly', 'monthly', 'quarterly', 'yearly'];

export interface Period {
  from: string;
  to: string;
}

const MONTHS: Record<Exclude<Interval, 'weekly'>, number> = { monthly: 1, quarterly: 3, yearly: 12 };

function parts(date: string): [number, number, number] {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return [y, m, d];
}

function fmt(y: number, m: number, d: number): string {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** The date in month number `index` (year × 12 + month − 1) on `day`, or the month's last day. */
function dateInMonth(index: number, day: number): string {
  const y = Math.floor(index / 12);
  const m = (index % 12) + 1;
  return fmt(y, m, Math.min(day, daysInMonth(y, m)));
}

/** 0 for Monday … 6 for Sunday. */
function weekday(date: string): number {
  return (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7;
}

/** The period that contains `date` for a subscription that started on `anchor`. */
export function periodContaining(
  date: string,
  interval: Interval,
  billingTime: BillingTime,
  anchor: string,
): Period {
  if (interval === 'weekly') {
    const startDay = billingTime === 'calendar' ? 0 : weekday(anchor);
    const from = addDaysToDate(date, -((weekday(date) - startDay + 7) % 7));
    return { from, to: addDaysToDate(from, 7) };
  }
  const k = MONTHS[interval];
  const [ay, am, ad] = parts(anchor);
  const anchorMonth = billingTime === 'calendar' ? 0 : ay * 12 + am - 1;
  const anchorDay = billingTime === 'calendar' ? 1 : ad;
  const [y, m] = parts(date);
  let start = y * 12 + m - 1 - ((((y * 12 + m - 1 - anchorMonth) % k) + k) % k);
  if (dateInMonth(start, anchorDay) > date) start -= k;
  return { from: dateInMonth(start, anchorDay), to: dateInMonth(start + k, anchorDay) };
}

/** The period after `p`. */
export function nextPeriod(p: Period, interval: Interval, billingTime: BillingTime, anchor: string): Period {
  return periodContaining(p.to, interval, billingTime, anchor);
}

export function periodDays(p: Period): number {
  return daysBetween(p.from, p.to);
}

/**
 * Days of `p` on which a subscription active from `activeFrom` (inclusive) until `activeTo`
 * (exclusive; null while it runs) was active.
 */
export function activeDays(p: Period, activeFrom: string, activeTo: string | null): number {
  const from = activeFrom > p.from ? activeFrom : p.from;
  const to = activeTo !== null && activeTo < p.to ? activeTo : p.to;
  return Math.max(0, daysBetween(from, to));
}
