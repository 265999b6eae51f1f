import { applyCoupons, type DiscountableLine } from '../../domain/coupons.js';
import { minorUnits } from '../../domain/currencies.js';
import { Decimal } from '../../domain/decimal.js';
import type { DiscountInput } from '../../domain/invoice-math.js';
import type { ServiceContext } from '../context.js';
import type { BillingSubject } from './build.js';
import { couponsToApply, recordRedemptions, releaseRedemptions } from './coupon-ledger.js';
import type { BillingLine } from './lines.js';

/**
 * Coupons on subscription invoices, before tax: the customer's applied coupons take what
 * domain/coupons.applyCoupons gives them (metric coupons first, then plan coupons, then the
 * rest, oldest first), from the lines they apply to. The invoice shows one discount per coupon
 * with the lines it came off; the redemptions are recorded in the invoice's transaction.
 */
export interface CouponResult {
  discounts: DiscountInput[];
  /** Records what each coupon took on `invoiceId` (in the invoice's transaction). */
  record(invoiceId: string): Promise<void>;
}

/**
 * `replacing`: the draft being rebuilt, whose earlier redemptions are given back first so its
 * coupons are not counted twice.
 */
export async function couponDiscounts(
  ctx: ServiceContext,
  s: BillingSubject,
  lines: readonly BillingLine[],
  replacing: string | null,
): Promise<CouponResult> {
  if (replacing) await releaseRedemptions(ctx, replacing);
  const coupons = await couponsToApply(ctx, s.customer.id, s.plan.currency, ctx.now());
  if (!coupons.length) return { discounts: [], record: async () => {} };
  const discountable: DiscountableLine[] = lines.map((l, i) => ({
    key: String(i),
    amount: l.amountMinor,
    plan_code: l.plan_code,
    billable_metric_code: l.billable_metric_code,
  }));
  const { coupons: outcomes } = applyCoupons(discountable, coupons);
  const used = outcomes.filter((o) => o.discount > 0n);
  if (!used.length) return { discounts: [], record: async () => {} };
  const names = await ctx.db
    .selectFrom('applied_coupons as a')
    .innerJoin('coupons as c', 'c.id', 'a.coupon_id')
    .select(['a.id', 'c.code', 'c.name'])
    .where('a.organization_id', '=', ctx.organizationId)
    .where(
      'a.id',
      'in',
      used.map((o) => o.id),
    )
    .execute();
  const byId = new Map(names.map((n) => [n.id, n]));
  const units = minorUnits(s.plan.currency);
  return {
    discounts: used.map((o) => ({
      description: byId.get(o.id)?.name ?? 'Coupon',
      coupon_code: byId.get(o.id)?.code ?? null,
      amount: Decimal.fromMinor(o.discount, units),
      per_line: lines.map((_, i) => o.per_line[String(i)] ?? 0n),
    })),
    record: (invoiceId) => recordRedemptions(ctx, invoiceId, used),
  };
}
