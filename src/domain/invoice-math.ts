import { minorUnits } from './currencies.js';
import { Decimal, divRound } from './decimal.js';

/**
 * Invoice arithmetic, in integer minor units of the invoice's currency. The rules:
 * - a line's amount is quantity × unit_amount, computed exactly and rounded half-up to the
 *   currency's minor unit, once;
 * - discounts come off the subtotal (a percentage is rounded half-up once; no discount takes
 *   the subtotal below zero) and are spread over the lines in proportion to their amounts,
 *   largest remainder first, so every line knows its taxable amount to the cent;
 * - each tax rate is applied once to the sum of the taxable amounts of the lines it covers,
 *   rounded half-up once per rate;
 * - total = subtotal − discounts + taxes.
 */

export interface TaxRate {
  code: string;
  name: string;
  /** Percent, e.g. 20 or 5.5. */
  rate: Decimal;
}

export interface LineInput {
  quantity: Decimal;
  unitAmount: Decimal;
  taxes: readonly TaxRate[];
}

export interface DiscountInput {
  description: string;
  /** A fixed amount in major units, or a percentage of what is left of the subtotal. */
  amount?: Decimal;
  percentage?: Decimal;
  coupon_code?: string | null;
  /**
   * Which lines the discount comes off, in minor units per line index (a coupon limited to a
   * plan or a metric reduces only those lines). When every discount states it, the lines'
   * discounts follow it instead of being spread in proportion.
   */
  per_line?: readonly bigint[];
}

export interface ComputedDiscount {
  description: string;
  coupon_code: string | null;
  percentage: string | null;
  amount_cents: bigint;
}

export interface TaxLine {
  code: string;
  name: string;
  rate: string;
  taxable_amount_cents: bigint;
  amount_cents: bigint;
}

export interface ComputedLine {
  amount_cents: bigint;
  discount_amount_cents: bigint;
}

export interface InvoiceTotals {
  lines: ComputedLine[];
  discounts: ComputedDiscount[];
  tax_breakdown: TaxLine[];
  sub_total_amount_cents: bigint;
  coupons_amount_cents: bigint;
  taxes_amount_cents: bigint;
  total_amount_cents: bigint;
}

/** quantity × unit_amount rounded half-up to the currency's minor unit, as minor units. */
export function lineAmountMinor(quantity: Decimal, unitAmount: Decimal, currency: string): bigint {
  const exact = quantity.mul(unitAmount);
  return exact.rescale(minorUnits(currency), 'half_up').coef;
}

/** `rate` percent of `baseMinor`, rounded half-up to a whole minor unit. */
export function percentOfMinor(baseMinor: bigint, rate: Decimal): bigint {
  // base × rate / 100 = base × coef / (100 × 10^scale)
  return divRound(baseMinor * rate.coef, 100n * 10n ** BigInt(rate.scale), 'half_up');
}

/**
 * Splits `total` over `weights` in proportion (largest remainder; ties to the earlier index),
 * so the parts add up to `total` exactly and none exceeds its weight when total ≤ Σ weights.
 */
export function allocate(total: bigint, weights: readonly bigint[]): bigint[] {
  const sum = weights.reduce((a, b) => a + b, 0n);
  if (total === 0n || sum === 0n) return weights.map(() => 0n);
  const parts = weights.map((w) => (total * w) / sum);
  let left = total - parts.reduce((a, b) => a + b, 0n);
  const order = weights
    .map((w, i) => ({ i, rem: (total * w) % sum }))
    .sort((a, b) => (a.rem === b.rem ? a.i - b.i : a.rem > b.rem ? -1 : 1));
  for (let k = 0; left > 0n; k = (k + 1) % order.length) {
    parts[order[k]!.i]! += 1n;
    left -= 1n;
  }
  return parts;
}

/**
 * `allocate` over the lines in an order given by their content — larger amounts first, then by
 * their taxes — so that the order the lines were given in never decides which line gets a
 * remainder's last minor unit: it could move that unit between a taxed and an untaxed line and
 * change the invoice's total. Lines equal in amount and taxes are interchangeable.
 */
function allocateByContent(total: bigint, amounts: readonly bigint[], lines: readonly LineInput[]): bigint[] {
  const taxKey = (l: LineInput) =>
    l.taxes
      .map((t) => `${t.code}:${t.rate.toString()}`)
      .sort()
      .join(',');
  const order = amounts
    .map((a, i) => ({ i, a, key: taxKey(lines[i]!) }))
    .sort((x, y) => (x.a !== y.a ? (x.a > y.a ? -1 : 1) : x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  const parts = allocate(
    total,
    order.map((o) => o.a),
  );
  const out = new Array<bigint>(amounts.length);
  order.forEach((o, k) => (out[o.i] = parts[k]!));
  return out;
}

/** The per-line discounts the discounts state, when all do and they add up; else null. */
function explicitLineDiscounts(
  discounts: readonly DiscountInput[],
  amounts: readonly bigint[],
  total: bigint,
): bigint[] | null {
  if (!discounts.length || !discounts.every((d) => d.per_line && d.per_line.length === amounts.length))
    return null;
  const sums = amounts.map((_, i) => discounts.reduce((s, d) => s + d.per_line![i]!, 0n));
  if (sums.reduce((a, b) => a + b, 0n) !== total) return null;
  if (sums.some((v, i) => v < 0n || v > amounts[i]!)) return null;
  return sums;
}

export function computeInvoice(
  currency: string,
  lines: readonly LineInput[],
  discounts: readonly DiscountInput[] = [],
): InvoiceTotals {
  const units = minorUnits(currency);
  const amounts = lines.map((l) => lineAmountMinor(l.quantity, l.unitAmount, currency));
  const subTotal = amounts.reduce((a, b) => a + b, 0n);

  let remaining = subTotal;
  const computedDiscounts: ComputedDiscount[] = [];
  for (const d of discounts) {
    let cents: bigint;
    if (d.percentage !== undefined) cents = percentOfMinor(remaining, d.percentage);
    else cents = (d.amount ?? Decimal.ZERO).rescale(units, 'half_up').coef;
    if (cents > remaining) cents = remaining;
    if (cents < 0n) cents = 0n;
    remaining -= cents;
    computedDiscounts.push({
      description: d.description,
      coupon_code: d.coupon_code ?? null,
      percentage: d.percentage !== undefined ? d.percentage.toString() : null,
      amount_cents: cents,
    });
  }
  const discountTotal = subTotal - remaining;
  const lineDiscounts =
    explicitLineDiscounts(discounts, amounts, discountTotal) ??
    allocateByContent(discountTotal, amounts, lines);

  const { breakdown, taxes } = taxBreakdown(
    amounts.map((a, i) => a - lineDiscounts[i]!),
    lines.map((l) => l.taxes),
  );
  return {
    lines: amounts.map((a, i) => ({ amount_cents: a, discount_amount_cents: lineDiscounts[i]! })),
    discounts: computedDiscounts,
    tax_breakdown: breakdown,
    sub_total_amount_cents: subTotal,
    coupons_amount_cents: discountTotal,
    taxes_amount_cents: taxes,
    total_amount_cents: subTotal - discountTotal + taxes,
  };
}

/** One credited invoice line: how much of its taxable amount, before tax, and its taxes. */
export interface CreditItemInput {
  amount_cents: bigint;
  taxes: readonly TaxRate[];
}

export interface CreditTotals {
  sub_total_amount_cents: bigint;
  taxes_amount_cents: bigint;
  total_amount_cents: bigint;
  tax_breakdown: TaxLine[];
}

/** Per tax code: the taxable amounts it covers, summed, and the tax on that sum, rounded once. */
export function taxBreakdown(
  taxables: readonly bigint[],
  taxesPerLine: readonly (readonly TaxRate[])[],
): { breakdown: TaxLine[]; taxes: bigint } {
  const byCode = new Map<string, TaxLine & { rateDec: Decimal }>();
  taxables.forEach((taxable, i) => {
    for (const t of taxesPerLine[i]!) {
      let entry = byCode.get(t.code);
      if (!entry) {
        entry = {
          code: t.code,
          name: t.name,
          rate: t.rate.toString(),
          rateDec: t.rate,
          taxable_amount_cents: 0n,
          amount_cents: 0n,
        };
        byCode.set(t.code, entry);
      }
      entry.taxable_amount_cents += taxable;
    }
  });
  const breakdown: TaxLine[] = [];
  let taxes = 0n;
  for (const { rateDec, ...t } of byCode.values()) {
    t.amount_cents = percentOfMinor(t.taxable_amount_cents, rateDec);
    taxes += t.amount_cents;
    breakdown.push(t);
  }
  return { breakdown, taxes };
}

/** A credit note's taxes follow the invoice's rule: once per rate over the credited amounts. */
export function computeCreditItems(items: readonly CreditItemInput[]): CreditTotals {
  const sub = items.reduce((a, i) => a + i.amount_cents, 0n);
  const { breakdown, taxes } = taxBreakdown(
    items.map((i) => i.amount_cents),
    items.map((i) => i.taxes),
  );
  return {
    sub_total_amount_cents: sub,
    taxes_amount_cents: taxes,
    total_amount_cents: sub + taxes,
    tax_breakdown: breakdown,
  };
}

/**
 * A credit given as one amount, taxes included: the tax part is in proportion to the invoice's
 * own taxes (rounded half-up once), split over its rates by largest remainder.
 */
export function splitGrossCredit(
  grossMinor: bigint,
  invoice: { total_amount_cents: bigint; taxes_amount_cents: bigint; tax_breakdown: readonly TaxLine[] },
): CreditTotals {
  const taxes =
    invoice.total_amount_cents === 0n
      ? 0n
      : divRound(grossMinor * invoice.taxes_amount_cents, invoice.total_amount_cents, 'half_up');
  const parts = allocate(
    taxes,
    invoice.tax_breakdown.map((t) => t.amount_cents),
  );
  const net = grossMinor - taxes;
  const netParts = allocate(
    net,
    invoice.tax_breakdown.map((t) => t.taxable_amount_cents),
  );
  return {
    sub_total_amount_cents: net,
    taxes_amount_cents: taxes,
    total_amount_cents: grossMinor,
    tax_breakdown: invoice.tax_breakdown.map((t, i) => ({
      code: t.code,
      name: t.name,
      rate: t.rate,
      taxable_amount_cents: netParts[i]!,
      amount_cents: parts[i]!,
    })),
  };
}
