import type { Kysely } from 'kysely';
import type { Database, SigningKeysTable } from '../db/schema.js';
import { BillfoldError } from '../domain/errors.js';
import { toIso } from '../domain/time.js';
import { newSigningKeyId, newSigningSecret } from '../domain/verification-code.js';
import { recordActivity } from './activity.js';
import type { ServiceContext } from './context.js';

/**
 * The organization's keys for verification codes (migration 016). Every organization gets one
 * when it is created; one missing (a database filled by other means) is made on first use. The
 * secret stays in these functions: callers get it to sign or check, and no operation outputs it
 * (the views below carry the id and dates only).
 */

export async function createSigningKey(
  db: Kysely<Database>,
  organizationId: string,
  now: number,
): Promise<void> {
  // The partial unique index keeps one active key; a second creator's row is simply not added.
  await db
    .insertInto('signing_keys')
    .values({
      organization_id: organizationId,
      id: newSigningKeyId(),
      secret: newSigningSecret(),
      created_at: now,
    })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

async function activeKey(ctx: ServiceContext): Promise<SigningKeysTable | undefined> {
  return ctx.db
    .selectFrom('signing_keys')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('retired_at', 'is', null)
    .executeTakeFirst();
}

/** The key new codes are signed with. */
export async function activeSigningKey(ctx: ServiceContext): Promise<SigningKeysTable> {
  const key = await activeKey(ctx);
  if (key) return key;
  await createSigningKey(ctx.db, ctx.organizationId, ctx.now());
  const made = await activeKey(ctx);
  if (!made) throw new Error(`no signing key could be made for organization ${ctx.organizationId}`);
  return made;
}

/** A key of this organization by id, active or retired; undefined when it has none by that id. */
export async function signingKeyById(ctx: ServiceContext, id: string): Promise<SigningKeysTable | undefined> {
  return ctx.db
    .selectFrom('signing_keys')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/**
 * Rotation and revocation. A code names the key that signed it (`k`), so keys can change without
 * reprinting anything:
 * - rotating makes a new key that signs every code from then on and retires the one before,
 *   which keeps vouching for what it signed (its codes stay `valid`);
 * - revoking a key (with the rotation, or later for an older one) withdraws that: its codes
 *   answer `revoked`, for a key that leaked, since whoever holds it can sign anything.
 * The active key cannot be revoked alone: codes would go on being signed with it.
 */

export type SigningKeyStatus = 'active' | 'retired' | 'revoked';

export interface SigningKeyView {
  id: string;
  status: SigningKeyStatus;
  created_at: string;
  retired_at: string | null;
  revoked_at: string | null;
}

export function signingKeyView(k: SigningKeysTable): SigningKeyView {
  return {
    id: k.id,
    status: k.revoked_at !== null ? 'revoked' : k.retired_at !== null ? 'retired' : 'active',
    created_at: toIso(Number(k.created_at)),
    retired_at: toIso(k.retired_at === null ? null : Number(k.retired_at)),
    revoked_at: toIso(k.revoked_at === null ? null : Number(k.revoked_at)),
  };
}

/** The organization's keys, newest first, without their secrets. */
export async function listSigningKeys(ctx: ServiceContext): Promise<SigningKeyView[]> {
  const rows = await ctx.db
    .selectFrom('signing_keys')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
  return rows.map(signingKeyView);
}

export async function rotateSigningKey(
  ctx: ServiceContext,
  input: { revoke_previous?: boolean },
): Promise<{ signing_key: SigningKeyView; previous: SigningKeyView }> {
  const previous = await activeSigningKey(ctx);
  const now = ctx.now();
  const revoke = input.revoke_previous === true;
  const retired = await ctx.db
    .updateTable('signing_keys')
    .set(revoke ? { retired_at: now, revoked_at: now } : { retired_at: now })
    .where('organization_id', '=', ctx.organizationId)
    .where('id', '=', previous.id)
    .where('retired_at', 'is', null)
    .executeTakeFirst();
  // Two rotations at once: the second finds the key already retired by the first.
  if (Number(retired.numUpdatedRows) === 0)
    throw new BillfoldError(
      'CONFLICT',
      `the signing key ${previous.id} was rotated by another request at the same moment`,
      { key_id: previous.id },
      'list_signing_keys shows the key that signs now; rotate again only if you still need a new one.',
    );
  const next = { organization_id: ctx.organizationId, id: newSigningKeyId(), secret: newSigningSecret() };
  await ctx.db
    .insertInto('signing_keys')
    .values({ ...next, created_at: now })
    .execute();
  await recordActivity(ctx, {
    type: 'organization.signing_key_rotated',
    resourceType: 'organization',
    resourceId: ctx.organizationId,
    changes: {
      signing_key: { from: previous.id, to: next.id },
      ...(revoke ? { revoked_signing_key: { from: null, to: previous.id } } : {}),
    },
  });
  return {
    signing_key: signingKeyView({ ...next, created_at: now, retired_at: null, revoked_at: null }),
    previous: signingKeyView({ ...previous, retired_at: now, revoked_at: revoke ? now : null }),
  };
}

export async function revokeSigningKey(ctx: ServiceContext, keyId: string): Promise<SigningKeyView> {
  const key = await signingKeyById(ctx, keyId);
  if (!key)
    throw new BillfoldError(
      'NOT_FOUND',
      `key_id: the organization has no signing key '${keyId}'`,
      { field: 'key_id', key_id: keyId },
      'list_signing_keys gives the ids; the `k` parameter of a verification code names the key that signed it.',
    );
  if (key.revoked_at !== null) return signingKeyView(key);
  if (key.retired_at === null)
    throw new BillfoldError(
      'INVALID_STATUS',
      `key_id: ${keyId} is the active key, which signs new codes; it can be revoked only as it is replaced`,
      { field: 'key_id', key_id: keyId, status: 'active' },
      'Call rotate_signing_key with revoke_previous: true to replace it and revoke it at once.',
    );
  const now = ctx.now();
  await ctx.db
    .updateTable('signing_keys')
    .set({ revoked_at: now })
    .where('organization_id', '=', ctx.organizationId)
    .where('id', '=', keyId)
    .execute();
  await recordActivity(ctx, {
    type: 'organization.signing_key_revoked',
    resourceType: 'organization',
    resourceId: ctx.organizationId,
    changes: { revoked_signing_key: { from: null, to: keyId } },
  });
  return signingKeyView({ ...key, revoked_at: now });
}
