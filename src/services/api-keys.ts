import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { prepared } from '../db/prepared.js';
import type { ApiKeysTable, Database } from '../db/schema.js';
import { BillfoldError, notFound } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { Principal, Scope } from './context.js';
import { organizationDisabledError } from './organization-access.js';

/**
 * API keys: `bfk_` and 32 random base62 characters. Only a SHA-256 hash is stored; the full
 * key is shown once, at creation. The first 12 characters stay visible to tell keys apart.
 */
const KEY_PREFIX = 'bfk_';
const VISIBLE_CHARS = 12;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function generateApiKey(): string {
  const bytes = randomBytes(32);
  let out = KEY_PREFIX;
  for (const b of bytes) out += BASE62[b % 62];
  return out;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The scopes a list may grant; `platform` only comes from `billfold keys create --platform`. */
const GRANTABLE: readonly Scope[] = ['read', 'write', 'admin'];

export function parseScopes(text: string): Scope[] {
  const scopes = text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of scopes) {
    if (s === 'platform') {
      throw new BillfoldError(
        'VALIDATION_ERROR',
        "scopes: 'platform' is not given by a scope list; use `billfold keys create --platform` on the server's machine",
        { field: 'scopes', value: s },
      );
    }
    if (!GRANTABLE.includes(s as Scope)) {
      throw new BillfoldError('VALIDATION_ERROR', `scopes: '${s}' is not a scope; use read, write or admin`, {
        field: 'scopes',
        value: s,
      });
    }
  }
  if (scopes.length === 0)
    throw new BillfoldError('VALIDATION_ERROR', 'scopes: give at least one of read, write, admin');
  return [...new Set(scopes)] as Scope[];
}

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
  revoked_at: number | null;
}

function view(row: ApiKeysTable): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes.split(' ') as Scope[],
    created_at: row.created_at,
    last_used_at: row.last_used_at,
    expires_at: row.expires_at,
    revoked_at: row.revoked_at,
  };
}

export async function createApiKey(
  db: Kysely<Database>,
  input: {
    organizationId: string;
    name: string;
    scopes: Scope[];
    now: number;
    key?: string;
    expiresAt?: number | null;
  },
): Promise<{ key: string; apiKey: ApiKeyView }> {
  const key = input.key ?? generateApiKey();
  if (key.length < 24) {
    throw new BillfoldError('VALIDATION_ERROR', 'key: an API key must be at least 24 characters long');
  }
  const row: ApiKeysTable = {
    id: newId('api_key', input.now),
    organization_id: input.organizationId,
    name: input.name,
    prefix: key.slice(0, VISIBLE_CHARS),
    hash: hashApiKey(key),
    scopes: input.scopes.join(' '),
    created_at: input.now,
    last_used_at: null,
    expires_at: input.expiresAt ?? null,
    revoked_at: null,
  };
  await db.insertInto('api_keys').values(row).execute();
  return { key, apiKey: view(row) };
}

export async function listApiKeys(db: Kysely<Database>, organizationId: string): Promise<ApiKeyView[]> {
  const rows = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .orderBy('id')
    .execute();
  return rows.map(view);
}

/** Revokes by id or visible prefix. */
export async function revokeApiKey(
  db: Kysely<Database>,
  organizationId: string,
  ref: string,
  now: number,
): Promise<ApiKeyView> {
  const row = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where((eb) => eb.or([eb('id', '=', ref), eb('prefix', '=', ref)]))
    .executeTakeFirst();
  if (!row) throw notFound('api key', ref, 'List keys with `billfold keys list` to find its id or prefix.');
  if (row.revoked_at === null) {
    await db.updateTable('api_keys').set({ revoked_at: now }).where('id', '=', row.id).execute();
    row.revoked_at = now;
  }
  authCache.delete(row.hash);
  return view(row);
}

/** How often last_used_at is written per key: often enough to be useful, rarely enough not to cost. */
const LAST_USED_RESOLUTION_MS = 60_000;
const lastUsedWritten = new Map<string, number>();

/**
 * Recently verified keys, by hash, for `cacheMs`. A key revoked on this instance is dropped at
 * once; one revoked on another instance stops working here within `cacheMs` (one second by
 * default). Only successful lookups are cached, so a new key works immediately everywhere.
 */
const AUTH_CACHE_MAX = 10_000;
const authCache = new Map<
  string,
  { principal: Principal & { keyPrefix: string }; until: number; keyExpiresAt: number | null }
>();

const keyByHash = prepared((db, p: { hash: string }) =>
  db
    .selectFrom('api_keys')
    .innerJoin('organizations', 'organizations.id', 'api_keys.organization_id')
    .select([
      'api_keys.id',
      'api_keys.organization_id',
      'api_keys.name',
      'api_keys.prefix',
      'api_keys.hash',
      'api_keys.scopes',
      'api_keys.revoked_at',
      'api_keys.expires_at',
      'organizations.disabled_at as organization_disabled_at',
    ])
    .where('api_keys.hash', '=', p.hash),
);

/**
 * Drops this instance's cached keys of an organization that was just disabled, so they are
 * refused here at once (elsewhere within the cache time, as a revoked key is).
 */
export function forgetOrganizationKeys(organizationId: string): void {
  for (const [hash, entry] of authCache) {
    if (entry.principal.organizationId === organizationId) authCache.delete(hash);
  }
}

/**
 * Resolves a presented key to its principal, or null when it is unknown, revoked or expired;
 * a key of a disabled organization throws organizationDisabledError. The hash lookup is
 * indexed; comparison of the stored hash is constant-time.
 */
export async function authenticateApiKey(
  db: Kysely<Database>,
  presented: string,
  now: number,
  cacheMs = 0,
): Promise<(Principal & { keyPrefix: string }) | null> {
  if (!presented.startsWith(KEY_PREFIX) && presented.length < 24) return null;
  const hash = hashApiKey(presented);
  const cached = authCache.get(hash);
  if (cached && cached.until > now && (cached.keyExpiresAt === null || cached.keyExpiresAt > now))
    return cached.principal;
  const [row] = await keyByHash(db, { hash });
  if (!row || !timingSafeEqual(Buffer.from(row.hash), Buffer.from(hash))) return null;
  if (row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now)) {
    authCache.delete(hash);
    return null;
  }
  // A valid key of a disabled organization is refused with why, not as an unknown key.
  if (row.organization_disabled_at !== null) {
    authCache.delete(hash);
    throw organizationDisabledError({ id: row.organization_id, disabled_at: row.organization_disabled_at });
  }
  const last = lastUsedWritten.get(row.id) ?? 0;
  if (now - last > LAST_USED_RESOLUTION_MS) {
    lastUsedWritten.set(row.id, now);
    // Best effort: a failed bookkeeping write must not fail the caller's request.
    db.updateTable('api_keys')
      .set({ last_used_at: now })
      .where('id', '=', row.id)
      .execute()
      .catch(() => lastUsedWritten.delete(row.id));
  }
  const principal = {
    organizationId: row.organization_id,
    actor: { type: 'api_key' as const, id: row.id, name: row.name },
    scopes: new Set(row.scopes.split(' ') as Scope[]),
    keyPrefix: row.prefix,
  };
  if (cacheMs > 0) {
    if (authCache.size >= AUTH_CACHE_MAX) authCache.delete(authCache.keys().next().value as string);
    authCache.set(hash, { principal, until: now + cacheMs, keyExpiresAt: row.expires_at });
  }
  return principal;
}
