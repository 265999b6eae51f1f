import { Decimal } from '../../domain/decimal.js';
import { AGENT_GROUP_KEY } from '../../domain/usage.js';
import type { ServiceContext } from '../context.js';
import { aggregateUsage, eventValues, type MetricRecord, type UsageQuery } from '../metering/aggregates.js';
import { metricRecord } from '../metering/metrics.js';
import type { BucketUsage, ChargeUsage } from './lines.js';
import type { ChargeRecord } from './records.js';

/**
 * The usage behind a charge over a window, split by the charge's filters. A filter's units are
 * aggregated with the filter as the selection (exact for every aggregation). Events matching no
 * filter form the rest, aggregated as the selection of groups no filter matches (exact too).
 */

/** Billable metrics by id, as aggregation records. */
export async function metricsById(
  ctx: ServiceContext,
  ids: readonly string[],
): Promise<Map<string, MetricRecord>> {
  const unique = [...new Set(ids)];
  if (!unique.length) return new Map();
  const rows = await ctx.db
    .selectFrom('billable_metrics')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('id', 'in', unique)
    .execute();
  return new Map(rows.map((r) => [r.id, metricRecord(r)]));
}

function matches(group: Record<string, string>, selection: Record<string, readonly string[]>): boolean {
  return Object.entries(selection).every(
    ([k, values]) => group[k] !== undefined && values.includes(group[k]!),
  );
}

const EMPTY: BucketUsage = { units: Decimal.ZERO, eventCount: 0, transactions: [], proratedUnits: null };

/**
 * Prorated units over the window, as a share of the whole period: a seat present for the whole
 * window of a half-covered period counts ½.
 */
function periodShare(prorated: Decimal | null, window: Window): Decimal | null {
  if (prorated === null) return null;
  const windowMs = window.to - window.from;
  const periodMs = window.periodTo - window.periodFrom;
  if (windowMs === periodMs) return prorated;
  return prorated.mul(Decimal.fromInt(windowMs)).div(Decimal.fromInt(periodMs), 20, 'half_up').normalize();
}

export interface Window {
  from: number;
  to: number;
  periodFrom: number;
  periodTo: number;
}

/**
 * `agentCode`: only that agent's usage (a subscription scoped to an agent); null: all of it. It
 * narrows every selection, the charge's filters included.
 */
export async function chargeUsage(
  ctx: ServiceContext,
  customerKeys: string[],
  metric: MetricRecord,
  charge: ChargeRecord,
  window: Window,
  agentCode: string | null = null,
): Promise<ChargeUsage> {
  const agent: Record<string, readonly string[]> =
    agentCode === null ? {} : { [AGENT_GROUP_KEY]: [agentCode] };
  const q: UsageQuery = {
    customerKeys,
    metric,
    from: window.from,
    to: window.to,
    filters: agentCode === null ? undefined : agent,
  };
  if (window.from >= window.to) return { filters: charge.filters.map(() => EMPTY), rest: EMPTY };
  if (charge.chargeModel === 'percentage' || charge.filters.some((f) => f.model.model === 'percentage')) {
    // Percentage prices each transaction: read the events once and split them by filter.
    const events = await eventValues(ctx, q);
    const buckets: BucketUsage[] = charge.filters.map(() => ({ ...EMPTY, transactions: [] }));
    const rest: BucketUsage = { ...EMPTY, transactions: [] };
    for (const e of events) {
      const i = charge.filters.findIndex((f) => matches(e.group, f.values));
      const b = i >= 0 ? buckets[i]! : rest;
      b.eventCount++;
      if (e.value !== null) {
        b.transactions.push(e.value);
        b.units = b.units.add(e.value);
      }
    }
    return { filters: buckets, rest };
  }
  const bucket = (r: Awaited<ReturnType<typeof aggregateUsage>>): BucketUsage => ({
    units: r.units,
    eventCount: r.eventCount,
    transactions: [],
    proratedUnits: periodShare(r.proratedUnits, window),
  });
  if (!charge.filters.length) return { filters: [], rest: bucket(await aggregateUsage(ctx, q)) };
  const filters: BucketUsage[] = [];
  for (const f of charge.filters)
    filters.push(bucket(await aggregateUsage(ctx, { ...q, filters: { ...f.values, ...agent } })));
  // The rest is aggregated as its own selection, so a unique value, a maximum or a latest value
  // across the groups no filter takes is exact.
  const rest = await aggregateUsage(ctx, { ...q, exclude: charge.filters.map((f) => f.values) });
  return { filters, rest: bucket(rest) };
}
