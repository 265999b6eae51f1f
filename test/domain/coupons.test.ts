import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyCoupons, type CouponToApply, type DiscountableLine } from '../../src/domain/coupons.js';
import { Decimal } from '../../src/domain/decimal.js';

const line = (
  key: string,
  amount: number,
  plan: string | null = 'pro',
  metric: string | null = null,
): DiscountableLine => ({
  key,
  amount: BigInt(amount),
  plan_code: plan,
  billable_metric_code: metric,
});
const coupon = (id: string, over: Partial<CouponToApply>): CouponToApply => ({
  id,
  coupon_type: 'fixed_amount',
  amount_available: 0n,
  percentage_rate: null,
  plan_codes: [],
  billable_metric_codes: [],
  applied_at: 0,
  ...over,
});

describe('coupons', () => {
  const lines = [
    line('base', 10000),
    line('api', 3000, 'pro', 'api_calls'),
    line('storage', 2000, 'pro', 'storage'),
  ];

  it('apply metric-limited coupons first, then plan-limited, then the rest, oldest first', () => {
    const r = applyCoupons(lines, [
      coupon('any', { amount_available: 1000n, applied_at: 1 }),
      coupon('plan', {
        coupon_type: 'percentage',
        percentage_rate: Decimal.parse('10'),
        plan_codes: ['pro'],
        applied_at: 2,
      }),
      coupon('metric', { amount_available: 5000n, billable_metric_codes: ['api_calls'], applied_at: 3 }),
    ]);
    expect(r.coupons.map((c) => [c.id, c.discount])).toEqual([
      ['metric', 3000n], // capped at its lines' 3000
      ['plan', 1200n], // 10 % of the 12000 left
      ['any', 1000n],
    ]);
    expect(Object.values(r.remaining).reduce((a, b) => a + b, 0n)).toBe(15000n - 5200n);
  });

  it('rounds percentages half-up to the minor unit and never goes below zero', () => {
    const r = applyCoupons(
      [line('a', 333)],
      [coupon('p', { coupon_type: 'percentage', percentage_rate: Decimal.parse('15') })],
    );
    expect(r.coupons[0]!.discount).toBe(50n); // 49.95 → 50
    const all = applyCoupons(
      [line('a', 500)],
      [coupon('big', { amount_available: 900n }), coupon('late', { amount_available: 100n, applied_at: 5 })],
    );
    expect(all.coupons.map((c) => c.discount)).toEqual([500n, 0n]);
    expect(all.remaining.a).toBe(0n);
  });

  it('never discounts more than the lines it applies to, nor more than it offers', () => {
    const arb = fc.record({
      amounts: fc.array(fc.integer({ min: 0, max: 100000 }), { minLength: 1, maxLength: 6 }),
      coupons: fc.array(
        fc.record({
          pct: fc.boolean(),
          value: fc.integer({ min: 0, max: 50000 }),
          rate: fc.integer({ min: 0, max: 10000 }),
          metric: fc.boolean(),
          at: fc.integer({ min: 0, max: 100 }),
        }),
        { maxLength: 5 },
      ),
    });
    fc.assert(
      fc.property(arb, ({ amounts, coupons }) => {
        const ls = amounts.map((a, i) => line(`l${i}`, a, 'pro', i % 2 ? 'm' : null));
        const cs = coupons.map((c, i) =>
          coupon(`c${i}`, {
            coupon_type: c.pct ? 'percentage' : 'fixed_amount',
            amount_available: BigInt(c.value),
            percentage_rate: Decimal.of(BigInt(c.rate), 2),
            billable_metric_codes: c.metric ? ['m'] : [],
            applied_at: c.at,
          }),
        );
        const r = applyCoupons(ls, cs);
        const total = ls.reduce((a, l) => a + l.amount, 0n);
        const discounts = r.coupons.reduce((a, c) => a + c.discount, 0n);
        expect(discounts).toBeLessThanOrEqual(total);
        expect(Object.values(r.remaining).every((v) => v >= 0n)).toBe(true);
        expect(Object.values(r.remaining).reduce((a, b) => a + b, 0n)).toBe(total - discounts);
        for (const c of r.coupons) {
          const input = cs.find((x) => x.id === c.id)!;
          if (input.coupon_type === 'fixed_amount')
            expect(c.discount).toBeLessThanOrEqual(input.amount_available);
          expect(Object.values(c.per_line).reduce((a, b) => a + b, 0n)).toBe(c.discount);
        }
      }),
    );
  });
});
