import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chargeAmount, percentOf, rangeProblem, type Range } from '../../src/domain/charges.js';
import { Decimal } from '../../src/domain/decimal.js';

const d = (v: string | number) => Decimal.parse(v);
const range = (from: string, to: string | null, perUnit: string, flat = '0'): Range => ({
  from_value: d(from),
  to_value: to === null ? null : d(to),
  per_unit_amount: d(perUnit),
  flat_amount: d(flat),
});
/** 0–100 at 1.00 + 10 flat, 100–1000 at 0.50 + 5 flat, 1000–∞ at 0.25. */
const TIERS = [
  range('0', '100', '1.00', '10'),
  range('100', '1000', '0.50', '5'),
  range('1000', null, '0.25'),
];
const amount = (m: Parameters<typeof chargeAmount>[0], units: string, tx?: string[]) =>
  chargeAmount(m, d(units), tx?.map(d)).amount.toString();

describe('charge models', () => {
  it('standard: units × amount, exactly', () => {
    expect(amount({ model: 'standard', amount: d('0.0000025') }, '1234567')).toBe('3.0864175');
    expect(amount({ model: 'standard', amount: d('12.5') }, '0')).toBe('0');
  });

  it('credit_pool: units draw credits; only credits beyond the pool cost anything', () => {
    const pool = (included: string, perUnit: string, price: string) => ({
      model: 'credit_pool' as const,
      properties: { included_credits: d(included), credits_per_unit: d(perUnit), amount: d(price) },
    });
    expect(amount(pool('1000', '2', '0.01'), '500')).toBe('0'); // 1000 credits: the whole pool
    expect(amount(pool('1000', '2', '0.01'), '700')).toBe('4'); // 1400 − 1000 = 400 × 0.01
    expect(amount(pool('10', '0.5', '0.3'), '25.5')).toBe('0.825'); // 12.75 − 10 = 2.75 × 0.3
    fc.assert(
      fc.property(
        fc.nat(100000),
        fc.nat(5000),
        fc.integer({ min: 1, max: 9 }),
        (units, included, perUnit) => {
          const m = pool(String(included), String(perUnit), '0.001');
          const over = Math.max(0, units * perUnit - included);
          expect(
            chargeAmount(m, Decimal.fromInt(units)).amount.eq(Decimal.fromInt(over).mul(d('0.001'))),
          ).toBe(true);
        },
      ),
    );
  });

  it('graduated: each range prices its own units, its flat amount only when it has units', () => {
    const g = { model: 'graduated' as const, ranges: TIERS };
    const table: Array<[string, string]> = [
      ['0', '0'],
      ['1', '11'], // 1 × 1.00 + 10
      ['100', '110'], // exactly on the first boundary: all in the first range
      ['101', '115.5'], // one above: 110 + 1 × 0.50 + 5
      ['1000', '565'], // 110 + 900 × 0.50 + 5
      ['1001', '565.25'], // the open last range has no flat amount
      ['100.5', '115.25'],
    ];
    for (const [units, expected] of table) expect(amount(g, units), units).toBe(expected);
  });

  it('volume: all units at the range the total falls in, plus its flat amount; nothing for zero units', () => {
    const v = { model: 'volume' as const, ranges: TIERS };
    const table: Array<[string, string]> = [
      ['0', '0'],
      ['1', '11'],
      ['100', '110'], // on the boundary: still the first range
      ['101', '55.5'], // 101 × 0.50 + 5: volume pricing drops at the tier
      ['1000', '505'],
      ['1001', '250.25'],
    ];
    for (const [units, expected] of table) expect(amount(v, units), units).toBe(expected);
  });

  it('package: whole packages after the free units', () => {
    const p = {
      model: 'package' as const,
      properties: { amount: d('5'), package_size: d('100'), free_units: d('50') },
    };
    const table: Array<[string, string]> = [
      ['0', '0'],
      ['50', '0'],
      ['51', '5'],
      ['150', '5'],
      ['151', '10'],
      ['1050', '50'],
    ];
    for (const [units, expected] of table) expect(amount(p, units), units).toBe(expected);
  });

  it('percentage: rate of the paying amounts, fixed fee per paying transaction, free allowances, clamps', () => {
    const base = {
      rate: d('2.9'),
      fixed_amount: d('0.30'),
      free_units_per_events: null,
      free_units_per_total_aggregation: null,
      per_transaction_min_amount: null,
      per_transaction_max_amount: null,
    };
    const tx = ['100', '50', '10'];
    expect(amount({ model: 'percentage', properties: base }, '160', tx)).toBe('5.54'); // 4.64 + 3 × 0.30
    // The first transaction is free.
    expect(
      amount({ model: 'percentage', properties: { ...base, free_units_per_events: 1 } }, '160', tx),
    ).toBe('2.34');
    // The first 120 of amount is free: 100 free, 20 of the 50 free, 30 pays; the 10 pays.
    expect(
      amount(
        { model: 'percentage', properties: { ...base, free_units_per_total_aggregation: d('120') } },
        '160',
        tx,
      ),
    ).toBe('1.76');
    // Both limits: free until the first is reached (one transaction here).
    expect(
      amount(
        {
          model: 'percentage',
          properties: { ...base, free_units_per_events: 1, free_units_per_total_aggregation: d('1000') },
        },
        '160',
        tx,
      ),
    ).toBe('2.34');
    // Clamps apply to each transaction's fee: 3.20 → 2.00 max; 0.59 → 1.00 min.
    const clamped = {
      ...base,
      fixed_amount: d('0.30'),
      per_transaction_min_amount: d('1'),
      per_transaction_max_amount: d('2'),
    };
    expect(amount({ model: 'percentage', properties: clamped }, '110', ['100', '10'])).toBe('3');
    expect(percentOf(d('1250'), d('2.9')).toString()).toBe('36.25');
  });

  it('rejects ranges that do not tile from 0, saying which range is wrong', () => {
    expect(rangeProblem(TIERS)).toBeNull();
    expect(rangeProblem([range('1', null, '1')], 'graduated_ranges')).toMatch(
      /graduated_ranges\[0\]\.from_value must be 0/,
    );
    expect(rangeProblem([range('0', '10', '1'), range('11', null, '1')])).toMatch(
      /ranges\[1\]\.from_value must be 10, the previous range's to_value \(got 11\)/,
    );
    expect(rangeProblem([range('0', '10', '1'), range('5', null, '1')])).toMatch(
      /ranges\[1\]\.from_value must be 10/,
    );
    expect(rangeProblem([range('0', '10', '1'), range('10', '20', '1')])).toMatch(
      /ranges\[1\]\.to_value must be null/,
    );
    expect(rangeProblem([range('0', null, '1'), range('10', null, '1')])).toMatch(
      /only the last range may be open/,
    );
    expect(rangeProblem([range('0', '0', '1')])).toMatch(/greater than its from_value/);
    expect(rangeProblem([])).toMatch(/at least one range/);
  });

  const units = fc
    .tuple(fc.bigInt({ min: 0n, max: 10n ** 9n }), fc.integer({ min: 0, max: 4 }))
    .map(([c, s]) => Decimal.of(c, s));
  const tiers = fc
    .array(
      fc.tuple(
        fc.bigInt({ min: 1n, max: 5000n }),
        fc.bigInt({ min: 0n, max: 10000n }),
        fc.bigInt({ min: 0n, max: 1000n }),
      ),
      { minLength: 1, maxLength: 5 },
    )
    .map((spec) => {
      let from = Decimal.ZERO;
      return spec.map(([width, perUnit, flat], i) => {
        const to = i === spec.length - 1 ? null : from.add(Decimal.of(width));
        const r = {
          from_value: from,
          to_value: to,
          per_unit_amount: Decimal.of(perUnit, 4),
          flat_amount: Decimal.of(flat, 2),
        };
        if (to) from = to;
        return r;
      });
    });

  it('graduated ranges partition the units: the units of the breakdown add up to the total', () => {
    fc.assert(
      fc.property(tiers, units, (ranges, u) => {
        expect(rangeProblem(ranges)).toBeNull();
        const r = chargeAmount({ model: 'graduated', ranges }, u);
        expect(Decimal.sum(r.breakdown.map((b) => b.units)).eq(u)).toBe(true);
        expect(Decimal.sum(r.breakdown.map((b) => b.amount)).eq(r.amount)).toBe(true);
      }),
    );
  });

  it('graduated and package amounts never decrease as units grow', () => {
    fc.assert(
      fc.property(tiers, units, units, (ranges, a, b) => {
        const [lo, hi] = a.lte(b) ? [a, b] : [b, a];
        expect(
          chargeAmount({ model: 'graduated', ranges }, lo).amount.lte(
            chargeAmount({ model: 'graduated', ranges }, hi).amount,
          ),
        ).toBe(true);
        const p = {
          model: 'package' as const,
          properties: { amount: d('3'), package_size: d('7'), free_units: d('2') },
        };
        expect(chargeAmount(p, lo).amount.lte(chargeAmount(p, hi).amount)).toBe(true);
      }),
    );
  });

  it('a single open range prices graduated, volume and standard the same', () => {
    fc.assert(
      fc.property(units, fc.bigInt({ min: 0n, max: 10n ** 6n }), (u, price) => {
        const p = Decimal.of(price, 3);
        const one = [
          { from_value: Decimal.ZERO, to_value: null, per_unit_amount: p, flat_amount: Decimal.ZERO },
        ];
        const s = chargeAmount({ model: 'standard', amount: p }, u).amount;
        expect(chargeAmount({ model: 'graduated', ranges: one }, u).amount.eq(s)).toBe(true);
        expect(chargeAmount({ model: 'volume', ranges: one }, u).amount.eq(s)).toBe(true);
      }),
    );
  });
});
