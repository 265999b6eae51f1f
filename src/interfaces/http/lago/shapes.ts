import { minorUnits } from '../../../domain/currencies.js';
import { Decimal } from '../../../domain/decimal.js';
import { fromMinor } from '../../../domain/money.js';
import { invalidFields } from './errors.js';

/** Lago writes instants to the second, in UTC: `2026-04-01T12:00:00Z`. */
export function lagoTime(iso: string): string;
export function lagoTime(iso: string | null | undefined): string | null;
export function lagoTime(iso: string | null | undefined): string | null {
  if (iso == null) return null;
  return iso.replace(/\.\d+Z$/, 'Z');
}

/**
 * Lago's `*_cents` inputs are integers in the currency's minor unit; Billfold's inputs are
 * major units as exact decimal strings. The conversion is exact (no rounding happens here).
 */
export function majorFromCents(field: string, cents: unknown, currency: string): string {
  let minor: bigint;
  if (typeof cents === 'number' && Number.isSafeInteger(cents)) minor = BigInt(cents);
  else if (typeof cents === 'string' && /^-?\d{1,18}$/.test(cents.trim())) minor = BigInt(cents.trim());
  else
    throw invalidFields({
      [field]: `must be a whole number of the currency's minor unit (got ${JSON.stringify(cents)})`,
    });
  return fromMinor(minor, currency).toString();
}

/**
 * An exact major-unit amount (`"12.50"`) as Lago's integer cents, or null when it is finer than
 * the currency (a unit price of 0.0025 USD): nothing is rounded to make it fit.
 */
export function exactCents(amount: string | null | undefined, currency: string): number | null {
  if (amount == null) return null;
  try {
    return Decimal.parse(amount).toMinorNumber(minorUnits(currency));
  } catch {
    return null;
  }
}
