import { lagoId } from '../ids.js';
import { meta, type LagoCall } from '../call.js';
import { Fields } from '../request.js';
import type { LagoRoute } from '../router.js';
import { lagoTime } from '../shapes.js';

const SAME_NAME = [
  'name',
  'code',
  'description',
  'aggregation_type',
  'field_name',
  'recurring',
  'rounding_function',
  'rounding_precision',
  'expression',
  'weighted_interval',
] as const;

export function billableMetricObject(m: Record<string, any>): Record<string, unknown> {
  const out: Record<string, unknown> = { lago_id: lagoId(m.id) };
  for (const k of SAME_NAME) out[k] = m[k] ?? null;
  out.filters = m.filters;
  out.created_at = lagoTime(m.created_at);
  return out;
}

function metricInput(f: Fields, update: boolean): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const k of SAME_NAME) {
    if (update && k === 'code') f.copy(args, 'code', 'new_code');
    else f.copy(args, k);
  }
  // Lago writes `recurring: null` for "not recurring"; Billfold takes a boolean.
  if (args.recurring === null) delete args.recurring;
  const filters = f.list('filters');
  if (filters) {
    args.filters = filters.map((filter) => {
      const out = { key: filter.get('key'), values: filter.get('values') };
      filter.done();
      return out;
    });
  }
  f.done();
  return args;
}

export const billableMetricRoutes: LagoRoute[] = [
  {
    method: 'POST',
    path: '/billable_metrics',
    async handle(call) {
      const args = metricInput(Fields.root(call.body, 'billable_metric'), false);
      const { billable_metric } = await call.op('create_billable_metric', args, 'billable_metric');
      return { billable_metric: billableMetricObject(billable_metric) };
    },
  },
  {
    method: 'PUT',
    path: '/billable_metrics/{code}',
    async handle(call, [code]) {
      const args = { code, ...metricInput(Fields.root(call.body, 'billable_metric'), true) };
      const { billable_metric } = await call.op('update_billable_metric', args, 'billable_metric', {
        new_code: 'billable_metric.code',
      });
      return { billable_metric: billableMetricObject(billable_metric) };
    },
  },
  {
    method: 'GET',
    path: '/billable_metrics/{code}',
    async handle(call, [code]) {
      call.query.done();
      const { billable_metric } = await call.op('get_billable_metric', { code }, 'billable_metric');
      return { billable_metric: billableMetricObject(billable_metric) };
    },
  },
  {
    method: 'DELETE',
    path: '/billable_metrics/{code}',
    async handle(call, [code]) {
      call.query.done();
      const { billable_metric } = await call.op('delete_billable_metric', { code }, 'billable_metric');
      return { billable_metric: billableMetricObject(billable_metric) };
    },
  },
  {
    method: 'GET',
    path: '/billable_metrics',
    async handle(call: LagoCall) {
      const q = call.query;
      const args: Record<string, unknown> = { ...q.page() };
      const type = q.str('aggregation_type');
      if (type) args.aggregation_type = type;
      const recurring = q.bool('recurring');
      if (recurring !== undefined) args.recurring = recurring;
      q.done();
      const out = await call.op('list_billable_metrics', args, 'billable_metric');
      return { billable_metrics: out.billable_metrics.map(billableMetricObject), meta: meta(out.pagination) };
    },
  },
];
