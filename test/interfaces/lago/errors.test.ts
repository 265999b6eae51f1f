import { beforeAll, expect, it } from 'vitest';
import type { TestOrganization } from '../../harness/environment.js';
import { describeDatabases } from '../../harness/suite.js';
import { lagoClient, lagoFailure, type LagoClient } from './client.js';

/** Each way a Lago request can fail answers Lago's error body, with a message that names the cause. */
describeDatabases('Lago API errors', (t) => {
  let org: TestOrganization;
  let lago: LagoClient;
  const raw = (method: string, path: string, body?: string) =>
    fetch(`${t.env.url}/lago/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${org.key}`, 'content-type': 'application/json' },
      body,
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

  beforeAll(async () => {
    org = await t.env.newOrganization(['admin']);
    lago = lagoClient(t.env, org.key);
    await lago.billableMetrics.createBillableMetric({
      billable_metric: { name: 'Calls', code: 'calls', aggregation_type: 'count_agg' },
    });
  });

  it('refuses a Lago field Billfold cannot honour by name, and changes nothing', async () => {
    const r = await lagoFailure(
      lago.customers.createCustomer({
        customer: { external_id: 'strict', billing_configuration: { payment_provider: 'stripe' } },
      } as any),
    );
    expect(r.status).toBe(422);
    expect(Object.keys(r.body.error_details)).toEqual(['customer.billing_configuration.payment_provider']);
    await lagoFailure(lago.customers.findCustomer('strict'));
    // Lago's defaults are accepted: they change nothing.
    const ok = await lago.customers.createCustomer({
      customer: { external_id: 'strict', account_type: 'customer', billing_configuration: { sync: false } },
    } as any);
    expect(ok.data.customer.external_id).toBe('strict');
  });

  it('refuses ranges that are neither Lago’s notation nor Billfold’s', async () => {
    const r = await lagoFailure(
      lago.plans.createPlan({
        plan: {
          name: 'Gap',
          code: 'gap',
          interval: 'monthly',
          amount_cents: 0,
          amount_currency: 'USD',
          charges: [
            {
              billable_metric_code: 'calls',
              charge_model: 'graduated',
              properties: {
                graduated_ranges: [
                  { from_value: 0, to_value: 10, per_unit_amount: '1', flat_amount: '0' },
                  { from_value: 20, to_value: null, per_unit_amount: '1', flat_amount: '0' },
                ],
              },
            },
          ],
        },
      } as any),
    );
    expect(r.status).toBe(422);
    expect(r.body.message).toContain('graduated_ranges[1].from_value');
    expect(r.body.message).toContain('must be 11');
  });

  it('names Billfold’s own validation failures by the Lago field', async () => {
    const r = await lagoFailure(
      lago.plans.createPlan({
        plan: {
          name: 'Semi',
          code: 'semi',
          interval: 'semiannual',
          amount_cents: 100,
          amount_currency: 'USD',
        },
      } as any),
    );
    expect(r.status).toBe(422);
    expect(r.body.error_details).toHaveProperty('interval');
  });

  it('answers 400 without the root key, 404 on an unknown route, 405 on a wrong verb or a missing feature', async () => {
    expect(await raw('POST', '/customers', '{"external_id":"flat"}')).toMatchObject({
      status: 400,
      body: { status: 400, error: 'Bad Request' },
    });
    expect((await raw('POST', '/customers', '{not json')).status).toBe(400);
    expect(await raw('GET', '/nothing_here')).toMatchObject({
      status: 404,
      body: { code: 'route_not_found' },
    });
    expect(await raw('PATCH', '/customers')).toMatchObject({
      status: 405,
      body: { code: 'method_not_allowed' },
    });
    const entities = await raw('GET', '/billing_entities');
    expect(entities).toMatchObject({ status: 405, body: { code: 'not_supported' } });
    expect(entities.body.message).toContain('billing entities');
  });

  it('refuses a query parameter it cannot apply instead of ignoring it', async () => {
    const r = await raw('GET', '/invoices?amount_from=100');
    expect(r.status).toBe(422);
    expect(Object.keys(r.body.error_details)).toEqual(['amount_from']);
    const two = await raw('GET', '/invoices?statuses[]=draft&statuses[]=finalized');
    expect(two.status).toBe(422);
    expect(two.body.message).toContain('one value at a time');
  });

  it('answers 401 without a valid key and 403 without the scope', async () => {
    const none = await fetch(`${t.env.url}/lago/api/v1/customers`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ status: 401, error: 'Unauthorized' });
    const reader = lagoClient(t.env, await t.env.addKey(org.id, ['read']));
    const r = await lagoFailure(reader.customers.createCustomer({ customer: { external_id: 'nope' } }));
    expect(r).toMatchObject({ status: 403, body: { code: 'forbidden' } });
  });
});
