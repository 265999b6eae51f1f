/**
 * Time zones and instants. Billfold stores instants as epoch milliseconds and shows them as
 * ISO 8601 UTC strings; calendar questions (which month, which day) are answered in a named
 * IANA time zone.
 */

const validZones = new Map<string, boolean>();

export function isTimeZone(tz: string): boolean {
  let ok = validZones.get(tz);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      // Intl accepts offsets like "+01:00" as zones; only names are IANA time zones.
      ok = /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(tz) || tz === 'UTC';
    } catch {
      ok = false;
    }
    validZones.set(tz, ok);
  }
  return ok;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Parses an ISO 8601 date ("2026-04-01", midnight UTC) or date-time with an offset, or Unix
 * seconds. Returns epoch milliseconds, or null when the text is not such a time.
 */
export function parseInstant(input: string | number): number | null {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0 || input > 32503680000) return null;
    return Math.round(input * 1000);
  }
  const s = input.trim();
  if (/^\d{9,11}(\.\d+)?$/.test(s)) return parseInstant(Number(s));
  if (ISO_DATE.test(s)) {
    const ms = Date.parse(`${s}T00:00:00Z`);
    return Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== s ? null : ms;
  }
  if (!ISO_DATETIME.test(s)) return null;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? null : ms;
}

export function toIso(ms: number): string;
export function toIso(ms: number | null | undefined): string | null;
export function toIso(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined) return null;
  return Number.isInteger(ms) && ms >= 0 && ms <= LAST_ISO_MS ? isoOf(ms) : new Date(ms).toISOString();
}

/** 9999-12-31T23:59:59.999Z: later (and earlier than 1970) instants go through Date. */
const LAST_ISO_MS = 253_402_300_799_999;
const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/**
 * Date.prototype.toISOString for an instant from 1970 to 9999, by arithmetic: a quarter of its
 * cost, and every output carries instants (a batch reply a thousand). The date is Howard
 * Hinnant's civil_from_days.
 */
function isoOf(ms: number): string {
  const days = Math.floor(ms / DAY);
  let rest = ms - days * DAY;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  const y = year < 1000 ? String(year).padStart(4, '0') : String(year);
  const m3 = millis < 10 ? `00${millis}` : millis < 100 ? `0${millis}` : `${millis}`;
  return `${y}-${two(month)}-${two(day)}T${two(hours)}:${two(minutes)}:${two(seconds)}.${m3}Z`;
}

// Building an Intl.DateTimeFormat costs far more than using one: keep one per zone.
const dateFormats = new Map<string, Intl.DateTimeFormat>();
const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** The calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function dateInZone(ms: number, tz: string): string {
  if (tz === 'UTC') return new Date(ms).toISOString().slice(0, 10);
  let format = dateFormats.get(tz);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone: tz,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    dateFormats.set(tz, format);
  }
  const parts = format.formatToParts(new Date(ms));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** Offset of `tz` from UTC at instant `ms`, in milliseconds. */
export function zoneOffsetMs(ms: number, tz: string): number {
  if (tz === 'UTC') return 0;
  let format = offsetFormats.get(tz);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    offsetFormats.set(tz, format);
  }
  const parts = format.formatToParts(new Date(ms));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return asUtc - Math.floor(ms / 1000) * 1000;
}

const DAY = 86_400_000;

/** A stretch of time over which a zone keeps one offset from UTC: it ends before `until`. */
export interface OffsetSegment {
  until: number;
  offsetMs: number;
}

/**
 * The offsets `tz` takes over [from, to), in order: one segment per daylight-saving (or other)
 * change. Offsets are sampled a day apart, and each change is then found to the second, which
 * assumes a zone never changes twice within a day (none does).
 */
export function offsetSegments(tz: string, from: number, to: number): OffsetSegment[] {
  const segments: OffsetSegment[] = [];
  let at = from;
  let offset = zoneOffsetMs(from, tz);
  for (let probe = from + DAY; at < to; probe += DAY) {
    const end = Math.min(probe, to);
    const next = zoneOffsetMs(end, tz);
    if (next !== offset) {
      // The change lies in (at, end]: the last second still at `offset` is found by halving.
      let lo = at;
      let hi = end;
      while (hi - lo > 1000) {
        const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
        if (zoneOffsetMs(mid, tz) === offset) lo = mid;
        else hi = mid;
      }
      // Zones change on a whole second, and exactly one lies in (lo, lo + 1 s].
      segments.push({ until: Math.floor(lo / 1000) * 1000 + 1000, offsetMs: offset });
      offset = next;
    }
    at = end;
  }
  segments.push({ until: Number.MAX_SAFE_INTEGER, offsetMs: offset });
  return segments;
}

/** Epoch ms of local midnight starting `date` (YYYY-MM-DD) in `tz`. */
export function startOfDayInZone(date: string, tz: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const guess = Date.UTC(y, m - 1, d);
  // Two passes settle the offset even when the day starts next to a DST change.
  let ms = guess - zoneOffsetMs(guess, tz);
  ms = guess - zoneOffsetMs(ms, tz);
  return ms;
}

/** Adds whole calendar months to a YYYY-MM-DD date, clamping the day to the month's length. */
export function addMonthsToDate(date: string, months: number, anchorDay?: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const total = y * 12 + (m - 1) + months;
  const ny = Math.floor(total / 12);
  const nm = (total % 12) + 1;
  const day = Math.min(anchorDay ?? d, daysInMonth(ny, nm));
  return `${String(ny).padStart(4, '0')}-${String(nm).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export function addDaysToDate(date: string, days: number): string {
  const ms = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
  return new Date(ms).toISOString().slice(0, 10);
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Whole days between two YYYY-MM-DD dates (b − a). */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}
