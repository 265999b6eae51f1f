import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * One customer's issued invoices, newest first (the customer portal's list and its count), and
 * what they still owe (get_accounts_receivable for one customer). With only (organization_id,
 * customer_id, id) and (organization_id, status, due_at), SQLite took the latter for the balance
 * — reading every finalized invoice of the organization — and checked the list's rows for their
 * status one by one.
 */
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await sql`CREATE INDEX invoices_org_customer_status ON invoices (organization_id, customer_id, status, id)`.execute(
    db,
  );
}
