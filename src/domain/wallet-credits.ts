import { Decimal } from './decimal.js';
import type { Interval } from './periods.js';
import { addMonthsToDate } from './time.js';

/**
 * Credits and money in a wallet. A credit is worth `rate_amount` of the wallet's currency, a
 * price that may be finer than the currency. Credits come in whole or in decimals and are worth
 * credits × rate, rounded half-up once to the minor unit (the amount the top-up invoice
 * charges). Money goes out in minor units (what an invoice is paid), and the credits it takes
 * are amount ÷ rate rounded half-up to CREDIT_SCALE decimals, never more than the wallet holds;
 * a draw that empties the money balance takes every credit left. So the two balances are each
 * the exact sum of their transactions and reach zero together.
 */

/** Decimals of credits a draw is rounded to (Lago keeps credits to the same precision). */
export const CREDIT_SCALE = 5;

/** What `credits` are worth in minor units of a currency with `minorUnits` decimals. */
export function creditsValueMinor(credits: Decimal, rate: Decimal, minorUnits: number): bigint {
  return credits.mul(rate).round(minorUnits, 'half_up').toMinor(minorUnits);
}

/** How many credits `amountMinor` of money takes from a wallet holding the given balances. */
export function creditsForDraw(
  amountMinor: bigint,
  rate: Decimal,
  minorUnits: number,
  balance: { minor: bigint; credits: Decimal },
): Decimal {
  if (amountMinor >= balance.minor) return balance.credits;
  const exact = Decimal.fromMinor(amountMinor, minorUnits).div(rate, CREDIT_SCALE, 'half_up');
  return exact.gt(balance.credits) ? balance.credits : exact;
}

/**
 * A top-up to bring the ongoing balance back to `target` credits: the credits short, or
 * nothing when it is there already.
 */
export function creditsToTarget(target: Decimal, ongoingCredits: Decimal): Decimal {
  const short = target.sub(ongoingCredits);
  return short.isPositive() ? short : Decimal.ZERO;
}

/**
 * The n-th run of a schedule that started at `start` (n = 0 is the start itself), in UTC:
 * weeks of 7 days, months keeping the start's day where the month has it (31 January → 29
 * February → 31 March), at the start's time of day.
 */
export function scheduleRun(start: number, interval: Interval, n: number): number {
  if (interval === 'weekly') return start + n * 7 * 86_400_000;
  const months = n * (interval === 'monthly' ? 1 : interval === 'quarterly' ? 3 : 12);
  const iso = new Date(start).toISOString();
  const date = iso.slice(0, 10);
  const timeOfDay = start - Date.parse(`${date}T00:00:00Z`);
  const day = Number(date.slice(8, 10));
  return Date.parse(`${addMonthsToDate(date, months, day)}T00:00:00Z`) + timeOfDay;
}

/** The first run of the schedule after `after`. */
export function nextScheduleRun(start: number, interval: Interval, after: number): number {
  let n = 0;
  // Weeks can be counted; months are stepped, from an estimate that is never past the answer.
  if (interval === 'weekly') n = Math.max(0, Math.floor((after - start) / (7 * 86_400_000)));
  else {
    const months = interval === 'monthly' ? 1 : interval === 'quarterly' ? 3 : 12;
    n = Math.max(0, Math.floor((after - start) / (months * 31 * 86_400_000)));
  }
  while (scheduleRun(start, interval, n) <= after) n++;
  return scheduleRun(start, interval, n);
}
