import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Several organizations on one installation. `external_id` is the organization's name in
 * another system (an identity provider's organization claim, a customer number in the host's
 * own records): unique when set, absent for organizations made before it existed. Both
 * databases let a unique index hold any number of NULLs. `disabled_at` marks an organization
 * whose keys and tokens are refused; nothing of it is deleted, so enabling it again restores
 * everything as it was.
 */
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await sql`ALTER TABLE organizations ADD COLUMN external_id text`.execute(db);
  await sql`ALTER TABLE organizations ADD COLUMN disabled_at bigint`.execute(db);
  await sql`CREATE UNIQUE INDEX organizations_external_id ON organizations (external_id)`.execute(db);
}
