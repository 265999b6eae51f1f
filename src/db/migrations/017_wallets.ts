import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Prepaid credits.
 *
 * - wallets: a customer's credits in one currency at `rate_amount` per credit. The settled
 *   balance is kept twice, in minor units (`balance_cents`, what the wallet can still pay) and
 *   in credits (`credits_balance`, an exact decimal), each the sum of its settled transactions;
 *   the same for what invoices consumed. Updated only under the wallet row's lock.
 * - wallet_transactions: every credit in (purchased, granted) and out (an invoice paid from
 *   the wallet), pending until a purchase's invoice is paid, failed when that invoice is voided
 *   unpaid, voided when the invoice a draw paid is voided. `external_id` makes a top-up retry
 *   safe per wallet (one purchased and one granted transaction per key).
 * - wallet_recurring_rules: top-ups on a schedule (next_run_at, claimed by compare-and-set) or
 *   when the ongoing balance falls to a threshold.
 * - invoices.prepaid_credit_amount_cents: what wallets paid of an invoice at its finalization.
 */
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('wallets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text')
    .addColumn('name', 'text')
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('rate_amount', 'text', (c) => c.notNull())
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('balance_cents', 'bigint', (c) => c.notNull())
    .addColumn('credits_balance', 'text', (c) => c.notNull())
    .addColumn('consumed_cents', 'bigint', (c) => c.notNull())
    .addColumn('consumed_credits', 'text', (c) => c.notNull())
    .addColumn('invoice_requires_payment', 'integer', (c) => c.notNull())
    .addColumn('expiration_at', 'bigint')
    .addColumn('terminated_at', 'bigint')
    .addColumn('last_consumed_credit_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await sql`CREATE UNIQUE INDEX wallets_org_external_id ON wallets (organization_id, external_id) WHERE external_id IS NOT NULL`.execute(
    db,
  );
  // Finalization asks for a customer's active wallets; lists go by customer too.
  await db.schema
    .createIndex('wallets_org_customer')
    .on('wallets')
    .columns(['organization_id', 'customer_id', 'status'])
    .execute();
  // The scheduler's question: active wallets that expire.
  await sql`CREATE INDEX wallets_expiring ON wallets (expiration_at) WHERE status = 'active' AND expiration_at IS NOT NULL`.execute(
    db,
  );

  await db.schema
    .createTable('wallet_transactions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('wallet_id', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('transaction_type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('credits', 'text', (c) => c.notNull())
    .addColumn('amount_cents', 'bigint', (c) => c.notNull())
    .addColumn('invoice_id', 'text')
    .addColumn('rule_id', 'text')
    .addColumn('external_id', 'text')
    .addColumn('settled_at', 'bigint')
    .addColumn('failed_at', 'bigint')
    .addColumn('voided_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('wallet_transactions_wallet')
    .on('wallet_transactions')
    .columns(['organization_id', 'wallet_id', 'id'])
    .execute();
  await sql`CREATE UNIQUE INDEX wallet_transactions_external_id ON wallet_transactions (wallet_id, external_id, reason) WHERE external_id IS NOT NULL`.execute(
    db,
  );
  // Paying, voiding or finalizing an invoice finds the transactions it carries.
  await sql`CREATE INDEX wallet_transactions_invoice ON wallet_transactions (organization_id, invoice_id) WHERE invoice_id IS NOT NULL`.execute(
    db,
  );

  await db.schema
    .createTable('wallet_recurring_rules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('wallet_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('interval', 'text')
    .addColumn('threshold_credits', 'text')
    .addColumn('target_ongoing_balance', 'text')
    .addColumn('paid_credits', 'text', (c) => c.notNull())
    .addColumn('granted_credits', 'text', (c) => c.notNull())
    .addColumn('invoice_requires_payment', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('next_run_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('wallet_recurring_rules_wallet')
    .on('wallet_recurring_rules')
    .columns(['wallet_id', 'position'])
    .execute();

  await sql`ALTER TABLE invoices ADD COLUMN prepaid_credit_amount_cents bigint NOT NULL DEFAULT 0`.execute(
    db,
  );
}
