import { addMonthsToDate } from './time.js';

/**
 * Reporting periods named the way people say them: a month (`2026-11`), a quarter (`2026-Q4`)
 * or a year (`2026`). A period is a run of calendar months; where its months begin in time
 * depends on the organization's time zone, which the caller applies.
 */
export interface ReportingPeriod {
  /** The name as normalized: `2026-11`, `2026-Q4`, `2026`. */
  name: string;
  kind: 'month' | 'quarter' | 'year';
  /** First day of the first month, YYYY-MM-DD. */
  firstDay: string;
  /** How many calendar months it spans (1, 3 or 12). */
  months: number;
}

const MONTH = /^(\d{4})-(\d{2})$/;
const QUARTER = /^(\d{4})-?Q([1-4])$/i;
const YEAR = /^(\d{4})$/;

/** The period a name stands for, or null when the text is none of the three forms. */
export function parseReportingPeriod(text: string): ReportingPeriod | null {
  const s = text.trim();
  let m = MONTH.exec(s);
  if (m) {
    const month = Number(m[2]);
    if (month < 1 || month > 12) return null;
    return { name: `${m[1]}-${m[2]}`, kind: 'month', firstDay: `${m[1]}-${m[2]}-01`, months: 1 };
  }
  m = QUARTER.exec(s);
  if (m) {
    const q = Number(m[2]);
    const first = String((q - 1) * 3 + 1).padStart(2, '0');
    return { name: `${m[1]}-Q${q}`, kind: 'quarter', firstDay: `${m[1]}-${first}-01`, months: 3 };
  }
  m = YEAR.exec(s);
  if (m) return { name: m[1]!, kind: 'year', firstDay: `${m[1]}-01-01`, months: 12 };
  return null;
}

/** The first days of a period's months, and the first day after it (months + 1 dates). */
export function monthBoundaries(firstDay: string, months: number): string[] {
  return Array.from({ length: months + 1 }, (_, i) => addMonthsToDate(firstDay, i));
}

/** The month (YYYY-MM) a YYYY-MM-DD date falls in, as a period name. */
export function monthOf(date: string): string {
  return date.slice(0, 7);
}
