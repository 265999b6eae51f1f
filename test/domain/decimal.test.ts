import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, DecimalError, divRound } from '../../src/domain/decimal.js';

/** Decimals as strings with up to 18 integer and 12 fractional digits, signed. */
const decimalString = fc
  .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 18n }), fc.integer({ min: 0, max: 12 }))
  .map(([neg, coef, scale]) => Decimal.of(neg ? -coef : coef, scale).toFixed());

describe('Decimal', () => {
  it('parses what people write and refuses what is not a number', () => {
    expect(Decimal.parse('12.50').toString()).toBe('12.5');
    expect(Decimal.parse('12.50').toFixed(2)).toBe('12.50');
    expect(Decimal.parse(12.5).toFixed(2)).toBe('12.50');
    expect(Decimal.parse('.5').toString()).toBe('0.5');
    expect(Decimal.parse('-0.0000025').toString()).toBe('-0.0000025');
    expect(Decimal.parse('1e-7').toString()).toBe('0.0000001');
    expect(Decimal.parse(1e-7).toString()).toBe('0.0000001');
    expect(Decimal.parse('2.5E3').toString()).toBe('2500');
    expect(Decimal.parse('1_000.25').toString()).toBe('1000.25');
    expect(Decimal.parse(0.1).add(Decimal.parse(0.2)).toString()).toBe('0.3');
    for (const bad of ['', '.', 'abc', '1.2.3', '1,5', '--1', 'NaN', 'Infinity', '0x10']) {
      expect(() => Decimal.parse(bad), bad).toThrow(DecimalError);
    }
    expect(() => Decimal.parse(Number.NaN)).toThrow(/finite/);
    expect(() => Decimal.parse(12345678901234567)).toThrow(/pass it as a string/);
    expect(() => Decimal.parse('1'.repeat(61))).toThrow(/too many digits/);
  });

  it('rounds half-up (away from zero) and by every other mode', () => {
    const cases: Array<[string, number, string, string, string, string, string]> = [
      // value, scale, half_up, half_even, floor, ceil, down
      ['1.005', 2, '1.01', '1.00', '1.00', '1.01', '1.00'],
      ['1.015', 2, '1.02', '1.02', '1.01', '1.02', '1.01'],
      ['-1.005', 2, '-1.01', '-1.00', '-1.01', '-1.00', '-1.00'],
      ['2.5', 0, '3', '2', '2', '3', '2'],
      ['-2.5', 0, '-3', '-2', '-3', '-2', '-2'],
      ['0.004999', 2, '0.00', '0.00', '0.00', '0.01', '0.00'],
    ];
    for (const [v, s, hu, he, fl, ce, dn] of cases) {
      const d = Decimal.parse(v);
      expect(d.round(s, 'half_up').toFixed(s), `${v} half_up`).toBe(hu);
      expect(d.round(s, 'half_even').toFixed(s), `${v} half_even`).toBe(he);
      expect(d.round(s, 'floor').toFixed(s), `${v} floor`).toBe(fl);
      expect(d.round(s, 'ceil').toFixed(s), `${v} ceil`).toBe(ce);
      expect(d.round(s, 'down').toFixed(s), `${v} down`).toBe(dn);
    }
  });

  it('multiplies exactly: the invoice examples', () => {
    expect(Decimal.parse('3').mul('0.335').round(2).toFixed(2)).toBe('1.01');
    expect(Decimal.parse('3').mul('333.5').round(0).toFixed(0)).toBe('1001');
    expect(Decimal.parse('1').mul('1.0005').round(3).toFixed(3)).toBe('1.001');
    expect(Decimal.parse('1000000').mul('0.0000025').toString()).toBe('2.5');
  });

  it('round-trips every decimal string exactly', () => {
    fc.assert(
      fc.property(decimalString, (s) => {
        expect(Decimal.parse(s).toString()).toBe(Decimal.parse(Decimal.parse(s).toString()).toString());
        expect(Decimal.parse(s).eq(s)).toBe(true);
      }),
    );
  });

  it('adds and subtracts without drift: (a + b) − b = a, a + b = b + a', () => {
    fc.assert(
      fc.property(decimalString, decimalString, (a, b) => {
        const x = Decimal.parse(a);
        const y = Decimal.parse(b);
        expect(x.add(y).sub(y).eq(x)).toBe(true);
        expect(x.add(y).eq(y.add(x))).toBe(true);
      }),
    );
  });

  it('multiplies like scaled integers and divides back within the rounding step', () => {
    fc.assert(
      fc.property(decimalString, decimalString, (a, b) => {
        const x = Decimal.parse(a);
        const y = Decimal.parse(b);
        const product = x.mul(y);
        expect(product.coef).toBe(x.coef * y.coef);
        if (!y.isZero()) {
          const back = product.div(y, x.scale + 2);
          expect(
            back
              .sub(x)
              .abs()
              .lte(Decimal.of(1n, x.scale + 2)),
          ).toBe(true);
        }
      }),
    );
  });

  it('rounds to within half a step, and half_up never rounds toward zero on a tie', () => {
    fc.assert(
      fc.property(decimalString, fc.integer({ min: 0, max: 6 }), (a, scale) => {
        const x = Decimal.parse(a);
        const r = x.round(scale, 'half_up');
        const diff = r.sub(x).abs();
        expect(diff.lte(Decimal.of(5n, scale + 1))).toBe(true);
        if (diff.eq(Decimal.of(5n, scale + 1)) && !x.isZero()) expect(r.abs().gt(x.abs())).toBe(true);
      }),
    );
  });

  it('divides with the requested rounding', () => {
    expect(Decimal.parse('10').div('3', 4).toString()).toBe('3.3333');
    expect(Decimal.parse('2').div('3', 2).toString()).toBe('0.67');
    expect(Decimal.parse('-2').div('3', 2, 'floor').toString()).toBe('-0.67');
    expect(() => Decimal.parse('1').div('0', 2)).toThrow(/division by zero/);
    expect(divRound(7n, -2n, 'half_up')).toBe(-4n);
  });

  it('converts to minor units only when exact', () => {
    expect(Decimal.parse('12.5').toMinor(2)).toBe(1250n);
    expect(Decimal.parse('1.001').toMinor(3)).toBe(1001n);
    expect(() => Decimal.parse('0.335').toMinor(2)).toThrow(/more than 2 decimals/);
    expect(Decimal.fromMinor(1001, 0).toFixed(0)).toBe('1001');
    expect(() => Decimal.parse('1e30').toMinorNumber(2)).toThrow(/too large/);
  });
});
