import { sql, type Kysely } from 'kysely';
import { newSigningSecret, newSigningKeyId } from '../../domain/verification-code.js';
import type { MigrationContext } from './index.js';

/**
 * Each organization's keys for the verification codes printed on its invoices (HMAC-SHA256,
 * domain/verification-code.ts). The secret is made here and read only by the code that signs
 * and checks; no operation returns it. Rotating retires a key without deleting it, so codes
 * already printed keep validating: at most one key per organization is active, which the
 * partial unique index holds even when two processes create the first key at once.
 *
 * Organizations that exist already get their first key now.
 */
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('signing_keys')
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('retired_at', 'bigint')
    .addPrimaryKeyConstraint('signing_keys_pk', ['organization_id', 'id'])
    .execute();
  await sql`CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (organization_id) WHERE retired_at IS NULL`.execute(
    db,
  );
  const organizations = await db.selectFrom('organizations').select('id').execute();
  const now = Date.now();
  for (const { id } of organizations as Array<{ id: string }>) {
    await db
      .insertInto('signing_keys')
      .values({ organization_id: id, id: newSigningKeyId(), secret: newSigningSecret(), created_at: now })
      .execute();
  }
}
