import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * A signing key can be revoked (rotate_signing_key with revoke_previous, revoke_signing_key):
 * the codes it signed then answer `revoked` instead of `valid`. Retiring (rotation) and revoking
 * are two moments: a retired key no longer signs but still vouches for what it signed; a revoked
 * one vouches for nothing, for a key that leaked. Existing keys are not revoked.
 */
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema.alterTable('signing_keys').addColumn('revoked_at', 'bigint').execute();
}
