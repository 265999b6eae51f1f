import type { ServiceContext } from '../context.js';
import type { PlanRecord, SubscriptionRecord } from './records.js';

/**
 * Turning subscriptions into invoices. (Contract for the lifecycle code in subscriptions.ts;
 * the implementation lands with the billing engine.)
 */

/** The earliest instant at which a billing run has something to invoice for `sub`, or null. */
export function nextBillingAt(_sub: SubscriptionRecord, _plan: PlanRecord, _after: number): number | null {
  throw new Error('billing engine not built yet');
}

/** Invoices what a subscription terminated at `at` still owes (usage and arrears fee up to `at`). */
export async function billTermination(
  _ctx: ServiceContext,
  _sub: SubscriptionRecord,
  _at: number,
): Promise<string[]> {
  throw new Error('billing engine not built yet');
}

/**
 * When a subscription that paid its fee in advance ends (or changes plan) at `at` before its
 * period ends: credits the unused part. Returns the credit note id, or null when nothing to credit.
 */
export async function creditUnusedAdvanceFee(
  _ctx: ServiceContext,
  _sub: SubscriptionRecord,
  _at: number,
): Promise<string | null> {
  throw new Error('billing engine not built yet');
}
