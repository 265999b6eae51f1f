/**
 * Which keys of a stored request body hold secrets: a client that sends `metadata.password` or
 * an IBAN must not leave it readable in the API log. Keys and patterns are compared word by
 * word (`api_key`, `apiKey`, `X-API-Key` and `APIKEY` are the same words), so `card` matches
 * `card_number` and `credit_card` but not `discard`, and `token` matches `access_token` but not
 * the usage counts `input_tokens`.
 */
export const DEFAULT_REDACTED_KEYS: readonly string[] = [
  'password',
  'passwd',
  'secret',
  'token',
  'api_key',
  'authorization',
  'iban',
  'card',
  'cvc',
  'cvv',
];

/** The words of a key: split at punctuation, case changes and digits, lower-cased. */
export function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

const MEMO_MAX = 2000;

/** A test of key names against the patterns; answers are remembered (bodies repeat their keys). */
export function secretKeyMatcher(patterns: readonly string[]): (key: string) => boolean {
  const wanted = patterns.map(keyWords).filter((w) => w.length > 0);
  const memo = new Map<string, boolean>();
  const test = (key: string): boolean => {
    const words = keyWords(key);
    return wanted.some((p) => {
      // `apikey` written as one word is the words api + key.
      if (words.includes(p.join(''))) return true;
      for (let i = 0; i + p.length <= words.length; i++) {
        if (p.every((w, j) => words[i + j] === w)) return true;
      }
      return false;
    });
  };
  return (key) => {
    let hit = memo.get(key);
    if (hit === undefined) {
      hit = test(key);
      if (memo.size >= MEMO_MAX) memo.clear();
      memo.set(key, hit);
    }
    return hit;
  };
}
