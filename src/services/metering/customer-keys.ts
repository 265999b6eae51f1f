import type { CustomersTable } from '../../db/schema.js';
import type { ServiceContext } from '../context.js';
import { unknownSubscriptionKey } from './ingest.js';

/**
 * The keys a customer's usage is stored under (usage_events and the aggregate tables are keyed
 * by customer_key): its id; its external_id, for events sent before the customer existed; and
 * unknownSubscriptionKey(X) for each subscription external_id X it owns, for events that named
 * only X before any subscription X existed.
 *
 * Why keys and not re-keying: the alternative, moving those events and their aggregates under
 * the customer's id when subscription X is created, would have to merge rows of four tables
 * (events, time buckets, totals, unique values), and an event ingested while create_subscription
 * commits could still land under the old key and never count. A key read at query time has no
 * such window and costs one indexed query per customer (per chunk of customers in a billing run).
 *
 * Who owns X's key: ingest stores an event under it only while no subscription X exists at all
 * (from the first one on, X names its live or latest row), so those events predate the first
 * subscription X, and they belong to that subscription's customer. An external_id reused later
 * by another customer does not take them.
 */

export function customerKeys(c: Pick<CustomersTable, 'id' | 'external_id'>): string[] {
  return c.external_id ? [c.id, c.external_id] : [c.id];
}

type CustomerRef = Pick<CustomersTable, 'id' | 'external_id'>;

/** Every customer's usage keys, by customer id: one query for all of them. */
export async function usageKeysByCustomer(
  ctx: ServiceContext,
  customers: readonly CustomerRef[],
): Promise<Map<string, string[]>> {
  const out = new Map(customers.map((c) => [c.id, customerKeys(c)]));
  if (!customers.length) return out;
  const ids = [...out.keys()];
  // Every row under an external_id any of these customers has used, to find each one's first.
  const rows = await ctx.db
    .selectFrom('subscriptions')
    .select(['id', 'external_id', 'customer_id', 'created_at'])
    .where('organization_id', '=', ctx.organizationId)
    .where('external_id', 'in', (eb) =>
      eb
        .selectFrom('subscriptions')
        .select('external_id')
        .where('organization_id', '=', ctx.organizationId)
        .where('customer_id', 'in', ids),
    )
    .execute();
  const first = new Map<string, (typeof rows)[number]>();
  for (const r of rows) {
    const prev = first.get(r.external_id);
    if (
      !prev ||
      Number(r.created_at) < Number(prev.created_at) ||
      (Number(r.created_at) === Number(prev.created_at) && r.id < prev.id)
    )
      first.set(r.external_id, r);
  }
  for (const [externalId, r] of first) out.get(r.customer_id)?.push(unknownSubscriptionKey(externalId));
  return out;
}

export async function usageKeys(ctx: ServiceContext, customer: CustomerRef): Promise<string[]> {
  return (await usageKeysByCustomer(ctx, [customer])).get(customer.id)!;
}

/**
 * The customers that own subscription external_ids (the customer of the first subscription
 * under each), for events that named only a subscription that did not exist yet.
 */
export async function subscriptionOwners(
  ctx: ServiceContext,
  externalIds: readonly string[],
): Promise<Map<string, { id: string; external_id: string | null }>> {
  const out = new Map<string, { id: string; external_id: string | null }>();
  if (!externalIds.length) return out;
  const rows = await ctx.db
    .selectFrom('subscriptions as s')
    .innerJoin('customers as c', 'c.id', 's.customer_id')
    .select([
      's.id',
      's.external_id',
      's.created_at',
      'c.id as customer_id',
      'c.external_id as customer_external_id',
    ])
    .where('s.organization_id', '=', ctx.organizationId)
    .where('s.external_id', 'in', [...new Set(externalIds)])
    .orderBy('s.created_at')
    .orderBy('s.id')
    .execute();
  for (const r of rows)
    if (!out.has(r.external_id))
      out.set(r.external_id, { id: r.customer_id, external_id: r.customer_external_id });
  return out;
}
