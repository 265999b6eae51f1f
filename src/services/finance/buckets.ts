import { sql, type RawBuilder } from 'kysely';

/**
 * The time buckets the maintained financial totals are kept in, and how a report's window is
 * cut into them.
 *
 * Every change is counted in three buckets at once: its UTC calendar month, its UTC day and its
 * quarter hour. The buckets are in UTC so that the totals do not depend on the organization's
 * time zone (which may change): a month in any time zone is a run of whole UTC days with whole
 * quarter hours at either end (every zone in use is a whole number of quarter hours from UTC),
 * and in UTC it is a single month bucket. So a report reads a few dozen rows per currency and
 * month, whatever the number of invoices. A window edge that falls inside a quarter hour (a
 * from/to given to the second) is read from the rows themselves, for that quarter hour only.
 */
export type Span = 'month' | 'day' | 'quarter';
export const SPANS: readonly Span[] = ['month', 'day', 'quarter'];

const DAY = 86_400_000;
const QUARTER = 900_000;

const mod = (t: number, m: number) => ((t % m) + m) % m;

/** The start of the bucket of `span` that holds instant `t`. */
export function bucketStart(span: Span, t: number): number {
  if (span === 'day') return t - mod(t, DAY);
  if (span === 'quarter') return t - mod(t, QUARTER);
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function nextBucket(span: Span, start: number): number {
  if (span === 'day') return start + DAY;
  if (span === 'quarter') return start + QUARTER;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** [from, to): of buckets, those whose start is in it; of rows, those whose instant is. */
export interface Range {
  from: number;
  to: number;
}

export interface Cover {
  /** Whole buckets, by span: together they are exactly the window less `raw`. */
  buckets: Map<Span, Range[]>;
  /** Pieces shorter than a quarter hour at the window's edges, read from the rows. */
  raw: Range[];
}

/**
 * Whole buckets, largest first, that together with `raw` are exactly the given intervals
 * (disjoint, e.g. a report's months). A bucket never straddles two intervals, so a bucket's
 * start tells which interval it counts in (and a row's instant, for `raw`).
 */
export function cover(intervals: readonly Range[]): Cover {
  const out: Cover = { buckets: new Map(SPANS.map((s) => [s, []])), raw: [] };
  const fill = (a: number, b: number, level: number): void => {
    if (a >= b) return;
    const span = SPANS[level];
    if (!span) {
      out.raw.push({ from: a, to: b });
      return;
    }
    const first = bucketStart(span, a) === a ? a : nextBucket(span, bucketStart(span, a));
    const end = bucketStart(span, b);
    if (first >= end) return fill(a, b, level + 1);
    out.buckets.get(span)!.push({ from: first, to: end });
    fill(a, first, level + 1);
    fill(end, b, level + 1);
  };
  for (const i of intervals) fill(i.from, i.to, 0);
  // Adjacent ranges (the quarter hours either side of a month boundary, a UTC organization's
  // months) read as one: the conditions stay short however long the window.
  for (const [span, ranges] of out.buckets) out.buckets.set(span, merged(ranges));
  out.raw = merged(out.raw);
  return out;
}

function merged(ranges: Range[]): Range[] {
  const out: Range[] = [];
  for (const r of [...ranges].sort((a, b) => a.from - b.from)) {
    const last = out[out.length - 1];
    if (last && last.to === r.from) last.to = r.to;
    else out.push({ ...r });
  }
  return out;
}

/** `(col >= f1 and col < t1) or …`, false for no range. */
export function inRanges(column: string, ranges: readonly Range[]): RawBuilder<boolean> {
  if (!ranges.length) return sql<boolean>`1 = 0`;
  return sql<boolean>`(${sql.join(
    ranges.map((r) => sql`(${sql.ref(column)} >= ${r.from} and ${sql.ref(column)} < ${r.to})`),
    sql` or `,
  )})`;
}

/** The covered buckets as one condition on (span, bucket_start). */
export function inBuckets(c: Cover): RawBuilder<boolean> {
  const parts = [...c.buckets.entries()]
    .filter(([, ranges]) => ranges.length)
    .map(([span, ranges]) => sql`(span = ${span} and ${inRanges('bucket_start', ranges)})`);
  if (!parts.length) return sql<boolean>`1 = 0`;
  return sql<boolean>`(${sql.join(parts, sql` or `)})`;
}
