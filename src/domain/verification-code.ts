import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The verification code printed on a finalized invoice: a URL that names the invoice and
 * carries the organization's signature over what a reader must be able to trust — who issued
 * it (organization), which invoice (number), when (issue date) and how much (total and
 * currency). Scanned with a phone it opens the verification page; given to validate_qr_code it
 * says valid, tampered, revoked (its key withdrawn) or unknown.
 *
 *   <base>/portal/verify?v=1&o=<organization>&k=<key>&n=<number>&d=<YYYY-MM-DD>&t=<total>&c=<currency>&s=<signature>
 *
 * The signature is HMAC-SHA256 with the organization's key (signing_keys, never returned by any
 * operation) over the fields exactly as written in the code, truncated to 128 bits (RFC 2104
 * allows truncation to half the output; 128 bits keep the QR code small and forgery out of
 * reach). The host is not signed: codes stay valid when the public URL changes.
 */

export const VERIFY_PATH = '/portal/verify';
const VERSION = '1';
const SIGNATURE_BYTES = 16;

export interface VerificationFields {
  organizationId: string;
  keyId: string;
  number: string;
  /** The issue date, YYYY-MM-DD. */
  issueDate: string;
  /** The total as an exact decimal string in major units ("1234.50"; "1200" for JPY). */
  total: string;
  currency: string;
}

/** The parameter each field is written under, in the order they are signed. */
const PARAMS: ReadonlyArray<[keyof VerificationFields, string]> = [
  ['organizationId', 'o'],
  ['keyId', 'k'],
  ['number', 'n'],
  ['issueDate', 'd'],
  ['total', 't'],
  ['currency', 'c'],
];

/** A new key's secret: 32 random bytes, base64url. */
export function newSigningSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** A key's id: 6 random bytes, base64url (8 characters), unique within its organization. */
export function newSigningKeyId(): string {
  return randomBytes(6).toString('base64url');
}

export function signVerification(fields: VerificationFields, secret: string): string {
  const message = ['billfold-invoice-verification', VERSION, ...PARAMS.map(([f]) => fields[f])].join('\n');
  return createHmac('sha256', Buffer.from(secret, 'base64url'))
    .update(message, 'utf8')
    .digest()
    .subarray(0, SIGNATURE_BYTES)
    .toString('base64url');
}

/** The code's text: the verification URL under `base` (no trailing slash). */
export function verificationUrl(base: string, fields: VerificationFields, secret: string): string {
  const query = new URLSearchParams([['v', VERSION]]);
  for (const [f, p] of PARAMS) query.append(p, fields[f]);
  query.append('s', signVerification(fields, secret));
  return `${base}${VERIFY_PATH}?${query.toString()}`;
}

export type ReadCode =
  /** The shape of a Billfold verification code, with every field. */
  | { kind: 'code'; fields: VerificationFields; signature: string }
  /** A Billfold verification address whose fields are missing or damaged. */
  | { kind: 'damaged'; organizationId: string | null }
  /** Anything else. */
  | { kind: 'other' };

/** Reads a scanned text; it says whether the text is one of these codes, not whether it is genuine. */
export function readVerificationCode(text: string): ReadCode {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return { kind: 'other' };
  }
  if (!url.pathname.endsWith(VERIFY_PATH) || url.searchParams.get('v') !== VERSION) return { kind: 'other' };
  const q = url.searchParams;
  const organizationId = q.get('o');
  const values = PARAMS.map(([, p]) => q.getAll(p));
  const signatures = q.getAll('s');
  // A parameter given twice is as suspect as one missing: a reader might see either value.
  if (values.some((v) => v.length !== 1 || !v[0]) || signatures.length !== 1 || !signatures[0])
    return { kind: 'damaged', organizationId };
  const fields = Object.fromEntries(
    PARAMS.map(([f], i) => [f, values[i]![0]!]),
  ) as unknown as VerificationFields;
  return { kind: 'code', fields, signature: signatures[0] };
}

/** True when `signature` is the organization's signature of `fields` (compared in constant time). */
export function signatureMatches(fields: VerificationFields, signature: string, secret: string): boolean {
  const expected = Buffer.from(signVerification(fields, secret), 'base64url');
  const given = Buffer.from(signature, 'base64url');
  return (
    given.length === expected.length &&
    given.toString('base64url') === signature &&
    timingSafeEqual(given, expected)
  );
}
