import { Decimal } from '../../domain/decimal.js';
import type { ServiceContext } from '../context.js';
import { aggregateUsage, eventValues, type GroupUsage, type MetricRecord } from '../metering/aggregates.js';
import { metricRecord } from '../metering/metrics.js';
import type { BucketUsage, ChargeUsage } from './lines.js';
import type { ChargeRecord } from './records.js';

/**
 * The usage behind a charge over a window, split by the charge's filters. A filter's units are
 * aggregated with the filter as the selection (exact for every aggregation). Events matching no
 * filter form the rest: their groups are combined by the metric's aggregation — added up for
 * counts, sums and unique counts, the largest for max and latest (a group's latest value is not
 * comparable in time across groups once aggregated).
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

function combine(metric: MetricRecord, groups: GroupUsage[]): Decimal {
  const type = metric.definition.aggregation_type;
  if (type === 'max_agg' || type === 'latest_agg')
    return groups.reduce((m, g) => (g.units.gt(m) ? g.units : m), Decimal.ZERO);
  return Decimal.sum(groups.map((g) => g.units));
}

export async function chargeUsage(
  ctx: ServiceContext,
  customerKeys: string[],
  metric: MetricRecord,
  charge: ChargeRecord,
  window: Window,
): Promise<ChargeUsage> {
  const q = { customerKeys, metric, from: window.from, to: window.to };
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
  const all = await aggregateUsage(ctx, q);
  if (!charge.filters.length) {
    return {
      filters: [],
      rest: {
        units: all.units,
        eventCount: all.eventCount,
        transactions: [],
        proratedUnits: periodShare(all.proratedUnits, window),
      },
    };
  }
  const filters: BucketUsage[] = [];
  for (const f of charge.filters) {
    const r = await aggregateUsage(ctx, { ...q, filters: f.values });
    filters.push({
      units: r.units,
      eventCount: r.eventCount,
      transactions: [],
      proratedUnits: periodShare(r.proratedUnits, window),
    });
  }
  const restGroups = all.groups.filter((g) => !charge.filters.some((f) => matches(g.group, f.values)));
  const filteredProrated = filters.reduce<Decimal | null>(
    (s, b) => (b.proratedUnits === null || s === null ? null : s.add(b.proratedUnits)),
    Decimal.ZERO,
  );
  const allProrated = periodShare(all.proratedUnits, window);
  return {
    filters,
    rest: {
      units: combine(metric, restGroups),
      eventCount: restGroups.reduce((n, g) => n + g.eventCount, 0),
      transactions: [],
      proratedUnits:
        allProrated === null || filteredProrated === null
          ? null
          : Decimal.max(allProrated.sub(filteredProrated), Decimal.ZERO),
    },
  };
}
