import { minorUnits } from './currencies.js';
import { Decimal } from './decimal.js';

/**
 * Amounts of a currency. Internally an amount is a Decimal; at rest and on output it is an
 * integer count of the currency's minor unit (cents), paired with the same amount as a decimal
 * string. Rounding to the minor unit is half-up (away from zero) and happens only where a
 * caller asks for it by calling `roundToCurrency`.
 */

/** Rounds an exact amount to the currency's minor unit, half-up. */
export function roundToCurrency(amount: Decimal, currency: string): Decimal {
  return amount.round(minorUnits(currency), 'half_up');
}

/** Minor units of an amount that is already a whole number of them (throws otherwise). */
export function toMinor(amount: Decimal, currency: string): bigint {
  return amount.toMinor(minorUnits(currency));
}

export function fromMinor(minor: bigint | number, currency: string): Decimal {
  return Decimal.fromMinor(minor, minorUnits(currency));
}

/** "12.50" for 1250 USD cents, "1001" for 1001 JPY, "1.001" for 1001 BHD fils. */
export function formatMinor(minor: bigint | number, currency: string): string {
  return fromMinor(minor, currency).toFixed(minorUnits(currency));
}

/**
 * The output pair for an amount: `{ <name>_cents: 1250, <name>: "12.50" }`. The integer is a
 * JSON number, exact for any amount below 90 trillion units.
 */
export function moneyFields<N extends string>(
  name: N,
  minor: bigint | number,
  currency: string,
): { [K in `${N}_cents`]: number } & { [K in N]: string } {
  const n = typeof minor === 'bigint' ? Number(minor) : minor;
  if (!Number.isSafeInteger(n)) throw new RangeError(`${name} is too large to represent exactly`);
  return { [`${name}_cents`]: n, [name]: formatMinor(minor, currency) } as { [K in `${N}_cents`]: number } & {
    [K in N]: string;
  };
}

/**
 * Exact parts of a total, each rounded to the minor unit so that the rounded parts add up to
 * the total rounded once (half-up): each part is rounded down, and the minor units that leaves
 * go to the parts that lost most (largest remainder; ties to the earlier part). Parts may be
 * negative (a credit subtracted from the total).
 */
export function roundParts(parts: readonly Decimal[], currency: string): bigint[] {
  const units = minorUnits(currency);
  const floors = parts.map((p) => p.rescale(units, 'floor').coef);
  const target = Decimal.sum([...parts]).rescale(units, 'half_up').coef;
  let left = target - floors.reduce((a, b) => a + b, 0n);
  const order = parts
    .map((p, i) => ({ i, rem: p.sub(Decimal.fromMinor(floors[i]!, units)) }))
    .sort((a, b) => b.rem.cmp(a.rem) || a.i - b.i);
  for (let k = 0; left > 0n && order.length; k = (k + 1) % order.length, left--) floors[order[k]!.i]! += 1n;
  return floors;
}
