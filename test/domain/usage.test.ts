import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/domain/decimal.js';
import {
  HOUR_MS,
  Partial,
  addedWithin,
  applyRounding,
  applyTransition,
  emptyUniqueState,
  filterGroupKey,
  groupOf,
  groupSelected,
  periodPieces,
  presence,
  weightedAverage,
} from '../../src/domain/usage.js';

const D = (s: string | number) => Decimal.parse(s);
const DAY = 86_400_000;

describe('aggregation semantics', () => {
  it('rounds aggregated values with the metric rounding, negative precision included', () => {
    expect(applyRounding(D('4.305'), 'round', 2).toString()).toBe('4.31');
    expect(applyRounding(D('-4.305'), 'round', 2).toString()).toBe('-4.31');
    expect(applyRounding(D('4.301'), 'ceil', 1).toString()).toBe('4.4');
    expect(applyRounding(D('4.99'), 'floor', null).toString()).toBe('4');
    expect(applyRounding(D('1250'), 'round', -2).toString()).toBe('1300');
    expect(applyRounding(D('1.5'), null, null).toString()).toBe('1.5');
  });

  it('computes a weighted sum from Σd and Σd·t', () => {
    // 10 from day 0, +5 at day 15, −15 at day 25, over 31 days = 300/31.
    const p = new Partial();
    p.addEvent(0, 'a', D(10));
    p.addEvent(15 * DAY, 'b', D(5));
    p.addEvent(25 * DAY, 'c', D(-15));
    expect(weightedAverage(Decimal.ZERO, p.sum, p.sumDt, 0, 31 * DAY).toString()).toBe(
      '9.67741935483870967742',
    );
    expect(weightedAverage(D(3), Decimal.ZERO, Decimal.ZERO, 0, DAY).toString()).toBe('3');
  });

  it('splits a period into whole hours and edges', () => {
    expect(periodPieces(0, 3 * HOUR_MS)).toEqual({ fullFrom: 0, fullTo: 3, edges: [] });
    expect(periodPieces(1000, 3 * HOUR_MS + 5)).toEqual({
      fullFrom: 1,
      fullTo: 3,
      edges: [
        [1000, HOUR_MS],
        [3 * HOUR_MS, 3 * HOUR_MS + 5],
      ],
    });
    expect(periodPieces(10, 20)).toEqual({ fullFrom: 0, fullTo: 0, edges: [[10, 20]] });
  });

  it('keeps presence intervals of unique values and answers whether a value was added in a period', () => {
    const s = emptyUniqueState();
    applyTransition(s, 10, 'add');
    applyTransition(s, 20, 'add');
    applyTransition(s, 30, 'remove');
    applyTransition(s, 40, 'remove');
    applyTransition(s, 50, 'add');
    expect(s.intervals).toEqual([[10, 30]]);
    expect(s.presentSince).toBe(50);
    expect(presence(s, 0, 100)).toEqual({ present: true, ms: 70 });
    expect(presence(s, 30, 50)).toEqual({ present: false, ms: 0 });
    expect(addedWithin({ firstTs: 10, lastTs: 50 }, 20, 40)).toBeNull();
    expect(addedWithin({ firstTs: 10, lastTs: 50 }, 0, 11)).toBe(true);
    expect(addedWithin({ firstTs: 10, lastTs: 50 }, 51, 60)).toBe(false);
  });

  it('groups events by the declared filter values only', () => {
    const filters = [
      { key: 'region', values: ['eu', 'us'] },
      { key: 'tier', values: ['gold'] },
    ];
    expect(groupOf(filters, { tier: 'gold', region: 'eu' })).toBe('{"region":"eu","tier":"gold"}');
    expect(groupOf(filters, { region: 'ap', tier: 'silver' })).toBe('');
    expect(groupOf(filters, { region: 5 })).toBe('');
  });

  it("puts an event's agent code in its group, which readers show and combine without it", () => {
    const filters = [{ key: 'region', values: ['eu', 'us'] }];
    expect(groupOf([], {}, 'bot')).toBe('{"@agent":"bot"}');
    expect(groupOf(filters, { region: 'eu' }, 'bot')).toBe('{"@agent":"bot","region":"eu"}');
    expect(groupOf(filters, { region: 'ap' }, 'bot')).toBe('{"@agent":"bot"}');
    expect(groupOf(filters, { region: 'eu' }, null)).toBe('{"region":"eu"}');
    // Keys sorting before '@' keep the canonical order.
    expect(groupOf([{ key: '#', values: ['x'] }], { '#': 'x' }, 'bot')).toBe('{"#":"x","@agent":"bot"}');
    expect(filterGroupKey('{"#":"x","@agent":"bot"}')).toBe('{"#":"x"}');
    expect(filterGroupKey('{"@agent":"bot","region":"eu"}')).toBe('{"region":"eu"}');
    expect(filterGroupKey('{"@agent":"bot"}')).toBe('');
    expect(filterGroupKey('{"region":"eu"}')).toBe('{"region":"eu"}');
    const g = '{"@agent":"bot","region":"eu"}';
    expect(groupSelected(g, { filters: { '@agent': ['bot'] } })).toBe(true);
    expect(groupSelected(g, { filters: { '@agent': ['other'] } })).toBe(false);
    expect(groupSelected(g, { filters: { '@agent': ['bot'] }, exclude: [{ region: ['eu'] }] })).toBe(false);
    expect(groupSelected(g, { exclude: [{ region: ['us'] }] })).toBe(true);
  });

  it('gives the same sums, maximum, latest and weighted sum from hour buckets as from the events (property)', () => {
    const event = fc.record({
      ts: fc.integer({ min: 0, max: 10 * HOUR_MS }),
      v: fc.tuple(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.integer({ min: 0, max: 4 })),
    });
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 60 }),
        fc.integer({ min: 0, max: 10 * HOUR_MS }),
        fc.integer({ min: 1, max: 10 * HOUR_MS }),
        (events, a, len) => {
          const from = a;
          const to = a + len;
          const all = events.map((e, i) => ({
            ts: e.ts,
            id: String(i).padStart(3, '0'),
            v: Decimal.of(BigInt(e.v[0]), e.v[1]),
          }));
          const direct = new Partial();
          for (const e of all) if (e.ts >= from && e.ts < to) direct.addEvent(e.ts, e.id, e.v);
          const buckets = new Map<number, Partial>();
          for (const e of all) {
            const b = Math.floor(e.ts / HOUR_MS);
            if (!buckets.has(b)) buckets.set(b, new Partial());
            buckets.get(b)!.addEvent(e.ts, e.id, e.v);
          }
          const pieces = periodPieces(from, to);
          const combined = new Partial();
          for (const [b, p] of buckets) if (b >= pieces.fullFrom && b < pieces.fullTo) combined.merge(p);
          for (const [x, y] of pieces.edges)
            for (const e of all) if (e.ts >= x && e.ts < y) combined.addEvent(e.ts, e.id, e.v);
          expect(combined.count).toBe(direct.count);
          expect(combined.sum.eq(direct.sum)).toBe(true);
          expect(combined.max?.toString()).toBe(direct.max?.toString());
          expect(combined.latestValue?.toString()).toBe(direct.latestValue?.toString());
          expect(
            weightedAverage(Decimal.ZERO, combined.sum, combined.sumDt, from, to).eq(
              weightedAverage(Decimal.ZERO, direct.sum, direct.sumDt, from, to),
            ),
          ).toBe(true);
        },
      ),
    );
  });
});

describe('usage event payload hash', async () => {
  const { payloadHash } = await import('../../src/services/metering/ingest.js');
  const { UsageEventInput } = await import('../../src/operations/schemas/metering.js');
  const hash = (raw: Record<string, unknown>) => payloadHash(UsageEventInput.parse(raw));
  it('is the same for the same event whatever the order of its fields and property keys', () => {
    const a = hash({
      transaction_id: 't',
      customer_id: 'c',
      code: 'x',
      properties: { b: 1, a: { z: 1, y: [2, { q: 1, p: 0 }] } },
      metadata: { k: 'v' },
    });
    const b = hash({
      metadata: { k: 'v' },
      properties: { a: { y: [2, { p: 0, q: 1 }], z: 1 }, b: 1 },
      code: 'x',
      customer_id: 'c',
      transaction_id: 't',
    });
    expect(a).toBe(b);
    expect(hash({ transaction_id: 't', customer_id: 'c', code: 'x', properties: { a: 1, b: 2 } })).toBe(
      hash({ transaction_id: 't', customer_id: 'c', code: 'x', properties: { b: 2, a: 1 } }),
    );
    expect(
      hash({ transaction_id: 't', customer_id: 'c', code: 'x', timestamp: '2026-01-01T00:00:00Z' }),
    ).toBe(hash({ transaction_id: 't', customer_id: 'c', code: 'x', timestamp: 1767225600 }));
    expect(hash({ transaction_id: 't', customer_id: 'c', code: 'x', properties: { a: 1 } })).not.toBe(
      hash({ transaction_id: 't', customer_id: 'c', code: 'x', properties: { a: 2 } }),
    );
  });

  it('tells apart payloads whose fields only run into each other, or are empty rather than absent', () => {
    expect(hash({ transaction_id: 't', customer_id: 'ab', code: 'c' })).not.toBe(
      hash({ transaction_id: 't', customer_id: 'a', code: 'bc' }),
    );
    expect(hash({ transaction_id: 't', customer_id: 'c', code: 'x' })).not.toBe(
      hash({ transaction_id: 't', customer_id: 'c', code: 'x', properties: {} }),
    );
    expect(
      hash({ transaction_id: 't', customer_id: 'c', code: 'x', input_tokens: 5, model: 'm', provider: 'p' }),
    ).not.toBe(
      hash({ transaction_id: 't', customer_id: 'c', code: 'x', output_tokens: 5, model: 'm', provider: 'p' }),
    );
    expect(hash({ transaction_id: 't', customer_id: 'c', code: 'x' })).toMatch(/^2[\w-]{27}$/);
  });
});
