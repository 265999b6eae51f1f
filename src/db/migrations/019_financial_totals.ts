import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Maintained totals for the financial reports (services/finance/totals.ts): per organization,
 * currency and time bucket (a UTC month, day or quarter hour), what get_financial_summary and
 * get_dashboard sum, so that a report reads a few dozen rows per month rather than every
 * invoice; and today's open balances per due date. The primary keys are the reports' lookups.
 * Filled from the existing invoices, credit notes and payments by 022, once it has added the
 * columns the totals need.
 */
export async function up(db: Kysely<any>, ctx: MigrationContext): Promise<void> {
  const bucket = (name: string) =>
    db.schema
      .createTable(name)
      .addColumn('organization_id', 'text', (c) => c.notNull())
      .addColumn('span', 'text', (c) => c.notNull())
      .addColumn('bucket_start', 'bigint', (c) => c.notNull());
  const amount = 'bigint' as const;
  // On SQLite the rows live in their primary key's b-tree: one write per change, not two, and
  // a report's range read is the table itself.
  const clustered = ctx.dialect === 'sqlite' ? sql`without rowid` : sql``;
  await bucket('finance_flows')
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('invoice_count', 'bigint', (c) => c.notNull())
    .addColumn('invoiced_net_cents', amount, (c) => c.notNull())
    .addColumn('invoiced_tax_cents', amount, (c) => c.notNull())
    .addColumn('invoiced_total_cents', amount, (c) => c.notNull())
    .addColumn('credit_note_count', 'bigint', (c) => c.notNull())
    .addColumn('credit_notes_net_cents', amount, (c) => c.notNull())
    .addColumn('credit_notes_tax_cents', amount, (c) => c.notNull())
    .addColumn('credit_notes_total_cents', amount, (c) => c.notNull())
    .addColumn('refund_count', 'bigint', (c) => c.notNull())
    .addColumn('refunds_cents', amount, (c) => c.notNull())
    .addColumn('payment_count', 'bigint', (c) => c.notNull())
    .addColumn('payments_cents', amount, (c) => c.notNull())
    .addPrimaryKeyConstraint('finance_flows_pkey', ['organization_id', 'span', 'bucket_start', 'currency'])
    .modifyEnd(clustered)
    .execute();
  await bucket('finance_tax_flows')
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('tax_code', 'text', (c) => c.notNull())
    .addColumn('rate', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('invoice_lines', 'bigint', (c) => c.notNull())
    .addColumn('taxable_cents', amount, (c) => c.notNull())
    .addColumn('tax_cents', amount, (c) => c.notNull())
    .addColumn('credit_lines', 'bigint', (c) => c.notNull())
    .addColumn('credited_taxable_cents', amount, (c) => c.notNull())
    .addColumn('credited_tax_cents', amount, (c) => c.notNull())
    .addPrimaryKeyConstraint('finance_tax_flows_pkey', [
      'organization_id',
      'span',
      'bucket_start',
      'currency',
      'tax_code',
      'rate',
      'name',
    ])
    .modifyEnd(clustered)
    .execute();
  await bucket('finance_customer_flows')
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('invoice_count', 'bigint', (c) => c.notNull())
    .addColumn('invoiced_net_cents', amount, (c) => c.notNull())
    .addColumn('credit_note_count', 'bigint', (c) => c.notNull())
    .addColumn('credit_notes_net_cents', amount, (c) => c.notNull())
    .addPrimaryKeyConstraint('finance_customer_flows_pkey', [
      'organization_id',
      'span',
      'bucket_start',
      'customer_id',
      'currency',
    ])
    .modifyEnd(clustered)
    .execute();
  await db.schema
    .createTable('finance_receivables')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('due_date', 'text', (c) => c.notNull())
    .addColumn('open_count', 'bigint', (c) => c.notNull())
    .addColumn('open_cents', amount, (c) => c.notNull())
    .addPrimaryKeyConstraint('finance_receivables_pkey', ['organization_id', 'currency', 'due_date'])
    .modifyEnd(clustered)
    .execute();
}
