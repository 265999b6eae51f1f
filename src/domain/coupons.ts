import { Decimal } from './decimal.js';
import { percentOf } from './charges.js';

/**
 * How coupons reduce an invoice before tax. Amounts are integer minor units (bigint).
 *
 * Order: coupons limited to billable metrics first, then coupons limited to plans, then the
 * rest; within each group the oldest applied coupon first. Each takes its discount from the
 * lines it applies to, in line order, until those lines reach 0 — so the subtotal never goes
 * below 0 and a later coupon only sees what is left. A percentage coupon takes rate × the
 * remaining base of its lines, rounded half-up to the minor unit, never more than that base; a
 * fixed amount coupon takes what it has left, at most that base, and keeps the rest for the next
 * invoice (for `once` coupons; recurring ones grant their amount afresh each period).
 */

export interface DiscountableLine {
  /** Stable key of the line (index or id), to report the discount per line. */
  key: string;
  amount: bigint;
  plan_code: string | null;
  billable_metric_code: string | null;
}

export interface CouponToApply {
  id: string;
  coupon_type: 'fixed_amount' | 'percentage';
  /** For fixed amounts: what this coupon can still take on this invoice. */
  amount_available: bigint;
  percentage_rate: Decimal | null;
  plan_codes: string[];
  billable_metric_codes: string[];
  /** When it was applied to the customer: the older goes first within its group. */
  applied_at: number;
}

export interface CouponOutcome {
  id: string;
  /** What the coupon took off this invoice. */
  discount: bigint;
  /** The lines it took it from. */
  per_line: Record<string, bigint>;
}

function group(c: CouponToApply): number {
  if (c.billable_metric_codes.length) return 0;
  if (c.plan_codes.length) return 1;
  return 2;
}

function applies(c: CouponToApply, line: DiscountableLine): boolean {
  if (c.billable_metric_codes.length)
    return line.billable_metric_code !== null && c.billable_metric_codes.includes(line.billable_metric_code);
  if (c.plan_codes.length) return line.plan_code !== null && c.plan_codes.includes(line.plan_code);
  return true;
}

export function applyCoupons(
  lines: DiscountableLine[],
  coupons: CouponToApply[],
): { coupons: CouponOutcome[]; remaining: Record<string, bigint> } {
  const remaining: Record<string, bigint> = Object.fromEntries(
    lines.map((l) => [l.key, l.amount > 0n ? l.amount : 0n]),
  );
  const ordered = [...coupons].sort(
    (a, b) => group(a) - group(b) || a.applied_at - b.applied_at || (a.id < b.id ? -1 : 1),
  );
  const outcomes: CouponOutcome[] = [];
  for (const c of ordered) {
    const eligible = lines.filter((l) => applies(c, l));
    const base = eligible.reduce((sum, l) => sum + remaining[l.key]!, 0n);
    let want: bigint;
    if (c.coupon_type === 'percentage') {
      // The base is in minor units already, so rounding to 0 decimals is rounding to the minor unit.
      const exact = percentOf(Decimal.fromMinor(base, 0), c.percentage_rate ?? Decimal.ZERO);
      want = exact.round(0, 'half_up').rescale(0).coef;
    } else {
      want = c.amount_available;
    }
    let discount = want < base ? want : base;
    if (discount < 0n) discount = 0n;
    const perLine: Record<string, bigint> = {};
    let left = discount;
    for (const l of eligible) {
      if (left === 0n) break;
      const take = remaining[l.key]! < left ? remaining[l.key]! : left;
      if (take > 0n) {
        remaining[l.key] = remaining[l.key]! - take;
        perLine[l.key] = take;
        left -= take;
      }
    }
    outcomes.push({ id: c.id, discount, per_line: perLine });
  }
  return { coupons: outcomes, remaining };
}
