/**
 * Durations as people write them in configuration: `500ms`, `5s`, `5m`, `2h`, `3d`, and lists of
 * them (`5s,5m,30m`). Whole numbers only, so a schedule reads the same everywhere.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds, or null when `text` is not a duration like 5s or 30m. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** A comma-separated list of durations, or null when any of them is not one (or it is empty). */
export function parseDurations(text: string): number[] | null {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) return null;
  const out: number[] = [];
  for (const p of parts) {
    const ms = parseDuration(p);
    if (ms === null || ms === 0) return null;
    out.push(ms);
  }
  return out;
}

/** How long to wait after `failures` failed attempts: the schedule's entry, its last repeating. */
export function retryDelay(schedule: readonly number[], failures: number, random: number): number {
  const base = schedule[Math.min(Math.max(failures, 1), schedule.length) - 1]!;
  // ±20 %, so the retries of many deliveries that failed together do not arrive together.
  return Math.round(base * (0.8 + 0.4 * random));
}
