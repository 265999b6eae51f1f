import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * The customer portal: one-time links (portal sessions) and the organization's branding the
 * portal pages show.
 *
 * A session stores only hashes: of the link's token, and of the browser cookie its first open
 * issues. The token hash is unique so a link names at most one session; redemption is one
 * conditional UPDATE on it (`WHERE redeemed_at IS NULL`), which is what lets exactly one of two
 * simultaneous opens win, on one instance or several.
 */
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema.alterTable('organizations').addColumn('logo_url', 'text').execute();
  await db.schema.alterTable('organizations').addColumn('accent_color', 'text').execute();

  await db.schema
    .createTable('portal_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('browser_hash', 'text', (c) => c.unique())
    .addColumn('features', 'text', (c) => c.notNull())
    .addColumn('return_url', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('redeemed_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();
  // list_portal_sessions (by customer or not, newest first) and get_portal_session by id.
  await sql`CREATE INDEX portal_sessions_org_customer ON portal_sessions (organization_id, customer_id, id)`.execute(
    db,
  );
  await sql`CREATE INDEX portal_sessions_org_id ON portal_sessions (organization_id, id)`.execute(db);
}
