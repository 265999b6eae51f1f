import type { Kysely } from 'kysely';
import type { Database, WebhookEndpointsTable } from '../../db/schema.js';
import { countAll } from '../../db/sql.js';
import { BillfoldError, invalidStatus, notFound, validation } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { pageOffset, pagination, type PageRequest, type Pagination } from '../../domain/pagination.js';
import { toIso } from '../../domain/time.js';
import { recordActivity } from '../activity.js';
import type { ServiceContext } from '../context.js';
import { DestinationError, resolveDestination, urlProblem } from './destinations.js';
import { EVENT_TYPE_NAMES } from './event-types.js';
import type { PayloadFormat } from './formats.js';
import { newSecret, secretHint } from './signing.js';
import { webhookSettings } from './settings.js';

/**
 * Webhook endpoints: a URL, the event types it wants (all by default) and the secret that signs
 * what it receives. The secret is shown once, at creation and at each rotation; a rotation
 * keeps the previous secret signing alongside the new one for a while (24 hours by default),
 * so receivers can switch without missing a delivery.
 */

export const MAX_ENDPOINTS = 10;
const MAX_OVERLAP_HOURS = 168;

export interface WebhookEndpointView {
  id: string;
  url: string;
  description: string | null;
  /** null: every event type, including types added later. */
  event_types: string[] | null;
  enabled: boolean;
  disabled_reason: string | null;
  disabled_at: string | null;
  secret_hint: string;
  previous_secret_expires_at: string | null;
  failing_since: string | null;
  last_success_at: string | null;
  last_failure_at: string | null;
  payload_format: PayloadFormat;
  created_at: string;
  updated_at: string;
}

export function endpointView(row: WebhookEndpointsTable, now: number): WebhookEndpointView {
  const overlap = row.previous_secret_expires_at !== null && row.previous_secret_expires_at > now;
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    event_types: row.event_types === null ? null : (JSON.parse(row.event_types) as string[]),
    enabled: row.status === 'enabled',
    disabled_reason: row.disabled_reason,
    disabled_at: toIso(row.disabled_at),
    secret_hint: secretHint(row.secret),
    previous_secret_expires_at: overlap ? toIso(row.previous_secret_expires_at) : null,
    failing_since: toIso(row.failing_since),
    last_success_at: toIso(row.last_success_at),
    last_failure_at: toIso(row.last_failure_at),
    payload_format: row.payload_format as PayloadFormat,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  };
}

/** Event types checked against the catalogue; duplicates dropped, order kept. */
function eventTypes(types: readonly string[] | null | undefined): string[] | null {
  if (types === null || types === undefined) return null;
  if (types.length === 0)
    throw validation(
      'event_types',
      'must list at least one event type',
      'Leave it out (or null) for every type.',
    );
  const unknown = types.filter((t) => !EVENT_TYPE_NAMES.has(t));
  if (unknown.length) {
    throw validation(
      'event_types',
      `${unknown.map((t) => `'${t}'`).join(', ')} ${unknown.length === 1 ? 'is not an event type' : 'are not event types'}`,
      'list_event_types shows every type, e.g. invoice.finalized, customer.created, subscription.started.',
      { unknown },
    );
  }
  return [...new Set(types)];
}

/**
 * Refuses a URL Billfold would not send to. Runs outside any transaction: resolving a name may
 * take a moment, and the same check is made again at every attempt.
 */
export async function checkUrl(ctx: ServiceContext, url: string): Promise<void> {
  const problem = urlProblem(url);
  if (problem) throw validation('url', problem);
  try {
    await resolveDestination(new URL(url), webhookSettings(ctx.env).allowPrivate);
  } catch (e) {
    if (!(e instanceof DestinationError)) throw e;
    throw validation('url', e.message, 'Give a public http(s) URL your receiver listens on.', { url });
  }
}

async function liveRow(db: Kysely<Database>, organizationId: string, id: string) {
  return db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

export async function resolveEndpoint(ctx: ServiceContext, id: string): Promise<WebhookEndpointsTable> {
  const row = await liveRow(ctx.db, ctx.organizationId, id);
  if (!row)
    throw notFound(
      'webhook_endpoint',
      id,
      'endpoint_id: list_webhook_endpoints shows your endpoints with their ids (we_…).',
    );
  return row;
}

async function byUrl(ctx: ServiceContext, url: string) {
  return ctx.db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('url', '=', url)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

export interface CreateEndpointInput {
  url: string;
  event_types?: string[] | null;
  description?: string | null;
  enabled?: boolean;
  payload_format?: PayloadFormat;
}

export async function createEndpoint(
  ctx: ServiceContext,
  input: CreateEndpointInput,
): Promise<{ webhook_endpoint: WebhookEndpointView; secret: string | null; created: boolean }> {
  const types = eventTypes(input.event_types);
  await checkUrl(ctx, input.url);
  return ctx.transaction(async (trx) => {
    const existing = await byUrl(trx, input.url);
    if (existing) {
      // The same URL again is a retry: the endpoint it made, without its secret (shown once).
      return { webhook_endpoint: endpointView(existing, trx.now()), secret: null, created: false };
    }
    const { count } = await trx.db
      .selectFrom('webhook_endpoints')
      .select(countAll())
      .where('organization_id', '=', trx.organizationId)
      .where('deleted_at', 'is', null)
      .executeTakeFirstOrThrow();
    if (Number(count) >= MAX_ENDPOINTS) {
      throw validation(
        'url',
        `the organization already has ${MAX_ENDPOINTS} webhook endpoints, the most it may have`,
        'Delete one you no longer use (delete_webhook_endpoint), or subscribe an existing one to more event types.',
      );
    }
    const now = trx.now();
    const secret = newSecret();
    const row: WebhookEndpointsTable = {
      id: newId('webhook_endpoint', now),
      organization_id: trx.organizationId,
      url: input.url,
      description: input.description ?? null,
      event_types: types ? JSON.stringify(types) : null,
      status: input.enabled === false ? 'disabled' : 'enabled',
      disabled_reason: input.enabled === false ? 'created disabled' : null,
      disabled_at: input.enabled === false ? now : null,
      secret,
      previous_secret: null,
      previous_secret_expires_at: null,
      failing_since: null,
      last_success_at: null,
      last_failure_at: null,
      payload_format: input.payload_format ?? 'billfold',
      created_at: now,
      updated_at: now,
      deleted_at: null,
    };
    await trx.db.insertInto('webhook_endpoints').values(row).execute();
    await recordActivity(trx, {
      type: 'webhook_endpoint.created',
      resourceType: 'webhook_endpoint',
      resourceId: row.id,
      changes: {
        url: row.url,
        event_types: types ?? 'all',
        enabled: row.status === 'enabled',
        payload_format: row.payload_format,
      },
    });
    return { webhook_endpoint: endpointView(row, now), secret, created: true };
  });
}

export async function getEndpoint(ctx: ServiceContext, id: string): Promise<WebhookEndpointView> {
  return endpointView(await resolveEndpoint(ctx, id), ctx.now());
}

export async function listEndpoints(
  ctx: ServiceContext,
  filter: { enabled?: boolean },
  page: PageRequest,
): Promise<{ webhook_endpoints: WebhookEndpointView[]; pagination: Pagination }> {
  let q = ctx.db
    .selectFrom('webhook_endpoints')
    .where('organization_id', '=', ctx.organizationId)
    .where('deleted_at', 'is', null);
  if (filter.enabled !== undefined) q = q.where('status', '=', filter.enabled ? 'enabled' : 'disabled');
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const rows = await q.selectAll().orderBy('id').limit(page.per_page).offset(pageOffset(page)).execute();
  const now = ctx.now();
  return {
    webhook_endpoints: rows.map((r) => endpointView(r, now)),
    pagination: pagination(page, Number(count)),
  };
}

/** Pending deliveries of an endpoint that stops receiving: failed, saying why. */
export async function failPending(
  db: Kysely<Database>,
  organizationId: string,
  endpointId: string,
  reason: string,
  now: number,
): Promise<number> {
  const res = await db
    .updateTable('webhook_deliveries')
    .set({ status: 'failed', next_attempt_at: null, claim_token: null, last_error: reason, updated_at: now })
    .where('organization_id', '=', organizationId)
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

export interface UpdateEndpointInput {
  url?: string;
  event_types?: string[] | null;
  description?: string | null;
  enabled?: boolean;
  payload_format?: PayloadFormat;
}

export async function updateEndpoint(
  ctx: ServiceContext,
  id: string,
  patch: UpdateEndpointInput,
): Promise<WebhookEndpointView> {
  const types = patch.event_types === undefined ? undefined : eventTypes(patch.event_types);
  if (patch.url !== undefined) await checkUrl(ctx, patch.url);
  return ctx.transaction(async (trx) => {
    const row = await resolveEndpoint(trx, id);
    const now = trx.now();
    const next: WebhookEndpointsTable = { ...row };
    const changes: Record<string, [unknown, unknown]> = {};
    if (patch.url !== undefined && patch.url !== row.url) {
      const other = await byUrl(trx, patch.url);
      if (other) {
        throw new BillfoldError(
          'CONFLICT',
          `url: endpoint ${other.id} already receives at '${patch.url}'`,
          { field: 'url', value: patch.url, endpoint_id: other.id },
          'One endpoint per URL: update that one, or delete it first.',
        );
      }
      changes.url = [row.url, patch.url];
      next.url = patch.url;
    }
    if (types !== undefined) {
      const before = row.event_types === null ? null : (JSON.parse(row.event_types) as string[]);
      if (JSON.stringify(before) !== JSON.stringify(types)) {
        changes.event_types = [before ?? 'all', types ?? 'all'];
        next.event_types = types ? JSON.stringify(types) : null;
      }
    }
    if (patch.description !== undefined && patch.description !== row.description) {
      changes.description = [row.description, patch.description];
      next.description = patch.description;
    }
    if (patch.payload_format !== undefined && patch.payload_format !== row.payload_format) {
      changes.payload_format = [row.payload_format, patch.payload_format];
      next.payload_format = patch.payload_format;
    }
    let failed = 0;
    if (patch.enabled !== undefined && patch.enabled !== (row.status === 'enabled')) {
      changes.enabled = [row.status === 'enabled', patch.enabled];
      next.status = patch.enabled ? 'enabled' : 'disabled';
      if (patch.enabled) {
        // A fresh start: the failures that disabled it no longer count against it.
        next.disabled_reason = null;
        next.disabled_at = null;
        next.failing_since = null;
      } else {
        next.disabled_reason = `disabled by ${trx.actor.name ?? trx.actor.type}`;
        next.disabled_at = now;
        failed = await failPending(
          trx.db,
          trx.organizationId,
          row.id,
          'the endpoint was disabled before this delivery was sent',
          now,
        );
      }
    }
    if (Object.keys(changes).length === 0) return endpointView(row, now);
    next.updated_at = now;
    await trx.db
      .updateTable('webhook_endpoints')
      .set({
        url: next.url,
        event_types: next.event_types,
        description: next.description,
        status: next.status,
        disabled_reason: next.disabled_reason,
        disabled_at: next.disabled_at,
        failing_since: next.failing_since,
        payload_format: next.payload_format,
        updated_at: now,
      })
      .where('id', '=', row.id)
      .where('organization_id', '=', trx.organizationId)
      .execute();
    await recordActivity(trx, {
      type: 'webhook_endpoint.updated',
      resourceType: 'webhook_endpoint',
      resourceId: row.id,
      changes: failed ? { ...changes, pending_deliveries_failed: failed } : changes,
    });
    return endpointView(next, now);
  });
}

export async function deleteEndpoint(ctx: ServiceContext, id: string): Promise<WebhookEndpointView> {
  const row = await resolveEndpoint(ctx, id);
  const now = ctx.now();
  await ctx.db
    .updateTable('webhook_endpoints')
    .set({ deleted_at: now, updated_at: now })
    .where('id', '=', row.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  const failed = await failPending(
    ctx.db,
    ctx.organizationId,
    row.id,
    'the endpoint was deleted before this delivery was sent',
    now,
  );
  await recordActivity(ctx, {
    type: 'webhook_endpoint.deleted',
    resourceType: 'webhook_endpoint',
    resourceId: row.id,
    changes: { url: row.url, deleted_at: [null, toIso(now)], pending_deliveries_failed: failed },
  });
  return endpointView({ ...row, deleted_at: now, updated_at: now }, now);
}

export async function rotateSecret(
  ctx: ServiceContext,
  id: string,
  overlapHours = 24,
): Promise<{ webhook_endpoint: WebhookEndpointView; secret: string }> {
  if (!Number.isInteger(overlapHours) || overlapHours < 0 || overlapHours > MAX_OVERLAP_HOURS) {
    throw validation(
      'previous_secret_expires_in_hours',
      `must be a whole number of hours from 0 to ${MAX_OVERLAP_HOURS} (got ${overlapHours})`,
    );
  }
  const row = await resolveEndpoint(ctx, id);
  const now = ctx.now();
  const secret = newSecret();
  const expires = overlapHours === 0 ? null : now + overlapHours * 3_600_000;
  const next: WebhookEndpointsTable = {
    ...row,
    secret,
    previous_secret: expires === null ? null : row.secret,
    previous_secret_expires_at: expires,
    updated_at: now,
  };
  await ctx.db
    .updateTable('webhook_endpoints')
    .set({
      secret,
      previous_secret: next.previous_secret,
      previous_secret_expires_at: expires,
      updated_at: now,
    })
    .where('id', '=', row.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  await recordActivity(ctx, {
    type: 'webhook_endpoint.secret_rotated',
    resourceType: 'webhook_endpoint',
    resourceId: row.id,
    // Never the secrets themselves: only which one signs now, and until when the old one does.
    changes: {
      secret_hint: [secretHint(row.secret), secretHint(secret)],
      previous_secret_expires_at: toIso(expires),
    },
  });
  return { webhook_endpoint: endpointView(next, now), secret };
}

/** The secrets that sign a delivery now: the current one, and the previous while it overlaps. */
export function signingSecrets(row: WebhookEndpointsTable, now: number): string[] {
  return row.previous_secret &&
    row.previous_secret_expires_at !== null &&
    row.previous_secret_expires_at > now
    ? [row.secret, row.previous_secret]
    : [row.secret];
}

/** An endpoint that cannot take deliveries now, and why; null when it can. */
export function endpointRefusal(row: WebhookEndpointsTable | undefined): string | null {
  if (!row || row.deleted_at !== null) return 'the endpoint was deleted';
  if (row.status !== 'enabled')
    return `the endpoint is disabled (${row.disabled_reason ?? 'no reason given'})`;
  return null;
}

export function assertCanDeliver(row: WebhookEndpointsTable | undefined, endpointId: string): void {
  const refusal = endpointRefusal(row);
  if (refusal) {
    throw invalidStatus(
      `webhook endpoint ${endpointId}: ${refusal}`,
      { endpoint_id: endpointId },
      row && row.deleted_at === null
        ? 'Enable it first: update_webhook_endpoint with enabled: true.'
        : 'A deleted endpoint receives nothing; create one with create_webhook_endpoint.',
    );
  }
}
