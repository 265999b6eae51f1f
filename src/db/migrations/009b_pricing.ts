import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Pricing for MarginFront's strategies: a charge's minimum commitment in units (`min_units`,
 * beside its minimum in money), a plan's one-time fee, and how long an invoice may be overdue
 * before its subscription counts as past due.
 */
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await sql`ALTER TABLE plan_charges ADD COLUMN min_units text`.execute(db);
  await sql`ALTER TABLE plans ADD COLUMN one_time_amount text`.execute(db);
  await sql`ALTER TABLE organizations ADD COLUMN past_due_grace_period_days integer NOT NULL DEFAULT 0`.execute(
    db,
  );
  // A subscription's invoices (past_due, progressive billing).
  await sql`CREATE INDEX invoices_org_subscription ON invoices (organization_id, subscription_id) WHERE subscription_id IS NOT NULL`.execute(
    db,
  );
}
