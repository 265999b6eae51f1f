import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/domain/decimal.js';
import {
  allocate,
  computeCreditItems,
  computeInvoice,
  lineAmountMinor,
  percentOfMinor,
  splitGrossCredit,
  type TaxRate,
} from '../../src/domain/invoice-math.js';
import { minorUnits } from '../../src/domain/currencies.js';
import { formatCreditNoteNumber, formatInvoiceNumber } from '../../src/domain/numbering.js';
import { isValidBic, isValidIban } from '../../src/domain/iban.js';

const d = (s: string) => Decimal.parse(s);
const tax = (code: string, rate: string): TaxRate => ({ code, name: code.toUpperCase(), rate: d(rate) });

describe('line amounts: quantity × unit_amount, exact, rounded half-up to the minor unit', () => {
  const table: Array<[string, string, string, bigint]> = [
    ['USD', '3', '0.335', 101n], // 1.005 → 1.01
    ['USD', '1', '0.005', 1n],
    ['USD', '1', '0.0049999', 0n],
    ['USD', '1000000', '0.0000025', 250n], // 2.50
    ['USD', '2.5', '19.99', 4998n], // 49.975 → 49.98
    ['EUR', '3', '0.335', 101n],
    ['EUR', '0.5', '0.01', 1n], // 0.005 → 0.01
    ['EUR', '7', '14.285714', 10000n], // 99.999998 → 100.00
    ['JPY', '3', '333.5', 1001n], // 1000.5 → 1001
    ['JPY', '1', '0.4', 0n],
    ['JPY', '12', '1250', 15000n],
    ['BHD', '1', '1.0005', 1001n], // 1.0005 → 1.001
    ['BHD', '3', '0.3335', 1001n], // 1.0005 → 1.001
    ['BHD', '2', '12.3454', 24691n], // 24.6908 → 24.691
  ];
  it.each(table)('%s: %s × %s = %d minor units', (currency, q, u, expected) => {
    expect(lineAmountMinor(d(q), d(u), currency)).toBe(expected);
  });
});

describe('invoice totals per currency', () => {
  it('USD: taxes once per rate over the sum of taxed lines, after discounts', () => {
    // Three lines of 0.335 would each round to 0.34 if taxed per line; the rule taxes the sum once.
    const t = computeInvoice('USD', [
      { quantity: d('1'), unitAmount: d('0.335'), taxes: [tax('vat', '20')] },
      { quantity: d('1'), unitAmount: d('0.335'), taxes: [tax('vat', '20')] },
      { quantity: d('1'), unitAmount: d('0.335'), taxes: [tax('vat', '20')] },
    ]);
    expect(t.lines.map((l) => l.amount_cents)).toEqual([34n, 34n, 34n]);
    expect(t.sub_total_amount_cents).toBe(102n);
    expect(t.tax_breakdown).toEqual([
      { code: 'vat', name: 'VAT', rate: '20', taxable_amount_cents: 102n, amount_cents: 20n }, // 20.4 → 20
    ]);
    expect(t.total_amount_cents).toBe(122n);
  });

  it('EUR: two rates, a fixed discount spread over the lines before tax', () => {
    const t = computeInvoice(
      'EUR',
      [
        { quantity: d('2'), unitAmount: d('100'), taxes: [tax('vat20', '20')] },
        { quantity: d('1'), unitAmount: d('50'), taxes: [tax('vat55', '5.5')] },
        { quantity: d('1'), unitAmount: d('50'), taxes: [] },
      ],
      [{ description: 'Welcome', amount: d('30') }],
    );
    expect(t.sub_total_amount_cents).toBe(30000n);
    expect(t.coupons_amount_cents).toBe(3000n);
    expect(t.lines.map((l) => l.discount_amount_cents)).toEqual([2000n, 500n, 500n]);
    expect(t.tax_breakdown.map((x) => [x.code, x.taxable_amount_cents, x.amount_cents])).toEqual([
      ['vat20', 18000n, 3600n],
      ['vat55', 4500n, 248n], // 247.5 → 248
    ]);
    expect(t.total_amount_cents).toBe(30000n - 3000n + 3600n + 248n);
  });

  it('JPY: no minor unit; a 10 % tax on 1001 rounds half-up to 100', () => {
    const t = computeInvoice('JPY', [{ quantity: d('3'), unitAmount: d('333.5'), taxes: [tax('ct', '10')] }]);
    expect(t.sub_total_amount_cents).toBe(1001n);
    expect(t.taxes_amount_cents).toBe(100n); // 100.1 → 100
    expect(t.total_amount_cents).toBe(1101n);
    const half = computeInvoice('JPY', [
      { quantity: d('1'), unitAmount: d('1005'), taxes: [tax('ct', '10')] },
    ]);
    expect(half.taxes_amount_cents).toBe(101n); // 100.5 → 101
  });

  it('BHD: three decimals; a percentage discount rounds once', () => {
    const t = computeInvoice(
      'BHD',
      [{ quantity: d('1'), unitAmount: d('1.0005'), taxes: [tax('vat', '10')] }],
      [{ description: 'Promo', percentage: d('12.5') }],
    );
    expect(t.sub_total_amount_cents).toBe(1001n);
    expect(t.coupons_amount_cents).toBe(125n); // 125.125 → 125
    expect(t.taxes_amount_cents).toBe(88n); // 87.6 → 88
    expect(t.total_amount_cents).toBe(1001n - 125n + 88n);
  });

  it('never discounts below zero', () => {
    const t = computeInvoice(
      'USD',
      [{ quantity: d('1'), unitAmount: d('10'), taxes: [tax('vat', '20')] }],
      [
        { description: 'Big', amount: d('8') },
        { description: 'Bigger', amount: d('5') },
      ],
    );
    expect(t.discounts.map((x) => x.amount_cents)).toEqual([800n, 200n]);
    expect(t.total_amount_cents).toBe(0n);
  });
});

describe('properties', () => {
  const currency = fc.constantFrom('USD', 'EUR', 'JPY', 'BHD');
  const decimal = (maxScale: number, max: number) =>
    fc
      .tuple(fc.integer({ min: 0, max }), fc.integer({ min: 0, max: maxScale }))
      .map(([c, s]) => Decimal.of(BigInt(c), s));
  const rates = fc.constantFrom('0', '5.5', '7', '10', '19.6', '20', '21', '8.875');
  const line = fc.record({
    quantity: decimal(3, 100000).filter((x) => x.isPositive()),
    unitAmount: decimal(7, 10_000_000),
    taxes: fc
      .subarray(['a', 'b', 'c'])
      .chain((codes) =>
        fc.tuple(...codes.map((c) => rates.map((r) => tax(c, r)))).map((ts) => ts as TaxRate[]),
      ),
  });
  const rateOf: Record<string, string> = {};
  const discount = fc.oneof(
    decimal(2, 100000).map((amount) => ({ description: 'fixed', amount })),
    fc.integer({ min: 1, max: 100 }).map((p) => ({ description: 'pct', percentage: Decimal.fromInt(p) })),
  );
  // The same code must carry the same rate on every line of an invoice.
  const lines = fc.array(line, { minLength: 1, maxLength: 12 }).map((ls) =>
    ls.map((l) => ({
      ...l,
      taxes: l.taxes.map((t) => {
        rateOf[t.code] ??= t.rate.toString();
        return { ...t, rate: d(rateOf[t.code]!) };
      }),
    })),
  );

  it('total = subtotal − discounts + taxes, discounts spread exactly, taxes within half a unit per rate', () => {
    fc.assert(
      fc.property(currency, lines, fc.array(discount, { maxLength: 3 }), (cur, ls, ds) => {
        const t = computeInvoice(cur, ls, ds);
        const sub = t.lines.reduce((a, l) => a + l.amount_cents, 0n);
        expect(t.sub_total_amount_cents).toBe(sub);
        expect(t.coupons_amount_cents).toBe(t.discounts.reduce((a, x) => a + x.amount_cents, 0n));
        expect(t.coupons_amount_cents <= sub).toBe(true);
        expect(t.lines.reduce((a, l) => a + l.discount_amount_cents, 0n)).toBe(t.coupons_amount_cents);
        for (const l of t.lines)
          expect(l.discount_amount_cents <= l.amount_cents && l.discount_amount_cents >= 0n).toBe(true);
        expect(t.taxes_amount_cents).toBe(t.tax_breakdown.reduce((a, x) => a + x.amount_cents, 0n));
        expect(t.total_amount_cents).toBe(sub - t.coupons_amount_cents + t.taxes_amount_cents);
        for (const x of t.tax_breakdown) {
          // |tax − base × rate / 100| ≤ 1/2 minor unit: compare 200·tax with 2·base·rate/100 exactly.
          const exact = Decimal.of(x.taxable_amount_cents).mul(d(x.rate)).div(100, 10);
          const diff = Decimal.of(x.amount_cents).sub(exact).abs();
          expect(diff.lte('0.5')).toBe(true);
        }
        // Each line amount is the exact product rounded half-up.
        ls.forEach((l, i) => {
          const exact = l.quantity.mul(l.unitAmount);
          const got = Decimal.fromMinor(t.lines[i]!.amount_cents, minorUnits(cur));
          expect(
            got
              .sub(exact)
              .abs()
              .lte(Decimal.of(5n, minorUnits(cur) + 1)),
          ).toBe(true);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('gives a tied remainder unit to the same line whatever the order (found by the property below)', () => {
    // 80 % of each line leaves .8, .6 and .6 of a minor unit: the two .6 tie, and only the second
    // line is taxed, so whichever of them gets the unit decides the tax.
    const ls = [
      { quantity: Decimal.parse('23.81'), unitAmount: Decimal.parse('0.000021'), taxes: [] },
      { quantity: Decimal.parse('58894'), unitAmount: Decimal.parse('719.0896'), taxes: [] },
      {
        quantity: Decimal.parse('75055'),
        unitAmount: Decimal.parse('0.3984876'),
        taxes: [{ code: 'b', name: 'B', rate: Decimal.parse('21') }],
      },
    ];
    const ds = [{ description: 'pct', percentage: Decimal.parse('80') }];
    const a = computeInvoice('BHD', ls, ds);
    const b = computeInvoice('BHD', [...ls].reverse(), ds);
    expect(a.lines.map((l) => l.discount_amount_cents)).toEqual([1n, 33880050322n, 23926789n]);
    expect(b.lines.map((l) => l.discount_amount_cents)).toEqual([23926789n, 33880050322n, 1n]);
    expect([b.taxes_amount_cents, b.total_amount_cents]).toEqual([
      a.taxes_amount_cents,
      a.total_amount_cents,
    ]);
  });

  it('the order of the lines does not change any total', () => {
    fc.assert(
      fc.property(currency, lines, fc.array(discount, { maxLength: 2 }), (cur, ls, ds) => {
        const a = computeInvoice(cur, ls, ds);
        const b = computeInvoice(cur, [...ls].reverse(), ds);
        expect(b.total_amount_cents).toBe(a.total_amount_cents);
        expect(b.taxes_amount_cents).toBe(a.taxes_amount_cents);
      }),
      { numRuns: 200 },
    );
  });

  it('allocate splits exactly, in proportion, never above a weight', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 9n }), { minLength: 1, maxLength: 20 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (ws, f) => {
          const sum = ws.reduce((a, b) => a + b, 0n);
          const total = (sum * BigInt(Math.floor(f * 1000))) / 1000n;
          const parts = allocate(total, ws);
          expect(parts.reduce((a, b) => a + b, 0n)).toBe(sum === 0n ? 0n : total);
          parts.forEach((p, i) => expect(p <= ws[i]! && p >= 0n).toBe(true));
        },
      ),
    );
  });

  it('a gross credit splits into net and tax that add up, per rate', () => {
    fc.assert(
      fc.property(lines, (ls) => {
        const inv = computeInvoice('EUR', ls);
        fc.pre(inv.total_amount_cents > 0n);
        const gross = inv.total_amount_cents / 3n + 1n;
        const c = splitGrossCredit(gross, inv);
        expect(c.sub_total_amount_cents + c.taxes_amount_cents).toBe(gross);
        expect(c.tax_breakdown.reduce((a, x) => a + x.amount_cents, 0n)).toBe(c.taxes_amount_cents);
        expect(c.taxes_amount_cents <= inv.taxes_amount_cents).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('credit note items', () => {
  it('taxes credited items once per rate', () => {
    const c = computeCreditItems([
      { amount_cents: 335n, taxes: [tax('vat', '20')] },
      { amount_cents: 335n, taxes: [tax('vat', '20')] },
      { amount_cents: 1000n, taxes: [] },
    ]);
    expect(c).toMatchObject({
      sub_total_amount_cents: 1670n,
      taxes_amount_cents: 134n,
      total_amount_cents: 1804n,
    });
  });
  it('percentOfMinor rounds half-up', () => {
    expect(percentOfMinor(1001n, d('10'))).toBe(100n);
    expect(percentOfMinor(1005n, d('10'))).toBe(101n);
    expect(percentOfMinor(4500n, d('5.5'))).toBe(248n);
  });
});

describe('numbering and bank details', () => {
  it('formats numbers per organization and per customer, and credit notes from their invoice', () => {
    expect(
      formatInvoiceNumber({
        prefix: 'INV',
        numbering: 'per_organization',
        issuingDate: '2026-04-09',
        sequence: 42,
      }),
    ).toBe('INV-202604-0042');
    expect(
      formatInvoiceNumber({
        prefix: 'ACME',
        numbering: 'per_customer',
        issuingDate: '2026-04-09',
        sequence: 3,
        customerNumber: 7,
      }),
    ).toBe('ACME-007-0003');
    expect(
      formatInvoiceNumber({
        prefix: 'INV',
        numbering: 'per_organization',
        issuingDate: '2026-04-09',
        sequence: 12345,
      }),
    ).toBe('INV-202604-12345');
    expect(formatCreditNoteNumber('INV-202604-0042', 1)).toBe('INV-202604-0042-CN001');
  });
  it('checks IBAN check digits and BIC shape', () => {
    expect(isValidIban('FR76 3000 6000 0112 3456 7890 189')).toBe(true);
    expect(isValidIban('DE89370400440532013000')).toBe(true);
    expect(isValidIban('GB82WEST12345698765432')).toBe(true);
    expect(isValidIban('FR76 3000 6000 0112 3456 7890 188')).toBe(false);
    expect(isValidIban('hello')).toBe(false);
    expect(isValidBic('AGRIFRPP')).toBe(true);
    expect(isValidBic('DEUTDEFF500')).toBe(true);
    expect(isValidBic('DEUT')).toBe(false);
  });
});
