/**
 * Exact decimal arithmetic on BigInt: a value is `coef / 10^scale`. Nothing here ever touches
 * binary floating point; a JavaScript number is accepted only as input and is read through its
 * shortest round-trip decimal representation (`String(n)`), which is what the caller typed.
 */

export type RoundingMode = 'half_up' | 'half_even' | 'floor' | 'ceil' | 'down' | 'up';

const DECIMAL_PATTERN = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
/** Guards against absurd inputs (a 10,000-digit string) that would make arithmetic slow. */
const MAX_DIGITS = 60;
/** A JSON number carries about 15-17 significant digits exactly; beyond that we ask for a string. */
const MAX_SAFE_NUMBER_DIGITS = 15;

export class DecimalError extends Error {}

const TEN = 10n;
const pow10Cache: bigint[] = [];
export function pow10(n: number): bigint {
  if (n < 64) {
    let v = pow10Cache[n];
    if (v === undefined) {
      v = TEN ** BigInt(n);
      pow10Cache[n] = v;
    }
    return v;
  }
  return TEN ** BigInt(n);
}

export class Decimal {
  readonly coef: bigint;
  readonly scale: number;

  private constructor(coef: bigint, scale: number) {
    this.coef = coef;
    this.scale = scale;
  }

  static readonly ZERO = new Decimal(0n, 0);
  static readonly ONE = new Decimal(1n, 0);

  static of(coef: bigint, scale = 0): Decimal {
    if (scale < 0) return new Decimal(coef * pow10(-scale), 0);
    return new Decimal(coef, scale);
  }

  static fromInt(n: number | bigint): Decimal {
    if (typeof n === 'number' && !Number.isSafeInteger(n))
      throw new DecimalError(`${n} is not a safe integer`);
    return new Decimal(BigInt(n), 0);
  }

  /** Integer minor units (cents) of a currency with `minorUnits` decimals. */
  static fromMinor(minor: bigint | number, minorUnits: number): Decimal {
    return new Decimal(BigInt(minor), minorUnits);
  }

  static isDecimal(v: unknown): v is Decimal {
    return v instanceof Decimal;
  }

  /** Parses "12.50", "-3", ".5", "1e-7", 12.5 or 12n. Throws DecimalError with a readable reason. */
  static parse(input: string | number | bigint | Decimal): Decimal {
    if (input instanceof Decimal) return input;
    if (typeof input === 'bigint') return new Decimal(input, 0);
    let text: string;
    if (typeof input === 'number') {
      if (!Number.isFinite(input)) throw new DecimalError(`${input} is not a finite number`);
      text = String(input);
      const digits = text
        .replace(/e.*$/i, '')
        .replace(/[^0-9]/g, '')
        .replace(/^0+/, '');
      if (digits.length > MAX_SAFE_NUMBER_DIGITS) {
        throw new DecimalError(
          `${text} has more significant digits than a JSON number carries exactly; pass it as a string`,
        );
      }
    } else if (typeof input === 'string') {
      text = input.trim().replace(/_/g, '');
    } else {
      throw new DecimalError(`expected a decimal number or string, got ${typeof input}`);
    }
    const m = DECIMAL_PATTERN.exec(text);
    if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) {
      throw new DecimalError(`'${String(input)}' is not a decimal number (write it like "12.50")`);
    }
    const sign = m[1] === '-' ? -1n : 1n;
    const intPart = m[2] ?? '';
    const fracPart = m[3] ?? '';
    const exp = m[4] ? Number(m[4]) : 0;
    if (intPart.length + fracPart.length > MAX_DIGITS || Math.abs(exp) > MAX_DIGITS) {
      throw new DecimalError(`'${String(input)}' has too many digits (at most ${MAX_DIGITS})`);
    }
    let coef = BigInt((intPart || '0') + fracPart) * sign;
    let scale = fracPart.length - exp;
    if (scale < 0) {
      coef *= pow10(-scale);
      scale = 0;
    }
    return new Decimal(coef, scale).normalize();
  }

  /** Parse that returns null instead of throwing. */
  static tryParse(input: unknown): Decimal | null {
    if (typeof input !== 'string' && typeof input !== 'number' && typeof input !== 'bigint') return null;
    try {
      return Decimal.parse(input);
    } catch {
      return null;
    }
  }

  /** Removes trailing zeros of the fraction: 1.500 → 1.5. */
  normalize(): Decimal {
    if (this.scale === 0 || this.coef === 0n) return this.coef === 0n ? Decimal.ZERO : this;
    let coef = this.coef;
    let scale = this.scale;
    while (scale > 0 && coef % TEN === 0n) {
      coef /= TEN;
      scale--;
    }
    return scale === this.scale ? this : new Decimal(coef, scale);
  }

  private static align(a: Decimal, b: Decimal): [bigint, bigint, number] {
    if (a.scale === b.scale) return [a.coef, b.coef, a.scale];
    if (a.scale > b.scale) return [a.coef, b.coef * pow10(a.scale - b.scale), a.scale];
    return [a.coef * pow10(b.scale - a.scale), b.coef, b.scale];
  }

  add(other: Decimal | string | number): Decimal {
    const o = Decimal.parse(other);
    const [x, y, s] = Decimal.align(this, o);
    return new Decimal(x + y, s);
  }

  sub(other: Decimal | string | number): Decimal {
    const o = Decimal.parse(other);
    const [x, y, s] = Decimal.align(this, o);
    return new Decimal(x - y, s);
  }

  mul(other: Decimal | string | number): Decimal {
    const o = Decimal.parse(other);
    return new Decimal(this.coef * o.coef, this.scale + o.scale);
  }

  /** Division rounded to `scale` decimals with the given mode (exact when it terminates within). */
  div(other: Decimal | string | number, scale: number, mode: RoundingMode = 'half_up'): Decimal {
    const o = Decimal.parse(other);
    if (o.coef === 0n) throw new DecimalError('division by zero');
    // this / o = (c1 / 10^s1) / (c2 / 10^s2) = c1 * 10^(s2 - s1) / c2; scale it up to `scale`.
    const shift = scale + o.scale - this.scale;
    let num = this.coef;
    let den = o.coef;
    if (shift >= 0) num *= pow10(shift);
    else den *= pow10(-shift);
    return new Decimal(divRound(num, den, mode), scale);
  }

  neg(): Decimal {
    return new Decimal(-this.coef, this.scale);
  }

  abs(): Decimal {
    return this.coef < 0n ? this.neg() : this;
  }

  cmp(other: Decimal | string | number): -1 | 0 | 1 {
    const o = Decimal.parse(other);
    const [x, y] = Decimal.align(this, o);
    return x < y ? -1 : x > y ? 1 : 0;
  }

  eq(other: Decimal | string | number): boolean {
    return this.cmp(other) === 0;
  }
  lt(other: Decimal | string | number): boolean {
    return this.cmp(other) < 0;
  }
  lte(other: Decimal | string | number): boolean {
    return this.cmp(other) <= 0;
  }
  gt(other: Decimal | string | number): boolean {
    return this.cmp(other) > 0;
  }
  gte(other: Decimal | string | number): boolean {
    return this.cmp(other) >= 0;
  }
  isZero(): boolean {
    return this.coef === 0n;
  }
  isNegative(): boolean {
    return this.coef < 0n;
  }
  isPositive(): boolean {
    return this.coef > 0n;
  }
  isInteger(): boolean {
    return this.scale === 0 || this.coef % pow10(this.scale) === 0n;
  }

  static max(a: Decimal, b: Decimal): Decimal {
    return a.gte(b) ? a : b;
  }
  static min(a: Decimal, b: Decimal): Decimal {
    return a.lte(b) ? a : b;
  }
  static sum(values: Iterable<Decimal>): Decimal {
    let acc = Decimal.ZERO;
    for (const v of values) acc = acc.add(v);
    return acc;
  }

  /** Rounds to `scale` decimals (never adds precision it does not need to). */
  round(scale: number, mode: RoundingMode = 'half_up'): Decimal {
    if (this.scale <= scale) return this;
    const factor = pow10(this.scale - scale);
    return new Decimal(divRound(this.coef, factor, mode), scale);
  }

  /** Exactly `scale` decimals: rounds when longer, pads when shorter. */
  rescale(scale: number, mode: RoundingMode = 'half_up'): Decimal {
    if (this.scale === scale) return this;
    if (this.scale < scale) return new Decimal(this.coef * pow10(scale - this.scale), scale);
    return this.round(scale, mode);
  }

  /** Integer minor units; throws when the value has more decimals than the currency. */
  toMinor(minorUnits: number): bigint {
    const r = this.rescale(Math.max(minorUnits, this.scale));
    if (r.scale > minorUnits) {
      const rounded = this.round(minorUnits);
      if (!rounded.eq(this))
        throw new DecimalError(`${this.toString()} has more than ${minorUnits} decimals`);
      return rounded.rescale(minorUnits).coef;
    }
    return r.coef;
  }

  /** Safe-integer JavaScript number of minor units, for JSON outputs like `total_amount_cents`. */
  toMinorNumber(minorUnits: number): number {
    const v = this.toMinor(minorUnits);
    const n = Number(v);
    if (!Number.isSafeInteger(n))
      throw new DecimalError(`${this.toString()} is too large to express in minor units`);
    return n;
  }

  /** Integer value as a JS number (for counts); throws when not an integer or unsafe. */
  toIntegerNumber(): number {
    if (!this.isInteger()) throw new DecimalError(`${this.toString()} is not an integer`);
    const n = Number(this.rescale(0).coef);
    if (!Number.isSafeInteger(n)) throw new DecimalError(`${this.toString()} is too large`);
    return n;
  }

  /** Plain decimal string, no exponent, trailing zeros kept as the scale says. */
  toFixed(scale?: number): string {
    const d = scale === undefined ? this : this.rescale(scale);
    const neg = d.coef < 0n;
    let digits = (neg ? -d.coef : d.coef).toString();
    if (d.scale > 0) {
      digits = digits.padStart(d.scale + 1, '0');
      digits = `${digits.slice(0, -d.scale)}.${digits.slice(-d.scale)}`;
    }
    return neg ? `-${digits}` : digits;
  }

  /** Shortest exact string: trailing zeros removed. */
  toString(): string {
    return this.normalize().toFixed();
  }

  toJSON(): string {
    return this.toString();
  }

  /** Only for display-free, approximate uses (ratios in analytics); never for amounts. */
  toApproxNumber(): number {
    return Number(this.toString());
  }
}

/** Integer division of `num / den` rounded with `mode`. */
export function divRound(num: bigint, den: bigint, mode: RoundingMode): bigint {
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const q = num / den; // truncates toward zero
  const r = num % den;
  if (r === 0n) return q;
  const negative = num < 0n;
  const twice = (r < 0n ? -r : r) * 2n;
  switch (mode) {
    case 'down':
      return q;
    case 'up':
      return negative ? q - 1n : q + 1n;
    case 'floor':
      return negative ? q - 1n : q;
    case 'ceil':
      return negative ? q : q + 1n;
    case 'half_up':
      if (twice >= den) return negative ? q - 1n : q + 1n;
      return q;
    case 'half_even':
      if (twice > den || (twice === den && q % 2n !== 0n)) return negative ? q - 1n : q + 1n;
      return q;
  }
}
