import type BetterSqlite3 from 'better-sqlite3';
import type { Db } from '../../db/connection.js';
import { Decimal } from '../../domain/decimal.js';
import { Partial } from '../../domain/usage.js';
import { prepared } from './raw.js';

/**
 * SQLite: what the aggregate rows that ingestion keeps adding to hold, kept in memory, so that a
 * batch writes each row's new values instead of asking SQLite to add them up. An upsert that
 * adds (its decimal functions call back into JavaScript, its CASEs pick the latest value) took
 * 8 µs a row; writing known values takes 2.5, and real-time ingestion writes the same few
 * hundred rows (this hour's and today's, per customer and filter group) batch after batch.
 *
 * The memory must never hold what the database does not, so it is dropped whole whenever that
 * may be so:
 * - written work of this process was undone (a rollback, a failed commit: Db.writesUndone),
 *   since the rows a rolled-back batch wrote went back to their earlier values;
 * - another process wrote to the database (SQLite's data_version changed);
 * - this process changed aggregates another way (clearing a metric's: forget()).
 * PostgreSQL has many writers at once and adds up in the upsert itself (aggregates.ts).
 */

export type BucketTable = 'usage_buckets' | 'usage_buckets_daily';

/** Rows kept at most; beyond, the oldest go (a row is read back when written again). */
const MAX_ROWS = 20_000;

interface Memory {
  rows: Map<string, Partial>;
  undone: number;
  dataVersion: number;
}

const memories = new WeakMap<Db, Memory>();

export interface BucketKey {
  metricId: string;
  customerKey: string;
  grp: string;
  bucket: number;
}

/**
 * The rows of one database as of now, for one batch's writes inside its transaction: `add`
 * adds a batch's partial to a row and writes the sum.
 */
export class StoredBuckets {
  private readonly memory: Memory;
  constructor(
    private readonly db: Db,
    private readonly raw: BetterSqlite3.Database,
    private readonly organizationId: string,
  ) {
    const undone = db.writesUndone?.() ?? 0;
    const dataVersion = prepared(raw, 'PRAGMA data_version').pluck().get() as number;
    let m = memories.get(db);
    if (!m || m.undone !== undone || m.dataVersion !== dataVersion) {
      m = { rows: new Map(), undone, dataVersion };
      memories.set(db, m);
    }
    this.memory = m;
  }

  /** Adds `delta` to the stored row (made if missing) and writes the result. */
  add(table: BucketTable, key: BucketKey, delta: Partial): void {
    const id = `${table}\u0000${this.organizationId}\u0000${key.metricId}\u0000${key.customerKey}\u0000${key.grp}\u0000${key.bucket}`;
    const rows = this.memory.rows;
    let row = rows.get(id);
    if (row) rows.delete(id);
    else row = this.read(table, key);
    row.merge(delta);
    prepared(
      this.raw,
      `INSERT OR REPLACE INTO ${table} (organization_id, metric_id, customer_key, grp, bucket, shard, event_count, sum, sum_dt, max, latest_ts, latest_id, latest_value) VALUES (?,?,?,?,?,0,?,?,?,?,?,?,?)`,
    ).run(
      this.organizationId,
      key.metricId,
      key.customerKey,
      key.grp,
      key.bucket,
      row.count,
      row.sum.toString(),
      row.sumDt.toString(),
      row.max?.toString() ?? null,
      row.latestTs,
      row.latestId,
      row.latestValue?.toString() ?? null,
    );
    // Most recently written last, so the oldest is the first to go.
    rows.set(id, row);
    if (rows.size > MAX_ROWS) rows.delete(rows.keys().next().value!);
  }

  private read(table: BucketTable, key: BucketKey): Partial {
    const r = prepared(
      this.raw,
      `SELECT event_count, sum, sum_dt, max, latest_ts, latest_id, latest_value FROM ${table} WHERE organization_id = ? AND metric_id = ? AND customer_key = ? AND grp = ? AND bucket = ? AND shard = 0`,
    ).get(this.organizationId, key.metricId, key.customerKey, key.grp, key.bucket) as
      | {
          event_count: number;
          sum: string;
          sum_dt: string;
          max: string | null;
          latest_ts: number | null;
          latest_id: string | null;
          latest_value: string | null;
        }
      | undefined;
    const p = new Partial();
    if (r) {
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
    return p;
  }
}

/** This process changed a database's aggregates other than through StoredBuckets: forget them. */
export function forgetStoredBuckets(db: Db): void {
  memories.delete(db);
}
