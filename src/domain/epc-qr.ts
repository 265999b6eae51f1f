import { isValidBic, isValidIban, normalizeIban } from './iban.js';

/**
 * The EPC069-12 "SEPA credit transfer" QR payload (the European Payments Council's
 * quick-response code guidelines, version 002): the text a banking app reads from a QR code on
 * an invoice to fill in a transfer. Lines, in this order, separated by a line feed:
 *
 *   BCD · 002 · 1 (UTF-8) · SCT · BIC (optional in 002) · beneficiary name (≤ 70) ·
 *   IBAN · "EUR" + amount (0.01–999999999.99, at most two decimals) · purpose (≤ 4) ·
 *   structured reference (ISO 11649 "RF…", ≤ 35) · unstructured remittance (≤ 140) ·
 *   information to the payer (≤ 70)
 *
 * A structured reference and an unstructured remittance text exclude each other; the whole
 * payload is at most 331 bytes. Amounts are integer euro cents here, never floating point.
 */

export interface EpcTransfer {
  name: string;
  iban: string;
  bic?: string | null;
  /** Euro cents, 1 to 99,999,999,999. */
  amountCents: number | bigint;
  /** Free text for the payee, e.g. the invoice number. */
  remittance?: string | null;
  /** ISO 11649 creditor reference ("RF18 5390 0754 7034"); excludes `remittance`. */
  reference?: string | null;
  purpose?: string | null;
  information?: string | null;
}

export class EpcError extends Error {}

const MAX_BYTES = 331;
const MAX_CENTS = 99_999_999_999n;

/** Builds the payload; throws EpcError naming the field when a value cannot be encoded. */
export function epcPayload(t: EpcTransfer): string {
  const iban = normalizeIban(t.iban);
  if (!isValidIban(iban)) throw new EpcError(`iban '${t.iban}' is not a valid IBAN`);
  const bic = t.bic ? t.bic.trim().toUpperCase() : '';
  if (bic && !isValidBic(bic)) throw new EpcError(`bic '${t.bic}' is not a valid BIC`);
  const name = t.name.trim();
  if (!name || name.length > 70) throw new EpcError('name must be 1 to 70 characters');
  const cents = BigInt(t.amountCents);
  if (cents < 1n || cents > MAX_CENTS) throw new EpcError('amount must be between EUR 0.01 and 999999999.99');
  if (t.reference && t.remittance)
    throw new EpcError('a structured reference and a remittance text exclude each other');
  const reference = t.reference ? t.reference.replace(/\s+/g, '').toUpperCase() : '';
  if (reference && !isValidCreditorReference(reference))
    throw new EpcError(`reference '${t.reference}' is not an ISO 11649 creditor reference`);
  const remittance = (t.remittance ?? '').trim();
  if (remittance.length > 140) throw new EpcError('remittance must be at most 140 characters');
  const purpose = (t.purpose ?? '').trim().toUpperCase();
  if (purpose && !/^[A-Z0-9]{1,4}$/.test(purpose)) throw new EpcError('purpose must be up to 4 letters');
  const information = (t.information ?? '').trim();
  if (information.length > 70) throw new EpcError('information must be at most 70 characters');
  const lines = [
    'BCD',
    '002',
    '1',
    'SCT',
    bic,
    name,
    iban,
    `EUR${formatCents(cents)}`,
    purpose,
    reference,
    remittance,
    information,
  ];
  // Trailing empty elements may be left out; keep the payload as short as the content allows.
  while (lines.length > 8 && lines[lines.length - 1] === '') lines.pop();
  const payload = lines.join('\n');
  if (Buffer.byteLength(payload, 'utf8') > MAX_BYTES)
    throw new EpcError(`the payload is longer than ${MAX_BYTES} bytes; shorten the name or remittance`);
  return payload;
}

export interface ParsedEpc {
  version: '001' | '002';
  bic: string | null;
  name: string;
  iban: string;
  ibanValid: boolean;
  /** Euro cents; null when the code carries no amount. */
  amountCents: bigint | null;
  purpose: string | null;
  reference: string | null;
  remittance: string | null;
  information: string | null;
}

/** Reads a payload (LF or CRLF lines); null when the text is not an EPC credit transfer code. */
export function parseEpcPayload(text: string): ParsedEpc | null {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  if (lines[0] !== 'BCD' || (lines[1] !== '001' && lines[1] !== '002') || lines[3] !== 'SCT') return null;
  if (lines.length < 7 || lines.length > 12) return null;
  const at = (i: number) => (lines[i] ?? '').trim();
  const amount = at(7);
  let amountCents: bigint | null = null;
  if (amount) {
    const m = /^EUR(\d{1,9})(?:\.(\d{1,2}))?$/.exec(amount);
    if (!m) return null;
    amountCents = BigInt(m[1]!) * 100n + BigInt((m[2] ?? '').padEnd(2, '0'));
  }
  const iban = normalizeIban(at(6));
  return {
    version: lines[1] as '001' | '002',
    bic: at(4) || null,
    name: at(5),
    iban,
    ibanValid: isValidIban(iban),
    amountCents,
    purpose: at(8) || null,
    reference: at(9) || null,
    remittance: at(10) || null,
    information: at(11) || null,
  };
}

/** ISO 11649: "RF", two check digits, up to 21 characters; mod 97 of the rearranged text is 1. */
export function isValidCreditorReference(ref: string): boolean {
  const r = ref.replace(/\s+/g, '').toUpperCase();
  if (!/^RF\d{2}[A-Z0-9]{1,21}$/.test(r)) return false;
  return mod97(r.slice(4) + r.slice(0, 4)) === 1;
}

function mod97(text: string): number {
  let remainder = 0;
  for (const ch of text) {
    const code = ch >= 'A' && ch <= 'Z' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const digit of code) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder;
}

function formatCents(cents: bigint): string {
  const s = cents.toString().padStart(3, '0');
  return `${s.slice(0, -2)}.${s.slice(-2)}`;
}
