/**
 * ISO 4217 currencies. The set of codes comes from the runtime's Intl data (CLDR); the minor
 * unit comes from ISO 4217 itself, because CLDR rounds some currencies differently for display
 * (it shows HUF, IDR, COP and IQD without decimals although ISO 4217 gives them 2, 2, 2 and 3).
 */

const ISO_ZERO_DECIMALS = new Set(
  'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF'.split(' '),
);
const ISO_THREE_DECIMALS = new Set('BHD IQD JOD KWD LYD OMR TND'.split(' '));
const ISO_FOUR_DECIMALS = new Set('CLF UYW'.split(' '));
/**
 * ISO 4217 gives X-codes to precious metals, bond-market units, fund and test codes, which have
 * no minor unit and are not money we can invoice; only these X-codes are currencies.
 */
const X_CURRENCIES = new Set(['XAF', 'XCD', 'XCG', 'XOF', 'XPF']);
const isNotMoney = (code: string) => code.startsWith('X') && !X_CURRENCIES.has(code);

const KNOWN: ReadonlySet<string> = new Set(
  (Intl as unknown as { supportedValuesOf(k: string): string[] })
    .supportedValuesOf('currency')
    .filter((c) => !isNotMoney(c)),
);

export function isCurrency(code: string): boolean {
  return KNOWN.has(code);
}

export function currencyCodes(): string[] {
  return [...KNOWN].sort();
}

/** Decimals of the currency's minor unit (USD 2, JPY 0, BHD 3). */
export function minorUnits(currency: string): number {
  if (ISO_ZERO_DECIMALS.has(currency)) return 0;
  if (ISO_THREE_DECIMALS.has(currency)) return 3;
  if (ISO_FOUR_DECIMALS.has(currency)) return 4;
  return 2;
}
