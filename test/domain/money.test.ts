import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCountry } from '../../src/domain/countries.js';
import { isCurrency, minorUnits } from '../../src/domain/currencies.js';
import { Decimal } from '../../src/domain/decimal.js';
import { formatMinor, moneyFields, roundParts, roundToCurrency } from '../../src/domain/money.js';

describe('currencies and money', () => {
  it('takes minor units from ISO 4217, not from display conventions', () => {
    expect([
      minorUnits('USD'),
      minorUnits('EUR'),
      minorUnits('JPY'),
      minorUnits('BHD'),
      minorUnits('KWD'),
      minorUnits('CLF'),
    ]).toEqual([2, 2, 0, 3, 3, 4]);
    // CLDR shows these without decimals; ISO 4217 gives them 2, 2, 2 and 3.
    expect([minorUnits('HUF'), minorUnits('IDR'), minorUnits('COP'), minorUnits('IQD')]).toEqual([
      2, 2, 2, 3,
    ]);
    expect(isCurrency('USD')).toBe(true);
    expect(isCurrency('XAU')).toBe(false);
    expect(isCurrency('ABC')).toBe(false);
    expect(isCountry('FR')).toBe(true);
    expect(isCountry('UK')).toBe(false);
    expect(isCountry('EU')).toBe(false);
  });

  it('formats minor units in each currency', () => {
    expect(formatMinor(1250, 'USD')).toBe('12.50');
    expect(formatMinor(1001, 'JPY')).toBe('1001');
    expect(formatMinor(1001, 'BHD')).toBe('1.001');
    expect(formatMinor(-5, 'EUR')).toBe('-0.05');
    expect(moneyFields('total_amount', 1250, 'USD')).toEqual({
      total_amount_cents: 1250,
      total_amount: '12.50',
    });
  });

  it('rounds any amount to the currency half-up, and the rounded value is a whole number of minor units', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }),
        fc.integer({ min: 0, max: 9 }),
        fc.constantFrom('USD', 'JPY', 'BHD', 'CLF'),
        (coef, scale, currency) => {
          const rounded = roundToCurrency(Decimal.of(coef, scale), currency);
          expect(() => rounded.toMinor(minorUnits(currency))).not.toThrow();
        },
      ),
    );
  });
});

describe('roundParts', () => {
  it('rounds parts so they add up to the total rounded once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: -1_000_000_000n, max: 1_000_000_000n }), { minLength: 1, maxLength: 6 }),
        (coefs) => {
          const parts = coefs.map((c) => Decimal.fromMinor(c, 6));
          const rounded = roundParts(parts, 'USD');
          const total = Decimal.sum(parts).rescale(2, 'half_up').coef;
          expect(rounded.reduce((a, b) => a + b, 0n)).toBe(total);
          // Each part is its own amount rounded down or up, never further.
          rounded.forEach((r, i) => {
            expect(r >= parts[i]!.rescale(2, 'floor').coef && r <= parts[i]!.rescale(2, 'ceil').coef).toBe(
              true,
            );
          });
        },
      ),
    );
    // 8.17 + 0.56 + 0.97 rounded apart is 9.70; scaled parts 8.2892, 0.5682, 0.9841 make 9.8415 → 9.84.
    expect(
      roundParts(
        ['8.2892', '0.5682', '0.9841'].map((s) => Decimal.parse(s)),
        'USD',
      ),
    ).toEqual([829n, 57n, 98n]);
  });
});
