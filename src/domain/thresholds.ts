/**
 * Usage thresholds of progressive billing (Lago's usage_thresholds), as pure arithmetic in the
 * plan currency's minor unit. Step thresholds are levels of their own; a recurring threshold R
 * adds the levels last step + R, last step + 2R, … (from 0 when there is no step). A period's
 * usage amount has crossed a level when it is at least that level; it is billed once per level,
 * and a jump over several levels at once makes one invoice, for the highest.
 */

export interface UsageThreshold {
  amountCents: bigint;
  recurring: boolean;
}

/** The highest level `usageCents` has reached, or null when it reached none. */
export function crossedLevel(thresholds: readonly UsageThreshold[], usageCents: bigint): bigint | null {
  if (usageCents <= 0n) return null;
  const steps = thresholds.filter((t) => !t.recurring).map((t) => t.amountCents);
  const recurring = thresholds.find((t) => t.recurring)?.amountCents ?? null;
  let level: bigint | null = null;
  for (const s of steps) if (s <= usageCents && (level === null || s > level)) level = s;
  if (recurring !== null && recurring > 0n) {
    const base = steps.reduce((m, s) => (s > m ? s : m), 0n);
    if (usageCents >= base + recurring) {
      const k = (usageCents - base) / recurring;
      level = base + k * recurring;
    }
  }
  return level;
}

/** The threshold that names a level (its display name): the step itself, or the recurring one. */
export function thresholdOfLevel<T extends UsageThreshold>(
  thresholds: readonly T[],
  level: bigint,
): T | null {
  return (
    thresholds.find((t) => !t.recurring && t.amountCents === level) ??
    thresholds.find((t) => t.recurring) ??
    null
  );
}
