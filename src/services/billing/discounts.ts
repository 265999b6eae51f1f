import type { DiscountInput } from '../../domain/invoice-math.js';
import type { ServiceContext } from '../context.js';
import type { BillingSubject } from './build.js';
import type { BillingLine } from './lines.js';

/**
 * Coupons on subscription invoices, before tax: which of the customer's applied coupons take
 * what from which lines (domain/coupons.applyCoupons), as the invoice's discounts, and the
 * redemptions recorded once the invoice exists.
 */
export interface CouponResult {
  discounts: DiscountInput[];
  /** Records what each coupon took on `invoiceId` (in the invoice's transaction). */
  record(invoiceId: string): Promise<void>;
}

export async function couponDiscounts(
  _ctx: ServiceContext,
  _s: BillingSubject,
  _lines: readonly BillingLine[],
  _replacing: string | null,
): Promise<CouponResult> {
  return { discounts: [], record: async () => {} };
}
