import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Financial reports read an organization's finalized invoices by issue date, summing amounts
 * per currency (and per customer for the dashboard's top customers). The index carries those
 * columns, so a year of 100,000 invoices is summed from the index without reading a row (the
 * rows are wide: billing snapshot, search text). Payments and credit notes are read by date.
 */
export async function up(db: Kysely<any>, ctx: MigrationContext): Promise<void> {
  const carried =
    'currency, customer_id, sub_total_amount_cents, coupons_amount_cents, taxes_amount_cents, total_amount_cents';
  await sql
    .raw(
      ctx.dialect === 'postgres'
        ? `CREATE INDEX invoices_org_status_issued ON invoices (organization_id, status, issued_at) INCLUDE (${carried})`
        : `CREATE INDEX invoices_org_status_issued ON invoices (organization_id, status, issued_at, ${carried})`,
    )
    .execute(db);
  await sql`CREATE INDEX payments_org_paid ON payments (organization_id, paid_at)`.execute(db);
  await sql`CREATE INDEX credit_notes_org_issued ON credit_notes (organization_id, issued_at)`.execute(db);
}
