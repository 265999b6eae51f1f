import { ID_PREFIX, type IdKind } from '../../../domain/ids.js';

/**
 * Lago's ids are UUIDs, and Lago's clients parse them as UUIDs (the Rust client refuses any
 * other string). A Billfold id is a type prefix and a ULID, and a ULID is 128 bits: written as
 * a UUID it is the same id, so `lago_id` is the ULID in UUID form and a UUID in a path reads
 * back as the Billfold id of the resource the route names. Nothing is stored for the mapping.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

const VALUE = new Map([...ALPHABET].map((ch, i) => [ch, i]));
const HEX = '0123456789abcdef';

/** 26 base32 digits (130 bits, the top two zero) → 32 hex digits, without BigInt (a batch reply maps 1,000). */
function ulidToHex(ulid: string): string {
  let out = '';
  let acc = 0;
  let bits = -2; // drop the two leading zero bits
  for (let i = 0; i < 26; i++) {
    acc = (acc << 5) | VALUE.get(ulid[i]!)!;
    bits += 5;
    while (bits >= 4) {
      bits -= 4;
      out += HEX[(acc >> bits) & 15];
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

function hexToUlid(hex: string): string {
  let n = BigInt(`0x${hex}`);
  let out = '';
  for (let i = 0; i < 26; i++) {
    out = ALPHABET[Number(n & 31n)]! + out;
    n >>= 5n;
  }
  return out;
}

/** The UUID form of a Billfold id (`cus_01J…` → `0192…-…`); null stays null. */
export function lagoId(id: string): string;
export function lagoId(id: string | null | undefined): string | null;
export function lagoId(id: string | null | undefined): string | null {
  if (id == null) return null;
  const ulid = id.slice(id.indexOf('_') + 1);
  if (!ULID_PATTERN.test(ulid)) return id;
  const h = ulidToHex(ulid);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function isUuid(ref: string): boolean {
  return UUID_PATTERN.test(ref);
}

/**
 * A reference from a Lago path or body as Billfold takes it: a UUID becomes the Billfold id of
 * `kind`; anything else (a Billfold id, an external id, a code, a number) passes unchanged.
 */
export function billfoldRef(kind: IdKind, ref: string): string {
  if (!isUuid(ref)) return ref;
  return `${ID_PREFIX[kind]}_${hexToUlid(ref.replace(/-/g, '').toLowerCase())}`;
}

/**
 * A stable UUID for something Billfold keeps without an id of its own (a metadata entry, a
 * tax applied to an invoice): derived from its owner's id and a name.
 */
export function derivedLagoId(ownerId: string, name: string): string {
  const base = lagoId(ownerId).replace(/-/g, '');
  let h = 0x811c9dc5;
  for (const ch of name) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  // Keep the owner's time part (first 48 bits) so derived ids sort with their owner; mix the
  // name into the rest.
  const tail = (BigInt(`0x${base.slice(12)}`) ^ BigInt(h)).toString(16).padStart(20, '0');
  const hex = base.slice(0, 12) + tail;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * When a Billfold id was made, as an ISO instant: a ULID's first ten digits are its creation
 * time in milliseconds. For objects Billfold keeps without a created_at of their own (a
 * wallet's recurring rule, made with the id).
 */
export function idInstant(id: string): string | null {
  const ulid = id.slice(id.indexOf('_') + 1);
  if (!ULID_PATTERN.test(ulid)) return null;
  let ms = 0;
  for (let i = 0; i < 10; i++) ms = ms * 32 + VALUE.get(ulid[i]!)!;
  return new Date(ms).toISOString();
}
