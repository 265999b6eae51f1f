import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * webhook_endpoints.payload_format: the body an endpoint's deliveries carry — Billfold's
 * (`{ id, type, created_at, organization_id, data }`, every endpoint made so far) or Lago's
 * (`{ webhook_type, object_type, organization_id, <object_type>: {…} }`), for receivers written
 * against Lago that register their endpoint through Lago's API.
 */
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .alterTable('webhook_endpoints')
    .addColumn('payload_format', 'text', (c) => c.notNull().defaultTo('billfold'))
    .execute();
}
