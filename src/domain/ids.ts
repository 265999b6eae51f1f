import { randomFillSync } from 'node:crypto';

/**
 * Billfold ids: a type prefix and a ULID (48-bit millisecond time + 80 random bits, Crockford
 * base32), so ids sort by creation time and say what they point at: `cus_01JD3…`.
 */
export const ID_PREFIX = {
  organization: 'org',
  api_key: 'key',
  customer: 'cus',
  activity: 'act',
  api_log: 'req',
  invoice: 'inv',
  invoice_line: 'il',
  product: 'prod',
  tax: 'tax',
  payment: 'pay',
  credit_note: 'cn',
  email: 'msg',
  billable_metric: 'bm',
  event: 'evt',
  plan: 'plan',
  charge: 'chg',
  subscription: 'sub',
  coupon: 'cpn',
  applied_coupon: 'acp',
  coupon_redemption: 'red',
  portal_session: 'pses',
  service_price: 'svc',
  model_mapping: 'map',
  billing_run: 'run',
  order: 'ord',
  order_line: 'ol',
  order_allocation: 'oal',
  agent: 'agt',
  webhook_endpoint: 'we',
  webhook_event: 'whe',
  webhook_delivery: 'whd',
  usage_alert: 'ua',
  usage_threshold: 'uth',
  progressive_billing: 'pgb',
  wallet: 'wal',
  wallet_transaction: 'wtx',
  wallet_rule: 'wrr',
} as const;
export type IdKind = keyof typeof ID_PREFIX;

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let lastTime = -1;
let lastRandom: Uint8Array = new Uint8Array(10);

/** The last time encoded: ids are made in bursts within one millisecond (a batch of events). */
let encodedMs = -1;
let encodedTime = '';

function encodeTime(ms: number): string {
  if (ms === encodedMs) return encodedTime;
  encodedMs = ms;
  encodedTime = encodeTimeOnce(ms);
  return encodedTime;
}

function encodeTimeOnce(ms: number): string {
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

function encodeRandom(bytes: Uint8Array): string {
  // 80 bits → 16 base32 characters: each 5 bytes are exactly 8 characters (no BigInt on the
  // hot path; ids are made per usage event).
  let out = '';
  for (let j = 0; j < 10; j += 5) {
    const hi = (bytes[j]! << 12) | (bytes[j + 1]! << 4) | (bytes[j + 2]! >> 4); // 20 bits
    const lo = ((bytes[j + 2]! & 15) << 16) | (bytes[j + 3]! << 8) | bytes[j + 4]!; // 20 bits
    out +=
      ALPHABET[(hi >> 15) & 31]! +
      ALPHABET[(hi >> 10) & 31]! +
      ALPHABET[(hi >> 5) & 31]! +
      ALPHABET[hi & 31]! +
      ALPHABET[(lo >> 15) & 31]! +
      ALPHABET[(lo >> 10) & 31]! +
      ALPHABET[(lo >> 5) & 31]! +
      ALPHABET[lo & 31]!;
  }
  return out;
}

/** Random bytes drawn from a pool refilled 4 KiB at a time: one syscall per ~400 ids. */
const pool = new Uint8Array(4096);
let poolOffset = pool.length;
function randomTen(): Uint8Array {
  if (poolOffset + 10 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  poolOffset += 10;
  return pool.slice(poolOffset - 10, poolOffset);
}

/**
 * A ULID. Ids made in the same millisecond stay strictly increasing (the random part counts
 * up); an explicit earlier time (a backdated record) gets fresh randomness and sorts by it.
 */
export function ulid(now = Date.now()): string {
  if (now < lastTime) return encodeTime(now) + encodeRandom(randomTen());
  if (now === lastTime) {
    const r = lastRandom;
    for (let i = r.length - 1; i >= 0; i--) {
      if (r[i] === 255) {
        r[i] = 0;
      } else {
        r[i] = r[i]! + 1;
        break;
      }
    }
  } else {
    lastRandom = randomTen();
    lastTime = now;
  }
  return encodeTime(now) + encodeRandom(lastRandom);
}

export function newId(kind: IdKind, now?: number): string {
  return `${ID_PREFIX[kind]}_${ulid(now)}`;
}

const ULID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
/** True when `ref` has the shape of a Billfold id of this kind (it may still not exist). */
export function looksLikeId(kind: IdKind, ref: string): boolean {
  const prefix = `${ID_PREFIX[kind]}_`;
  return ref.startsWith(prefix) && ULID_PATTERN.test(ref.slice(prefix.length));
}
