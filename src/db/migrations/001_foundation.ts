import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/** Organizations, API keys, customers, the activity and API logs, and named counters. */
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('billfold_meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('organizations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('legal_name', 'text')
    .addColumn('email', 'text')
    .addColumn('address_line1', 'text')
    .addColumn('address_line2', 'text')
    .addColumn('city', 'text')
    .addColumn('state', 'text')
    .addColumn('zipcode', 'text')
    .addColumn('country', 'text')
    .addColumn('tax_identification_number', 'text')
    .addColumn('default_currency', 'text', (c) => c.notNull().defaultTo('USD'))
    .addColumn('timezone', 'text', (c) => c.notNull().defaultTo('UTC'))
    .addColumn('net_payment_term', 'integer', (c) => c.notNull().defaultTo(30))
    .addColumn('invoice_prefix', 'text', (c) => c.notNull().defaultTo('INV'))
    .addColumn('invoice_numbering', 'text', (c) => c.notNull().defaultTo('per_organization'))
    .addColumn('invoice_footer', 'text')
    .addColumn('bank_iban', 'text')
    .addColumn('bank_bic', 'text')
    .addColumn('bank_name', 'text')
    .addColumn('finalize_invoices', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  // Two servers starting at once on a fresh database must agree on one default organization.
  await sql`CREATE UNIQUE INDEX organizations_one_default ON organizations (is_default) WHERE is_default = 1`.execute(
    db,
  );

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull().unique())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addColumn('expires_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema.createIndex('api_keys_org').on('api_keys').columns(['organization_id', 'id']).execute();

  await db.schema
    .createTable('customers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('external_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('name', 'text')
    .addColumn('firstname', 'text')
    .addColumn('lastname', 'text')
    .addColumn('email', 'text')
    .addColumn('phone', 'text')
    .addColumn('address_line1', 'text')
    .addColumn('address_line2', 'text')
    .addColumn('city', 'text')
    .addColumn('state', 'text')
    .addColumn('zipcode', 'text')
    .addColumn('country', 'text')
    .addColumn('url', 'text')
    .addColumn('legal_name', 'text')
    .addColumn('legal_number', 'text')
    .addColumn('logo_url', 'text')
    .addColumn('tax_identification_number', 'text')
    .addColumn('timezone', 'text')
    .addColumn('currency', 'text')
    .addColumn('net_payment_term', 'integer')
    .addColumn('customer_type', 'text')
    .addColumn('finalize_zero_amount_invoice', 'text', (c) => c.notNull().defaultTo('inherit'))
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('search_text', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute();
  // external_id is unique among an organization's live customers; a deleted one frees it.
  await sql`CREATE UNIQUE INDEX customers_org_external_id ON customers (organization_id, external_id) WHERE deleted_at IS NULL AND external_id IS NOT NULL`.execute(
    db,
  );
  await db.schema
    .createIndex('customers_org_id')
    .on('customers')
    .columns(['organization_id', 'id'])
    .execute();

  await db.schema
    .createTable('activity_logs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('activity_type', 'text', (c) => c.notNull())
    .addColumn('activity_source', 'text', (c) => c.notNull())
    .addColumn('door', 'text', (c) => c.notNull())
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('actor_name', 'text')
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('resource_id', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'text')
    .addColumn('external_customer_id', 'text')
    .addColumn('subscription_id', 'text')
    .addColumn('external_subscription_id', 'text')
    .addColumn('changes', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text')
    .addColumn('logged_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('activity_logs_org')
    .on('activity_logs')
    .columns(['organization_id', 'id'])
    .execute();
  await db.schema
    .createIndex('activity_logs_customer')
    .on('activity_logs')
    .columns(['organization_id', 'customer_id'])
    .execute();
  await db.schema
    .createIndex('activity_logs_resource')
    .on('activity_logs')
    .columns(['organization_id', 'resource_id'])
    .execute();

  await db.schema
    .createTable('api_logs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('api_key_id', 'text')
    .addColumn('door', 'text', (c) => c.notNull())
    .addColumn('operation', 'text', (c) => c.notNull())
    .addColumn('http_method', 'text', (c) => c.notNull())
    .addColumn('http_status', 'integer', (c) => c.notNull())
    .addColumn('request_path', 'text', (c) => c.notNull())
    .addColumn('request_origin', 'text')
    .addColumn('client', 'text')
    .addColumn('api_version', 'text', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('error_code', 'text')
    .addColumn('request_body', 'text')
    .addColumn('response_body', 'text')
    .addColumn('logged_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('api_logs_org').on('api_logs').columns(['organization_id', 'id']).execute();

  await db.schema
    .createTable('counters')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('counters_pk', ['organization_id', 'name'])
    .execute();
}
