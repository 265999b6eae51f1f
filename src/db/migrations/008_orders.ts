import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Sales orders: what a customer agreed to buy before it is invoiced. Each invoiced quantity of
 * an order line is an allocation row naming the invoice line that bills it; an invoice voided
 * or a draft deleted releases its allocations, so a unit is billed by at most one live invoice.
 * Invoices name the order they were made from.
 */
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('orders')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
    .addColumn('external_id', 'text')
    .addColumn('number', 'text')
    .addColumn('sequence', 'bigint')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('order_date', 'text', (c) => c.notNull())
    .addColumn('sub_total_amount_cents', 'bigint', (c) => c.notNull())
    .addColumn('taxes_amount_cents', 'bigint', (c) => c.notNull())
    .addColumn('total_amount_cents', 'bigint', (c) => c.notNull())
    .addColumn('tax_breakdown', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('memo', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('search_text', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('confirmed_at', 'bigint')
    .addColumn('canceled_at', 'bigint')
    .addColumn('cancel_reason', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await sql`CREATE UNIQUE INDEX orders_org_number ON orders (organization_id, number) WHERE number IS NOT NULL`.execute(
    db,
  );
  await sql`CREATE UNIQUE INDEX orders_org_external_id ON orders (organization_id, external_id) WHERE external_id IS NOT NULL`.execute(
    db,
  );
  await db.schema.createIndex('orders_org_id').on('orders').columns(['organization_id', 'id']).execute();
  await db.schema
    .createIndex('orders_org_customer')
    .on('orders')
    .columns(['organization_id', 'customer_id', 'id'])
    .execute();

  await db.schema
    .createTable('order_lines')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull().references('orders.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('product_id', 'text')
    .addColumn('product_code', 'text')
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('quantity', 'text', (c) => c.notNull())
    .addColumn('unit_amount', 'text', (c) => c.notNull())
    .addColumn('unit_label', 'text')
    .addColumn('amount_cents', 'bigint', (c) => c.notNull())
    .addColumn('taxes', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('order_lines_order')
    .on('order_lines')
    .columns(['order_id', 'position'])
    .execute();

  await db.schema
    .createTable('order_allocations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull().references('orders.id'))
    .addColumn('order_line_id', 'text', (c) => c.notNull().references('order_lines.id'))
    .addColumn('invoice_id', 'text', (c) => c.notNull())
    .addColumn('invoice_line_id', 'text', (c) => c.notNull())
    .addColumn('quantity', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('released_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('order_allocations_order')
    .on('order_allocations')
    .columns(['order_id', 'order_line_id'])
    .execute();
  await db.schema
    .createIndex('order_allocations_invoice')
    .on('order_allocations')
    .columns(['invoice_id'])
    .execute();

  await db.schema.alterTable('invoices').addColumn('order_id', 'text').execute();
  await sql`CREATE INDEX invoices_org_order ON invoices (organization_id, order_id) WHERE order_id IS NOT NULL`.execute(
    db,
  );
}
