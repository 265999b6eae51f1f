import { sql, type RawBuilder } from 'kysely';
import { validation } from '../../domain/errors.js';
import { monthBoundaries, monthOf, parseReportingPeriod } from '../../domain/reporting-periods.js';
import { addMonthsToDate, dateInZone, startOfDayInZone, toIso } from '../../domain/time.js';
import type { ServiceContext } from '../context.js';

/**
 * The window a financial report covers and its calendar months, in the organization's time
 * zone: a named period (`2026-11`, `2026-Q4`, `2026`), a from/to pair (its months clipped to
 * it), or by default the current month.
 */
export interface ReportWindow {
  period: string | null;
  from: number;
  to: number;
  timezone: string;
  months: Array<{ month: string; from: number; to: number }>;
}

/** Enough for ten years month by month; a longer window is refused rather than slowly read. */
const MAX_MONTHS = 120;

export async function reportWindow(
  ctx: ServiceContext,
  input: { period?: string; from?: number; to?: number },
): Promise<ReportWindow> {
  const tz = (await ctx.organization()).timezone;
  const hasRange = input.from !== undefined || input.to !== undefined;
  if (input.period !== undefined && hasRange)
    throw validation(
      'period',
      'give either period or from/to, not both',
      'period: "2026-11", or from and to.',
    );
  if (hasRange) {
    if (input.from === undefined) throw validation('from', 'is required with to');
    if (input.to === undefined) throw validation('to', 'is required with from');
    if (input.from >= input.to) throw validation('to', `must be after from (${toIso(input.from)})`);
    const months: ReportWindow['months'] = [];
    let first = `${monthOf(dateInZone(input.from, tz))}-01`;
    for (;;) {
      const start = startOfDayInZone(first, tz);
      if (start >= input.to) break;
      const next = addMonthsToDate(first, 1);
      const end = startOfDayInZone(next, tz);
      months.push({ month: monthOf(first), from: Math.max(start, input.from), to: Math.min(end, input.to) });
      if (months.length > MAX_MONTHS)
        throw validation(
          'to',
          `the window spans more than ${MAX_MONTHS} months`,
          'Ask for ten years or less.',
        );
      first = next;
    }
    return { period: null, from: input.from, to: input.to, timezone: tz, months };
  }
  const name = input.period ?? monthOf(dateInZone(ctx.now(), tz));
  const p = parseReportingPeriod(name);
  if (!p)
    throw validation(
      'period',
      `must be a month (2026-11), a quarter (2026-Q4) or a year (2026); got '${name}'`,
      'Or give from and to.',
    );
  const days = monthBoundaries(p.firstDay, p.months);
  const starts = days.map((d) => startOfDayInZone(d, tz));
  return {
    period: p.name,
    from: starts[0]!,
    to: starts[p.months]!,
    timezone: tz,
    months: days.slice(0, -1).map((d, i) => ({ month: monthOf(d), from: starts[i]!, to: starts[i + 1]! })),
  };
}

/** `case when col < b1 then 0 when col < b2 then 1 … else n−1 end`: the month a row falls in. */
export function monthIndex(column: string, w: ReportWindow): RawBuilder<number> {
  if (w.months.length === 1) return sql<number>`0`;
  const whens = w.months
    .slice(0, -1)
    .map((m, i) => sql`when ${sql.ref(column)} < ${m.to} then ${sql.lit(i)}`);
  return sql<number>`case ${sql.join(whens, sql` `)} else ${sql.lit(w.months.length - 1)} end`;
}
