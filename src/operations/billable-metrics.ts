import * as z from 'zod';
import * as metrics from '../services/metering/metrics.js';
import { CREATE, DELETE, READ, UPDATE, defineOperation } from './define.js';
import { Pagination, page } from './schemas/common.js';
import { AggregationType, BillableMetric, MetricCode, metricFields } from './schemas/metering.js';

const group = 'billable metrics';

const MetricRef = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .describe('The metric code (e.g. "storage_gb") or its Billfold id (bm_…)');

export const createBillableMetric = defineOperation({
  name: 'create_billable_metric',
  title: 'Create a billable metric',
  description:
    'Defines what to measure in usage events and how to aggregate it per customer and period. `code` is what ' +
    'events send in `code`; `field_name` is the property aggregated (not needed for count_agg). `recurring` ' +
    '(sum_agg, unique_count_agg, weighted_sum_agg) carries the value over from earlier periods; for ' +
    'unique_count_agg an event with properties.operation_type "remove" removes a value. `expression` computes ' +
    'field_name per event from other properties. `filters` break usage down by property values (e.g. region). ' +
    'Events already received with this code start counting at once (`events_counted`).',
  group,
  scope: 'write',
  annotations: CREATE,
  input: z.strictObject({ code: MetricCode, ...metricFields }),
  output: z.object({ billable_metric: BillableMetric, events_counted: z.int() }),
  handler: (ctx, input) => metrics.createMetric(ctx, input),
});

export const getBillableMetric = defineOperation({
  name: 'get_billable_metric',
  title: 'Get a billable metric',
  description:
    'Returns one billable metric — how its events are aggregated (aggregation_type, field_name, expression, recurring, rounding) and its filters — by its code or Billfold id (bm_…).',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({ code: MetricRef }),
  output: z.object({ billable_metric: BillableMetric }),
  handler: async (ctx, input) => ({ billable_metric: await metrics.getMetric(ctx, input.code) }),
});

export const listBillableMetrics = defineOperation({
  name: 'list_billable_metrics',
  title: 'List billable metrics',
  description:
    'Lists billable metrics, newest first, optionally only one aggregation_type or only recurring ones.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    aggregation_type: AggregationType.optional(),
    recurring: z.boolean().optional(),
    ...page,
  }),
  output: z.object({ billable_metrics: z.array(BillableMetric), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, ...f }) => metrics.listMetrics(ctx, f, { page: p, per_page }),
});

export const updateBillableMetric = defineOperation({
  name: 'update_billable_metric',
  title: 'Update a billable metric',
  description:
    'Changes the fields you pass. Changing how it aggregates (aggregation_type, field_name, recurring, expression, ' +
    'filters or code) recomputes its usage from the stored events; `events_counted` says how many were read.',
  group,
  scope: 'write',
  annotations: UPDATE,
  input: z.strictObject({
    code: MetricRef,
    new_code: MetricCode.optional().describe('A new code; events with the old code stop counting toward it'),
    ...(Object.fromEntries(
      Object.entries(metricFields).map(([k, v]) => [k, (v as z.ZodType).optional()]),
    ) as { [K in keyof typeof metricFields]: z.ZodOptional<(typeof metricFields)[K]> }),
  }),
  output: z.object({ billable_metric: BillableMetric, events_counted: z.int().nullable() }),
  handler: (ctx, { code, new_code, ...patch }) =>
    metrics.updateMetric(ctx, code, {
      ...patch,
      ...(new_code ? { code: new_code } : {}),
    } as metrics.MetricFields),
});

export const deleteBillableMetric = defineOperation({
  name: 'delete_billable_metric',
  title: 'Delete a billable metric',
  description:
    'Deletes a billable metric. Its events stay stored and show as an unknown metric code in get_needs_attention; ' +
    'creating a metric with the same code again counts them again.',
  group,
  scope: 'write',
  annotations: DELETE,
  input: z.strictObject({ code: MetricRef }),
  output: z.object({ billable_metric: BillableMetric, deleted: z.literal(true) }),
  handler: async (ctx, input) => ({
    billable_metric: await metrics.deleteMetric(ctx, input.code),
    deleted: true as const,
  }),
});

export const billableMetricOperations = [
  createBillableMetric,
  getBillableMetric,
  listBillableMetrics,
  updateBillableMetric,
  deleteBillableMetric,
];
