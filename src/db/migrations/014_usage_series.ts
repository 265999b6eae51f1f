import { sql, type Kysely } from 'kysely';
import { seriesId } from '../../domain/usage.js';
import type { MigrationContext } from './index.js';

/**
 * Usage events are found per customer and metric through their series (domain/usage.ts
 * seriesId: organization, customer key and code as one integer) instead of an index on the
 * three strings: `usage_events_series (series, hour)` replaces `usage_events_customer
 * (organization_id, customer_key, code, hour)`, and the unique values' partial index is keyed
 * the same way. Entries a fifth the size make each stored event cheaper to index.
 *
 * `usage_series` lists every series an organization has, so the series of one customer's
 * events of every code can be found (an event list or analytics by customer); it is keyed by
 * what finds them, and its rows are never deleted, as events are not.
 *
 * Existing events are converted here: each distinct triple gets its series row and number, and
 * every event the number of its triple.
 */
const CHUNK = 500;

export async function up(db: Kysely<any>, ctx: MigrationContext): Promise<void> {
  const sqlite = ctx.dialect === 'sqlite';
  let series = db.schema
    .createTable('usage_series')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('customer_key', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('id', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_series_pk', ['organization_id', 'customer_key', 'code']);
  if (sqlite) series = series.modifyEnd(sql`without rowid`);
  await series.execute();

  // SQLite adds a NOT NULL column only with a default; every insert names it from here on.
  await sql`ALTER TABLE usage_events ADD COLUMN series bigint NOT NULL DEFAULT 0`.execute(db);

  const triples = await sql<{ organization_id: string; customer_key: string; code: string }>`
    SELECT DISTINCT organization_id, customer_key, code FROM usage_events`.execute(db);
  for (let i = 0; i < triples.rows.length; i += CHUNK) {
    await db
      .insertInto('usage_series')
      .values(
        triples.rows.slice(i, i + CHUNK).map((t) => ({
          ...t,
          id: seriesId(t.organization_id, t.customer_key, t.code),
        })),
      )
      .execute();
  }
  if (triples.rows.length) {
    await sql`UPDATE usage_events SET series = (
        SELECT s.id FROM usage_series s
        WHERE s.organization_id = usage_events.organization_id
          AND s.customer_key = usage_events.customer_key AND s.code = usage_events.code)`.execute(db);
  }
  // PostgreSQL can drop the default, so an insert that forgets the column fails.
  if (!sqlite) await sql`ALTER TABLE usage_events ALTER COLUMN series DROP DEFAULT`.execute(db);

  await sql`DROP INDEX usage_events_customer`.execute(db);
  await sql`CREATE INDEX usage_events_series ON usage_events (series, hour)`.execute(db);
  await sql`DROP INDEX usage_events_unique_value`.execute(db);
  await sql`CREATE INDEX usage_events_series_unique ON usage_events (series, unique_value) WHERE unique_value IS NOT NULL`.execute(
    db,
  );
}
