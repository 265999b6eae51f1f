import type { ActivityLogsTable } from '../db/schema.js';
import { BillfoldError } from '../domain/errors.js';
import { ID_PREFIX, newId } from '../domain/ids.js';
import { pageOffset, pagination, type PageRequest, type Pagination } from '../domain/pagination.js';
import { toIso } from '../domain/time.js';
import { insertRows } from '../db/bulk.js';
import { preparedInsert } from '../db/prepared.js';
import { countAll } from '../db/sql.js';
import type { ServiceContext } from './context.js';
import { findCustomer } from './customers.js';
import { noteWebhookEvents, noteWebhookEventsDeferred } from './webhooks/outbox.js';

/**
 * The audit trail. Every change writes one entry inside the transaction that made it, so an
 * entry exists exactly when the change does — and so do the webhook events the entry stands
 * for (webhooks/event-types.ts maps entries onto events).
 */

export interface ActivityInput {
  /** `<resource>.<verb>`, e.g. `customer.created`. */
  type: string;
  resourceType: string;
  resourceId: string;
  customerId?: string | null;
  externalCustomerId?: string | null;
  subscriptionId?: string | null;
  externalSubscriptionId?: string | null;
  /** Field → [before, after]; for a creation, the created object's fields. */
  changes: Record<string, unknown>;
}

export const ACTIVITY_SOURCES = ['api', 'front', 'system'] as const;

/** Kinds of id whose objects are parts of another's change, or logs themselves: no entry is about one. */
const UNLOGGED_KINDS = new Set([
  'event',
  'activity',
  'api_log',
  'api_key',
  'invoice_line',
  'order_line',
  'order_allocation',
  'coupon_redemption',
  'billing_run',
  'webhook_event',
  'email',
  'charge',
]);

/**
 * The resource types entries are written for: each is the kind of the resource's id, except
 * usage events, logged as a batch under `usage_event`. A filter on any other type can never
 * match (a test holds every `resourceType` the services write to this list).
 */
export const ACTIVITY_RESOURCE_TYPES: readonly string[] = [
  ...Object.keys(ID_PREFIX).filter((k) => !UNLOGGED_KINDS.has(k)),
  'usage_event',
].sort();

/**
 * A resource type as people write it — `invoice`, `Invoice`, Lago's class name `BillableMetric`,
 * `BILLABLE_METRIC`, a plural `invoices` — as the type entries record; undefined when it is
 * none of them.
 */
export function activityResourceType(written: string): string | undefined {
  const t = written.trim();
  const snake = (/[a-z]/.test(t) ? t.replace(/([a-z0-9])([A-Z])/g, '$1_$2') : t).toLowerCase();
  if (ACTIVITY_RESOURCE_TYPES.includes(snake)) return snake;
  if (snake.endsWith('s') && ACTIVITY_RESOURCE_TYPES.includes(snake.slice(0, -1))) return snake.slice(0, -1);
  return undefined;
}

/**
 * The email of the person an entry's actor stands for, when Billfold knows one: an API key
 * named with its holder's email (`billfold keys create --name ops@acme.com`), a token whose
 * subject has one (its `email` claim), or the local operator named so. Billfold's actors are API
 * keys and token subjects, not user accounts.
 */
export function actorEmail(actor: { name: string | null }): string | null {
  const n = actor.name?.trim();
  return n && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(n) ? n.toLowerCase() : null;
}
export type ActivitySource = (typeof ACTIVITY_SOURCES)[number];

/** Lago's vocabulary for where an action came from. */
export function activitySource(door: ServiceContext['door']): ActivitySource {
  if (door === 'portal') return 'front';
  if (door === 'system' || door === 'cli') return 'system';
  return 'api';
}

export async function recordActivity(ctx: ServiceContext, a: ActivityInput): Promise<void> {
  await recordActivities(ctx, [a]);
}

/** Several entries of one change (an invoice created and finalized at once) in one insert. */
export async function recordActivities(
  ctx: ServiceContext,
  entries: readonly ActivityInput[],
): Promise<void> {
  if (entries.length === 0) return;
  // One entry, the usual case on every change: an insert compiled once.
  if (entries.length === 1) await insertEntry(ctx.db, activityRow(ctx, entries[0]!));
  else
    await insertRows(
      ctx.db,
      ctx.dialect,
      'activity_logs',
      entries.map((a) => activityRow(ctx, a)),
    );
  // The webhook events the change produces go in the same transaction (webhooks/outbox.ts).
  await noteWebhookEvents(ctx, entries);
}

const insertEntry = preparedInsert('activity_logs', {
  id: true,
  organization_id: true,
  activity_type: true,
  activity_source: true,
  door: true,
  actor_type: true,
  actor_id: true,
  actor_name: true,
  resource_type: true,
  resource_id: true,
  customer_id: true,
  external_customer_id: true,
  subscription_id: true,
  external_subscription_id: true,
  changes: true,
  request_id: true,
  logged_at: true,
});

/**
 * The insert of an entry, not yet run: for a writer that sends it to PostgreSQL together with
 * its own writes (writeTogether), saving a round trip. Its webhook events are written when the
 * transaction commits, which must be an operation's or ctx.transaction's.
 */
export function activityInsert(ctx: ServiceContext, entries: readonly ActivityInput[]) {
  noteWebhookEventsDeferred(ctx, entries);
  return ctx.db.insertInto('activity_logs').values(entries.map((a) => activityRow(ctx, a)));
}

function activityRow(ctx: ServiceContext, a: ActivityInput): ActivityLogsTable {
  return {
    id: newId('activity'),
    organization_id: ctx.organizationId,
    activity_type: a.type,
    activity_source: activitySource(ctx.door),
    door: ctx.door,
    actor_type: ctx.actor.type,
    actor_id: ctx.actor.id,
    actor_name: ctx.actor.name,
    resource_type: a.resourceType,
    resource_id: a.resourceId,
    customer_id: a.customerId ?? (a.resourceType === 'customer' ? a.resourceId : null),
    external_customer_id: a.externalCustomerId ?? null,
    subscription_id: a.subscriptionId ?? null,
    external_subscription_id: a.externalSubscriptionId ?? null,
    changes: JSON.stringify(a.changes),
    request_id: ctx.requestId,
    logged_at: ctx.now(),
  };
}

/** The fields whose values differ between two versions of a row, as [before, after]. */
export function diff<T extends object>(
  before: T,
  after: T,
  fields: readonly (keyof T)[],
): Record<string, [unknown, unknown]> {
  const out: Record<string, [unknown, unknown]> = {};
  for (const f of fields) {
    if (JSON.stringify(before[f]) !== JSON.stringify(after[f])) out[f as string] = [before[f], after[f]];
  }
  return out;
}

export interface ActivityLogView {
  activity_id: string;
  activity_type: string;
  activity_source: ActivitySource;
  door: string;
  actor: { type: string; id: string | null; name: string | null };
  /** The actor's email, when it is named with one (actorEmail). */
  user_email: string | null;
  resource_type: string;
  resource_id: string;
  customer_id: string | null;
  external_customer_id: string | null;
  subscription_id: string | null;
  external_subscription_id: string | null;
  changes: Record<string, unknown>;
  request_id: string | null;
  logged_at: string;
}

function view(row: ActivityLogsTable): ActivityLogView {
  return {
    activity_id: row.id,
    activity_type: row.activity_type,
    activity_source: row.activity_source as ActivitySource,
    door: row.door,
    actor: { type: row.actor_type, id: row.actor_id, name: row.actor_name },
    user_email: actorEmail({ name: row.actor_name }),
    resource_type: row.resource_type,
    resource_id: row.resource_id,
    customer_id: row.customer_id,
    external_customer_id: row.external_customer_id,
    subscription_id: row.subscription_id,
    external_subscription_id: row.external_subscription_id,
    changes: JSON.parse(row.changes) as Record<string, unknown>,
    request_id: row.request_id,
    logged_at: toIso(row.logged_at),
  };
}

export async function getActivityLog(ctx: ServiceContext, id: string): Promise<ActivityLogView> {
  const row = await ctx.db
    .selectFrom('activity_logs')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) {
    throw new BillfoldError(
      'NOT_FOUND',
      `activity_id: no activity log has the id '${id}'`,
      { resource: 'activity_log', ref: id },
      'list_activity_logs shows recent entries with their activity_id.',
    );
  }
  return view(row);
}

export interface ActivityLogFilter {
  activity_types?: string[];
  activity_sources?: ActivitySource[];
  doors?: string[];
  actor_ids?: string[];
  /** Emails of the actors (actorEmail), matched without regard to case. */
  user_emails?: string[];
  customer_id?: string;
  /** The customer's external id as the entry recorded it (found after the customer is deleted or renamed). */
  external_customer_id?: string;
  subscription_id?: string;
  resource_ids?: string[];
  resource_types?: string[];
  from?: number;
  to?: number;
}

export async function listActivityLogs(
  ctx: ServiceContext,
  f: ActivityLogFilter,
  page: PageRequest,
): Promise<{ activity_logs: ActivityLogView[]; pagination: Pagination }> {
  let q = ctx.db.selectFrom('activity_logs').where('organization_id', '=', ctx.organizationId);
  if (f.activity_types?.length) q = q.where('activity_type', 'in', f.activity_types);
  if (f.activity_sources?.length) q = q.where('activity_source', 'in', f.activity_sources);
  if (f.doors?.length) q = q.where('door', 'in', f.doors);
  if (f.actor_ids?.length) q = q.where('actor_id', 'in', f.actor_ids);
  if (f.user_emails?.length) {
    const emails = f.user_emails.map((e) => e.trim().toLowerCase());
    q = q.where((eb) => eb(eb.fn('lower', ['actor_name']), 'in', emails));
  }
  if (f.external_customer_id) q = q.where('external_customer_id', '=', f.external_customer_id);
  if (f.resource_ids?.length) q = q.where('resource_id', 'in', f.resource_ids);
  if (f.resource_types?.length) q = q.where('resource_type', 'in', f.resource_types);
  if (f.customer_id) {
    // A deleted customer's history is still findable by its Billfold id.
    const customer = await findCustomer(ctx, f.customer_id);
    const ids = [f.customer_id, customer?.id].filter((v): v is string => Boolean(v));
    q = q.where((eb) =>
      eb.or([eb('customer_id', 'in', ids), eb('external_customer_id', '=', f.customer_id!)]),
    );
  }
  if (f.subscription_id) {
    q = q.where((eb) =>
      eb.or([
        eb('subscription_id', '=', f.subscription_id!),
        eb('external_subscription_id', '=', f.subscription_id!),
      ]),
    );
  }
  if (f.from !== undefined) q = q.where('logged_at', '>=', f.from);
  if (f.to !== undefined) q = q.where('logged_at', '<', f.to);
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll()
    .orderBy('id', 'desc')
    .limit(page.per_page)
    .offset(pageOffset(page))
    .execute();
  return { activity_logs: rows.map(view), pagination: pagination(page, Number(count)) };
}
