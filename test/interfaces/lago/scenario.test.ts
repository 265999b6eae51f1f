import { beforeAll, expect, it } from 'vitest';
import { runBilling } from '../../../src/services/billing/run.js';
import { caller, type Caller } from '../../harness/billing.js';
import type { TestOrganization } from '../../harness/environment.js';
import { describeDatabases } from '../../harness/suite.js';
import { lagoClient, lagoFailure, UUID, type LagoClient } from './client.js';

/**
 * A Lago user's month, run with Lago's own JavaScript client against Billfold's Lago API, each
 * amount checked against Billfold's own operations: a customer, a sum metric, a graduated plan,
 * a subscription, events, current usage, the period billed, invoices listed and downloaded, a
 * coupon, a credit note.
 */
describeDatabases('Lago client scenario', (t) => {
  let org: TestOrganization;
  let lago: LagoClient;
  let billfold: Caller;
  // The previous calendar month (UTC) is the billed period; events now fall in the current one.
  const now = new Date();
  const periodStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1);
  const periodEnd = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const seconds = (ms: number) => Math.floor(ms / 1000);

  beforeAll(async () => {
    org = await t.env.newOrganization(['admin']);
    lago = lagoClient(t.env, org.key);
    billfold = caller(t.env, org.id);
  });

  it('creates the customer, metric, plan and subscription as Lago writes them', async () => {
    const { data: c } = await lago.customers.createCustomer({
      customer: {
        external_id: 'lago-acme',
        name: 'Acme',
        email: 'billing@acme.example',
        currency: 'USD',
        country: 'US',
      },
    });
    expect(c.customer.lago_id).toMatch(UUID);
    expect(c.customer).toMatchObject({ external_id: 'lago-acme', name: 'Acme', currency: 'USD' });
    // Upsert by external_id: the same customer, changed.
    const { data: again } = await lago.customers.createCustomer({
      customer: { external_id: 'lago-acme', city: 'Paris' },
    });
    expect(again.customer.lago_id).toBe(c.customer.lago_id);
    expect(again.customer).toMatchObject({ name: 'Acme', city: 'Paris' });

    const { data: m } = await lago.billableMetrics.createBillableMetric({
      billable_metric: {
        name: 'Storage',
        code: 'storage',
        aggregation_type: 'sum_agg',
        field_name: 'gb',
        recurring: false,
      },
    });
    expect(m.billable_metric).toMatchObject({
      code: 'storage',
      aggregation_type: 'sum_agg',
      field_name: 'gb',
    });

    const { data: p } = await lago.plans.createPlan({
      plan: {
        name: 'Growth',
        code: 'growth',
        interval: 'monthly',
        amount_cents: 1000,
        amount_currency: 'USD',
        pay_in_advance: false,
        charges: [
          {
            billable_metric_id: m.billable_metric.lago_id,
            charge_model: 'graduated',
            properties: {
              graduated_ranges: [
                { from_value: 0, to_value: 100, per_unit_amount: '0.10', flat_amount: '0' },
                { from_value: 101, to_value: null, per_unit_amount: '0.05', flat_amount: '0' },
              ],
            },
          },
        ],
      } as any,
    });
    expect(p.plan).toMatchObject({
      code: 'growth',
      amount_cents: 1000,
      amount_currency: 'USD',
      interval: 'monthly',
    });
    const charge = p.plan.charges![0]!;
    expect(charge).toMatchObject({ charge_model: 'graduated', billable_metric_code: 'storage' });
    // Lago's notation comes back as it was sent: the second range starts one above 100.
    expect((charge.properties as any).graduated_ranges[1]).toMatchObject({
      from_value: 101,
      to_value: null,
      per_unit_amount: '0.05',
    });
    // Billfold stored Lago's 0–100, 101–∞ as its own 0–100, 100–∞.
    const plan = await billfold.call('get_plan', { plan_code: 'growth' });
    expect(plan.plan.charges[0].properties.graduated_ranges[1].from_value).toBe('100');

    const { data: s } = await lago.subscriptions.createSubscription({
      subscription: {
        external_customer_id: 'lago-acme',
        plan_code: 'growth',
        external_id: 'lago-acme-growth',
        billing_time: 'calendar',
        subscription_at: new Date(periodStart).toISOString(),
      },
    });
    expect(s.subscription).toMatchObject({
      external_id: 'lago-acme-growth',
      external_customer_id: 'lago-acme',
      plan_code: 'growth',
      status: 'active',
      billing_time: 'calendar',
    });
    expect(s.subscription.lago_customer_id).toBe(c.customer.lago_id);
  });

  it('records events one by one and in batches, idempotently, and reads them back', async () => {
    const { data: e } = await lago.events.createEvent({
      event: {
        transaction_id: 'tx-1',
        external_subscription_id: 'lago-acme-growth',
        code: 'storage',
        timestamp: seconds(periodStart + 86_400_000),
        properties: { gb: 100 },
      },
    });
    expect(e.event).toMatchObject({
      transaction_id: 'tx-1',
      code: 'storage',
      external_subscription_id: 'lago-acme-growth',
    });
    const { data: batch } = await lago.events.createBatchEvents({
      events: [
        {
          transaction_id: 'tx-2',
          external_subscription_id: 'lago-acme-growth',
          code: 'storage',
          timestamp: seconds(periodStart + 2 * 86_400_000),
          properties: { gb: 50 },
        },
        {
          transaction_id: 'tx-3',
          external_subscription_id: 'lago-acme-growth',
          code: 'storage',
          timestamp: seconds(Date.now()),
          properties: { gb: 30 },
        },
        // A retry of an event already recorded is recognized, not counted twice.
        {
          transaction_id: 'tx-1',
          external_subscription_id: 'lago-acme-growth',
          code: 'storage',
          timestamp: seconds(periodStart + 86_400_000),
          properties: { gb: 100 },
        },
      ] as any,
    });
    expect(batch.events.map((x: any) => x.transaction_id)).toEqual(['tx-2', 'tx-3', 'tx-1']);
    expect(batch.events[2]!.lago_id).toBe(e.event.lago_id);
    const { data: found } = await lago.events.findEvent('tx-2');
    expect(found.event).toMatchObject({ transaction_id: 'tx-2', properties: { gb: 50 } });
    // The same transaction_id with another payload is refused by name; its neighbours are kept.
    const refused = await lagoFailure(
      lago.events.createBatchEvents({
        events: [
          {
            transaction_id: 'tx-4',
            external_subscription_id: 'lago-acme-growth',
            code: 'storage',
            timestamp: seconds(Date.now()),
            properties: { gb: 0 },
          },
          {
            transaction_id: 'tx-2',
            external_subscription_id: 'lago-acme-growth',
            code: 'storage',
            properties: { gb: 999 },
          },
        ] as any,
      }),
    );
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('validation_errors');
    expect(Object.keys(refused.body.error_details)).toEqual(['1']);
    expect((await billfold.call('get_event', { event_id: 'tx-4' })).event.transaction_id).toBe('tx-4');
    // Lago's Rust client lists a subscription's events by its external id.
    const { data: listed } = await lago.events.findAllEvents({
      external_subscription_id: 'lago-acme-growth',
    });
    expect(listed.events.map((x: any) => x.transaction_id).sort()).toEqual(['tx-1', 'tx-2', 'tx-3', 'tx-4']);
  });

  it("reads the current period's usage as Billfold prices it", async () => {
    const { data } = await lago.customers.findCustomerCurrentUsage('lago-acme', {
      external_subscription_id: 'lago-acme-growth',
    });
    const usage = data.customer_usage;
    // 30 GB this month, all in the first range at 0.10.
    expect(usage.amount_cents).toBe(300);
    expect(usage.taxes_amount_cents).toBe(0);
    expect(usage.total_amount_cents).toBe(300);
    expect(usage.currency).toBe('USD');
    expect(usage.charges_usage).toHaveLength(1);
    expect(usage.charges_usage[0]).toMatchObject({ units: '30', events_count: 2, amount_cents: 300 });
    expect(usage.charges_usage[0]!.billable_metric).toMatchObject({
      code: 'storage',
      aggregation_type: 'sum_agg',
    });
    expect(Date.parse(usage.from_datetime)).toBe(periodEnd);
    // The same figure from Billfold's own usage read.
    const own = await billfold.call('get_customer_usage', { customer_id: 'lago-acme' });
    expect(own.metrics[0].units).toBe('30');
    expect(own.metrics[0].charges[0].amount).toMatch(/^3(\.0+)?$/);
  });

  it('applies a coupon, bills the period and lists, reads and downloads the invoice', async () => {
    await lago.coupons.createCoupon({
      coupon: {
        name: 'Welcome',
        code: 'welcome',
        coupon_type: 'fixed_amount',
        amount_cents: 500,
        amount_currency: 'USD',
        frequency: 'once',
        reusable: false,
        expiration: 'no_expiration',
      },
    });
    const { data: applied } = await lago.appliedCoupons.applyCoupon({
      applied_coupon: { external_customer_id: 'lago-acme', coupon_code: 'welcome' },
    });
    expect(applied.applied_coupon).toMatchObject({
      coupon_code: 'welcome',
      status: 'active',
      amount_cents: 500,
      amount_currency: 'USD',
    });
    const { data: listed } = await lago.appliedCoupons.findAllAppliedCoupons({
      external_customer_id: 'lago-acme',
    });
    expect(listed.applied_coupons).toHaveLength(1);

    await runBilling(t.env.rt, Date.now());

    const { data: page } = await lago.invoices.findAllInvoices({ external_customer_id: 'lago-acme' });
    expect(page.invoices).toHaveLength(1);
    expect(page.meta).toMatchObject({ current_page: 1, total_count: 1, total_pages: 1, next_page: null });
    const inv = page.invoices[0]!;
    // $10 fee + 100 GB × 0.10 + 50 GB × 0.05 = $22.50, less the $5 coupon.
    expect(inv).toMatchObject({
      invoice_type: 'subscription',
      status: 'finalized',
      payment_status: 'pending',
      currency: 'USD',
      fees_amount_cents: 2250,
      coupons_amount_cents: 500,
      sub_total_excluding_taxes_amount_cents: 1750,
      taxes_amount_cents: 0,
      total_amount_cents: 1750,
    });
    expect(inv.lago_id).toMatch(UUID);
    const own = (await billfold.call('list_invoices', { customer_id: 'lago-acme' })).invoices[0];
    expect(inv.number).toBe(own.number);
    expect(inv.total_amount_cents).toBe(own.total_amount_cents);
    expect(inv.fees_amount_cents).toBe(own.sub_total_amount_cents);

    const { data: one } = await lago.invoices.findInvoice(inv.lago_id);
    const fees = (one.invoice as any).fees as any[];
    expect(fees.map((f) => [f.item.type, f.amount_cents])).toEqual([
      ['subscription', 1000],
      ['charge', 1250],
    ]);
    expect(fees[1].units).toBe('1');
    expect(fees[1].total_aggregated_units).toBe('150');
    // The invoice number finds it too, as Billfold's own references do.
    expect((await lago.invoices.findInvoice(own.number)).data.invoice.lago_id).toBe(inv.lago_id);

    const { data: dl } = await lago.invoices.downloadInvoice(inv.lago_id);
    const url = (dl.invoice as any).file_url as string;
    expect(url).toMatch(/\.pdf$/);
    const pdf = await fetch(url, { headers: { authorization: `Bearer ${org.key}` } });
    expect(pdf.status).toBe(200);
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
  });

  it('credits part of the invoice and records a payment of the rest', async () => {
    const { data: page } = await lago.invoices.findAllInvoices({ external_customer_id: 'lago-acme' });
    const inv = page.invoices[0]!;
    const chargeFee = ((await lago.invoices.findInvoice(inv.lago_id)).data.invoice as any).fees[1];
    const { data: cn } = await lago.creditNotes.createCreditNote({
      credit_note: {
        invoice_id: inv.lago_id,
        reason: 'order_change',
        offset_amount_cents: 250,
        items: [{ fee_id: chargeFee.lago_id, amount_cents: 250 }],
      } as any,
    });
    expect(cn.credit_note).toMatchObject({
      lago_invoice_id: inv.lago_id,
      reason: 'order_change',
      total_amount_cents: 250,
      offset_amount_cents: 250,
      refund_amount_cents: 0,
      currency: 'USD',
    });
    const own = await billfold.call('get_invoice', { invoice_id: inv.number });
    expect(own.invoice.credited_amount_cents).toBe(250);
    expect(own.invoice.amount_due_cents).toBe(1500);
    // An offset has no refund to mark as succeeded: refused, naming the field.
    const refund = await lagoFailure(
      lago.creditNotes.updateCreditNote(cn.credit_note.lago_id, {
        credit_note: { refund_status: 'succeeded' },
      } as any),
    );
    expect(Object.keys(refund.body.error_details)).toEqual(['credit_note.refund_status']);
    const { data: notes } = await lago.creditNotes.findAllCreditNotes({ external_customer_id: 'lago-acme' });
    expect(notes.credit_notes.map((n: any) => n.lago_id)).toEqual([cn.credit_note.lago_id]);

    const { data: paid } = await lago.payments.createPayment({
      payment: { invoice_id: inv.lago_id, amount_cents: 1500, reference: 'wire-42' },
    });
    expect(paid.payment).toMatchObject({
      amount_cents: 1500,
      amount_currency: 'USD',
      reference: 'wire-42',
      external_customer_id: 'lago-acme',
    });
    const { data: after } = await lago.invoices.findInvoice(inv.lago_id);
    expect(after.invoice.payment_status).toBe('succeeded');
    expect((await billfold.call('get_invoice', { invoice_id: inv.number })).invoice.amount_due_cents).toBe(0);
  });

  it("writes Billfold's API and activity logs, which Lago's log endpoints read", async () => {
    const { data: api } = await lago.apiLogs.findAllApiLogs({ request_paths: '/api/v1/customers' } as any);
    expect(api.api_logs.length).toBe(2);
    expect(api.api_logs[0]).toMatchObject({
      http_method: 'post',
      http_status: 200,
      request_path: '/api/v1/customers',
    });
    expect(api.api_logs[0]!.request_id).toMatch(UUID);
    const { data: oneApi } = await lago.apiLogs.findApiLog(api.api_logs[0]!.request_id);
    expect((oneApi.api_log as any).request_body).toMatchObject({ external_id: 'lago-acme' });
    const own = await billfold.call('list_api_logs', { request_paths: ['/lago/api/v1/customers'] });
    expect(own.api_logs[0]).toMatchObject({ door: 'http_api', operation: 'create_customer' });

    const { data: acts } = await lago.activityLogs.findAllActivityLogs({
      resource_types: ['Invoice'],
      external_customer_id: 'lago-acme',
    } as any);
    expect(acts.activity_logs.map((a: any) => a.activity_type)).toContain('invoice.created');
    const { data: created } = await lago.activityLogs.findAllActivityLogs({
      'activity_types[]': ['customer.created'],
    } as any);
    expect(created.activity_logs).toHaveLength(1);
    expect(created.activity_logs[0]).toMatchObject({ resource_type: 'Customer', activity_source: 'api' });
    const { data: act } = await lago.activityLogs.findActivityLog(created.activity_logs[0]!.activity_id);
    expect(act.activity_log.resource_id).toBe(
      (await lago.customers.findCustomer('lago-acme')).data.customer.lago_id,
    );
  });

  it("hands out the customer's portal link", async () => {
    const { data } = await lago.customers.getCustomerPortalUrl('lago-acme');
    const url = (data.customer as any).portal_url as string;
    expect(url).toMatch(/^http.*\/portal\/bfp_/);
    const own = await billfold.call('list_portal_sessions', { customer_id: 'lago-acme' });
    expect(own.portal_sessions).toHaveLength(1);
  });

  it('answers what Billfold lacks with Lago’s error, naming it', async () => {
    const features = await lagoFailure(lago.features.findAllFeatures());
    expect(features.status).toBe(405);
    expect(features.body.message).toContain('features and entitlements');
    const missing = await lagoFailure(lago.customers.findCustomer('nobody'));
    expect(missing).toMatchObject({ status: 404, body: { code: 'customer_not_found' } });
    const bad = await lagoFailure(
      lago.customers.createCustomer({ customer: { external_id: 'x', currency: 'XXX1' } } as any),
    );
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.body.error_details)).toContain('currency');
    const unauthorized = await lagoFailure(
      lagoClient(t.env, 'bfk_not_a_key_at_all_000000000000').customers.findAllCustomers(),
    );
    expect(unauthorized.status).toBe(401);
  });
});
