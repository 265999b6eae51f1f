import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * The active subscriptions of a plan: progressive billing's check looks, across organizations,
 * for the active subscriptions of the few plans with usage thresholds, after every billing run.
 * Without it SQLite walked every subscription of every organization.
 */
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await sql`CREATE INDEX subscriptions_plan_active ON subscriptions (plan_id) WHERE status = 'active'`.execute(
    db,
  );
}
