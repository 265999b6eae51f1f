import type { Kysely } from 'kysely';
import type { Database, WebhookDeliveriesTable } from '../../db/schema.js';
import { countAll } from '../../db/sql.js';
import { invalidStatus, notFound } from '../../domain/errors.js';
import { ID_PREFIX, ulid } from '../../domain/ids.js';
import { pageOffset, pagination, type PageRequest, type Pagination } from '../../domain/pagination.js';
import { toIso } from '../../domain/time.js';
import { recordActivity } from '../activity.js';
import type { ServiceContext } from '../context.js';
import { assertCanDeliver } from './endpoints.js';

/** What was sent where, and how each attempt went. */

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface AttemptRecord {
  attempted_at: string;
  duration_ms: number;
  response_status: number | null;
  error: string | null;
}

export interface WebhookDeliveryView {
  id: string;
  event_id: string;
  event_type: string;
  endpoint_id: string;
  endpoint_url: string | null;
  object: string;
  object_id: string;
  status: DeliveryStatus;
  attempts: number;
  /** Pending: when the next attempt is due (or, while one is under way, when it will be given up). */
  next_attempt_at: string | null;
  last_attempt_at: string | null;
  last_response_status: number | null;
  last_error: string | null;
  succeeded_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface WebhookDeliveryDetail extends WebhookDeliveryView {
  /** The body every attempt sends, as JSON. */
  payload: Record<string, unknown>;
  last_response_body: string | null;
  /** The latest attempts, oldest first. */
  attempt_log: AttemptRecord[];
}

function view(row: WebhookDeliveriesTable, urls: ReadonlyMap<string, string>): WebhookDeliveryView {
  return {
    id: row.id,
    event_id: row.event_id,
    event_type: row.event_type,
    endpoint_id: row.endpoint_id,
    endpoint_url: urls.get(row.endpoint_id) ?? null,
    object: row.resource_type,
    object_id: row.resource_id,
    status: row.status as DeliveryStatus,
    attempts: row.attempts,
    next_attempt_at: toIso(row.next_attempt_at),
    last_attempt_at: toIso(row.last_attempt_at),
    last_response_status: row.last_response_status,
    last_error: row.last_error,
    succeeded_at: toIso(row.succeeded_at),
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  };
}

async function endpointUrls(ctx: ServiceContext, ids: readonly string[]): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  const rows = await ctx.db
    .selectFrom('webhook_endpoints')
    .select(['id', 'url'])
    .where('organization_id', '=', ctx.organizationId)
    .where('id', 'in', [...new Set(ids)])
    .execute();
  return new Map(rows.map((r) => [r.id, r.url]));
}

export interface DeliveryFilter {
  endpoint_id?: string;
  event_type?: string;
  event_id?: string;
  status?: DeliveryStatus;
  object_id?: string;
  from?: number;
  to?: number;
}

export async function listDeliveries(
  ctx: ServiceContext,
  f: DeliveryFilter,
  page: PageRequest,
): Promise<{ webhook_deliveries: WebhookDeliveryView[]; pagination: Pagination }> {
  let q = ctx.db.selectFrom('webhook_deliveries').where('organization_id', '=', ctx.organizationId);
  if (f.endpoint_id) q = q.where('endpoint_id', '=', f.endpoint_id);
  if (f.event_type) q = q.where('event_type', '=', f.event_type);
  if (f.event_id) {
    // An event's deliveries were made in its millisecond, and ids begin with their instant: the
    // id range reads them off the (organization_id, id) index.
    const instant = f.event_id.slice(f.event_id.indexOf('_') + 1, f.event_id.indexOf('_') + 11);
    q = q
      .where('event_id', '=', f.event_id)
      .where('id', '>=', `${ID_PREFIX.webhook_delivery}_${instant}`)
      .where('id', '<', `${ID_PREFIX.webhook_delivery}_${instant}~`);
  }
  if (f.status) q = q.where('status', '=', f.status);
  if (f.object_id) q = q.where('resource_id', '=', f.object_id);
  if (f.from !== undefined) q = q.where('created_at', '>=', f.from);
  if (f.to !== undefined) q = q.where('created_at', '<', f.to);
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll()
    .orderBy('id', 'desc')
    .limit(page.per_page)
    .offset(pageOffset(page))
    .execute();
  const urls = await endpointUrls(
    ctx,
    rows.map((r) => r.endpoint_id),
  );
  return {
    webhook_deliveries: rows.map((r) => view(r, urls)),
    pagination: pagination(page, Number(count)),
  };
}

async function resolveDelivery(ctx: ServiceContext, id: string): Promise<WebhookDeliveriesTable> {
  const row = await ctx.db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row)
    throw notFound(
      'webhook_delivery',
      id,
      'delivery_id: list_webhook_deliveries shows deliveries with their ids (whd_…).',
    );
  return row;
}

function detail(row: WebhookDeliveriesTable, urls: ReadonlyMap<string, string>): WebhookDeliveryDetail {
  return {
    ...view(row, urls),
    payload: JSON.parse(row.payload) as Record<string, unknown>,
    last_response_body: row.last_response_body,
    attempt_log: JSON.parse(row.attempt_log) as AttemptRecord[],
  };
}

export async function getDelivery(ctx: ServiceContext, id: string): Promise<WebhookDeliveryDetail> {
  const row = await resolveDelivery(ctx, id);
  return detail(row, await endpointUrls(ctx, [row.endpoint_id]));
}

/**
 * Sends a delivery again as soon as a dispatcher runs: a failed one gets one more attempt (and
 * the retries left of its three days, if any), a pending one is due now instead of later, a
 * succeeded one is sent again with the same webhook-id (a receiver that deduplicates ignores it).
 */
export async function retryDelivery(ctx: ServiceContext, id: string): Promise<WebhookDeliveryDetail> {
  const row = await resolveDelivery(ctx, id);
  const now = ctx.now();
  if (
    row.status === 'pending' &&
    row.claim_token !== null &&
    row.next_attempt_at !== null &&
    row.next_attempt_at > now
  ) {
    throw invalidStatus(
      `webhook delivery ${row.id} is being sent right now`,
      { delivery_id: row.id, status: row.status },
      'get_webhook_delivery shows how the attempt went once it is over.',
    );
  }
  const endpoint = await ctx.db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('id', '=', row.endpoint_id)
    .executeTakeFirst();
  assertCanDeliver(endpoint, row.endpoint_id);
  const next: WebhookDeliveriesTable = {
    ...row,
    status: 'pending',
    next_attempt_at: now,
    claim_token: null,
    updated_at: now,
  };
  await ctx.db
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', next_attempt_at: now, claim_token: null, updated_at: now })
    .where('id', '=', row.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  await recordActivity(ctx, {
    type: 'webhook_delivery.retried',
    resourceType: 'webhook_delivery',
    resourceId: row.id,
    changes: { status: [row.status, 'pending'], event_id: row.event_id, event_type: row.event_type },
  });
  return detail(next, await endpointUrls(ctx, [row.endpoint_id]));
}

/**
 * Drops deliveries that are over (succeeded or failed) and older than `olderThan`, across
 * organizations; pending ones stay whatever their age. Ids begin with their creation instant,
 * so the primary key finds the old rows without an index of its own.
 */
export async function pruneDeliveries(db: Kysely<Database>, olderThan: number): Promise<number> {
  const r = await db
    .deleteFrom('webhook_deliveries')
    .where('id', '<', `${ID_PREFIX.webhook_delivery}_${ulid(olderThan).slice(0, 10)}`)
    .where('status', '!=', 'pending')
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
