import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { ServiceContext } from './context.js';

/**
 * Knowing, for the rest of one transaction, which customers have no row at all in a table of
 * theirs (no wallet, no applied coupon): a billing run asks once for a batch of customers, in
 * the batch's transaction, instead of once per invoice. Only the operation that creates such a
 * row (create_wallet, apply_coupon) makes the answer wrong, and none runs inside a billing run's
 * transaction, so it holds until that transaction ends; outside a transaction nothing is kept.
 */
export interface CustomersWithout {
  /** Looks up which of `customerIds` have none, for the rest of ctx's transaction. */
  note(ctx: ServiceContext, customerIds: readonly string[]): Promise<void>;
  /** true: known to have none in ctx's transaction; false: not known (ask the table). */
  known(ctx: ServiceContext, customerId: string): boolean;
}

export function customersWithout(table: 'wallets' | 'applied_coupons'): CustomersWithout {
  const byTransaction = new WeakMap<Kysely<Database>, Set<string>>();
  return {
    async note(ctx, customerIds) {
      if (!ctx.db.isTransaction || !customerIds.length) return;
      const unique = [...new Set(customerIds)];
      const holding = await ctx.db
        .selectFrom(table)
        .select('customer_id')
        .distinct()
        .where('organization_id', '=', ctx.organizationId)
        .where('customer_id', 'in', unique)
        .execute();
      const holders = new Set(holding.map((r) => r.customer_id));
      let none = byTransaction.get(ctx.db);
      if (!none) byTransaction.set(ctx.db, (none = new Set()));
      for (const id of unique) if (!holders.has(id)) none.add(id);
    },
    known(ctx, customerId) {
      return byTransaction.get(ctx.db)?.has(customerId) ?? false;
    },
  };
}
