import { sql, type Kysely } from 'kysely';

/**
 * Rows looked up by id within an organization (`organization_id = ? AND id IN (…)`: a billing
 * run's subscriptions, the coupons an invoice redeems). With no index that starts with both,
 * SQLite's planner prefers an index on organization_id alone and walks every subscription or
 * applied coupon of the organization for each lookup; customers and invoices have such an index
 * from the start.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX subscriptions_org_id ON subscriptions (organization_id, id)`.execute(db);
  await sql`CREATE INDEX applied_coupons_org_id ON applied_coupons (organization_id, id)`.execute(db);
}
