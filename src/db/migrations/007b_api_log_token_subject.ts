import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Who made a logged request when it came with a bearer token instead of an API key: the
 * token's subject (`sub`), so that an organization's API log names the user or service behind
 * each change as its activity log does. Null for API keys (api_key_id names them) and for
 * requests logged before tokens were accepted.
 */
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await sql`ALTER TABLE api_logs ADD COLUMN token_subject text`.execute(db);
}
