import type { Kysely } from 'kysely';
import { insertRows } from '../../db/bulk.js';
import { prepared } from '../../db/prepared.js';
import type { Database, WebhookDeliveriesTable } from '../../db/schema.js';
import { newId } from '../../domain/ids.js';
import { toIso } from '../../domain/time.js';
import type { ActivityInput } from '../activity.js';
import type { ServiceContext } from '../context.js';
import { eventsOfActivities, type ChangeEvent } from './event-types.js';
import { bodyFor, type OutgoingEvent } from './formats.js';

/**
 * The outbox: a change's webhook deliveries are written in the change's own transaction, so a
 * change that commits has its deliveries and one that rolls back has none, and a process that
 * dies after the commit leaves them for the next dispatcher.
 *
 * Events come from activity entries (event-types.ts). A transaction opened by an operation or
 * by ctx.transaction defers them: they are written once, just before it commits
 * (flushWebhookEvents), with each object read as it stands after the whole change — and read
 * once however many events name it. Entries recorded anywhere else are written at once.
 *
 * Whether anyone listens is asked inside the change's transaction, of the organization's
 * enabled endpoints (one indexed read of a small table, and only by a change that produced an
 * event), so an endpoint created on any instance receives the events of every change that
 * starts after its creation; nothing is cached between requests. An organization without an
 * endpoint for an event writes nothing for it.
 */

interface Noted {
  ctx: ServiceContext;
  event: ChangeEvent;
  id: string;
  /** When the event happened, as the change's clock says (its created_at). */
  at: number;
  /** When its ids were made: its deliveries' ids begin with the same instant as its own. */
  idAt: number;
}

const deferred = new WeakMap<object, Noted[]>();

/** Marks a transaction whose events are written by flushWebhookEvents just before it commits. */
export function deferWebhookEvents(trx: Kysely<Database>): void {
  deferred.set(trx, []);
}

function note(ctx: ServiceContext, events: readonly ChangeEvent[]): Noted[] {
  const at = ctx.now();
  // Ids sort by when they were made, as the activity log's do (the change's clock may be set).
  const idAt = Date.now();
  return events.map((event) => ({ ctx, event, id: newId('webhook_event', idAt), at, idAt }));
}

/** The events of activity entries just recorded: deferred to the commit, or written now. */
export async function noteWebhookEvents(
  ctx: ServiceContext,
  entries: readonly ActivityInput[],
): Promise<void> {
  const events = eventsOfActivities(entries);
  if (events.length === 0) return;
  const list = deferred.get(ctx.db);
  if (list) {
    list.push(...note(ctx, events));
    return;
  }
  await writeDeliveries(ctx.db, note(ctx, events));
}

/**
 * For a writer that cannot wait (an insert it sends together with others): the events are
 * deferred to the commit of the transaction it runs in, which must defer them.
 */
export function noteWebhookEventsDeferred(ctx: ServiceContext, entries: readonly ActivityInput[]): void {
  const events = eventsOfActivities(entries);
  if (events.length === 0) return;
  const list = deferred.get(ctx.db);
  if (!list) {
    throw new Error(
      `${events[0]!.type}: its activity entry was built outside a transaction that writes webhook events (an operation's or ctx.transaction's)`,
    );
  }
  list.push(...note(ctx, events));
}

/**
 * Writes the deferred events' deliveries, inside the transaction, before it commits. `objects`:
 * objects the operation already built, exactly as their get_ operations return them (keyed by
 * kind), reused instead of read again. Returns whether anything was written.
 */
export async function flushWebhookEvents(
  trx: Kysely<Database>,
  objects?: Readonly<Record<string, unknown>>,
): Promise<boolean> {
  const list = deferred.get(trx);
  if (!list?.length) return false;
  deferred.set(trx, []);
  return writeDeliveries(trx, list, objects);
}

export interface SubscribedEndpoint {
  id: string;
  /** null: every event type. */
  types: ReadonlySet<string> | null;
  /** The body its deliveries carry (formats.ts). */
  format: string;
}

const enabledEndpoints = prepared((db, p: { org: string }) =>
  db
    .selectFrom('webhook_endpoints')
    .select(['id', 'event_types', 'payload_format'])
    .where('organization_id', '=', p.org)
    .where('status', '=', 'enabled')
    .where('deleted_at', 'is', null)
    .orderBy('id'),
);

export async function subscribedEndpoints(
  db: Kysely<Database>,
  organizationId: string,
): Promise<SubscribedEndpoint[]> {
  const rows = await enabledEndpoints(db, { org: organizationId });
  return rows.map((r) => ({
    id: r.id,
    types: r.event_types === null ? null : new Set(JSON.parse(r.event_types) as string[]),
    format: r.payload_format,
  }));
}

/** Rows per insert: 21 columns each, well inside both databases' parameter limits. */
const INSERT_CHUNK = 100;

async function writeDeliveries(
  db: Kysely<Database>,
  noted: readonly Noted[],
  objects?: Readonly<Record<string, unknown>>,
): Promise<boolean> {
  const endpointsByOrg = new Map<string, SubscribedEndpoint[]>();
  const wanted: Array<{ n: Noted; endpoints: SubscribedEndpoint[] }> = [];
  for (const n of noted) {
    const org = n.ctx.organizationId;
    let endpoints = endpointsByOrg.get(org);
    if (!endpoints) endpointsByOrg.set(org, (endpoints = await subscribedEndpoints(db, org)));
    const targets = endpoints.filter((e) => e.types === null || e.types.has(n.event.type));
    if (targets.length) wanted.push({ n, endpoints: targets });
  }
  if (wanted.length === 0) return false;

  const data = await objectJson(
    wanted.map((w) => w.n),
    objects,
  );
  const rows: WebhookDeliveriesTable[] = [];
  for (const { n, endpoints } of wanted) {
    const event: OutgoingEvent = {
      id: n.id,
      type: n.event.type,
      object: n.event.object,
      createdAt: toIso(n.at),
      organizationId: n.ctx.organizationId,
      data: data.get(n)!,
    };
    // One body per format the event's endpoints take (nearly always one).
    const bodies = new Map<string, string>();
    for (const e of endpoints) {
      let payload = bodies.get(e.format);
      if (payload === undefined) bodies.set(e.format, (payload = bodyFor(n.ctx.env, e.format, event)));
      rows.push({
        id: newId('webhook_delivery', n.idAt),
        organization_id: n.ctx.organizationId,
        endpoint_id: e.id,
        event_id: n.id,
        event_type: n.event.type,
        resource_type: n.event.object,
        resource_id: n.event.objectId,
        payload,
        status: 'pending',
        attempts: 0,
        next_attempt_at: n.at,
        claim_token: null,
        last_attempt_at: null,
        last_response_status: null,
        last_response_body: null,
        last_error: null,
        attempt_log: '[]',
        succeeded_at: null,
        created_at: n.at,
        updated_at: n.at,
      });
    }
  }
  const first = wanted[0]!.n.ctx;
  for (let i = 0; i < rows.length; i += INSERT_CHUNK)
    await insertRows(db, first.dialect, 'webhook_deliveries', rows.slice(i, i + INSERT_CHUNK));
  // Committed, this process's dispatcher sends them at once rather than at its next poll.
  first.afterCommit(outboxWritten);
  return true;
}

/**
 * Each event's `data` as JSON: its own when the change carries it, else its object — the
 * operation's own when it built it, else read through the object's view (snapshots.ts), once
 * per object however many events name it.
 */
async function objectJson(
  noted: readonly Noted[],
  objects?: Readonly<Record<string, unknown>>,
): Promise<Map<Noted, string>> {
  const out = new Map<Noted, string>();
  const byObject = new Map<string, string>();
  const toRead = new Map<string, { ctx: ServiceContext; ids: Set<string> }>();
  const keyOf = (n: Noted) => `${n.ctx.organizationId}|${n.event.object}|${n.event.objectId}`;
  for (const n of noted) {
    if (n.event.data) {
      out.set(n, JSON.stringify(n.event.data));
      continue;
    }
    const key = keyOf(n);
    if (byObject.has(key)) continue;
    const built = objects?.[n.event.object] as { id?: unknown } | undefined;
    if (built && built.id === n.event.objectId) {
      byObject.set(key, JSON.stringify({ [n.event.object]: built }));
      continue;
    }
    const group = `${n.ctx.organizationId}|${n.event.object}`;
    let g = toRead.get(group);
    if (!g) toRead.set(group, (g = { ctx: n.ctx, ids: new Set() }));
    g.ids.add(n.event.objectId);
  }
  if (toRead.size) {
    const { readObjects } = await import('./snapshots.js');
    for (const [group, { ctx, ids }] of toRead) {
      const object = group.slice(group.indexOf('|') + 1);
      const found = await readObjects(ctx, object, [...ids]);
      for (const id of ids) {
        // Gone by the commit (a draft deleted in the same change): its id says what it was.
        const value = found.get(id) ?? { id, deleted: true };
        byObject.set(`${ctx.organizationId}|${object}|${id}`, JSON.stringify({ [object]: value }));
      }
    }
  }
  for (const n of noted) if (!out.has(n)) out.set(n, byObject.get(keyOf(n))!);
  return out;
}

// ——— waking the dispatcher ———

const listeners = new Set<() => void>();

/** Runs after a commit that wrote deliveries: this process's dispatcher need not wait to poll. */
export function outboxWritten(): void {
  for (const l of listeners) l();
}

export function onOutboxWritten(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
