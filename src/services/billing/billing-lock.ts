import { sql } from 'kysely';
import type { ServiceContext } from '../context.js';

/**
 * The order in which a transaction that bills takes its locks, the same in all of them: first
 * the organization's billing lock, then the periods it claims (subscription_billings keys), then
 * what its invoices take (the number's counter, the wallets that pay them).
 *
 * Why the first: a billing run bills a batch of subscriptions in one transaction — claims one's
 * period, numbers its invoice (holding the organization's invoice counter until it commits),
 * then claims the next one's period. A usage threshold check that claimed one of those later
 * periods meanwhile (progressive.ts), and then waits for the counter to number its own invoice,
 * waits for the run while the run waits for it: PostgreSQL breaks that deadlock by failing one
 * of them. Taking this lock before any claim means whoever comes second waits holding nothing.
 *
 * A request that bills a subscription (terminate_subscription now, an upgrade) ends its row
 * before billing it, and a run's batch writes the rows it bills (lifecycle, pointer): both take
 * this lock before they read or write a subscription's row, not only before the claim.
 *
 * PostgreSQL: a transaction-scoped advisory lock keyed by the organization, taken once per
 * transaction. SQLite has one writer at a time already.
 */

/** pg_advisory_xact_lock(int, int)'s first key: Billfold's billing lock (the second is the organization's). */
const BILLING_LOCK_CLASS = 0x42494c4c;

/** Transactions that hold their organization's billing lock. */
const holding = new WeakSet<object>();

export async function holdBillingLock(ctx: ServiceContext): Promise<void> {
  if (ctx.dialect !== 'postgres' || !ctx.db.isTransaction || holding.has(ctx.db)) return;
  await sql`SELECT pg_advisory_xact_lock(${sql.lit(BILLING_LOCK_CLASS)}, hashtext(${ctx.organizationId}))`.execute(
    ctx.db,
  );
  holding.add(ctx.db);
}
