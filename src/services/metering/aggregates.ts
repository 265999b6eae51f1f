import type BetterSqlite3 from 'better-sqlite3';
import { sql, type OperationNodeSource, type RawBuilder } from 'kysely';
import { writeTogether } from '../../db/round-trips.js';
import { Decimal } from '../../domain/decimal.js';
import {
  DAY_MS,
  HOUR_MS,
  Partial,
  addedWithin,
  applyRounding,
  applyTransition,
  bucketOf,
  contributionOf,
  emptyUniqueState,
  filterGroupKey,
  groupOf,
  groupSelected,
  parseGroup,
  periodPieces,
  presence,
  weightedAverage,
  type MetricDefinition,
  type UniqueState,
} from '../../domain/usage.js';
import type { ServiceContext } from '../context.js';
import { inTimeRange } from './time-range.js';
import { prepared, sqliteHandle } from './raw.js';
import { inSeries } from './series.js';
import { StoredBuckets, forgetStoredBuckets, type BucketTable } from './stored-buckets.js';

/**
 * The aggregates behind usage: for each (metric, customer, filter group) hourly buckets
 * (count, Σvalue, Σvalue·t, max, latest), all-time totals, and per-value records for unique
 * counts. They are updated in the transaction that stores the events, so a period's units are
 * read from at most one row per hour plus the events of its partial edge hours — never by
 * scanning the period's events.
 */

export interface MetricRecord {
  id: string;
  code: string;
  definition: MetricDefinition;
}

/** What one stored event adds to its metric's aggregates. */
export interface Contribution {
  customerKey: string;
  grp: string;
  ts: number;
  id: string;
  value: Decimal | null;
  uniqueValue: string | null;
  operation: 'add' | 'remove' | null;
}

const LATEST_WINS = (t: string) =>
  `(${t}.latest_ts IS NULL OR excluded.latest_ts > ${t}.latest_ts OR (excluded.latest_ts = ${t}.latest_ts AND excluded.latest_id > ${t}.latest_id))`;

/** Hour buckets, and day buckets (UTC) so that a month reads about thirty rows, not 744. */
const BUCKET_TABLES = ['usage_buckets', 'usage_buckets_daily'] as const satisfies readonly BucketTable[];

/**
 * PostgreSQL adds a batch's partial to a bucket row in the upsert (several servers add to one row
 * at once); counts and unique counts add no value ('0', NULL), and the CASEs skip the decimal
 * functions for them. SQLite writes known values instead (stored-buckets.ts).
 */
const bucketUpsertSet = (t: BucketTable) => `
  event_count = ${t}.event_count + excluded.event_count,
  sum = CASE WHEN excluded.sum = '0' THEN ${t}.sum ELSE dec_add(${t}.sum, excluded.sum) END,
  sum_dt = CASE WHEN excluded.sum_dt = '0' THEN ${t}.sum_dt ELSE dec_add(${t}.sum_dt, excluded.sum_dt) END,
  max = CASE WHEN excluded.max IS NULL THEN ${t}.max ELSE dec_max(${t}.max, excluded.max) END,
  latest_value = CASE WHEN excluded.latest_ts IS NOT NULL AND ${LATEST_WINS(t)} THEN excluded.latest_value ELSE ${t}.latest_value END,
  latest_id = CASE WHEN excluded.latest_ts IS NOT NULL AND ${LATEST_WINS(t)} THEN excluded.latest_id ELSE ${t}.latest_id END,
  latest_ts = CASE WHEN excluded.latest_ts IS NOT NULL AND ${LATEST_WINS(t)} THEN excluded.latest_ts ELSE ${t}.latest_ts END`;

const BUCKET_COLUMNS =
  'organization_id, metric_id, customer_key, grp, bucket, shard, event_count, sum, sum_dt, max, latest_ts, latest_id, latest_value';
const BUCKET_CONFLICT = '(organization_id, metric_id, customer_key, grp, bucket, shard)';

/** Rows per PostgreSQL aggregate; see applyContributions. */
const AGGREGATE_SHARDS = 8;

const TOTALS_SET = `event_count = usage_totals.event_count + excluded.event_count, sum = dec_add(usage_totals.sum, excluded.sum)`;

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Shards leased by this process's ingesting transactions; see leaseShard. */
const shardsInUse = new Set<number>();
/**
 * Where the next lease starts looking: round robin (a shard just released may still be locked
 * by its transaction's COMMIT), from a random start so two processes seldom move in step.
 */
let nextShard = Math.floor(Math.random() * AGGREGATE_SHARDS);

/**
 * An aggregate shard for one ingesting transaction (PostgreSQL). Concurrent transactions adding
 * to the same hour would queue on one row's lock until each commits; each aggregate is spread
 * over a few shards, readers add them up, and the transactions of one process take different
 * shards so they never wait for each other (only when more are in flight than there are shards,
 * or on another process's transaction). Release it when the transaction's aggregates are written.
 */
export function leaseShard(): { shard: number; release: () => void } {
  for (let i = 0; i < AGGREGATE_SHARDS; i++) {
    const shard = (nextShard + i) % AGGREGATE_SHARDS;
    if (!shardsInUse.has(shard)) {
      shardsInUse.add(shard);
      nextShard = (shard + 1) % AGGREGATE_SHARDS;
      return { shard, release: () => shardsInUse.delete(shard) };
    }
  }
  return { shard: Math.floor(Math.random() * AGGREGATE_SHARDS), release: () => {} };
}

/** One aggregate row's worth of new events: a metric, customer, filter group and hour or day. */
interface Bucket {
  metricId: string;
  customerKey: string;
  grp: string;
  bucket: number;
  p: Partial;
}

/** A metric and the contributions of its newly stored events. */
export interface MetricContributions {
  metric: MetricRecord;
  items: readonly Contribution[];
}

/**
 * Adds the contributions of newly stored events to their metrics' aggregates: on PostgreSQL one
 * statement for every aggregate table and all the metrics of a batch, with `alsoWrite` (the
 * caller's own independent writes, such as its activity entry) in the same round trip; on
 * SQLite each row written with its new values (stored-buckets.ts). `pgShard`: where a PostgreSQL transaction adds them
 * (leaseShard; a random one when not given). SQLite has one writer and one shard, 0.
 */
export async function applyContributions(
  ctx: ServiceContext,
  batches: readonly MetricContributions[],
  pgShard?: number,
  alsoWrite: ReadonlyArray<RawBuilder<unknown> | OperationNodeSource> = [],
): Promise<void> {
  const work = batches.filter((b) => b.items.length > 0);
  const org = ctx.organizationId;
  const raw = sqliteHandle(ctx);
  /** SQLite runs writes one by one in process; PostgreSQL gets them as one statement. */
  const write = async (writes: ReadonlyArray<RawBuilder<unknown> | OperationNodeSource>) => {
    if (!raw) return writeTogether(ctx.db, writes);
    for (const w of writes) await sql`${w}`.execute(ctx.db);
  };
  if (work.length === 0) return write(alsoWrite);
  const shard = raw ? 0 : (pgShard ?? Math.floor(Math.random() * AGGREGATE_SHARDS));
  /** PostgreSQL's writes, sent together at the end. */
  const pending: Array<RawBuilder<unknown>> = [];
  // Each event goes into its hour's partial; a day's partial is the sum of its hours' (a
  // thousand events fall in a few hundred hours, so days cost a merge per hour, not per event).
  const hours = new Map<string, Bucket>();
  for (const { metric, items } of work) {
    for (const c of items) {
      const bucket = Math.floor(c.ts / HOUR_MS);
      const bk = `${metric.id}\u0000${c.customerKey}\u0000${c.grp}\u0000${bucket}`;
      let b = hours.get(bk);
      if (!b) {
        b = { metricId: metric.id, customerKey: c.customerKey, grp: c.grp, bucket, p: new Partial() };
        hours.set(bk, b);
      }
      b.p.addEvent(c.ts, c.id, c.value);
    }
  }
  const days = new Map<string, Bucket>();
  for (const h of hours.values()) {
    const bucket = Math.floor((h.bucket * HOUR_MS) / DAY_MS);
    const bk = `${h.metricId}\u0000${h.customerKey}\u0000${h.grp}\u0000${bucket}`;
    let b = days.get(bk);
    if (!b) {
      b = { metricId: h.metricId, customerKey: h.customerKey, grp: h.grp, bucket, p: new Partial() };
      days.set(bk, b);
    }
    b.p.merge(h.p);
  }
  const stored = raw ? new StoredBuckets(ctx.env.db, raw, org) : null;
  for (const [table, buckets] of [
    ['usage_buckets', hours],
    ['usage_buckets_daily', days],
  ] as const) {
    if (stored) {
      // SQLite has one writer: each row gets its new values (stored-buckets.ts).
      for (const b of buckets.values()) stored.add(table, b, b.p);
    } else {
      // One order for every writer, so concurrent PostgreSQL transactions lock rows alike.
      const rows = [...buckets.entries()].sort((a, b) => cmp(a[0], b[0])).map(([, v]) => v);
      const col = <T>(f: (b: (typeof rows)[number]) => T) => rows.map(f);
      pending.push(sql`INSERT INTO ${sql.raw(table)} (${sql.raw(BUCKET_COLUMNS)})
        SELECT ${org}::text, * FROM unnest(
          ${col((b) => b.metricId)}::text[], ${col((b) => b.customerKey)}::text[], ${col((b) => b.grp)}::text[],
          ${col((b) => b.bucket)}::bigint[], ${col(() => shard)}::int[], ${col((b) => b.p.count)}::bigint[],
          ${col((b) => b.p.sum.toString())}::text[], ${col((b) => b.p.sumDt.toString())}::text[],
          ${col((b) => b.p.max?.toString() ?? null)}::text[], ${col((b) => b.p.latestTs)}::bigint[],
          ${col((b) => b.p.latestId)}::text[], ${col((b) => b.p.latestValue?.toString() ?? null)}::text[])
        ON CONFLICT ${sql.raw(BUCKET_CONFLICT)} DO UPDATE SET ${sql.raw(bucketUpsertSet(table))}`);
    }
  }
  const totals = new Map<
    string,
    { metricId: string; customerKey: string; grp: string; count: number; sum: Decimal }
  >();
  // All-time totals are read only as the carry-over of recurring metrics (a metric whose
  // definition changes is rebuilt from its events, so none is missing when one becomes recurring).
  for (const { metric, items } of work) {
    if (!metric.definition.recurring) continue;
    for (const c of items) {
      const tk = `${metric.id}\u0000${c.customerKey}\u0000${c.grp}`;
      let t = totals.get(tk);
      if (!t) {
        t = { metricId: metric.id, customerKey: c.customerKey, grp: c.grp, count: 0, sum: Decimal.ZERO };
        totals.set(tk, t);
      }
      t.count++;
      if (c.value) t.sum = t.sum.add(c.value);
    }
  }
  const totalRows = [...totals.entries()].sort((a, b) => cmp(a[0], b[0])).map(([, v]) => v);
  if (totalRows.length && raw) {
    const upTotal = prepared(
      raw,
      `INSERT INTO usage_totals (organization_id, metric_id, customer_key, grp, shard, event_count, sum) VALUES (?,?,?,?,0,?,?) ON CONFLICT (organization_id, metric_id, customer_key, grp, shard) DO UPDATE SET ${TOTALS_SET}`,
    );
    for (const t of totalRows) upTotal.run(org, t.metricId, t.customerKey, t.grp, t.count, t.sum.toString());
  } else if (totalRows.length) {
    pending.push(sql`INSERT INTO usage_totals (organization_id, metric_id, customer_key, grp, shard, event_count, sum)
      SELECT ${org}::text, * FROM unnest(${totalRows.map((t) => t.metricId)}::text[],
        ${totalRows.map((t) => t.customerKey)}::text[], ${totalRows.map((t) => t.grp)}::text[],
        ${totalRows.map(() => shard)}::int[], ${totalRows.map((t) => t.count)}::bigint[],
        ${totalRows.map((t) => t.sum.toString())}::text[])
      ON CONFLICT (organization_id, metric_id, customer_key, grp, shard) DO UPDATE SET ${sql.raw(TOTALS_SET)}`);
  }
  for (const { metric, items } of work)
    if (metric.definition.aggregation_type === 'unique_count_agg')
      await applyUnique(ctx, metric, items, pending);
  // Every table's rows are distinct keys written once: one statement (see writeTogether). On
  // SQLite `pending` is empty: its upserts ran above.
  await write([...pending, ...alsoWrite]);
}

interface UniqueKey {
  customerKey: string;
  grp: string;
  value: string;
}

interface UniqueRow {
  first_ts: number | null;
  last_ts: number | null;
  last_change_ts: number;
  present_since: number | null;
  intervals: string;
}

/** A value's stored presence intervals; most values were never removed and have none to parse. */
function parseIntervals(text: string): Array<[number, number]> {
  return text === '[]' ? [] : (JSON.parse(text) as Array<[number, number]>);
}

function stateOf(r: UniqueRow | undefined): UniqueState {
  if (!r) return emptyUniqueState();
  return {
    firstTs: r.first_ts === null ? null : Number(r.first_ts),
    lastTs: r.last_ts === null ? null : Number(r.last_ts),
    lastChangeTs: Number(r.last_change_ts),
    presentSince: r.present_since === null ? null : Number(r.present_since),
    intervals: parseIntervals(r.intervals),
  };
}

/**
 * Unique values: first and last add, and for recurring metrics the presence intervals. A
 * transition older than the value's last change is applied by replaying the value's events in
 * time order, so out-of-order arrival gives the same intervals as in-order arrival.
 */
async function applyUnique(
  ctx: ServiceContext,
  metric: MetricRecord,
  items: readonly Contribution[],
  pending: Array<RawBuilder<unknown>>,
): Promise<void> {
  const recurring = metric.definition.recurring;
  const byValue = new Map<
    string,
    { key: UniqueKey; transitions: Array<{ ts: number; id: string; op: 'add' | 'remove' }> }
  >();
  for (const c of items) {
    if (c.uniqueValue === null || c.operation === null) continue;
    if (!recurring && c.operation === 'remove') continue;
    const k = `${c.customerKey}\u0000${c.grp}\u0000${c.uniqueValue}`;
    let v = byValue.get(k);
    if (!v) {
      v = { key: { customerKey: c.customerKey, grp: c.grp, value: c.uniqueValue }, transitions: [] };
      byValue.set(k, v);
    }
    v.transitions.push({ ts: c.ts, id: c.id, op: c.operation });
  }
  if (byValue.size === 0) return;
  const entries = [...byValue.entries()].sort((a, b) => cmp(a[0], b[0])).map(([, v]) => v);
  if (!recurring) {
    upsertFirstLastAdds(ctx, metric.id, entries, pending);
    return;
  }
  const existing = await loadUniqueRows(
    ctx,
    metric.id,
    entries.map((e) => e.key),
  );
  const next: Array<{ key: UniqueKey; state: UniqueState }> = [];
  for (const e of entries) {
    const prior = existing.get(`${e.key.customerKey}\u0000${e.key.grp}\u0000${e.key.value}`);
    let state = stateOf(prior);
    e.transitions.sort((a, b) => a.ts - b.ts || cmp(a.id, b.id));
    if (recurring && prior && e.transitions[0]!.ts < state.lastChangeTs) {
      state = await replayValue(ctx, metric, e.key);
    } else {
      for (const t of e.transitions) applyTransition(state, t.ts, t.op);
    }
    next.push({ key: e.key, state });
  }
  saveUniqueRows(ctx, metric.id, next, pending);
}

/**
 * A non-recurring value keeps only its first and last add (removes do not count): a minimum and
 * a maximum, which one upsert folds in without reading the row first. The columns recurring
 * values use are kept as applyTransition would leave them: present since the earliest add
 * applied, last changed at the latest, no intervals.
 */
function upsertFirstLastAdds(
  ctx: ServiceContext,
  metricId: string,
  entries: ReadonlyArray<{ key: UniqueKey; transitions: ReadonlyArray<{ ts: number }> }>,
  pending: Array<RawBuilder<unknown>>,
): void {
  const rows = entries.map(({ key, transitions }) => {
    let first = transitions[0]!.ts;
    let last = first;
    for (const t of transitions) {
      if (t.ts < first) first = t.ts;
      if (t.ts > last) last = t.ts;
    }
    return { key, first, last };
  });
  const raw = sqliteHandle(ctx);
  if (raw) {
    const put = prepared(
      raw,
      `INSERT INTO usage_unique_values (organization_id, metric_id, customer_key, grp, value, first_ts, last_ts, last_change_ts, present_since, intervals)
       VALUES (?,?,?,?,?,?,?,?,?,'[]')
       ON CONFLICT (organization_id, metric_id, customer_key, grp, value) DO UPDATE SET
         first_ts = min(coalesce(first_ts, excluded.first_ts), excluded.first_ts),
         last_ts = max(coalesce(last_ts, excluded.last_ts), excluded.last_ts),
         last_change_ts = max(last_change_ts, excluded.last_change_ts),
         present_since = coalesce(present_since, excluded.present_since)`,
    );
    for (const { key, first, last } of rows)
      put.run(ctx.organizationId, metricId, key.customerKey, key.grp, key.value, first, last, last, first);
    return;
  }
  pending.push(sql`INSERT INTO usage_unique_values (organization_id, metric_id, customer_key, grp, value, first_ts, last_ts, last_change_ts, present_since, intervals)
    SELECT ${ctx.organizationId}::text, ${metricId}::text, k.c, k.g, k.v, k.f, k.l, k.l, k.f, '[]'
    FROM unnest(${rows.map((r) => r.key.customerKey)}::text[], ${rows.map((r) => r.key.grp)}::text[],
      ${rows.map((r) => r.key.value)}::text[], ${rows.map((r) => r.first)}::bigint[], ${rows.map((r) => r.last)}::bigint[])
      AS k(c, g, v, f, l)
    ON CONFLICT (organization_id, metric_id, customer_key, grp, value) DO UPDATE SET
      first_ts = LEAST(usage_unique_values.first_ts, excluded.first_ts),
      last_ts = GREATEST(usage_unique_values.last_ts, excluded.last_ts),
      last_change_ts = GREATEST(usage_unique_values.last_change_ts, excluded.last_change_ts),
      present_since = COALESCE(usage_unique_values.present_since, excluded.present_since)`);
}

async function replayValue(ctx: ServiceContext, metric: MetricRecord, key: UniqueKey): Promise<UniqueState> {
  const rows = await ctx.db
    .selectFrom('usage_events')
    .select(['timestamp', 'operation'])
    .where((eb) => inSeries(eb, ctx.organizationId, [key.customerKey], metric.code))
    .where('unique_value', '=', key.value)
    .where('metric_id', '=', metric.id)
    .where('grp', '=', key.grp)
    .orderBy('timestamp')
    .orderBy('id')
    .execute();
  const state = emptyUniqueState();
  for (const r of rows)
    applyTransition(state, Number(r.timestamp), r.operation === 'remove' ? 'remove' : 'add');
  return state;
}

async function loadUniqueRows(
  ctx: ServiceContext,
  metricId: string,
  keys: UniqueKey[],
): Promise<Map<string, UniqueRow>> {
  const out = new Map<string, UniqueRow>();
  const raw = sqliteHandle(ctx);
  if (raw) {
    const get = prepared(
      raw,
      'SELECT first_ts, last_ts, last_change_ts, present_since, intervals FROM usage_unique_values WHERE organization_id = ? AND metric_id = ? AND customer_key = ? AND grp = ? AND value = ?',
    );
    for (const k of keys) {
      const r = get.get(ctx.organizationId, metricId, k.customerKey, k.grp, k.value) as UniqueRow | undefined;
      if (r) out.set(`${k.customerKey}\u0000${k.grp}\u0000${k.value}`, r);
    }
    return out;
  }
  // Make every row exist, then lock them in key order: a concurrent writer of the same value
  // waits here and then sees this transaction's result.
  const ck = keys.map((k) => k.customerKey);
  const gs = keys.map((k) => k.grp);
  const vs = keys.map((k) => k.value);
  await sql`INSERT INTO usage_unique_values (organization_id, metric_id, customer_key, grp, value, last_change_ts, intervals)
    SELECT ${ctx.organizationId}::text, ${metricId}::text, k.c, k.g, k.v, ${Number.MIN_SAFE_INTEGER}::bigint, '[]'
    FROM unnest(${ck}::text[], ${gs}::text[], ${vs}::text[]) AS k(c, g, v)
    ON CONFLICT DO NOTHING`.execute(ctx.db);
  const { rows } = await sql<UniqueRow & { customer_key: string; grp: string; value: string }>`
    SELECT u.customer_key, u.grp, u.value, u.first_ts, u.last_ts, u.last_change_ts, u.present_since, u.intervals
    FROM usage_unique_values u
    JOIN unnest(${ck}::text[], ${gs}::text[], ${vs}::text[]) AS k(c, g, v)
      ON u.customer_key = k.c AND u.grp = k.g AND u.value = k.v
    WHERE u.organization_id = ${ctx.organizationId} AND u.metric_id = ${metricId}
    ORDER BY u.customer_key, u.grp, u.value
    FOR UPDATE OF u`.execute(ctx.db);
  for (const r of rows) {
    // A row this transaction just created has no history yet.
    if (
      r.first_ts === null &&
      r.present_since === null &&
      r.intervals === '[]' &&
      Number(r.last_change_ts) === Number.MIN_SAFE_INTEGER
    )
      continue;
    out.set(`${r.customer_key}\u0000${r.grp}\u0000${r.value}`, r);
  }
  return out;
}

function saveUniqueRows(
  ctx: ServiceContext,
  metricId: string,
  rows: Array<{ key: UniqueKey; state: UniqueState }>,
  pending: Array<RawBuilder<unknown>>,
): void {
  const raw = sqliteHandle(ctx);
  if (raw) {
    const put = prepared(
      raw,
      'INSERT OR REPLACE INTO usage_unique_values (organization_id, metric_id, customer_key, grp, value, first_ts, last_ts, last_change_ts, present_since, intervals) VALUES (?,?,?,?,?,?,?,?,?,?)',
    );
    for (const { key, state } of rows) {
      put.run(
        ctx.organizationId,
        metricId,
        key.customerKey,
        key.grp,
        key.value,
        state.firstTs,
        state.lastTs,
        state.lastChangeTs,
        state.presentSince,
        JSON.stringify(state.intervals),
      );
    }
    return;
  }
  pending.push(sql`UPDATE usage_unique_values u SET first_ts = k.f, last_ts = k.l, last_change_ts = k.lc,
      present_since = k.ps, intervals = k.iv
    FROM unnest(${rows.map((r) => r.key.customerKey)}::text[], ${rows.map((r) => r.key.grp)}::text[],
      ${rows.map((r) => r.key.value)}::text[], ${rows.map((r) => r.state.firstTs)}::bigint[],
      ${rows.map((r) => r.state.lastTs)}::bigint[], ${rows.map((r) => r.state.lastChangeTs)}::bigint[],
      ${rows.map((r) => r.state.presentSince)}::bigint[], ${rows.map((r) => JSON.stringify(r.state.intervals))}::text[])
      AS k(c, g, v, f, l, lc, ps, iv)
    WHERE u.organization_id = ${ctx.organizationId} AND u.metric_id = ${metricId}
      AND u.customer_key = k.c AND u.grp = k.g AND u.value = k.v`);
}

/** Drops every aggregate of a metric (before a rebuild, or when it is deleted). */
export async function clearMetricAggregates(ctx: ServiceContext, metricId: string): Promise<void> {
  forgetStoredBuckets(ctx.env.db);
  for (const table of [...BUCKET_TABLES, 'usage_totals', 'usage_unique_values'] as const) {
    await ctx.db
      .deleteFrom(table)
      .where('organization_id', '=', ctx.organizationId)
      .where('metric_id', '=', metricId)
      .execute();
  }
}

const REBUILD_CHUNK = 5000;

/**
 * Recomputes a metric from its events: after it is created (events that arrived before it
 * now count), or when its definition changes. Events are read customer by customer (series by
 * series) in time order, so unique-value histories are built in order.
 */
export async function rebuildMetric(ctx: ServiceContext, metric: MetricRecord): Promise<number> {
  await clearMetricAggregates(ctx, metric.id);
  const keys = await ctx.db
    .selectFrom('usage_series')
    .select('customer_key')
    .where('organization_id', '=', ctx.organizationId)
    .where('code', '=', metric.code)
    .orderBy('customer_key')
    .execute();
  let total = 0;
  for (const { customer_key: customerKey } of keys) {
    let after: { ts: number; id: string } | null = null;
    for (;;) {
      let q = ctx.db
        .selectFrom('usage_events')
        .select(['id', 'customer_key', 'timestamp', 'properties', 'agent_code'])
        .where((eb) => inSeries(eb, ctx.organizationId, [customerKey], metric.code));
      if (after) {
        const a = after;
        q = q.where((eb) =>
          eb.and([
            // The hour narrows the index range; the timestamp and id go on from the last row.
            eb('hour', '>=', bucketOf(a.ts)),
            eb.or([eb('timestamp', '>', a.ts), eb.and([eb('timestamp', '=', a.ts), eb('id', '>', a.id)])]),
          ]),
        );
      }
      const rows = await q.orderBy('timestamp').orderBy('id').limit(REBUILD_CHUNK).execute();
      if (rows.length === 0) break;
      const contributions: Contribution[] = [];
      for (const r of rows) {
        const ts = Number(r.timestamp);
        const properties = JSON.parse(r.properties) as Record<string, unknown>;
        const c = contributionOf(metric.definition, properties, ts);
        const grp = groupOf(metric.definition.filters, properties, r.agent_code);
        await ctx.db
          .updateTable('usage_events')
          .set({
            metric_id: metric.id,
            value: c.value?.toString() ?? null,
            value_error: c.error,
            grp,
            unique_value: c.uniqueValue,
            operation: c.operation,
          })
          .where('organization_id', '=', ctx.organizationId)
          .where('id', '=', r.id)
          .execute();
        if (!c.error) {
          contributions.push({
            customerKey,
            grp,
            ts,
            id: r.id,
            value: c.value,
            uniqueValue: c.uniqueValue,
            operation: c.operation,
          });
        }
      }
      await applyContributions(ctx, [{ metric, items: contributions }]);
      total += rows.length;
      const last = rows[rows.length - 1]!;
      after = { ts: Number(last.timestamp), id: last.id };
    }
  }
  return total;
}

/** A metric's events no longer count (it was deleted): they wait, flagged, for a new metric. */
export async function detachMetricEvents(ctx: ServiceContext, metricId: string): Promise<void> {
  await clearMetricAggregates(ctx, metricId);
  await ctx.db
    .updateTable('usage_events')
    .set({ metric_id: null, value: null, value_error: null, grp: '', unique_value: null, operation: null })
    .where('organization_id', '=', ctx.organizationId)
    .where('metric_id', '=', metricId)
    .execute();
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface UsageQuery {
  /** The keys events of the customer are stored under: its id and its external_id. */
  customerKeys: string[];
  metric: MetricRecord;
  from: number;
  to: number;
  /**
   * Only events whose group matches: {key: [values]} (every key must match). The agent key
   * (domain/usage AGENT_GROUP_KEY) selects one agent's usage.
   */
  filters?: Record<string, readonly string[]>;
  /** Leaves out events whose group matches any of these (the rest of a charge's filters). */
  exclude?: ReadonlyArray<Record<string, readonly string[]>>;
}

export interface GroupUsage {
  /**
   * The filter values of the group ({} for events matching no filter value). Agents are added
   * up: a group here is every agent's usage with these filter values.
   */
  group: Record<string, string>;
  units: Decimal;
  /** Before the metric's rounding. */
  exactUnits: Decimal;
  eventCount: number;
}

export interface UsageResult {
  units: Decimal;
  exactUnits: Decimal;
  eventCount: number;
  groups: GroupUsage[];
  /**
   * recurring unique_count_agg: Σ over values of the share of the period each was present
   * (for prorated charges); weighted_sum_agg: the same as units.
   */
  proratedUnits: Decimal | null;
}

interface EdgeEvent {
  id: string;
  timestamp: number;
  value: string | null;
  grp: string;
  unique_value: string | null;
  operation: string | null;
}

interface BucketRow {
  grp: string;
  event_count: number | string;
  sum: string;
  sum_dt: string;
  max: string | null;
  latest_ts: number | string | null;
  latest_id: string | null;
  latest_value: string | null;
}

/**
 * PostgreSQL adds a period's buckets up itself, one row per filter group: exact `numeric` sums
 * (a month of daily buckets over every shard is hundreds of rows, which cost more to ship and
 * parse than to add). The latest value is the one with the greatest (timestamp, event id), ids
 * compared bytewise as JavaScript compares them.
 */
async function groupedBuckets(
  ctx: ServiceContext,
  q: UsageQuery,
  table: BucketTable,
  fromBucket: number,
  toBucket: number | null,
): Promise<BucketRow[]> {
  const latest = sql`ORDER BY latest_ts DESC, latest_id COLLATE "C" DESC) FILTER (WHERE latest_ts IS NOT NULL AND latest_value IS NOT NULL)`;
  const { rows } = await sql<BucketRow>`
    SELECT grp, sum(event_count) AS event_count, sum(sum::numeric)::text AS sum,
      sum(sum_dt::numeric)::text AS sum_dt, max(max::numeric)::text AS max,
      (array_agg(latest_ts ${latest})[1] AS latest_ts,
      (array_agg(latest_id ${latest})[1] AS latest_id,
      (array_agg(latest_value ${latest})[1] AS latest_value
    FROM ${sql.table(table)}
    WHERE organization_id = ${ctx.organizationId} AND metric_id = ${q.metric.id}
      AND customer_key = ANY(${q.customerKeys}::text[]) AND bucket >= ${fromBucket}
      ${toBucket === null ? sql`` : sql`AND bucket < ${toBucket}`}
    GROUP BY grp`.execute(ctx.db);
  return rows;
}

/**
 * SQLite's buckets of a period, each row as stored (JavaScript adds them up exactly), by a
 * statement prepared once per table and number of keys: read for every charge of every
 * invoice, where building the query cost more than running it.
 */
function sqliteBuckets(
  raw: BetterSqlite3.Database,
  organizationId: string,
  q: UsageQuery,
  table: BucketTable,
  fromBucket: number,
  toBucket: number | null,
): BucketRow[] {
  const keys = q.customerKeys.map(() => '?').join(', ');
  const text = `SELECT grp, event_count, sum, sum_dt, max, latest_ts, latest_id, latest_value FROM ${table} WHERE organization_id = ? AND metric_id = ? AND customer_key IN (${keys}) AND bucket >= ?${toBucket === null ? '' : ' AND bucket < ?'}`;
  const params: unknown[] = [organizationId, q.metric.id, ...q.customerKeys, fromBucket];
  if (toBucket !== null) params.push(toBucket);
  return prepared(raw, text).all(...params) as BucketRow[];
}

async function readBuckets(
  ctx: ServiceContext,
  q: UsageQuery,
  table: BucketTable,
  fromBucket: number,
  toBucket: number | null,
  out: Map<string, Partial>,
): Promise<void> {
  if (toBucket !== null && fromBucket >= toBucket) return;
  const raw = sqliteHandle(ctx);
  const rows = raw
    ? sqliteBuckets(raw, ctx.organizationId, q, table, fromBucket, toBucket)
    : await groupedBuckets(ctx, q, table, fromBucket, toBucket);
  for (const r of rows) {
    if (!groupSelected(r.grp, q)) continue;
    const g = filterGroupKey(r.grp);
    let p = out.get(g);
    if (!p) {
      p = new Partial();
      out.set(g, p);
    }
    p.merge({
      count: Number(r.event_count),
      sum: Decimal.parse(r.sum),
      sumDt: Decimal.parse(r.sum_dt),
      max: r.max === null ? null : Decimal.parse(r.max),
      latestTs: r.latest_ts === null ? null : Number(r.latest_ts),
      latestId: r.latest_id,
      latestValue: r.latest_value === null ? null : Decimal.parse(r.latest_value),
    });
  }
}

const HOURS_PER_DAY = DAY_MS / HOUR_MS;

/** The partials of hours [fromHour, toHour) (to the end of time when toHour is null), read as whole days where it can. */
async function bucketPartials(
  ctx: ServiceContext,
  q: UsageQuery,
  fromHour: number,
  toHour: number | null,
): Promise<Map<string, Partial>> {
  const out = new Map<string, Partial>();
  if (toHour !== null && fromHour >= toHour) return out;
  const dayFrom = Math.ceil(fromHour / HOURS_PER_DAY);
  const dayTo = toHour === null ? null : Math.floor(toHour / HOURS_PER_DAY);
  if (dayTo !== null && dayFrom >= dayTo) {
    await readBuckets(ctx, q, 'usage_buckets', fromHour, toHour, out);
    return out;
  }
  await readBuckets(ctx, q, 'usage_buckets', fromHour, dayFrom * HOURS_PER_DAY, out);
  await readBuckets(ctx, q, 'usage_buckets_daily', dayFrom, dayTo, out);
  if (dayTo !== null) await readBuckets(ctx, q, 'usage_buckets', dayTo * HOURS_PER_DAY, toHour, out);
  return out;
}

async function edgeEvents(
  ctx: ServiceContext,
  q: UsageQuery,
  from: number,
  to: number,
): Promise<EdgeEvent[]> {
  if (from >= to) return [];
  const rows = await ctx.db
    .selectFrom('usage_events')
    .select(['id', 'timestamp', 'value', 'grp', 'unique_value', 'operation'])
    .where((eb) => inSeries(eb, ctx.organizationId, q.customerKeys, q.metric.code))
    .where((eb) => inTimeRange(eb, from, to))
    .where('metric_id', '=', q.metric.id)
    .where('value_error', 'is', null)
    .execute();
  return rows.map((r) => ({ ...r, timestamp: Number(r.timestamp) })).filter((r) => groupSelected(r.grp, q));
}

function addEdges(target: Map<string, Partial>, events: EdgeEvent[]): void {
  for (const e of events) {
    const g = filterGroupKey(e.grp);
    let p = target.get(g);
    if (!p) {
      p = new Partial();
      target.set(g, p);
    }
    p.addEvent(e.timestamp, e.id, e.value === null ? null : Decimal.parse(e.value));
  }
}

/** Σ value and count of events at or after `t`, per group. */
async function fromOnward(ctx: ServiceContext, q: UsageQuery, t: number): Promise<Map<string, Partial>> {
  const boundary = Math.ceil(t / HOUR_MS);
  const parts = await bucketPartials(ctx, q, boundary, null);
  addEdges(parts, await edgeEvents(ctx, q, t, boundary * HOUR_MS));
  return parts;
}

async function totalsByGroup(ctx: ServiceContext, q: UsageQuery): Promise<Map<string, Decimal>> {
  const rows = await ctx.db
    .selectFrom('usage_totals')
    .select(['grp', 'sum'])
    .where('organization_id', '=', ctx.organizationId)
    .where('metric_id', '=', q.metric.id)
    .where('customer_key', 'in', q.customerKeys)
    .execute();
  const out = new Map<string, Decimal>();
  for (const r of rows) {
    if (!groupSelected(r.grp, q)) continue;
    const g = filterGroupKey(r.grp);
    out.set(g, (out.get(g) ?? Decimal.ZERO).add(Decimal.parse(r.sum)));
  }
  return out;
}

/**
 * A metric's units for a customer over [from, to), exactly, with the event count and the
 * breakdown by filter group. The function the pricing layer calls.
 */
export async function aggregateUsage(ctx: ServiceContext, q: UsageQuery): Promise<UsageResult> {
  const def = q.metric.definition;
  const { from, to } = q;
  const pieces = periodPieces(from, to);
  const type = def.aggregation_type;
  const carriesOver = def.recurring && (type === 'sum_agg' || type === 'weighted_sum_agg');
  // The reads do not depend on each other: on PostgreSQL they run side by side on the pool.
  const [period, totals, onward, unique] = await Promise.all([
    (async () => {
      const partials = await bucketPartials(ctx, q, pieces.fullFrom, pieces.fullTo);
      const edges = await Promise.all(pieces.edges.map(([a, b]) => edgeEvents(ctx, q, a, b)));
      for (const e of edges) addEdges(partials, e);
      return partials;
    })(),
    carriesOver ? totalsByGroup(ctx, q) : new Map<string, Decimal>(),
    carriesOver ? fromOnward(ctx, q, type === 'sum_agg' ? to : from) : new Map<string, Partial>(),
    type === 'unique_count_agg' ? uniqueCounts(ctx, q) : null,
  ]);

  const exact = new Map<string, Decimal>();
  let proratedUnits: Decimal | null = null;
  let uniqueTotal: Decimal | null = null;
  if (type === 'count_agg') {
    for (const [g, p] of period) exact.set(g, Decimal.fromInt(p.count));
  } else if (type === 'sum_agg' && !def.recurring) {
    for (const [g, p] of period) exact.set(g, p.sum);
  } else if (type === 'sum_agg' || type === 'weighted_sum_agg') {
    const groups = new Set([...period.keys(), ...totals.keys()]);
    for (const g of groups) {
      const p = period.get(g) ?? new Partial();
      if (type === 'sum_agg') {
        // Everything before the period's end: the all-time total less what came at or after it.
        exact.set(
          g,
          (totals.get(g) ?? Decimal.ZERO).sub((onward.get(g) as Partial | undefined)?.sum ?? Decimal.ZERO),
        );
      } else {
        const level0 = def.recurring
          ? (totals.get(g) ?? Decimal.ZERO).sub((onward.get(g) as Partial | undefined)?.sum ?? Decimal.ZERO)
          : Decimal.ZERO;
        exact.set(g, weightedAverage(level0, p.sum, p.sumDt, from, to));
      }
    }
  } else if (type === 'max_agg') {
    for (const [g, p] of period) exact.set(g, p.max ?? Decimal.ZERO);
  } else if (type === 'latest_agg') {
    for (const [g, p] of period) {
      const v = p.latestValue ?? Decimal.ZERO;
      exact.set(g, v.isNegative() ? Decimal.ZERO : v);
    }
  } else {
    const u = unique!;
    for (const [g, n] of u.perGroup) exact.set(g, Decimal.fromInt(n));
    uniqueTotal = Decimal.fromInt(u.total);
    if (def.recurring) proratedUnits = u.prorated;
  }

  const groups: GroupUsage[] = [];
  for (const g of new Set([...exact.keys(), ...period.keys()])) {
    const e = exact.get(g) ?? Decimal.ZERO;
    const count = period.get(g)?.count ?? 0;
    if (count === 0 && e.isZero()) continue;
    groups.push({
      group: parseGroup(g),
      exactUnits: e,
      units: applyRounding(e, def.rounding_function, def.rounding_precision),
      eventCount: count,
    });
  }
  groups.sort((a, b) => cmp(JSON.stringify(a.group), JSON.stringify(b.group)));
  let exactUnits: Decimal;
  const values = groups.map((g) => g.exactUnits);
  if (type === 'max_agg')
    exactUnits = values.length ? values.reduce((m, v) => (v.gt(m) ? v : m)) : Decimal.ZERO;
  else if (type === 'latest_agg') {
    let best: Partial | null = null;
    for (const p of period.values()) {
      if (p.latestTs === null) continue;
      if (
        !best ||
        p.latestTs > best.latestTs! ||
        (p.latestTs === best.latestTs && (p.latestId ?? '') > (best.latestId ?? ''))
      )
        best = p;
    }
    const v = best?.latestValue ?? Decimal.ZERO;
    exactUnits = v.isNegative() ? Decimal.ZERO : v;
  } else if (uniqueTotal !== null) exactUnits = uniqueTotal;
  else exactUnits = Decimal.sum(values);
  return {
    exactUnits,
    units: applyRounding(exactUnits, def.rounding_function, def.rounding_precision),
    eventCount: groups.reduce((n, g) => n + g.eventCount, 0),
    groups,
    proratedUnits:
      proratedUnits === null
        ? null
        : applyRounding(proratedUnits, def.rounding_function, def.rounding_precision),
  };
}

async function uniqueCounts(
  ctx: ServiceContext,
  q: UsageQuery,
): Promise<{ perGroup: Map<string, number>; total: number; prorated: Decimal }> {
  const { from, to } = q;
  const recurring = q.metric.definition.recurring;
  if (!recurring) {
    const fast = await uniqueCountsInSql(ctx, q);
    if (fast) return fast;
  } else if (ctx.dialect === 'postgres') {
    return recurringUniqueCountsInSql(ctx, q);
  }
  const values = ctx.db
    .selectFrom('usage_unique_values')
    .where('organization_id', '=', ctx.organizationId)
    .where('metric_id', '=', q.metric.id)
    .where('customer_key', 'in', q.customerKeys)
    .where('first_ts', '<', to);
  const perGroup = new Map<string, Set<string>>();
  const all = new Set<string>();
  const count = (grp: string, value: string) => {
    let set = perGroup.get(grp);
    if (!set) {
      set = new Set();
      perGroup.set(grp, set);
    }
    set.add(value);
    all.add(value);
  };
  let presentMs = 0n;
  if (recurring) {
    // Only the columns presence needs: a period may read a thousand values or more.
    const rows = await values
      .select(['grp', 'value', 'present_since', 'intervals'])
      .where((eb) => eb.or([eb('present_since', 'is not', null), eb('last_change_ts', '>', from)]))
      .execute();
    for (const r of rows) {
      if (!groupSelected(r.grp, q)) continue;
      const p = presence(
        {
          presentSince: r.present_since === null ? null : Number(r.present_since),
          intervals: parseIntervals(r.intervals),
        },
        from,
        to,
      );
      presentMs += BigInt(p.ms);
      if (p.present) count(filterGroupKey(r.grp), r.value);
    }
  } else {
    const rows = await values
      .select(['customer_key', 'grp', 'value', 'first_ts', 'last_ts'])
      .where('last_ts', '>=', from)
      .execute();
    for (const r of rows) {
      if (!groupSelected(r.grp, q)) continue;
      const s = { firstTs: Number(r.first_ts), lastTs: Number(r.last_ts) };
      if (addedWithin(s, from, to) ?? (await hasAddWithin(ctx, q, r.customer_key, r.grp, r.value)))
        count(filterGroupKey(r.grp), r.value);
    }
  }
  return {
    perGroup: new Map([...perGroup].map(([g, s]) => [g, s.size])),
    total: all.size,
    prorated: proration(presentMs, q),
  };
}

const WEIGHTED_SCALE_FOR_PRORATION = 20;

/**
 * Recurring unique counts on PostgreSQL, added up by the database: a period reads a thousand
 * values or more, and shipping and parsing each one (with the garbage it leaves) cost more
 * than the arithmetic. Per value, the milliseconds of [from, to) it was present — `presence()`
 * in SQL: the overlap of the period with each closed interval and with the open one since
 * `present_since` — then per filter group the values present at all and the milliseconds.
 */
async function recurringUniqueCountsInSql(
  ctx: ServiceContext,
  q: UsageQuery,
): Promise<{ perGroup: Map<string, number>; total: number; prorated: Decimal }> {
  const from = sql`${q.from}::bigint`;
  const to = sql`${q.to}::bigint`;
  const present = (selected?: string[]) => sql`
    SELECT grp, value,
      CASE WHEN present_since IS NULL THEN 0 ELSE GREATEST(0, ${to} - GREATEST(present_since, ${from})) END
      + CASE WHEN intervals = '[]' THEN 0 ELSE (
          SELECT COALESCE(sum(GREATEST(0, LEAST((i->>1)::bigint, ${to}) - GREATEST((i->>0)::bigint, ${from}))), 0)
          FROM json_array_elements(intervals::json) AS i) END AS ms
    FROM usage_unique_values
    WHERE organization_id = ${ctx.organizationId} AND metric_id = ${q.metric.id}
      AND customer_key IN (${sql.join(q.customerKeys)}) AND first_ts < ${to}
      AND (present_since IS NOT NULL OR last_change_ts > ${from})
      ${selected ? sql`AND grp IN (${sql.join(selected)})` : sql``}`;
  // Per group, and (the row whose grp is NULL) over every group: the total counts a value
  // present in two groups once.
  const { rows } = await sql<{ grp: string | null; n: number | string; ms: string }>`
    SELECT CASE WHEN GROUPING(grp) = 1 THEN NULL ELSE grp END AS grp,
      count(DISTINCT value) FILTER (WHERE ms > 0) AS n, sum(ms)::text AS ms
    FROM (${present()}) v
    GROUP BY GROUPING SETS ((grp), ())`.execute(ctx.db);
  const perGroup = new Map<string, number>();
  const selected: string[] = [];
  let presentMs = 0n;
  let total = 0;
  let everyGroup = true;
  for (const r of rows) {
    if (r.grp === null) {
      total = Number(r.n);
      continue;
    }
    if (!groupSelected(r.grp, q)) {
      everyGroup = false;
      continue;
    }
    selected.push(r.grp);
    // Groups differing only by agent are added up: a value present under two agents counts
    // twice in its filter group's figure, never in the total.
    const g = filterGroupKey(r.grp);
    if (Number(r.n) > 0) perGroup.set(g, (perGroup.get(g) ?? 0) + Number(r.n));
    presentMs += BigInt(r.ms);
  }
  if (!everyGroup) {
    // A filter left some groups out: count the distinct values of those it kept.
    total = 0;
    if (selected.length) {
      const row = await sql<{ n: number | string }>`
        SELECT count(DISTINCT value) FILTER (WHERE ms > 0) AS n FROM (${present(selected)}) v`.execute(
        ctx.db,
      );
      total = Number(row.rows[0]!.n);
    }
  }
  return { perGroup, total, prorated: proration(presentMs, q) };
}

function proration(presentMs: bigint, q: UsageQuery): Decimal {
  const span = BigInt(Math.max(1, q.to - q.from));
  return Decimal.of(presentMs).div(Decimal.of(span), WEIGHTED_SCALE_FOR_PRORATION, 'half_up').normalize();
}

/**
 * Non-recurring counts without reading each value: a value whose first add is in the period,
 * or whose last add is, was added in it. Only values first added before the period and last
 * after it need their events checked; when one of those turns out to count, the caller takes
 * the value-by-value path so that distinct totals stay exact.
 */
async function uniqueCountsInSql(
  ctx: ServiceContext,
  q: UsageQuery,
): Promise<{ perGroup: Map<string, number>; total: number; prorated: Decimal } | null> {
  const base = () =>
    ctx.db
      .selectFrom('usage_unique_values')
      .where('organization_id', '=', ctx.organizationId)
      .where('metric_id', '=', q.metric.id)
      .where('customer_key', 'in', q.customerKeys)
      .where('first_ts', '<', q.to)
      .where('last_ts', '>=', q.from);
  const ambiguous = await base()
    .select(['customer_key', 'grp', 'value'])
    .where('first_ts', '<', q.from)
    .where('last_ts', '>=', q.to)
    .execute();
  for (const a of ambiguous) {
    if (groupSelected(a.grp, q) && (await hasAddWithin(ctx, q, a.customer_key, a.grp, a.value))) return null;
  }
  const definite = () =>
    base().where((eb) => eb.or([eb('first_ts', '>=', q.from), eb('last_ts', '<', q.to)]));
  const groups = await definite()
    .select(['grp', sql<number>`count(*)`.as('n')])
    .groupBy('grp')
    .execute();
  const perGroup = new Map<string, number>();
  const selected: string[] = [];
  let single = 0;
  for (const g of groups) {
    if (!groupSelected(g.grp, q)) continue;
    // As above: filter groups add their agents' counts; the total stays distinct.
    const k = filterGroupKey(g.grp);
    perGroup.set(k, (perGroup.get(k) ?? 0) + Number(g.n));
    selected.push(g.grp);
    single = Number(g.n);
  }
  let total = 0;
  if (selected.length === 1) total = single;
  else if (selected.length > 1) {
    const row = await definite()
      .where('grp', 'in', selected)
      .select(sql<number>`count(distinct value)`.as('n'))
      .executeTakeFirstOrThrow();
    total = Number(row.n);
  }
  return { perGroup, total, prorated: Decimal.ZERO };
}

async function hasAddWithin(
  ctx: ServiceContext,
  q: UsageQuery,
  customerKey: string,
  grp: string,
  value: string,
): Promise<boolean> {
  const row = await ctx.db
    .selectFrom('usage_events')
    .select('id')
    .where((eb) => inSeries(eb, ctx.organizationId, [customerKey], q.metric.code))
    .where('unique_value', '=', value)
    .where((eb) => inTimeRange(eb, q.from, q.to))
    .where('metric_id', '=', q.metric.id)
    .where('grp', '=', grp)
    .where('operation', '=', 'add')
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Each event's value in [from, to), in time order: for charges that look at single events
 * (a percentage fee with a per-transaction minimum or maximum).
 */
export async function eventValues(
  ctx: ServiceContext,
  q: UsageQuery,
): Promise<Array<{ id: string; timestamp: number; value: Decimal | null; group: Record<string, string> }>> {
  const rows = await ctx.db
    .selectFrom('usage_events')
    .select(['id', 'timestamp', 'value', 'grp'])
    .where((eb) => inSeries(eb, ctx.organizationId, q.customerKeys, q.metric.code))
    .where((eb) => inTimeRange(eb, q.from, q.to))
    .where('metric_id', '=', q.metric.id)
    .where('value_error', 'is', null)
    .orderBy('timestamp')
    .orderBy('id')
    .execute();
  return rows
    .filter((r) => groupSelected(r.grp, q))
    .map((r) => ({
      id: r.id,
      timestamp: Number(r.timestamp),
      value: r.value === null ? null : Decimal.parse(r.value),
      group: parseGroup(r.grp),
    }));
}
