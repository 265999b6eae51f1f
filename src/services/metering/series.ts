import { sql, type Expression, type ExpressionBuilder, type RawBuilder, type SqlBool } from 'kysely';
import type { Db } from '../../db/connection.js';
import type { Database } from '../../db/schema.js';
import { seriesId } from '../../domain/usage.js';
import type { ServiceContext } from '../context.js';
import { prepared, sqliteHandle } from './raw.js';

/**
 * Series: the (organization, customer key, code) an event belongs to, as one number
 * (domain/usage.ts seriesId). Ingestion stamps it on each event and makes sure `usage_series`
 * lists it; per-customer readers find events through `usage_events_series (series, hour)`.
 */

/** Series known to be listed in usage_series, per database: most batches add none. */
const listed = new WeakMap<Db, Set<string>>();
/** Beyond this many, the set starts over (a few MB); a series seen again is listed again, harmlessly. */
const MAX_LISTED = 100_000;

export interface NewSeries {
  key: string;
  customerKey: string;
  code: string;
  id: number;
}

/**
 * The series of (customer key, code) for this organization, computed once per batch for each
 * pair; `fresh` collects those not yet known to be listed (see listSeries).
 */
export class SeriesOfBatch {
  private readonly ids = new Map<string, number>();
  readonly fresh: NewSeries[] = [];
  private readonly known: Set<string>;
  constructor(private readonly ctx: ServiceContext) {
    let set = listed.get(ctx.env.db);
    if (!set) {
      set = new Set();
      listed.set(ctx.env.db, set);
    }
    this.known = set;
  }

  of(customerKey: string, code: string): number {
    const key = `${customerKey}\u0000${code}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = seriesId(this.ctx.organizationId, customerKey, code);
      this.ids.set(key, id);
      if (!this.known.has(`${this.ctx.organizationId}\u0000${key}`))
        this.fresh.push({ key, customerKey, code, id });
    }
    return id;
  }
}

/**
 * Lists the batch's new series in usage_series, in its transaction: on SQLite now, on
 * PostgreSQL as the returned statement (for the batch's one write statement). Once committed
 * they are remembered, so the next batches of the same customers write nothing; a rolled-back
 * batch leaves them unremembered, to be listed again.
 */
export function listSeries(ctx: ServiceContext, fresh: readonly NewSeries[]): RawBuilder<unknown> | null {
  if (fresh.length === 0) return null;
  ctx.afterCommit(() => {
    const set = listed.get(ctx.env.db)!;
    if (set.size + fresh.length > MAX_LISTED) set.clear();
    for (const s of fresh) set.add(`${ctx.organizationId}\u0000${s.key}`);
  });
  const raw = sqliteHandle(ctx);
  if (raw) {
    const put = prepared(
      raw,
      'INSERT INTO usage_series (organization_id, customer_key, code, id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    );
    for (const s of fresh) put.run(ctx.organizationId, s.customerKey, s.code, s.id);
    return null;
  }
  return sql`INSERT INTO usage_series (organization_id, customer_key, code, id)
    SELECT ${ctx.organizationId}::text, k.c, k.d, k.i
    FROM unnest(${fresh.map((s) => s.customerKey)}::text[], ${fresh.map((s) => s.code)}::text[],
      ${fresh.map((s) => s.id)}::bigint[]) AS k(c, d, i)
    ON CONFLICT DO NOTHING`;
}

type EventsBuilder = ExpressionBuilder<Database, 'usage_events'>;

/**
 * The events' organization, as an expression: a plain `organization_id = ?` beside a series
 * condition leads both databases' planners (SQLite without statistics, PostgreSQL on a young
 * table) to the organization's time index, which holds every customer's events; as an
 * expression it only checks each row found through the series index.
 */
function sameOrganization(eb: EventsBuilder, organizationId: string): Expression<SqlBool> {
  return eb(sql`organization_id || ''`, '=', organizationId);
}

/** The events of these customer keys and this code (what one customer's usage of a metric is stored under). */
export function inSeries(
  eb: EventsBuilder,
  organizationId: string,
  customerKeys: readonly string[],
  code: string,
): Expression<SqlBool> {
  const ids = [...new Set(customerKeys.map((k) => seriesId(organizationId, k, code)))];
  return eb.and([
    eb('series', 'in', ids),
    sameOrganization(eb, organizationId),
    // A series number two triples share brings the other's events too: these leave them out.
    eb('customer_key', 'in', [...customerKeys]),
    eb('code', '=', code),
  ]);
}

/** The events of these customer keys, of every code: their series come from usage_series. */
export function inCustomerSeries(
  eb: EventsBuilder,
  organizationId: string,
  customerKeys: readonly string[],
): Expression<SqlBool> {
  return eb.and([
    eb(
      'series',
      'in',
      eb
        .selectFrom('usage_series')
        .select('usage_series.id')
        .where('usage_series.organization_id', '=', organizationId)
        .where('usage_series.customer_key', 'in', [...customerKeys]),
    ),
    sameOrganization(eb, organizationId),
    eb('customer_key', 'in', [...customerKeys]),
  ]);
}
