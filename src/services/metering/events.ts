import { sql, type RawBuilder } from 'kysely';
import type { UsageEventsTable } from '../../db/schema.js';
import { countAll } from '../../db/sql.js';
import type { CostStatus } from '../../domain/cost.js';
import { BillfoldError } from '../../domain/errors.js';
import { looksLikeId } from '../../domain/ids.js';
import { pageOffset, pagination, type PageRequest, type Pagination } from '../../domain/pagination.js';
import { toIso } from '../../domain/time.js';
import type { ServiceContext } from '../context.js';
import { inTimeRange } from './time-range.js';
import { findCustomer } from '../customers.js';
import { subscriptionOwners, usageKeys } from './customer-keys.js';
import { inCustomerSeries, inSeries } from './series.js';
import { eventFlags, unknownSubscriptionKey, type EventFlag, type ServiceCostView } from './ingest.js';

/** Reading usage events back: one by id or transaction_id, or a filtered page. */

/**
 * Events with a cost status that needs attention, written so that the partial index holding
 * only those events (usage_events_cost_attention) serves the query. SQLite uses a partial index
 * only when the query repeats the index's own condition, and neither it nor PostgreSQL's generic
 * plans can use it when the status is a bound parameter: without both, they walk every event.
 */
export function needsAttention(status: 'NEEDS_COST_BACKFILL' | 'MISSING_VOLUME_DATA'): RawBuilder<boolean> {
  // The index's condition, word for word as migration 003 created it.
  return sql<boolean>`cost_status = ${sql.lit(status)} AND cost_status IN ('NEEDS_COST_BACKFILL', 'MISSING_VOLUME_DATA')`;
}

export interface UsageEventView {
  id: string;
  transaction_id: string;
  customer_id: string | null;
  external_customer_id: string | null;
  code: string;
  billable_metric_id: string | null;
  external_subscription_id: string | null;
  timestamp: string;
  properties: Record<string, unknown>;
  metadata: Record<string, string>;
  agent_code: string | null;
  agent_id: string | null;
  model: string | null;
  provider: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  quantity: string | null;
  services: ServiceCostView[] | null;
  cost: string | null;
  cost_currency: 'USD';
  cost_status: CostStatus | null;
  value: string | null;
  value_error: string | null;
  flags: EventFlag[];
  created_at: string;
}

/** The services of a multi-service event as shown: model, volume, cost and status of each. */
export function serviceCosts(stored: string): ServiceCostView[] {
  return (JSON.parse(stored) as Array<ServiceCostView & { price_id?: string }>).map(
    ({ price_id: _p, ...s }) => s,
  );
}

/** Under what lateCustomers finds the customer of an event stored without one. */
function lateKey(r: UsageEventsTable): string {
  return r.customer_ref === '' && r.external_subscription_id !== null
    ? unknownSubscriptionKey(r.external_subscription_id)
    : r.customer_ref;
}

/**
 * `resolved` maps unknown customer references (and subscriptions that did not exist) to
 * customers known since: an event's customer counts as soon as a customer with that external_id
 * exists, or a subscription with the external_subscription_id it named alone.
 */
export function eventView(
  r: UsageEventsTable,
  resolved?: ReadonlyMap<string, { id: string; external_id: string | null }>,
): UsageEventView {
  const late = r.customer_id === null ? resolved?.get(lateKey(r)) : undefined;
  const customerId = r.customer_id ?? late?.id ?? null;
  return {
    id: r.id,
    transaction_id: r.transaction_id,
    customer_id: customerId,
    // Empty when the event named only a subscription that matched none (and still matches none).
    external_customer_id: r.customer_ref || late?.external_id || null,
    code: r.code,
    billable_metric_id: r.metric_id,
    external_subscription_id: r.external_subscription_id,
    timestamp: toIso(Number(r.timestamp)),
    properties: JSON.parse(r.properties) as Record<string, unknown>,
    metadata: JSON.parse(r.metadata) as Record<string, string>,
    agent_code: r.agent_code,
    agent_id: r.agent_id,
    model: r.model,
    provider: r.provider,
    input_tokens: r.input_tokens === null ? null : Number(r.input_tokens),
    output_tokens: r.output_tokens === null ? null : Number(r.output_tokens),
    quantity: r.quantity,
    services: r.services ? serviceCosts(r.services) : null,
    cost: r.cost,
    cost_currency: 'USD',
    cost_status: r.cost_status as CostStatus | null,
    value: r.value,
    value_error: r.value_error,
    flags: eventFlags(r, customerId !== null),
    created_at: toIso(Number(r.created_at)),
  };
}

/** Customers that now exist for the unknown references (and subscriptions) among these events. */
export async function lateCustomers(
  ctx: ServiceContext,
  rows: readonly UsageEventsTable[],
): Promise<Map<string, { id: string; external_id: string | null }>> {
  const orphans = rows.filter((r) => r.customer_id === null);
  const refs = [...new Set(orphans.filter((r) => r.customer_ref !== '').map((r) => r.customer_ref))];
  const subscriptions = orphans
    .filter((r) => r.customer_ref === '' && r.external_subscription_id !== null)
    .map((r) => r.external_subscription_id!);
  const out = new Map<string, { id: string; external_id: string | null }>();
  for (const [ext, c] of await subscriptionOwners(ctx, subscriptions))
    out.set(unknownSubscriptionKey(ext), c);
  if (refs.length === 0) return out;
  const found = await ctx.db
    .selectFrom('customers')
    .select(['id', 'external_id'])
    .where('organization_id', '=', ctx.organizationId)
    .where('deleted_at', 'is', null)
    .where('external_id', 'in', refs)
    .execute();
  for (const c of found) if (c.external_id) out.set(c.external_id, c);
  return out;
}

export async function getEvent(ctx: ServiceContext, ref: string): Promise<UsageEventView> {
  const base = ctx.db
    .selectFrom('usage_events')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId);
  let row = looksLikeId('event', ref) ? await base.where('id', '=', ref).executeTakeFirst() : undefined;
  row ??= await base.where('transaction_id', '=', ref).executeTakeFirst();
  if (!row) {
    throw new BillfoldError(
      'NOT_FOUND',
      `event_id: no usage event has the id or transaction_id '${ref}'`,
      { resource: 'usage_event', field: 'event_id', ref },
      'Pass the event id (evt_…) or the transaction_id you sent; list_events finds recent events.',
    );
  }
  return eventView(row, await lateCustomers(ctx, [row]));
}

export interface EventListFilter {
  customer_id?: string;
  external_subscription_id?: string;
  code?: string;
  agent_code?: string;
  model?: string;
  provider?: string;
  cost_status?: CostStatus;
  from?: number;
  to?: number;
}

/** The keys a customer's events are stored under (customer-keys.ts); an unknown one's: its reference. */
export async function customerKeysFor(ctx: ServiceContext, ref: string): Promise<string[]> {
  const c = await findCustomer(ctx, ref);
  if (!c) return [ref];
  return usageKeys(ctx, c);
}

export async function listEvents(
  ctx: ServiceContext,
  f: EventListFilter,
  page: PageRequest,
): Promise<{ events: UsageEventView[]; pagination: Pagination }> {
  // A customer's events through their series, or the organization's through its time index.
  const keys = f.customer_id ? await customerKeysFor(ctx, f.customer_id) : undefined;
  const code = f.code;
  let q = ctx.db
    .selectFrom('usage_events')
    .where((eb) =>
      !keys
        ? eb('organization_id', '=', ctx.organizationId)
        : code === undefined
          ? inCustomerSeries(eb, ctx.organizationId, keys)
          : inSeries(eb, ctx.organizationId, keys, code),
    );
  if (f.external_subscription_id) q = q.where('external_subscription_id', '=', f.external_subscription_id);
  if (!keys && code) q = q.where('code', '=', code);
  if (f.agent_code) q = q.where('agent_code', '=', f.agent_code);
  if (f.model) q = q.where('model', '=', f.model);
  if (f.provider) q = q.where('provider', '=', f.provider);
  if (f.cost_status)
    q =
      f.cost_status === 'PROCESSED'
        ? q.where('cost_status', '=', f.cost_status)
        : q.where(needsAttention(f.cost_status));
  if (f.from !== undefined || f.to !== undefined) q = q.where((eb) => inTimeRange(eb, f.from, f.to));
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll()
    .orderBy('hour', 'desc')
    .orderBy('timestamp', 'desc')
    .orderBy('id', 'desc')
    .limit(page.per_page)
    .offset(pageOffset(page))
    .execute();
  const late = await lateCustomers(ctx, rows);
  return { events: rows.map((r) => eventView(r, late)), pagination: pagination(page, Number(count)) };
}
