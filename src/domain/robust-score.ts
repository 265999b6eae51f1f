import { Decimal } from './decimal.js';

/**
 * The robust (modified) z-score of Iglewicz and Hoaglin: how far a value lies from the median
 * of the others, in units of their median absolute deviation (MAD), 0.6745 × (x − median) / MAD.
 * Unlike a mean and standard deviation, one huge invoice among many small ones does not hide
 * itself by inflating the spread. When more than half the values are equal the MAD is 0, and
 * the mean absolute deviation stands in (× 1.253314, so both estimate the same spread); when
 * every value is equal, any other value is infinitely far (null score, always unusual).
 * Exact decimal arithmetic: the inputs are amounts.
 */
export interface RobustScore {
  median: Decimal;
  /** Rounded to 2 decimals; null when the others are all equal and the value differs. */
  score: Decimal | null;
}

export function median(values: readonly Decimal[]): Decimal {
  const s = [...values].sort((a, b) => a.cmp(b));
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : s[mid - 1]!.add(s[mid]!).div(2, 12, 'half_up');
}

export function robustScore(value: Decimal, others: readonly Decimal[]): RobustScore {
  if (!others.length) throw new RangeError('a robust score needs at least one other value');
  const m = median(others);
  const deviations = others.map((v) => v.sub(m).abs());
  const mad = median(deviations);
  const diff = value.sub(m);
  if (!mad.isZero()) return { median: m, score: diff.mul('0.6745').div(mad, 2, 'half_up') };
  const meanAd = Decimal.sum(deviations).div(others.length, 12, 'half_up');
  if (!meanAd.isZero()) return { median: m, score: diff.div(meanAd.mul('1.253314'), 2, 'half_up') };
  return { median: m, score: diff.isZero() ? Decimal.ZERO : null };
}
