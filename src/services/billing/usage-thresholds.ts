import { Decimal } from '../../domain/decimal.js';
import { validation } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { moneyFields } from '../../domain/money.js';
import { currencyAmount } from './charge-validation.js';
import type { StoredUsageThreshold, UsageThresholdRecord } from './records.js';

/**
 * A plan's usage thresholds as callers write them (create_plan, update_plan, Lago's
 * usage_thresholds), checked and turned into the stored JSON. Every error names the field.
 */

export interface UsageThresholdInput {
  amount: Decimal;
  threshold_display_name?: string | null;
  recurring?: boolean;
}

export interface UsageThresholdView {
  id: string;
  amount_cents: number;
  amount: string;
  threshold_display_name: string | null;
  recurring: boolean;
}

/** At most this many thresholds per plan (Lago sets no limit; a plan with more is a mistake). */
export const MAX_USAGE_THRESHOLDS = 50;

/**
 * The stored JSON for `input` (null: none), sorted step thresholds first by amount, then the
 * recurring one. A threshold the plan already had (same amount, same kind) keeps its id.
 */
export function storedUsageThresholds(
  input: readonly UsageThresholdInput[] | null | undefined,
  currency: string,
  before: readonly UsageThresholdRecord[] = [],
): string | null {
  if (!input || input.length === 0) return null;
  if (input.length > MAX_USAGE_THRESHOLDS)
    throw validation('usage_thresholds', `at most ${MAX_USAGE_THRESHOLDS} thresholds (got ${input.length})`);
  const out: StoredUsageThreshold[] = [];
  const seen = new Map<string, number>();
  let recurringAt: number | null = null;
  input.forEach((t, i) => {
    const field = `usage_thresholds[${i}].amount`;
    const amount = currencyAmount(t.amount, currency, field);
    if (!t.amount.isPositive())
      throw validation(field, `must be greater than 0 (got ${t.amount.toString()})`);
    const recurring = t.recurring === true;
    if (recurring) {
      if (recurringAt !== null)
        throw validation(
          `usage_thresholds[${i}].recurring`,
          `only one threshold may be recurring (usage_thresholds[${recurringAt}] is already)`,
          'Keep one recurring threshold: it repeats every amount after the last step threshold.',
        );
      recurringAt = i;
    } else {
      const dup = seen.get(amount);
      if (dup !== undefined)
        throw validation(
          field,
          `${amount} is already the amount of usage_thresholds[${dup}]`,
          'Give each step threshold its own amount.',
        );
      seen.set(amount, i);
    }
    const kept = before.find((b) => b.recurring === recurring && b.amount.eq(t.amount));
    out.push({
      id: kept?.id ?? newId('usage_threshold'),
      amount,
      threshold_display_name: t.threshold_display_name ?? null,
      recurring,
    });
  });
  out.sort((a, b) =>
    a.recurring !== b.recurring
      ? a.recurring
        ? 1
        : -1
      : Decimal.parse(a.amount).cmp(Decimal.parse(b.amount)),
  );
  return JSON.stringify(out);
}

export function usageThresholdViews(
  thresholds: readonly UsageThresholdRecord[],
  currency: string,
): UsageThresholdView[] {
  return thresholds.map((u) => ({
    id: u.id,
    ...moneyFields('amount', u.amountCents, currency),
    threshold_display_name: u.thresholdDisplayName,
    recurring: u.recurring,
  }));
}
