import { describe, expect, it } from 'vitest';
import { bucketStart, cover, type Range } from '../../src/services/finance/buckets.js';

const ms = (iso: string) => Date.parse(iso);
const QUARTER = 900_000;

/** Every piece of a cover as [span, from, to], buckets expanded one by one. */
function pieces(c: ReturnType<typeof cover>): Array<[string, number, number]> {
  const out: Array<[string, number, number]> = [];
  for (const [span, ranges] of c.buckets)
    for (const r of ranges)
      for (let b = r.from; b < r.to;) {
        const next =
          span === 'quarter'
            ? b + QUARTER
            : span === 'day'
              ? b + 86_400_000
              : Date.UTC(new Date(b).getUTCFullYear(), new Date(b).getUTCMonth() + 1, 1);
        out.push([span, b, next]);
        b = next;
      }
  for (const r of c.raw) out.push(['raw', r.from, r.to]);
  return out.sort((a, b) => a[1] - b[1]);
}

/** The pieces tile the intervals exactly: no gap, no overlap, nothing outside. */
function expectTiles(intervals: Range[], c: ReturnType<typeof cover>) {
  const p = pieces(c);
  let i = 0;
  for (const interval of intervals) {
    let at = interval.from;
    while (at < interval.to) {
      const [, from, to] = p[i++]!;
      expect(from).toBe(at);
      expect(to).toBeLessThanOrEqual(interval.to);
      at = to;
    }
  }
  expect(i).toBe(p.length);
}

describe('report windows cut into maintained buckets', () => {
  it('reads a UTC month as one month bucket', () => {
    const c = cover([{ from: ms('2026-11-01T00:00:00Z'), to: ms('2026-12-01T00:00:00Z') }]);
    expect(c.buckets.get('month')).toEqual([
      { from: ms('2026-11-01T00:00:00Z'), to: ms('2026-12-01T00:00:00Z') },
    ]);
    expect(c.buckets.get('day')).toEqual([]);
    expect(c.raw).toEqual([]);
  });

  it('reads a Kolkata month (UTC+5:30) as whole days and quarter hours, no row', () => {
    const months = [
      { from: ms('2026-10-31T18:30:00Z'), to: ms('2026-11-30T18:30:00Z') },
      { from: ms('2026-11-30T18:30:00Z'), to: ms('2026-12-31T18:30:00Z') },
    ];
    const c = cover(months);
    expect(c.raw).toEqual([]);
    // Neither local month holds a whole UTC month.
    expect(c.buckets.get('month')).toEqual([]);
    // The quarter hours of 30 November either side of the boundary read as one range.
    expect(c.buckets.get('quarter')).toContainEqual({
      from: ms('2026-11-30T00:00:00Z'),
      to: ms('2026-12-01T00:00:00Z'),
    });
    expectTiles(months, c);
  });

  it('reads edges cut inside a quarter hour from the rows, for that piece only', () => {
    const w = [{ from: ms('2026-11-03T10:07:30Z'), to: ms('2026-11-20T23:59:59Z') }];
    const c = cover(w);
    expect(c.raw).toEqual([
      { from: ms('2026-11-03T10:07:30Z'), to: ms('2026-11-03T10:15:00Z') },
      { from: ms('2026-11-20T23:45:00Z'), to: ms('2026-11-20T23:59:59Z') },
    ]);
    expectTiles(w, c);
  });

  it('puts an instant in the month, day and quarter hour that hold it, before 1970 too', () => {
    const t = ms('2026-11-30T18:29:59.999Z');
    expect(bucketStart('month', t)).toBe(ms('2026-11-01T00:00:00Z'));
    expect(bucketStart('day', t)).toBe(ms('2026-11-30T00:00:00Z'));
    expect(bucketStart('quarter', t)).toBe(ms('2026-11-30T18:15:00Z'));
    expect(bucketStart('quarter', ms('1969-12-31T23:59:00Z'))).toBe(ms('1969-12-31T23:45:00Z'));
  });
});
