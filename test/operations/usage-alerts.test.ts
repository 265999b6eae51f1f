import { beforeAll, expect, it } from 'vitest';
import { describeDoors } from '../harness/suite.js';

/** Usage alerts through every door and both databases; when they fire: webhook-notices.test.ts. */
describeDoors('usage alerts', (t) => {
  beforeAll(async () => {
    await t.door.ok('update_organization', { timezone: 'UTC', default_currency: 'EUR' });
    await t.door.ok('create_billable_metric', {
      code: 'tokens',
      name: 'Tokens',
      aggregation_type: 'sum_agg',
      field_name: 'n',
    });
    await t.door.ok('create_billable_metric', {
      code: 'seats',
      name: 'Seats',
      aggregation_type: 'count_agg',
    });
    await t.door.ok('create_plan', {
      code: 'ai',
      name: 'AI',
      interval: 'monthly',
      currency: 'EUR',
      amount: '10',
      charges: [
        { billable_metric_code: 'tokens', charge_model: 'standard', properties: { amount: '0.001' } },
      ],
    });
    await t.door.ok('create_customer', { external_id: 'acme', name: 'Acme', currency: 'EUR' });
    await t.door.ok('create_customer', { external_id: 'bare', name: 'No currency' });
    await t.door.ok('create_subscription', { customer_id: 'acme', plan_code: 'ai', external_id: 'acme-ai' });
  });

  it('creates alerts on a subscription or a customer, retries by code, lists and deletes them', async () => {
    const created = await t.door.ok('create_usage_alert', {
      subscription_id: 'acme-ai',
      billable_metric_code: 'tokens',
      threshold_type: 'amount',
      threshold: '25',
      code: 'acme-25-eur',
      name: 'Acme spends 25 EUR on tokens',
    });
    expect(created.created).toBe(true);
    expect(created.usage_alert).toMatchObject({
      code: 'acme-25-eur',
      name: 'Acme spends 25 EUR on tokens',
      external_customer_id: 'acme',
      subscription_external_id: 'acme-ai',
      billable_metric_code: 'tokens',
      threshold_type: 'amount',
      threshold: '25.00',
      currency: 'EUR',
      last_triggered: null,
    });
    expect(created.usage_alert.id).toMatch(/^ua_/);
    const again = await t.door.ok('create_usage_alert', {
      subscription_id: 'acme-ai',
      billable_metric_code: 'tokens',
      threshold_type: 'amount',
      threshold: '25.000',
      code: 'acme-25-eur',
    });
    expect(again).toMatchObject({ created: false, usage_alert: { id: created.usage_alert.id } });
    const clash = await t.door.fail(
      'create_usage_alert',
      {
        subscription_id: 'acme-ai',
        billable_metric_code: 'tokens',
        threshold_type: 'amount',
        threshold: 30,
        code: 'acme-25-eur',
      },
      'CONFLICT',
    );
    expect(clash.message).toMatch(/^code: usage alert 'acme-25-eur' already exists/);
    const units = await t.door.ok('create_usage_alert', {
      customer_id: 'acme',
      billable_metric_code: 'seats',
      threshold_type: 'units',
      threshold: 5,
    });
    expect(units.usage_alert).toMatchObject({
      subscription_external_id: null,
      threshold: '5',
      currency: null,
    });
    const bySub = await t.door.ok('list_usage_alerts', { subscription_id: 'acme-ai' });
    expect(bySub.usage_alerts.map((a: any) => a.id)).toEqual([created.usage_alert.id]);
    const byMetric = await t.door.ok('list_usage_alerts', { billable_metric_code: 'seats' });
    expect(byMetric.usage_alerts.map((a: any) => a.id)).toEqual([units.usage_alert.id]);
    expect((await t.door.ok('list_usage_alerts', { customer_id: 'acme' })).pagination.total_count).toBe(2);
    const deleted = await t.door.ok('delete_usage_alert', { usage_alert_id: 'acme-25-eur' });
    expect(deleted).toMatchObject({ deleted: true, usage_alert: { id: created.usage_alert.id } });
    await t.door.fail('delete_usage_alert', { usage_alert_id: 'acme-25-eur' }, 'NOT_FOUND');
    await t.door.ok('delete_usage_alert', { usage_alert_id: units.usage_alert.id });
    expect((await t.door.ok('list_usage_alerts', {})).usage_alerts).toEqual([]);
  });

  it('refuses alerts that could never fire or name nothing, saying what would work', async () => {
    const both = await t.door.fail(
      'create_usage_alert',
      {
        subscription_id: 'acme-ai',
        customer_id: 'acme',
        billable_metric_code: 'tokens',
        threshold_type: 'units',
        threshold: 1,
      },
      'VALIDATION_ERROR',
    );
    expect(both.message).toMatch(/^subscription_id: give exactly one of subscription_id .* or customer_id/);
    await t.door.fail(
      'create_usage_alert',
      { billable_metric_code: 'tokens', threshold_type: 'units', threshold: 1 },
      'VALIDATION_ERROR',
    );
    const unpriced = await t.door.fail(
      'create_usage_alert',
      { subscription_id: 'acme-ai', billable_metric_code: 'seats', threshold_type: 'amount', threshold: 1 },
      'VALIDATION_ERROR',
    );
    expect(unpriced.message).toBe(
      "billable_metric_code: plan 'ai' of subscription 'acme-ai' has no charge on 'seats', so its amount is always 0",
    );
    expect(unpriced.hint).toMatch(/threshold_type "units".*tokens/);
    const noCurrency = await t.door.fail(
      'create_usage_alert',
      { customer_id: 'bare', billable_metric_code: 'tokens', threshold_type: 'amount', threshold: 1 },
      'VALIDATION_ERROR',
    );
    expect(noCurrency.message).toMatch(/^threshold_type: customer 'bare' has no currency yet/);
    const zero = await t.door.fail(
      'create_usage_alert',
      { customer_id: 'acme', billable_metric_code: 'tokens', threshold_type: 'units', threshold: 0 },
      'VALIDATION_ERROR',
    );
    expect(zero.message).toMatch(/threshold/);
    await t.door.fail(
      'create_usage_alert',
      { customer_id: 'acme', billable_metric_code: 'tokens', threshold_type: 'percent', threshold: 1 },
      'VALIDATION_ERROR',
    );
    const metric = await t.door.fail(
      'create_usage_alert',
      { customer_id: 'acme', billable_metric_code: 'nope', threshold_type: 'units', threshold: 1 },
      'NOT_FOUND',
    );
    expect(metric.message).toMatch(/^billable_metric_code: /);
    await t.door.fail(
      'create_usage_alert',
      { subscription_id: 'ghost', billable_metric_code: 'tokens', threshold_type: 'units', threshold: 1 },
      'NOT_FOUND',
    );
    await t.door.ok('create_plan', {
      code: 'short',
      name: 'Short',
      interval: 'monthly',
      currency: 'EUR',
      amount: '1',
    });
    await t.door.ok('create_subscription', {
      customer_id: 'acme',
      plan_code: 'short',
      external_id: 'acme-short',
    });
    await t.door.ok('terminate_subscription', { subscription_id: 'acme-short' });
    const ended = await t.door.fail(
      'create_usage_alert',
      {
        subscription_id: 'acme-short',
        billable_metric_code: 'tokens',
        threshold_type: 'units',
        threshold: 1,
      },
      'INVALID_STATUS',
    );
    expect(ended.message).toMatch(/is terminated: an alert on it would never fire/);
  });
});
