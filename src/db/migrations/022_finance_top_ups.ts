import type { Kysely } from 'kysely';
import { rebuildFinanceTotals } from '../../services/finance/totals.js';
import type { MigrationContext } from './index.js';

/**
 * finance_flows.top_up_count and top_up_total_cents: wallet top-up invoices (type credit), which
 * the financial reports now keep out of invoiced and net revenue as get_customer_revenue does
 * and report apart as prepaid credits invoiced. The totals are then built from the existing
 * invoices, credit notes and payments (019 only created the tables).
 */
export async function up(db: Kysely<any>, ctx: MigrationContext): Promise<void> {
  for (const column of ['top_up_count', 'top_up_total_cents'])
    await db.schema
      .alterTable('finance_flows')
      .addColumn(column, 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
  await rebuildFinanceTotals(db, ctx.dialect);
}
