import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { combineServiceCosts, costOf, perMillion, type Price } from '../../src/domain/cost.js';
import { Decimal } from '../../src/domain/decimal.js';

const llm = (input: string, output: string): Price => ({
  source: 'catalog',
  id: 'p/m',
  provider: 'p',
  model: 'm',
  inputPerMillion: Decimal.parse(input),
  outputPerMillion: Decimal.parse(output),
  unitPrice: null,
  unit: null,
});
const unit = (price: string): Price => ({
  ...llm('0', '0'),
  inputPerMillion: null,
  outputPerMillion: null,
  unitPrice: Decimal.parse(price),
  unit: 'message',
});

describe('event cost', () => {
  it('is tokens × price per million / 10^6 exactly, and quantity × unit price', () => {
    expect(costOf(llm('2.50', '10.00'), { input_tokens: 1, output_tokens: 1 }).cost!.toString()).toBe(
      '0.0000125',
    );
    expect(
      costOf(llm('0.075', '0.30'), { input_tokens: 999_999_999, output_tokens: 3 }).cost!.toString(),
    ).toBe('75.000000825');
    expect(costOf(unit('0.0079'), { quantity: Decimal.parse('3') }).cost!.toString()).toBe('0.0237');
    expect(costOf(llm('3', '15'), { output_tokens: 0, input_tokens: 0 })).toMatchObject({
      status: 'PROCESSED',
    });
  });

  it('is null with a status saying why when the model is unknown or the volume missing', () => {
    expect(costOf(null, { input_tokens: 5 })).toEqual({
      cost: null,
      status: 'NEEDS_COST_BACKFILL',
      priceId: null,
    });
    expect(costOf(llm('1', '1'), { quantity: Decimal.ONE })).toMatchObject({
      cost: null,
      status: 'MISSING_VOLUME_DATA',
    });
    expect(costOf(unit('1'), { input_tokens: 5 })).toMatchObject({
      cost: null,
      status: 'MISSING_VOLUME_DATA',
    });
    const combined = combineServiceCosts([costOf(unit('1'), { quantity: Decimal.ONE }), costOf(null, {})]);
    expect(combined).toEqual({ cost: null, status: 'NEEDS_COST_BACKFILL' });
  });

  it('never drifts: the cost of a sum of tokens is the sum of the costs (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 0, max: 6 }),
        (tokens, priceCoef, priceScale) => {
          const price = Decimal.of(BigInt(priceCoef), priceScale);
          const total = tokens.reduce((a, b) => a + b, 0);
          const sum = Decimal.sum(tokens.map((n) => perMillion(n, price)));
          expect(sum.eq(perMillion(total, price))).toBe(true);
          // And it is exact: times 10^6 it gives back tokens × price.
          expect(perMillion(total, price).mul(1_000_000).eq(price.mul(total))).toBe(true);
        },
      ),
    );
  });
});
