import type { BillableMetricsTable } from '../../db/schema.js';
import { Decimal } from '../../domain/decimal.js';
import { validation } from '../../domain/errors.js';
import { addMonthsToDate, dateInZone, startOfDayInZone, toIso } from '../../domain/time.js';
import type { AggregationType } from '../../domain/usage.js';
import type { ServiceContext } from '../context.js';
import { resolveCustomer } from '../customers.js';
import { aggregateUsage, eventValues, type UsageResult } from './aggregates.js';
import { usageKeys } from './customer-keys.js';
import { metricRecord, resolveMetric } from './metrics.js';
import { chargeAmountsSoFar, type ChargeAmountView } from '../billing/usage-amounts.js';

/** A customer's usage per billable metric over a period (default: this calendar month). */

export interface UsageBreakdownView {
  filters: Record<string, string>;
  units: string;
  event_count: number;
  /** This group's units over the metric's (fraction 0-1, 4 decimals); null when the total is 0. */
  share: string | null;
}

export interface MetricUsageView {
  billable_metric_id: string;
  code: string;
  name: string;
  aggregation_type: AggregationType;
  recurring: boolean;
  units: string;
  exact_units: string;
  event_count: number;
  prorated_units: string | null;
  breakdown: UsageBreakdownView[];
  /** The charges pricing this metric on the customer's active subscriptions, so far this period. */
  charges: ChargeAmountView[];
}

/** The current calendar month in a time zone, as [from, to) epoch ms. */
export function currentMonth(now: number, tz: string): { from: number; to: number } {
  const first = `${dateInZone(now, tz).slice(0, 7)}-01`;
  return { from: startOfDayInZone(first, tz), to: startOfDayInZone(addMonthsToDate(first, 1), tz) };
}

function share(part: Decimal, total: Decimal): string | null {
  if (total.isZero()) return null;
  return part.div(total, 4, 'half_up').toFixed(4);
}

export function usageView(row: BillableMetricsTable, r: UsageResult): MetricUsageView {
  const total = r.groups.reduce((s, g) => s.add(g.exactUnits), Decimal.ZERO);
  return {
    billable_metric_id: row.id,
    code: row.code,
    name: row.name,
    aggregation_type: row.aggregation_type as AggregationType,
    recurring: row.recurring === 1,
    units: r.units.toString(),
    exact_units: r.exactUnits.toString(),
    event_count: r.eventCount,
    prorated_units: r.proratedUnits?.toString() ?? null,
    charges: [],
    breakdown:
      row.filters === '[]'
        ? []
        : r.groups.map((g) => ({
            filters: g.group,
            units: g.units.toString(),
            event_count: g.eventCount,
            share: share(g.exactUnits, total),
          })),
  };
}

/**
 * For the pricing layer: a metric's units for one customer over [from, to), optionally only
 * for events whose filter values match `filters`. `customerKeys`: customer-keys.usageKeys.
 */
export async function usageForCustomer(
  ctx: ServiceContext,
  input: {
    customerKeys: string[];
    metric: BillableMetricsTable;
    from: number;
    to: number;
    filters?: Record<string, readonly string[]>;
  },
): Promise<UsageResult> {
  return aggregateUsage(ctx, {
    customerKeys: input.customerKeys,
    metric: metricRecord(input.metric),
    from: input.from,
    to: input.to,
    filters: input.filters,
  });
}

/** Per-event values for charges that price single events (percentage with per-transaction bounds). */
export async function eventValuesForCustomer(
  ctx: ServiceContext,
  input: {
    customerKeys: string[];
    metric: BillableMetricsTable;
    from: number;
    to: number;
  },
) {
  return eventValues(ctx, {
    customerKeys: input.customerKeys,
    metric: metricRecord(input.metric),
    from: input.from,
    to: input.to,
  });
}

export async function getCustomerUsage(
  ctx: ServiceContext,
  input: { customer_id: string; from?: number; to?: number; metric_code?: string },
): Promise<{
  customer_id: string;
  external_customer_id: string | null;
  from: string;
  to: string;
  timezone: string;
  metrics: MetricUsageView[];
}> {
  const customer = await resolveCustomer(ctx, input.customer_id);
  const tz = customer.timezone ?? (await ctx.organization()).timezone;
  const month = currentMonth(ctx.now(), tz);
  const from = input.from ?? (input.to !== undefined ? undefined : month.from);
  const to = input.to ?? (input.from !== undefined ? undefined : month.to);
  if (from === undefined || to === undefined) {
    throw validation(
      input.from === undefined ? 'from' : 'to',
      'give both from and to, or neither for the current calendar month',
    );
  }
  if (from >= to) throw validation('to', `must be after from (${toIso(from)})`);
  // Reads that do not depend on each other run side by side (on PostgreSQL, on the pool's
  // connections): each is a round trip, and a usage read is mostly round trips.
  const [metrics, keys] = await Promise.all([
    input.metric_code
      ? resolveMetric(ctx, input.metric_code, 'metric_code').then((m) => [m])
      : ctx.db
          .selectFrom('billable_metrics')
          .selectAll()
          .where('organization_id', '=', ctx.organizationId)
          .where('deleted_at', 'is', null)
          .orderBy('code')
          .execute(),
    usageKeys(ctx, customer),
  ]);
  const [amounts, usages] = await Promise.all([
    chargeAmountsSoFar(ctx, customer, new Set(metrics.map((m) => m.id)), keys),
    Promise.all(metrics.map((m) => usageForCustomer(ctx, { customerKeys: keys, metric: m, from, to }))),
  ]);
  const views = metrics.map((m, i) => {
    const view = usageView(m, usages[i]!);
    view.charges = amounts.get(m.id) ?? [];
    return view;
  });
  return {
    customer_id: customer.id,
    external_customer_id: customer.external_id,
    from: toIso(from),
    to: toIso(to),
    timezone: tz,
    metrics: views,
  };
}
