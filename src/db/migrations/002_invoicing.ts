import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/** Products, taxes, invoices and their lines, payments, credit notes and invoice deliveries. */
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('products')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('unit_amount', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('unit_label', 'text')
    .addColumn('tax_codes', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('search_text', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('archived_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('products_org_code')
    .on('products')
    .columns(['organization_id', 'code'])
    .unique()
    .execute();

  await db.schema
    .createTable('taxes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('rate', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('applied_to_organization', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('customer_ids', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('product_codes', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute();
  await sql`CREATE UNIQUE INDEX taxes_org_code ON taxes (organization_id, code) WHERE deleted_at IS NULL`.execute(
    db,
  );

  await db.schema
    .createTable('invoices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
    .addColumn('external_id', 'text')
    .addColumn('number', 'text')
    .addColumn('sequence', 'bigint')
    .addColumn('invoice_type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('payment_status', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('issued_at', 'bigint')
    .addColumn('issuing_date', 'text')
    .addColumn('due_at', 'bigint')
    .addColumn('due_date', 'text')
    .addColumn('net_payment_term', 'integer')
    .addColumn('sub_total_amount_cents', 'bigint', (c) => c.notNull())
    .addColumn('coupons_amount_cents', 'bigint', (c) => c.notNull())
    .addColumn('taxes_amount_cents', 'bigint', (c) => c.notNull())
    .addColumn('total_amount_cents', 'bigint', (c) => c.notNull())
    .addColumn('amount_paid_cents', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('credited_amount_cents', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('refunded_amount_cents', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('amount_due_cents', 'bigint', (c) => c.notNull())
    .addColumn('tax_breakdown', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('discounts', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('billing_snapshot', 'text')
    .addColumn('memo', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('search_text', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('subscription_id', 'text')
    .addColumn('sent_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_sent_at', 'bigint')
    .addColumn('finalized_at', 'bigint')
    .addColumn('voided_at', 'bigint')
    .addColumn('void_reason', 'text')
    .addColumn('paid_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await sql`CREATE UNIQUE INDEX invoices_org_number ON invoices (organization_id, number) WHERE number IS NOT NULL`.execute(
    db,
  );
  await sql`CREATE UNIQUE INDEX invoices_org_external_id ON invoices (organization_id, external_id) WHERE external_id IS NOT NULL`.execute(
    db,
  );
  await db.schema.createIndex('invoices_org_id').on('invoices').columns(['organization_id', 'id']).execute();
  await db.schema
    .createIndex('invoices_org_customer')
    .on('invoices')
    .columns(['organization_id', 'customer_id', 'id'])
    .execute();
  await db.schema
    .createIndex('invoices_org_status_due')
    .on('invoices')
    .columns(['organization_id', 'status', 'due_at'])
    .execute();

  await db.schema
    .createTable('invoice_lines')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('invoice_id', 'text', (c) => c.notNull().references('invoices.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('product_id', 'text')
    .addColumn('product_code', 'text')
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('quantity', 'text', (c) => c.notNull())
    .addColumn('unit_amount', 'text', (c) => c.notNull())
    .addColumn('unit_label', 'text')
    .addColumn('amount_cents', 'bigint', (c) => c.notNull())
    .addColumn('discount_amount_cents', 'bigint', (c) => c.notNull())
    .addColumn('taxes', 'text', (c) => c.notNull())
    .addColumn('from_at', 'bigint')
    .addColumn('to_at', 'bigint')
    .addColumn('charge_id', 'text')
    .addColumn('details', 'text')
    .execute();
  await db.schema
    .createIndex('invoice_lines_invoice')
    .on('invoice_lines')
    .columns(['invoice_id', 'position'])
    .execute();

  await db.schema
    .createTable('payments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('invoice_id', 'text', (c) => c.notNull().references('invoices.id'))
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('amount_cents', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('payment_method', 'text')
    .addColumn('reference', 'text')
    .addColumn('paid_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('payments_org_id').on('payments').columns(['organization_id', 'id']).execute();
  await db.schema.createIndex('payments_invoice').on('payments').columns(['invoice_id']).execute();

  await db.schema
    .createTable('credit_notes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('invoice_id', 'text', (c) => c.notNull().references('invoices.id'))
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('number', 'text', (c) => c.notNull())
    .addColumn('sequence', 'integer', (c) => c.notNull())
    .addColumn('credit_note_type', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('sub_total_amount_cents', 'bigint', (c) => c.notNull())
    .addColumn('taxes_amount_cents', 'bigint', (c) => c.notNull())
    .addColumn('total_amount_cents', 'bigint', (c) => c.notNull())
    .addColumn('items', 'text', (c) => c.notNull())
    .addColumn('tax_breakdown', 'text', (c) => c.notNull())
    .addColumn('issued_at', 'bigint', (c) => c.notNull())
    .addColumn('voided_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('credit_notes_org_number')
    .on('credit_notes')
    .columns(['organization_id', 'number'])
    .unique()
    .execute();
  await db.schema.createIndex('credit_notes_invoice').on('credit_notes').columns(['invoice_id']).execute();

  await db.schema
    .createTable('invoice_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('invoice_id', 'text', (c) => c.notNull().references('invoices.id'))
    .addColumn('recipient_email', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('transport', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('location', 'text')
    .addColumn('sent_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('invoice_deliveries_invoice')
    .on('invoice_deliveries')
    .columns(['invoice_id'])
    .execute();
}
