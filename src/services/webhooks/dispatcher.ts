import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { prepared } from '../../db/prepared.js';
import type { Database, WebhookDeliveriesTable, WebhookEndpointsTable } from '../../db/schema.js';
import { retryDelay } from '../../domain/durations.js';
import { toIso } from '../../domain/time.js';
import { recordActivity } from '../activity.js';
import { createServiceContext, type ServiceEnv } from '../context.js';
import type { AttemptRecord } from './deliveries.js';
import { endpointRefusal, failPending, signingSecrets } from './endpoints.js';
import { postWebhook, type SendResult } from './send.js';
import { RETRY_WINDOW_MS, webhookSettings, type WebhookSettings } from './settings.js';
import { lagoSignedHeaders, signedHeaders } from './signing.js';

/**
 * The dispatcher: sends every delivery that is due, records each attempt and schedules the
 * next. Any number of processes may run it on one database. A delivery is claimed by a
 * conditional update that moves its next_attempt_at past the attempt's deadline (a lease) and
 * stamps it with a token; on PostgreSQL the candidate rows are locked with FOR UPDATE SKIP
 * LOCKED, so two dispatchers never claim the same row and never wait for each other, and on
 * SQLite the update runs under the database's single write lock, which gives the same between
 * processes. The outcome is written only under the token, so a dispatcher that lost its lease
 * (stalled past the deadline) cannot overwrite a newer attempt. A dispatcher killed mid-attempt
 * leaves its rows due again once the lease ends: at least once, never lost.
 *
 * Requests go out concurrently (WebhookSettings.concurrency per process, a quarter of them per
 * endpoint, so one slow receiver cannot hold every slot), oldest due first. Rows are claimed a
 * batch at a time, and outcomes written a batch per transaction: a commit per delivery would
 * cost more than the request.
 */

export interface DeliveryRun {
  attempted: number;
  succeeded: number;
  retrying: number;
  failed: number;
  endpoints_disabled: number;
}

/** Beyond the requests' own deadlines: the name lookup (5 s at most) and the write of the outcome. */
const LEASE_MARGIN_MS = 10_000;
/** Attempts a delivery keeps in its log. */
const LOG_KEPT = 20;

/** What an attempt leaves on its delivery; written only under the claim's token. */
type DeliveryOutcome = Pick<
  WebhookDeliveriesTable,
  | 'id'
  | 'claim_token'
  | 'status'
  | 'attempts'
  | 'next_attempt_at'
  | 'last_attempt_at'
  | 'last_response_status'
  | 'last_response_body'
  | 'last_error'
  | 'attempt_log'
  | 'succeeded_at'
  | 'updated_at'
>;

const dueNow = prepared((db, p: { now: number }) =>
  db
    .selectFrom('webhook_deliveries')
    .select('id')
    .where(sql<boolean>`status = 'pending'`)
    .where('next_attempt_at', '<=', p.now)
    .limit(1),
);

// One per delivery sent: compiled once.
const recordOutcome = prepared((db, p: DeliveryOutcome) =>
  db
    .updateTable('webhook_deliveries')
    .set({
      status: p.status,
      attempts: p.attempts,
      next_attempt_at: p.next_attempt_at,
      claim_token: null,
      last_attempt_at: p.last_attempt_at,
      last_response_status: p.last_response_status,
      last_response_body: p.last_response_body,
      last_error: p.last_error,
      attempt_log: p.attempt_log,
      succeeded_at: p.succeeded_at,
      updated_at: p.updated_at,
    })
    .where('id', '=', p.id)
    .where('claim_token', '=', p.claim_token)
    .returning('id'),
);

interface Outcome {
  row: WebhookDeliveriesTable;
  endpoint: WebhookEndpointsTable | undefined;
  /** null: not attempted (the endpoint was deleted or disabled meanwhile). */
  result: SendResult | null;
  refusal: string | null;
  at: number;
  random: number;
}

async function claim(
  db: Kysely<Database>,
  postgres: boolean,
  now: number,
  limit: number,
  leaseMs: number,
  excluded: readonly string[],
): Promise<WebhookDeliveriesTable[]> {
  const token = randomUUID();
  const rows = await db
    .updateTable('webhook_deliveries')
    .set({ next_attempt_at: now + leaseMs, claim_token: token })
    .where('id', 'in', (eb) => {
      // status as a literal: the partial index on due rows repeats it (SQLite uses it only so).
      let q = eb
        .selectFrom('webhook_deliveries')
        .select('id')
        .where(sql<boolean>`status = 'pending'`)
        .where('next_attempt_at', '<=', now);
      if (excluded.length) q = q.where('endpoint_id', 'not in', [...excluded]);
      q = q.orderBy('next_attempt_at').orderBy('id').limit(limit);
      return postgres ? q.forUpdate().skipLocked() : q;
    })
    .where(sql<boolean>`status = 'pending'`)
    .where('next_attempt_at', '<=', now)
    .returningAll()
    .execute();
  return rows.sort((a, b) => (a.id < b.id ? -1 : 1));
}

async function endpointsOf(
  db: Kysely<Database>,
  rows: readonly WebhookDeliveriesTable[],
): Promise<Map<string, WebhookEndpointsTable>> {
  const ids = [...new Set(rows.map((r) => r.endpoint_id))];
  const found = await db.selectFrom('webhook_endpoints').selectAll().where('id', 'in', ids).execute();
  return new Map(found.map((e) => [e.id, e]));
}

async function attempt(
  env: ServiceEnv,
  settings: WebhookSettings,
  row: WebhookDeliveriesTable,
  endpoint: WebhookEndpointsTable,
): Promise<SendResult> {
  // Signed at the moment of sending: webhook-timestamp is when this attempt left, as receivers
  // check it against their own clock.
  const headers = signedHeaders(
    signingSecrets(endpoint, env.now()),
    row.event_id,
    Math.floor(Date.now() / 1000),
    row.payload,
  );
  if (endpoint.payload_format === 'lago')
    Object.assign(headers, lagoSignedHeaders(endpoint.secret, row.event_id, row.payload));
  headers['user-agent'] = `Billfold-Webhooks/${env.version}`;
  return postWebhook(endpoint.url, headers, row.payload, {
    allowPrivate: settings.allowPrivate,
    timeoutMs: settings.timeoutMs,
  });
}

/**
 * Sends every delivery due now, and those that fall due while it runs, until none is left;
 * returns what happened. Safe to run in several processes at once.
 */
export async function deliverDue(
  env: ServiceEnv,
  requestId = `whd_run_${randomUUID()}`,
): Promise<DeliveryRun> {
  const settings = webhookSettings(env);
  const db = env.db.kysely;
  const postgres = env.db.dialect === 'postgres';
  const slots = settings.concurrency;
  const perEndpoint = Math.max(1, Math.floor(slots / 4));
  // Rows are claimed a batch at a time and wait here for a slot of their endpoint: the lease
  // covers the wait behind the rows claimed with them (at most slots of them per endpoint).
  const leaseMs = settings.timeoutMs * (1 + Math.ceil(slots / perEndpoint)) + LEASE_MARGIN_MS;
  const run: DeliveryRun = { attempted: 0, succeeded: 0, retrying: 0, failed: 0, endpoints_disabled: 0 };
  const waiting = new Map<string, Array<{ row: WebhookDeliveriesTable; endpoint?: WebhookEndpointsTable }>>();
  let waitingCount = 0;
  const inFlight = new Map<string, number>();
  const running = new Set<Promise<void>>();
  const recorder = new Recorder(env, settings, run, requestId);

  const start = (row: WebhookDeliveriesTable, endpoint: WebhookEndpointsTable | undefined) => {
    const refusal = endpointRefusal(endpoint);
    inFlight.set(row.endpoint_id, (inFlight.get(row.endpoint_id) ?? 0) + 1);
    const work = (async () => {
      const result = refusal ? null : await attempt(env, settings, row, endpoint!);
      recorder.add({ row, endpoint, result, refusal, at: env.now(), random: Math.random() });
    })()
      .catch((e: unknown) => env.logger.error({ err: e, delivery_id: row.id }, 'webhook attempt failed'))
      .finally(() => {
        running.delete(work);
        inFlight.set(row.endpoint_id, inFlight.get(row.endpoint_id)! - 1);
      });
    running.add(work);
  };
  /** Starts waiting rows, oldest first per endpoint, while slots are free. */
  const startWaiting = () => {
    for (const [endpointId, queue] of waiting) {
      while (queue.length && running.size < slots && (inFlight.get(endpointId) ?? 0) < perEndpoint) {
        const { row, endpoint } = queue.shift()!;
        waitingCount--;
        start(row, endpoint);
      }
      if (!queue.length) waiting.delete(endpointId);
    }
  };

  // Most polls find nothing: a read says so without taking SQLite's write lock for an update.
  if (!(await dueNow(db, { now: env.now() })).length) return run;
  // The endpoints left out of the last claim that came back short: claiming again with the same
  // ones left out would find nothing more (until the next poll), and would read through every
  // due row of theirs to find it.
  let shortWithout: string | null = null;
  for (;;) {
    startWaiting();
    if (waitingCount < slots) {
      // An endpoint with a backlog here already is left out: it cannot crowd out the others.
      const full = [...waiting].filter(([, q]) => q.length >= perEndpoint).map(([id]) => id);
      const key = full.sort().join(' ');
      if (key !== shortWithout) {
        const claimed = await claim(db, postgres, env.now(), slots, leaseMs, full);
        shortWithout = claimed.length < slots ? key : null;
        if (claimed.length) {
          const endpoints = await endpointsOf(db, claimed);
          for (const row of claimed) {
            let queue = waiting.get(row.endpoint_id);
            if (!queue) waiting.set(row.endpoint_id, (queue = []));
            queue.push({ row, endpoint: endpoints.get(row.endpoint_id) });
            waitingCount++;
          }
        }
        // Slots may have come free while the claim ran: start what can start before waiting.
        continue;
      }
    }
    if (running.size === 0) {
      // Every waiting row can start when nothing runs; one left over would be a bug, not a wait.
      if (waitingCount)
        throw new Error(`webhook dispatcher: ${waitingCount} claimed deliveries could not start`);
      break;
    }
    await Promise.race(running);
  }
  await recorder.drain();
  return run;
}

/**
 * Writes outcomes as they come, several per transaction: while one batch is being written the
 * next accumulates.
 */
class Recorder {
  private queue: Outcome[] = [];
  private writing: Promise<void> | null = null;

  constructor(
    private readonly env: ServiceEnv,
    private readonly settings: WebhookSettings,
    private readonly run: DeliveryRun,
    private readonly requestId: string,
  ) {}

  add(o: Outcome): void {
    this.queue.push(o);
    this.writing ??= this.writeAll();
  }

  async drain(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async writeAll(): Promise<void> {
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0);
        try {
          await this.env.db.kysely.transaction().execute((trx) => this.write(trx, batch));
        } catch (e) {
          // The rows stay claimed until their lease ends, then are sent again: nothing is lost.
          this.env.logger.error({ err: e, deliveries: batch.length }, 'webhook outcomes not recorded');
        }
      }
    } finally {
      this.writing = null;
    }
  }

  private async write(trx: Kysely<Database>, batch: Outcome[]): Promise<void> {
    const byEndpoint = new Map<string, Outcome[]>();
    for (const o of batch) {
      const recorded = await this.writeDelivery(trx, o);
      if (recorded && o.result && o.endpoint) {
        let list = byEndpoint.get(o.endpoint.id);
        if (!list) byEndpoint.set(o.endpoint.id, (list = []));
        list.push(o);
      }
    }
    for (const outcomes of byEndpoint.values()) await this.writeEndpoint(trx, outcomes);
  }

  /** The delivery's new state; false when its claim was lost (another dispatcher took it over). */
  private async writeDelivery(trx: Kysely<Database>, o: Outcome): Promise<boolean> {
    const { row, result, at } = o;
    const next: DeliveryOutcome = {
      id: row.id,
      claim_token: row.claim_token,
      status: 'failed',
      attempts: row.attempts,
      next_attempt_at: null,
      last_attempt_at: row.last_attempt_at,
      last_response_status: row.last_response_status,
      last_response_body: row.last_response_body,
      last_error: o.refusal,
      attempt_log: row.attempt_log,
      succeeded_at: row.succeeded_at,
      updated_at: at,
    };
    if (!result) {
      this.run.failed++;
    } else {
      this.run.attempted++;
      const log = JSON.parse(row.attempt_log) as AttemptRecord[];
      log.push({
        attempted_at: toIso(at - result.durationMs),
        duration_ms: result.durationMs,
        response_status: result.status,
        error: result.error,
      });
      Object.assign(next, {
        attempts: row.attempts + 1,
        last_attempt_at: at - result.durationMs,
        last_response_status: result.status,
        last_response_body: result.body,
        last_error: result.error,
        attempt_log: JSON.stringify(log.slice(-LOG_KEPT)),
      });
      // Retries go on for three days from the event, the last one at the three-day mark.
      const deadline = row.created_at + RETRY_WINDOW_MS;
      const retryAt = Math.min(
        at + retryDelay(this.settings.retrySchedule, row.attempts + 1, o.random),
        deadline,
      );
      if (result.error === null) {
        Object.assign(next, { status: 'succeeded', succeeded_at: at });
        this.run.succeeded++;
      } else if (result.status === 410 || at >= deadline) {
        this.run.failed++;
      } else {
        Object.assign(next, { status: 'pending', next_attempt_at: retryAt });
        this.run.retrying++;
      }
    }
    return (await recordOutcome(trx, next)).length === 1;
  }

  /**
   * The endpoint's health after these attempts: a success clears its failing streak; a streak
   * three days long, or a 410 Gone, disables it — with an activity entry saying why.
   */
  private async writeEndpoint(trx: Kysely<Database>, outcomes: Outcome[]): Promise<void> {
    const endpoint = outcomes[0]!.endpoint!;
    outcomes.sort((a, b) => a.at - b.at);
    const successes = outcomes.filter((o) => o.result!.error === null);
    const lastSuccess = successes.length ? successes[successes.length - 1]!.at : null;
    const failures = outcomes.filter(
      (o) => o.result!.error !== null && (lastSuccess === null || o.at > lastSuccess),
    );
    const now = outcomes[outcomes.length - 1]!.at;
    if (!failures.length) {
      await trx
        .updateTable('webhook_endpoints')
        .set({ last_success_at: lastSuccess, failing_since: null })
        .where('id', '=', endpoint.id)
        .execute();
      return;
    }
    const firstFailure = failures[0]!.at;
    const lastFailure = failures[failures.length - 1]!;
    const updated = await trx
      .updateTable('webhook_endpoints')
      .set((eb) => ({
        last_failure_at: lastFailure.at,
        ...(lastSuccess !== null
          ? { last_success_at: lastSuccess, failing_since: firstFailure }
          : { failing_since: eb.fn.coalesce('failing_since', eb.val(firstFailure)) }),
      }))
      .where('id', '=', endpoint.id)
      .returning(['failing_since', 'status'])
      .executeTakeFirst();
    if (!updated || updated.status !== 'enabled') return;
    const gone = failures.find((o) => o.result!.status === 410);
    let reason: string | null = null;
    if (gone) {
      reason = `the receiver answered 410 Gone to delivery ${gone.row.id} at ${toIso(gone.at)}`;
    } else if (updated.failing_since !== null && now - updated.failing_since >= RETRY_WINDOW_MS) {
      reason = `every delivery failed for 3 days, since ${toIso(updated.failing_since)} (last: ${lastFailure.result!.error})`;
    }
    if (reason) await this.disable(trx, endpoint, reason, now);
  }

  private async disable(trx: Kysely<Database>, endpoint: WebhookEndpointsTable, reason: string, now: number) {
    const res = await trx
      .updateTable('webhook_endpoints')
      .set({ status: 'disabled', disabled_reason: reason, disabled_at: now, updated_at: now })
      .where('id', '=', endpoint.id)
      .where('status', '=', 'enabled')
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) return;
    const failed = await failPending(
      trx,
      endpoint.organization_id,
      endpoint.id,
      `the endpoint was disabled: ${reason}`,
      now,
    );
    this.run.endpoints_disabled++;
    const ctx = createServiceContext(
      this.env,
      trx,
      {
        organizationId: endpoint.organization_id,
        actor: { type: 'system', id: null, name: 'webhook dispatcher' },
        scopes: new Set(['admin']),
      },
      'system',
      this.requestId,
    );
    await recordActivity(ctx, {
      type: 'webhook_endpoint.disabled',
      resourceType: 'webhook_endpoint',
      resourceId: endpoint.id,
      changes: { enabled: [true, false], reason, url: endpoint.url, pending_deliveries_failed: failed },
    });
    this.env.logger.warn(
      { endpoint_id: endpoint.id, organization_id: endpoint.organization_id, reason },
      'webhook endpoint disabled',
    );
  }
}
