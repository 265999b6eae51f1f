import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * PostgreSQL: every batch of usage events updates the current hour's and day's aggregate rows
 * in place. With full pages (the default fillfactor of 100) each update writes its new row
 * version to another page and a new entry into the primary key; with room left on each page
 * the update stays on the page (a HOT update) and the index is not touched. SQLite updates rows
 * in place and needs nothing.
 */
const TABLES = ['usage_buckets', 'usage_buckets_daily', 'usage_totals', 'usage_unique_values'];

export async function up(db: Kysely<any>, ctx: MigrationContext): Promise<void> {
  if (ctx.dialect !== 'postgres') return;
  for (const table of TABLES) await sql`ALTER TABLE ${sql.table(table)} SET (fillfactor = 50)`.execute(db);
}
