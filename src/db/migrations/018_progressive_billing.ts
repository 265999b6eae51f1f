import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Progressive billing (Lago's usage thresholds).
 *
 * - plans.usage_thresholds: the plan's thresholds as JSON ([{id, amount_cents, amount,
 *   threshold_display_name, recurring}]), null for none.
 * - progressive_billings: one row per progressive_billing invoice, keyed by the subscription,
 *   the period it bills and the threshold level it crossed (in minor units). The unique key is
 *   the second guard of "once per threshold"; the first is the subscription row locked while a
 *   level is billed (services/billing/progressive.ts).
 */
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await sql`ALTER TABLE plans ADD COLUMN usage_thresholds text`.execute(db);
  await db.schema
    .createTable('progressive_billings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('period_from', 'bigint', (c) => c.notNull())
    .addColumn('threshold_cents', 'bigint', (c) => c.notNull())
    .addColumn('usage_amount', 'text', (c) => c.notNull())
    .addColumn('invoice_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('progressive_billings_key')
    .on('progressive_billings')
    .columns(['subscription_id', 'period_from', 'threshold_cents'])
    .unique()
    .execute();
  await db.schema
    .createIndex('progressive_billings_invoice')
    .on('progressive_billings')
    .columns(['organization_id', 'invoice_id'])
    .execute();
}
