import { countAll } from '../../db/sql.js';
import { inList, lookUp, lookup, type Lookup } from '../../db/round-trips.js';
import type { BillableMetricsTable } from '../../db/schema.js';
import { BillfoldError, validation } from '../../domain/errors.js';
import { parseExpression, ExpressionError, type CompiledExpression } from '../../domain/expression.js';
import { looksLikeId, newId } from '../../domain/ids.js';
import { pageOffset, pagination, type PageRequest, type Pagination } from '../../domain/pagination.js';
import { toIso } from '../../domain/time.js';
import {
  RECURRING_TYPES,
  type AggregationType,
  type MetricDefinition,
  type MetricFilter,
  type RoundingFunction,
} from '../../domain/usage.js';
import { diff, recordActivity } from '../activity.js';
import type { ServiceContext } from '../context.js';
import { detachMetricEvents, rebuildMetric, type MetricRecord } from './aggregates.js';

/** Billable metrics (Lago's six aggregations): what to measure in usage events, and how. */

export interface MetricFields {
  code?: string;
  name?: string;
  description?: string | null;
  aggregation_type?: AggregationType;
  field_name?: string | null;
  recurring?: boolean;
  rounding_function?: RoundingFunction | null;
  rounding_precision?: number | null;
  expression?: string | null;
  weighted_interval?: 'seconds' | null;
  filters?: MetricFilter[];
}

export interface BillableMetricView {
  id: string;
  code: string;
  name: string;
  description: string | null;
  aggregation_type: AggregationType;
  field_name: string | null;
  recurring: boolean;
  rounding_function: RoundingFunction | null;
  rounding_precision: number | null;
  expression: string | null;
  weighted_interval: 'seconds' | null;
  filters: MetricFilter[];
  created_at: string;
  updated_at: string;
}

export function metricView(r: BillableMetricsTable): BillableMetricView {
  return {
    id: r.id,
    code: r.code,
    name: r.name,
    description: r.description,
    aggregation_type: r.aggregation_type as AggregationType,
    field_name: r.field_name,
    recurring: r.recurring === 1,
    rounding_function: r.rounding_function as RoundingFunction | null,
    rounding_precision: r.rounding_precision,
    expression: r.expression,
    weighted_interval: r.weighted_interval as 'seconds' | null,
    filters: JSON.parse(r.filters) as MetricFilter[],
    created_at: toIso(r.created_at),
    updated_at: toIso(r.updated_at),
  };
}

const compiled = new Map<string, CompiledExpression>();

/** The row as the aggregation code needs it; expressions are compiled once per version. */
export function metricRecord(r: BillableMetricsTable): MetricRecord {
  let expression: CompiledExpression | null = null;
  if (r.expression) {
    const key = `${r.id}@${r.updated_at}`;
    expression = compiled.get(key) ?? null;
    if (!expression) {
      expression = parseExpression(r.expression);
      if (compiled.size > 1000) compiled.clear();
      compiled.set(key, expression);
    }
  }
  const definition: MetricDefinition = {
    aggregation_type: r.aggregation_type as AggregationType,
    field_name: r.field_name,
    recurring: r.recurring === 1,
    rounding_function: r.rounding_function as RoundingFunction | null,
    rounding_precision: r.rounding_precision,
    filters: JSON.parse(r.filters) as MetricFilter[],
    expression,
  };
  return { id: r.id, code: r.code, definition };
}

export async function findMetric(
  ctx: ServiceContext,
  ref: string,
): Promise<BillableMetricsTable | undefined> {
  const base = ctx.db
    .selectFrom('billable_metrics')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('deleted_at', 'is', null);
  if (looksLikeId('billable_metric', ref)) {
    const byId = await base.where('id', '=', ref).executeTakeFirst();
    if (byId) return byId;
  }
  return base.where('code', '=', ref).executeTakeFirst();
}

export async function resolveMetric(
  ctx: ServiceContext,
  ref: string,
  field = 'code',
): Promise<BillableMetricsTable> {
  const row = await findMetric(ctx, ref);
  if (!row) {
    throw new BillfoldError(
      'NOT_FOUND',
      `${field}: no billable metric has the code or id '${ref}'`,
      { resource: 'billable_metric', field, ref },
      'list_billable_metrics shows the codes; create_billable_metric makes a new one.',
    );
  }
  return row;
}

/** Live metrics with these codes, by code. */
export function metricsByCodeLookup(
  ctx: ServiceContext,
  codes: readonly string[],
): Lookup<Map<string, BillableMetricsTable>> {
  return lookup(
    [
      codes.length === 0
        ? null
        : ctx.db
            .selectFrom('billable_metrics')
            .selectAll()
            .where('organization_id', '=', ctx.organizationId)
            .where('deleted_at', 'is', null)
            .where(inList(ctx.dialect, 'code', codes)),
    ],
    ([rows]) => new Map(rows.map((r) => [r.code, r])),
  );
}

export function metricsByCode(
  ctx: ServiceContext,
  codes: readonly string[],
): Promise<Map<string, BillableMetricsTable>> {
  return lookUp(ctx.db, metricsByCodeLookup(ctx, codes));
}

/** Checks the combination of fields a metric ends up with; each message names its field. */
function checkDefinition(m: Required<Omit<MetricFields, 'description' | 'name' | 'code'>>): void {
  const type = m.aggregation_type;
  if (type !== 'count_agg' && !m.field_name) {
    throw validation(
      'field_name',
      `is required for ${type}: name the event property to aggregate (e.g. "gb_used")`,
      'Only count_agg works without a field_name.',
    );
  }
  if (m.recurring && !RECURRING_TYPES.includes(type)) {
    throw validation(
      'recurring',
      `can be true only for ${RECURRING_TYPES.join(', ')} (got ${type})`,
      'A count, maximum or latest value starts afresh each period; set recurring to false.',
    );
  }
  if (m.rounding_precision !== null && !m.rounding_function) {
    throw validation('rounding_precision', 'needs rounding_function (round, ceil or floor)');
  }
  if (m.weighted_interval && type !== 'weighted_sum_agg') {
    throw validation('weighted_interval', `applies to weighted_sum_agg only (got ${type})`);
  }
  if (m.expression) {
    if (type === 'count_agg') {
      throw validation(
        'expression',
        'has no effect on count_agg, which counts events; remove it or pick another aggregation',
      );
    }
    try {
      parseExpression(m.expression);
    } catch (e) {
      if (e instanceof ExpressionError)
        throw validation('expression', e.message, 'Example: (ended_at - started_at) * units');
      throw e;
    }
  }
  const keys = new Set<string>();
  m.filters.forEach((f, i) => {
    if (keys.has(f.key))
      throw validation(
        `filters[${i}].key`,
        `'${f.key}' appears twice; give each key once with all its values`,
      );
    keys.add(f.key);
    const seen = new Set<string>();
    for (const v of f.values) {
      if (seen.has(v)) throw validation(`filters[${i}].values`, `'${v}' appears twice`);
      seen.add(v);
    }
  });
}

export async function createMetric(
  ctx: ServiceContext,
  input: MetricFields & { code: string; name: string; aggregation_type: AggregationType },
): Promise<{ billable_metric: BillableMetricView; events_counted: number }> {
  const def = {
    aggregation_type: input.aggregation_type,
    field_name: input.field_name ?? null,
    recurring: input.recurring ?? false,
    rounding_function: input.rounding_function ?? null,
    rounding_precision: input.rounding_precision ?? null,
    expression: input.expression ?? null,
    weighted_interval:
      input.weighted_interval ?? (input.aggregation_type === 'weighted_sum_agg' ? 'seconds' : null),
    filters: input.filters ?? [],
  } as const;
  checkDefinition(def);
  const existing = await findMetric(ctx, input.code);
  if (existing && existing.code === input.code) {
    throw new BillfoldError(
      'CONFLICT',
      `code: a billable metric with the code '${input.code}' already exists (${existing.id})`,
      { field: 'code', value: input.code, billable_metric_id: existing.id },
      'Use update_billable_metric to change it, or choose another code.',
    );
  }
  const now = ctx.now();
  const row: BillableMetricsTable = {
    id: newId('billable_metric', now),
    organization_id: ctx.organizationId,
    code: input.code,
    name: input.name,
    description: input.description ?? null,
    aggregation_type: def.aggregation_type,
    field_name: def.field_name,
    recurring: def.recurring ? 1 : 0,
    rounding_function: def.rounding_function,
    rounding_precision: def.rounding_precision,
    expression: def.expression,
    weighted_interval: def.weighted_interval,
    filters: JSON.stringify(def.filters),
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
  await ctx.db.insertInto('billable_metrics').values(row).execute();
  // Events that arrived before the metric existed were stored and wait for it: count them now.
  const counted = await rebuildMetric(ctx, metricRecord(row));
  const view = metricView(row);
  const { id: _id, created_at: _c, updated_at: _u, ...fields } = view;
  await recordActivity(ctx, {
    type: 'billable_metric.created',
    resourceType: 'billable_metric',
    resourceId: row.id,
    changes: { ...fields, ...(counted ? { events_counted: counted } : {}) },
  });
  return { billable_metric: view, events_counted: counted };
}

export async function getMetric(ctx: ServiceContext, ref: string): Promise<BillableMetricView> {
  return metricView(await resolveMetric(ctx, ref));
}

export async function listMetrics(
  ctx: ServiceContext,
  filter: { aggregation_type?: AggregationType; recurring?: boolean; search?: string },
  page: PageRequest,
): Promise<{ billable_metrics: BillableMetricView[]; pagination: Pagination }> {
  let q = ctx.db
    .selectFrom('billable_metrics')
    .where('organization_id', '=', ctx.organizationId)
    .where('deleted_at', 'is', null);
  if (filter.aggregation_type) q = q.where('aggregation_type', '=', filter.aggregation_type);
  if (filter.recurring !== undefined) q = q.where('recurring', '=', filter.recurring ? 1 : 0);
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll()
    .orderBy('id', 'desc')
    .limit(page.per_page)
    .offset(pageOffset(page))
    .execute();
  return { billable_metrics: rows.map(metricView), pagination: pagination(page, Number(count)) };
}

const DEFINING = ['code', 'aggregation_type', 'field_name', 'recurring', 'expression', 'filters'] as const;

export async function updateMetric(
  ctx: ServiceContext,
  ref: string,
  patch: MetricFields,
): Promise<{ billable_metric: BillableMetricView; events_counted: number | null }> {
  const existing = await resolveMetric(ctx, ref);
  const before = metricView(existing);
  const after: BillableMetricView = { ...before };
  for (const [k, v] of Object.entries(patch)) {
    if (v !== undefined) (after as unknown as Record<string, unknown>)[k] = v;
  }
  if (
    patch.aggregation_type &&
    patch.aggregation_type !== 'weighted_sum_agg' &&
    patch.weighted_interval === undefined
  ) {
    after.weighted_interval = null;
  }
  if (after.aggregation_type === 'weighted_sum_agg' && !after.weighted_interval)
    after.weighted_interval = 'seconds';
  if (after.rounding_function === null && patch.rounding_precision === undefined)
    after.rounding_precision = null;
  checkDefinition(after);
  if (after.code !== before.code) {
    const other = await findMetric(ctx, after.code);
    if (other && other.code === after.code) {
      throw new BillfoldError(
        'CONFLICT',
        `code: a billable metric with the code '${after.code}' already exists (${other.id})`,
        { field: 'code', value: after.code, billable_metric_id: other.id },
      );
    }
  }
  const fields = [
    'code',
    'name',
    'description',
    'aggregation_type',
    'field_name',
    'recurring',
    'rounding_function',
    'rounding_precision',
    'expression',
    'weighted_interval',
    'filters',
  ] as const;
  const changes = diff(before, after, fields);
  if (Object.keys(changes).length === 0) return { billable_metric: before, events_counted: null };
  const now = ctx.now();
  const row: BillableMetricsTable = {
    ...existing,
    code: after.code,
    name: after.name,
    description: after.description,
    aggregation_type: after.aggregation_type,
    field_name: after.field_name,
    recurring: after.recurring ? 1 : 0,
    rounding_function: after.rounding_function,
    rounding_precision: after.rounding_precision,
    expression: after.expression,
    weighted_interval: after.weighted_interval,
    filters: JSON.stringify(after.filters),
    updated_at: now,
  };
  const { id, organization_id, created_at: _c, deleted_at: _d, ...settable } = row;
  await ctx.db
    .updateTable('billable_metrics')
    .set(settable)
    .where('id', '=', id)
    .where('organization_id', '=', organization_id)
    .execute();
  let counted: number | null = null;
  if (DEFINING.some((f) => f in changes)) {
    if (after.code !== before.code) await detachMetricEvents(ctx, id);
    counted = await rebuildMetric(ctx, metricRecord(row));
  }
  await recordActivity(ctx, {
    type: 'billable_metric.updated',
    resourceType: 'billable_metric',
    resourceId: id,
    changes,
  });
  return { billable_metric: metricView(row), events_counted: counted };
}

export async function deleteMetric(ctx: ServiceContext, ref: string): Promise<BillableMetricView> {
  const existing = await resolveMetric(ctx, ref);
  const now = ctx.now();
  await ctx.db
    .updateTable('billable_metrics')
    .set({ deleted_at: now, updated_at: now })
    .where('id', '=', existing.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  await detachMetricEvents(ctx, existing.id);
  await recordActivity(ctx, {
    type: 'billable_metric.deleted',
    resourceType: 'billable_metric',
    resourceId: existing.id,
    changes: { deleted_at: [null, toIso(now)] },
  });
  return metricView({ ...existing, deleted_at: now, updated_at: now });
}
