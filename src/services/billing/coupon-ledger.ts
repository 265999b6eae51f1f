import { sql } from 'kysely';
import type { AppliedCouponsTable, CouponRedemptionsTable } from '../../db/schema.js';
import type { CouponOutcome, CouponToApply } from '../../domain/coupons.js';
import { Decimal } from '../../domain/decimal.js';
import { newId } from '../../domain/ids.js';
import type { ServiceContext } from '../context.js';
import { customersWithout } from '../customers-without.js';

/**
 * What the billing engine asks of coupons: which of a customer's applied coupons can reduce an
 * invoice, recording what they took, and giving it back when a draft is deleted or rebuilt.
 *
 * The rules of using one up: a `once` fixed amount keeps what an invoice could not use
 * (amount_remaining_cents) and ends at 0; a `once` percentage ends after one invoice; a
 * `recurring` coupon counts down frequency_duration_remaining and ends at 0; `forever` never
 * ends. Each redemption remembers whether it ended its coupon, so a release undoes exactly that.
 */

/**
 * Customers with no applied coupon, active or not (giving a draft's redemptions back can make
 * one active again), known for a billing run's batch (customers-without.ts).
 */
export const customersWithoutCoupons = customersWithout('applied_coupons');

/**
 * The customer's active applied coupons as `applyCoupons` takes them, for an invoice in
 * `currency` made at `at`: coupons applied after `at` wait, and a fixed amount applies only to
 * invoices in its own currency.
 */
export async function couponsToApply(
  ctx: ServiceContext,
  customerId: string,
  currency: string,
  at: number,
): Promise<CouponToApply[]> {
  if (customersWithoutCoupons.known(ctx, customerId)) return [];
  const rows = await ctx.db
    .selectFrom('applied_coupons as a')
    .innerJoin('coupons as c', 'c.id', 'a.coupon_id')
    .select([
      'a.id',
      'a.amount_cents',
      'a.amount_currency',
      'a.percentage_rate',
      'a.frequency',
      'a.amount_remaining_cents',
      'a.frequency_duration_remaining',
      'a.created_at',
      'c.coupon_type',
      'c.plan_codes',
      'c.billable_metric_codes',
    ])
    .where('a.organization_id', '=', ctx.organizationId)
    .where('a.customer_id', '=', customerId)
    .where('a.status', '=', 'active')
    .where('a.created_at', '<=', at)
    .orderBy('a.created_at')
    .orderBy('a.id')
    .execute();
  const out: CouponToApply[] = [];
  for (const r of rows) {
    const base = {
      id: r.id,
      plan_codes: JSON.parse(r.plan_codes) as string[],
      billable_metric_codes: JSON.parse(r.billable_metric_codes) as string[],
      applied_at: Number(r.created_at),
    };
    if (r.coupon_type === 'percentage') {
      out.push({
        ...base,
        coupon_type: 'percentage',
        amount_available: 0n,
        percentage_rate: Decimal.parse(r.percentage_rate ?? '0'),
      });
      continue;
    }
    if (r.amount_currency !== currency) continue;
    const available = r.frequency === 'once' ? r.amount_remaining_cents : r.amount_cents;
    if (available === null || BigInt(available) <= 0n) continue;
    out.push({
      ...base,
      coupon_type: 'fixed_amount',
      amount_available: BigInt(available),
      percentage_rate: null,
    });
  }
  return out;
}

/** Whether one more use with `discount` leaves the applied coupon spent, and its new counters. */
function afterUse(
  a: Pick<
    AppliedCouponsTable,
    'frequency' | 'percentage_rate' | 'amount_remaining_cents' | 'frequency_duration_remaining'
  >,
  discount: bigint,
): { terminates: boolean; remaining: bigint | null; periods: number | null } {
  switch (a.frequency) {
    case 'once': {
      if (a.percentage_rate !== null) return { terminates: true, remaining: null, periods: null };
      const left = BigInt(a.amount_remaining_cents ?? 0) - discount;
      const remaining = left > 0n ? left : 0n;
      return { terminates: remaining === 0n, remaining, periods: null };
    }
    case 'recurring': {
      const left = Math.max((a.frequency_duration_remaining ?? 0) - 1, 0);
      return { terminates: left === 0, remaining: null, periods: left };
    }
    default:
      return { terminates: false, remaining: null, periods: null };
  }
}

/**
 * Records what each coupon took off invoice `invoiceId` and uses the coupons up accordingly.
 * Call it in the transaction that writes the invoice.
 */
export async function recordRedemptions(
  ctx: ServiceContext,
  invoiceId: string,
  outcomes: CouponOutcome[],
): Promise<void> {
  if (!outcomes.length) return;
  const now = ctx.now();
  const applied = await ctx.db
    .selectFrom('applied_coupons')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where(
      'id',
      'in',
      outcomes.map((o) => o.id),
    )
    .execute();
  const byId = new Map(applied.map((a) => [a.id, a]));
  const redemptions: CouponRedemptionsTable[] = [];
  for (const o of outcomes) {
    const a = byId.get(o.id);
    if (!a) throw new Error(`recordRedemptions: applied coupon ${o.id} does not exist`);
    const use = afterUse(a, o.discount);
    const terminates = use.terminates && a.status === 'active';
    const set: Partial<AppliedCouponsTable> = { updated_at: now };
    if (use.remaining !== null) set.amount_remaining_cents = Number(use.remaining);
    if (use.periods !== null) set.frequency_duration_remaining = use.periods;
    if (terminates) {
      set.status = 'terminated';
      set.terminated_at = now;
    }
    await ctx.db
      .updateTable('applied_coupons')
      .set(set)
      .where('id', '=', a.id)
      .where('organization_id', '=', ctx.organizationId)
      .execute();
    redemptions.push({
      id: newId('coupon_redemption', now),
      organization_id: ctx.organizationId,
      applied_coupon_id: a.id,
      invoice_id: invoiceId,
      amount_cents: Number(o.discount),
      terminated_applied_coupon: terminates ? 1 : 0,
      created_at: now,
    });
  }
  await ctx.db.insertInto('coupon_redemptions').values(redemptions).execute();
}

/**
 * Gives back what invoice `invoiceId` took from its coupons (a draft deleted or rebuilt, an
 * invoice voided): amounts and periods are restored, and its redemptions go. A coupon that was
 * used up is active again: when this invoice ended it, and also when a later invoice did (an
 * older invoice voided after newer ones), for what comes back is then usable. A coupon removed
 * by hand stays removed.
 */
export async function releaseRedemptions(ctx: ServiceContext, invoiceId: string): Promise<void> {
  const redemptions = await ctx.db
    .selectFrom('coupon_redemptions as r')
    .innerJoin('applied_coupons as a', 'a.id', 'r.applied_coupon_id')
    .select([
      'r.id',
      'r.amount_cents',
      'r.terminated_applied_coupon',
      'a.id as applied_id',
      'a.status',
      'a.frequency',
      'a.percentage_rate',
    ])
    .where('r.organization_id', '=', ctx.organizationId)
    .where('r.invoice_id', '=', invoiceId)
    .execute();
  if (!redemptions.length) return;
  const now = ctx.now();
  for (const r of redemptions) {
    let q = ctx.db.updateTable('applied_coupons').set({ updated_at: now });
    if (r.frequency === 'once' && r.percentage_rate === null) {
      q = q.set({ amount_remaining_cents: sql`amount_remaining_cents + ${Number(r.amount_cents)}` });
    } else if (r.frequency === 'recurring') {
      q = q.set({ frequency_duration_remaining: sql`frequency_duration_remaining + 1` });
    }
    // Used up by another invoice's redemption: that one no longer ends it once this gives back.
    const endedByAnother =
      r.terminated_applied_coupon !== 1 && r.status === 'terminated'
        ? await ctx.db
            .selectFrom('coupon_redemptions')
            .select('id')
            .where('organization_id', '=', ctx.organizationId)
            .where('applied_coupon_id', '=', r.applied_id)
            .where('invoice_id', '!=', invoiceId)
            .where('terminated_applied_coupon', '=', 1)
            .executeTakeFirst()
        : undefined;
    if (endedByAnother) {
      await ctx.db
        .updateTable('coupon_redemptions')
        .set({ terminated_applied_coupon: 0 })
        .where('id', '=', endedByAnother.id)
        .where('organization_id', '=', ctx.organizationId)
        .execute();
    }
    if (r.terminated_applied_coupon === 1 || endedByAnother)
      q = q.set({ status: 'active', terminated_at: null });
    await q.where('id', '=', r.applied_id).where('organization_id', '=', ctx.organizationId).execute();
  }
  await ctx.db
    .deleteFrom('coupon_redemptions')
    .where('organization_id', '=', ctx.organizationId)
    .where('invoice_id', '=', invoiceId)
    .execute();
}
