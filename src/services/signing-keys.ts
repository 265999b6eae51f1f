import type { Kysely } from 'kysely';
import type { Database, SigningKeysTable } from '../db/schema.js';
import { newSigningKeyId, newSigningSecret } from '../domain/verification-code.js';
import type { ServiceContext } from './context.js';

/**
 * The organization's keys for verification codes (migration 016). Every organization gets one
 * when it is created; one missing (a database filled by other means) is made on first use. The
 * secret stays in these functions: callers get it to sign or check, and no operation outputs it.
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
