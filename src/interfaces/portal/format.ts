import { formatMoney } from '../../services/invoice-pdf.js';

/**
 * How the portal writes amounts and dates: amounts exactly as the invoice PDF prints them
 * ("1,234.50 EUR", from integer minor units), dates as "12 Mar 2026" for a calendar date and
 * with the time in the customer's time zone for an instant.
 */

export function money(cents: number, currency: string): string {
  return formatMoney(cents, currency);
}

/**
 * Formatters by time zone and style, made once: building an Intl.DateTimeFormat costs far more
 * than formatting with one, and a page formats dozens of dates.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string, withTime: boolean): Intl.DateTimeFormat {
  const key = `${timeZone}|${withTime}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      timeZone,
      ...(withTime ? { hour: '2-digit', minute: '2-digit', timeZoneName: 'short' } : {}),
    });
    formatters.set(key, f);
  }
  return f;
}

/** A calendar date "2026-03-12" → "12 Mar 2026"; null → an en dash. */
export function date(ymd: string | null | undefined): string {
  if (!ymd) return '–';
  const ms = Date.parse(`${ymd.slice(0, 10)}T00:00:00Z`);
  return Number.isNaN(ms) ? ymd : formatter('UTC', false).format(ms);
}

/** An instant, as the calendar date it falls on in `timeZone`. */
export function dayOf(iso: string | null | undefined, timeZone: string): string {
  if (!iso) return '–';
  return formatter(timeZone, false).format(Date.parse(iso));
}

/** An instant with its time of day in `timeZone`: "12 Mar 2026, 14:05 CET". */
export function moment(iso: string | number, timeZone: string): string {
  return formatter(timeZone, true).format(typeof iso === 'number' ? iso : Date.parse(iso));
}

/**
 * A period [from, to) as the days it covers in `timeZone`: "1 Mar 2026 – 31 Mar 2026" for
 * March (its end is exclusive, so the last day shown is the one before it).
 */
export function period(fromIso: string, toIso: string, timeZone: string): string {
  const last = new Date(Math.max(Date.parse(fromIso), Date.parse(toIso) - 1)).toISOString();
  return `${dayOf(fromIso, timeZone)} – ${dayOf(last, timeZone)}`;
}

/** A path segment as the browser sent it, decoded; malformed escapes are kept as they are. */
export function pathParam(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? '');
  } catch {
    return segment ?? '';
  }
}
