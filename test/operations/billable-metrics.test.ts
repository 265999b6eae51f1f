import { expect, it } from 'vitest';
import { describeDoors } from '../harness/suite.js';

describeDoors('billable metrics', (t) => {
  it('creates, reads by code, lists with filters, updates and deletes a metric', async () => {
    const { billable_metric: m, events_counted } = await t.door.ok('create_billable_metric', {
      code: 'storage_gb',
      name: 'Storage Usage',
      description: 'Tracks storage usage in gigabytes',
      aggregation_type: 'sum_agg',
      field_name: 'gb_used',
      recurring: false,
      rounding_function: 'round',
      rounding_precision: 2,
      filters: [{ key: 'region', values: ['us-east-1', 'eu-west-1'] }],
    });
    expect(events_counted).toBe(0);
    expect(m).toMatchObject({
      code: 'storage_gb',
      aggregation_type: 'sum_agg',
      field_name: 'gb_used',
      recurring: false,
      rounding_function: 'round',
      rounding_precision: 2,
      expression: null,
      weighted_interval: null,
      filters: [{ key: 'region', values: ['us-east-1', 'eu-west-1'] }],
    });
    expect(m.id).toMatch(/^bm_/);
    await t.door.ok('create_billable_metric', {
      code: 'seats',
      name: 'Seats',
      aggregation_type: 'unique_count_agg',
      field_name: 'seat',
      recurring: true,
    });
    expect((await t.door.ok('get_billable_metric', { code: 'storage_gb' })).billable_metric).toEqual(m);
    const recurring = await t.door.ok('list_billable_metrics', { recurring: true });
    expect(recurring.billable_metrics.map((b: { code: string }) => b.code)).toEqual(['seats']);
    const sums = await t.door.ok('list_billable_metrics', { aggregation_type: 'sum_agg', per_page: 10 });
    expect(sums.pagination).toMatchObject({ total_count: 1, current_page: 1 });
    const updated = await t.door.ok('update_billable_metric', {
      code: 'storage_gb',
      name: 'Storage',
      rounding_function: null,
    });
    expect(updated.billable_metric).toMatchObject({
      name: 'Storage',
      rounding_function: null,
      rounding_precision: null,
    });
    expect(updated.events_counted).toBeNull();
    await t.door.ok('delete_billable_metric', { code: 'seats' });
    await t.door.fail('get_billable_metric', { code: 'seats' }, 'NOT_FOUND');
    // The code is free again.
    await t.door.ok('create_billable_metric', {
      code: 'seats',
      name: 'Seats',
      aggregation_type: 'count_agg',
    });
  });

  it('explains what is wrong with a definition, naming the field', async () => {
    const fail = async (args: Record<string, unknown>, code = 'VALIDATION_ERROR' as const) =>
      (await t.door.fail('create_billable_metric', { name: 'X', ...args }, code)).message;
    expect(await fail({ code: 'v1', aggregation_type: 'sum_agg' })).toMatch(
      /^field_name: is required for sum_agg/,
    );
    expect(await fail({ code: 'v2', aggregation_type: 'max_agg', field_name: 'x', recurring: true })).toMatch(
      /^recurring: can be true only for sum_agg, unique_count_agg, weighted_sum_agg/,
    );
    expect(
      await fail({ code: 'v3', aggregation_type: 'sum_agg', field_name: 'x', expression: '(a + b' }),
    ).toMatch(/^expression: expected '\)' at position 7/);
    expect(
      await fail({ code: 'v4', aggregation_type: 'sum_agg', field_name: 'x', expression: 'system(1)' }),
    ).toMatch(/^expression: unknown function 'system'/);
    expect(await fail({ code: 'v5', aggregation_type: 'median_agg' })).toMatch(
      /aggregation_type must be one of count_agg, sum_agg, max_agg, unique_count_agg, weighted_sum_agg, latest_agg \(got 'median_agg'\)/,
    );
    expect(await fail({ code: 'v6', aggregation_type: 'count_agg', rounding_precision: 2 })).toMatch(
      /^rounding_precision: needs rounding_function/,
    );
    expect(
      await fail({
        code: 'v7',
        aggregation_type: 'count_agg',
        filters: [
          { key: 'r', values: ['a'] },
          { key: 'r', values: ['b'] },
        ],
      }),
    ).toMatch(/^filters\[1\]\.key: 'r' appears twice/);
    await t.door.ok('create_billable_metric', { code: 'dup', name: 'Dup', aggregation_type: 'count_agg' });
    expect(await fail({ code: 'dup', aggregation_type: 'count_agg' }, 'CONFLICT' as never)).toMatch(
      /^code: a billable metric with the code 'dup' already exists/,
    );
  });
});
