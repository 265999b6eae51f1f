import { beforeAll, expect, it } from 'vitest';
import { describeProfile } from '../../harness/profiles.js';
import { SEED_TOOLS } from './seed-tools.js';

/**
 * Seed 000 (Lago MCP server): each JSON example of the document, verbatim, through the lago
 * profile, checked against the document's response shapes — Lago's objects under their key,
 * lists with `pagination`, failures as `{ "error": "..." }`. The examples date from January
 * 2025 (logs from 2025-01-01 to 2025-01-31), so the server's clock starts then.
 */
const SEED_TIME = Date.parse('2025-01-15T10:30:00Z');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PAGINATION_KEYS = ['current_page', 'next_page', 'prev_page', 'total_count', 'total_pages'];

/** Only `error`, a string that says which tool failed and why. */
function expectLagoError(body: any, lead: string): string {
  expect(Object.keys(body)).toEqual(['error']);
  expect(typeof body.error).toBe('string');
  expect(body.error.startsWith(`Failed to ${lead}: `)).toBe(true);
  return body.error as string;
}

describeProfile(
  'lago',
  (t) => {
    let invoiceLagoId: string;
    beforeAll(async () => {
      // The data the examples name: customer_123 with a finalized, unpaid invoice (and the
      // invoice lago_invoice_123), and the coupons WELCOME10 and SUMMER20.
      await t.api.ok('create_customer', {
        external_id: 'customer_123',
        name: 'Customer Name',
        email: 'ap@customer.example',
        currency: 'USD',
      });
      const { invoice } = await t.api.ok('create_invoice', {
        customer_id: 'customer_123',
        amount: '100.00',
        description: 'Consulting',
        currency: 'USD',
        status: 'finalized',
        external_id: 'lago_invoice_123',
      });
      invoiceLagoId = invoice.id;
      await t.api.ok('create_invoice', {
        customer_id: 'customer_123',
        amount: '5.00',
        description: 'A draft',
        currency: 'USD',
      });
      await t.api.ok('create_coupon', {
        code: 'WELCOME10',
        name: 'Welcome Discount',
        coupon_type: 'percentage',
        percentage_rate: '10',
        frequency: 'recurring',
        frequency_duration: 3,
      });
      await t.api.ok('create_coupon', {
        code: 'SUMMER20',
        name: 'Summer',
        coupon_type: 'fixed_amount',
        amount: '20',
        amount_currency: 'USD',
      });
      // A failed request about invoices, for the list_api_logs example.
      await t.api.call('create_invoice', { customer_id: 'customer_123', amount: '-5', currency: 'USD' });
    });

    it('lists the fourteen tools of the seed with its parameters', async () => {
      const { tools } = await t.door.client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(SEED_TOOLS.lago!.tools);
      const props = (name: string) => tools.find((tool) => tool.name === name)!.inputSchema.properties as any;
      expect(Object.keys(props('list_invoices'))).toEqual([
        'customer_external_id',
        'issuing_date_from',
        'issuing_date_to',
        'status',
        'payment_status',
        'invoice_type',
        'page',
        'per_page',
      ]);
      expect(props('list_invoices').invoice_type.enum).toEqual([
        'subscription',
        'add_on',
        'credit',
        'one_off',
        'progressive_billing',
      ]);
      expect(Object.keys(props('apply_coupon'))).toContain('amount_cents');
      const readOnly = tools.filter((tool) => tool.annotations?.readOnlyHint).map((tool) => tool.name);
      expect(readOnly).not.toContain('create_customer');
      expect(readOnly).toContain('list_api_logs');
    });

    it('get_invoice example: {"invoice_id": "lago_invoice_123"}', async () => {
      const { invoice } = await t.door.ok('get_invoice', { invoice_id: 'lago_invoice_123' });
      expect(invoice).toMatchObject({
        invoice_type: 'one_off',
        status: 'finalized',
        payment_status: 'pending',
        currency: 'USD',
        total_amount_cents: 10000,
        customer: { external_id: 'customer_123', name: 'Customer Name' },
      });
      expect(invoice.lago_id).toMatch(UUID);
      expect(invoice.number).toMatch(/^INV-/);
      expect(invoice.issuing_date).toBe('2025-01-15');
      expect(invoice.fees[0]).toMatchObject({ amount_cents: 10000, description: 'Consulting' });
      // Its lago_id finds it again, as Lago's clients pass it back.
      const again = await t.door.ok('get_invoice', { invoice_id: invoice.lago_id });
      expect(again.invoice.number).toBe(invoice.number);
      expect(invoiceLagoId.startsWith('inv_')).toBe(true);
    });

    it('list_invoices example: customer_123, finalized, pending, page 1 of 10', async () => {
      const out = await t.door.ok('list_invoices', {
        customer_external_id: 'customer_123',
        status: 'finalized',
        payment_status: 'pending',
        page: 1,
        per_page: 10,
      });
      expect(Object.keys(out)).toEqual(['invoices', 'pagination']);
      expect(out.invoices).toHaveLength(1);
      expect(out.invoices[0]).toMatchObject({ status: 'finalized', total_amount_cents: 10000 });
      expect(out.pagination).toEqual({
        current_page: 1,
        next_page: null,
        prev_page: null,
        total_pages: 1,
        total_count: 1,
      });
      const drafts = await t.door.ok('list_invoices', {
        customer_external_id: 'customer_123',
        status: 'draft',
      });
      expect(drafts.invoices.map((i: any) => i.number)).toEqual(['DRAFT']);
      // Lago's words for invoices Billfold never makes find none, and say so by an empty page.
      for (const filter of [{ invoice_type: 'add_on' }, { status: 'failed' }]) {
        const none = await t.door.ok('list_invoices', filter);
        expect(none.invoices).toEqual([]);
        expect(none.pagination.total_count).toBe(0);
      }
    });

    it('get_customer example: {"external_customer_id": "customer_123"}', async () => {
      const { customer } = await t.door.ok('get_customer', { external_customer_id: 'customer_123' });
      expect(customer).toMatchObject({
        external_id: 'customer_123',
        name: 'Customer Name',
        email: 'ap@customer.example',
        currency: 'USD',
        applicable_timezone: 'UTC',
      });
      expect(customer.lago_id).toMatch(UUID);
      expect(customer.created_at).toMatch(/^2025-01-15T\d\d:\d\d:\d\dZ$/);
      expect(Object.keys(customer.billing_configuration)).toEqual(
        expect.arrayContaining(['invoice_grace_period', 'payment_provider', 'provider_customer_id']),
      );
    });

    it('list_customers example: that one customer, page 1 of 10', async () => {
      const out = await t.door.ok('list_customers', {
        external_customer_id: 'customer_123',
        page: 1,
        per_page: 10,
      });
      expect(out.customers.map((c: any) => c.external_id)).toEqual(['customer_123']);
      expect(Object.keys(out.pagination).sort()).toEqual(PAGINATION_KEYS);
      expect(out.pagination.total_count).toBe(1);
      const none = await t.door.ok('list_customers', { external_customer_id: 'nobody' });
      expect(none).toMatchObject({ customers: [], pagination: { total_count: 0 } });
      const all = await t.door.ok('list_customers', { per_page: 1 });
      expect(all.customers).toHaveLength(1);
      expect(all.pagination.total_count).toBeGreaterThanOrEqual(1);
    });

    it('create_customer example: Acme Corporation, customer_456, then updated by the same external_id', async () => {
      const { customer } = await t.door.ok('create_customer', {
        external_id: 'customer_456',
        name: 'Acme Corporation',
        email: 'billing@acme.com',
        address_line1: '123 Business St',
        city: 'San Francisco',
        country: 'US',
        state: 'CA',
        zipcode: '94105',
        currency: 'USD',
        customer_type: 'company',
        net_payment_term: 30,
      });
      expect(customer).toMatchObject({
        external_id: 'customer_456',
        name: 'Acme Corporation',
        email: 'billing@acme.com',
        address_line1: '123 Business St',
        city: 'San Francisco',
        country: 'US',
        state: 'CA',
        zipcode: '94105',
        currency: 'USD',
        customer_type: 'company',
        net_payment_term: 30,
      });
      expect(customer.lago_id).toMatch(UUID);
      const updated = await t.door.ok('create_customer', {
        external_id: 'customer_456',
        timezone: 'America/New_York',
      });
      expect(updated.customer).toMatchObject({
        lago_id: customer.lago_id,
        name: 'Acme Corporation',
        timezone: 'America/New_York',
        applicable_timezone: 'America/New_York',
      });
    });

    it('create_billable_metric, get_billable_metric and list_billable_metrics examples: storage_gb', async () => {
      const { billable_metric } = await t.door.ok('create_billable_metric', {
        name: 'Storage Usage',
        code: 'storage_gb',
        aggregation_type: 'sum_agg',
        description: 'Tracks storage usage in gigabytes',
        field_name: 'gb_used',
        recurring: false,
        rounding_function: 'round',
        rounding_precision: 2,
        filters: [
          {
            key: 'region',
            values: ['us-east-1', 'eu-west-1'],
          },
        ],
      });
      const expected = {
        name: 'Storage Usage',
        code: 'storage_gb',
        description: 'Tracks storage usage in gigabytes',
        aggregation_type: 'sum_agg',
        recurring: false,
        rounding_function: 'round',
        rounding_precision: 2,
        expression: null,
        field_name: 'gb_used',
        weighted_interval: null,
        filters: [{ key: 'region', values: ['us-east-1', 'eu-west-1'] }],
      };
      expect(billable_metric).toMatchObject(expected);
      expect(billable_metric.lago_id).toMatch(UUID);
      expect(billable_metric.created_at).toMatch(/^2025-01-15T/);
      const got = await t.door.ok('get_billable_metric', { code: 'storage_gb' });
      expect(got.billable_metric).toEqual(billable_metric);
      const list = await t.door.ok('list_billable_metrics', {
        aggregation_type: 'sum_agg',
        recurring: false,
        page: 1,
        per_page: 10,
      });
      expect(list.billable_metrics).toEqual([billable_metric]);
      expect(list.pagination.total_count).toBe(1);
      const counts = await t.door.ok('list_billable_metrics', { aggregation_type: 'count_agg' });
      expect(counts.billable_metrics).toEqual([]);
    });

    it('apply_coupon and list_applied_coupons examples: WELCOME10 for customer_123', async () => {
      const { applied_coupon } = await t.door.ok('apply_coupon', {
        external_customer_id: 'customer_123',
        coupon_code: 'WELCOME10',
        frequency: 'recurring',
        frequency_duration: 6,
      });
      expect(applied_coupon).toMatchObject({
        coupon_code: 'WELCOME10',
        coupon_name: 'Welcome Discount',
        external_customer_id: 'customer_123',
        status: 'active',
        frequency: 'recurring',
        frequency_duration: 6,
        frequency_duration_remaining: 6,
        percentage_rate: '10',
        terminated_at: null,
      });
      for (const id of ['lago_id', 'lago_coupon_id', 'lago_customer_id'])
        expect(applied_coupon[id]).toMatch(UUID);
      const fixed = await t.door.ok('apply_coupon', {
        external_customer_id: 'customer_456',
        coupon_code: 'SUMMER20',
        amount_cents: 1500,
        amount_currency: 'usd',
      });
      expect(fixed.applied_coupon).toMatchObject({
        amount_cents: 1500,
        amount_cents_remaining: 1500,
        amount_currency: 'USD',
      });
      const list = await t.door.ok('list_applied_coupons', {
        status: 'active',
        external_customer_id: 'customer_123',
        coupon_codes: ['WELCOME10', 'SUMMER20'],
        page: 1,
        per_page: 10,
      });
      expect(list.applied_coupons.map((a: any) => a.coupon_code)).toEqual(['WELCOME10']);
      expect(list.applied_coupons[0]).toEqual(applied_coupon);
      expect(Object.keys(list.pagination).sort()).toEqual(PAGINATION_KEYS);
    });

    it('list_activity_logs and get_activity_log examples: January 2025, Invoice resources', async () => {
      const out = await t.door.ok('list_activity_logs', {
        activity_types: ['invoice.created', 'customer.created'],
        activity_sources: ['api', 'front'],
        resource_types: ['Invoice'],
        from_date: '2025-01-01',
        to_date: '2025-01-31',
        page: 1,
        per_page: 10,
      });
      expect(out.activity_logs.length).toBe(2);
      for (const a of out.activity_logs) {
        expect(a).toMatchObject({
          activity_type: 'invoice.created',
          activity_source: 'api',
          resource_type: 'Invoice',
          external_customer_id: 'customer_123',
          external_subscription_id: null,
          user_email: null,
        });
        expect(a.activity_id).toMatch(UUID);
        expect(a.resource_id).toMatch(UUID);
        expect(a.logged_at).toMatch(/^2025-01-15T\d\d:\d\d:\d\dZ$/);
      }
      const { activity_log } = await t.door.ok('get_activity_log', {
        activity_id: out.activity_logs[0].activity_id,
      });
      expect(activity_log).toEqual(out.activity_logs[0]);
      const february = await t.door.ok('list_activity_logs', { from_date: '2025-02-01' });
      expect(february.activity_logs).toEqual([]);
      const missing = await t.door.fail('get_activity_log', { activity_id: 'activity_uuid_123' });
      expect(expectLagoError(missing, 'get activity log')).toContain(
        "no activity log has the id 'activity_uuid_123'",
      );
    });

    it('list_api_logs and get_api_log examples: failed POSTs about invoices in January 2025', async () => {
      const out = await t.door.ok('list_api_logs', {
        http_methods: ['post', 'put'],
        http_statuses: ['failed', '500'],
        api_version: 'v1',
        request_paths: ['/invoices'],
        from_date: '2025-01-01',
        to_date: '2025-01-31',
        page: 1,
        per_page: 10,
      });
      expect(out.api_logs).toHaveLength(1);
      expect(out.api_logs[0]).toMatchObject({
        api_version: 'v1',
        http_method: 'post',
        http_status: 422,
        request_path: '/api/v1/create_invoice',
        request_body: { customer_id: 'customer_123', amount: '-5', currency: 'USD' },
      });
      expect(out.api_logs[0].request_id).toMatch(UUID);
      const { api_log } = await t.door.ok('get_api_log', { request_id: out.api_logs[0].request_id });
      expect(api_log).toEqual(out.api_logs[0]);
      const succeeded = await t.door.ok('list_api_logs', {
        request_paths: ['/invoices'],
        http_statuses: ['succeeded'],
      });
      expect(succeeded.api_logs).toHaveLength(2);
      const missing = await t.door.fail('get_api_log', { request_id: 'request_uuid_123' });
      expect(expectLagoError(missing, 'get api log')).toContain("no API log has the id 'request_uuid_123'");
    });

    it('error example: a missing invoice is Lago\'s {"error": "Failed to …"}', async () => {
      const body = await t.door.fail('get_invoice', { invoice_id: 'no_such_invoice' });
      expect(expectLagoError(body, 'get invoice')).toContain(
        "no invoice has the id, number or external_id 'no_such_invoice'",
      );
    });

    it("bad input: Lago's error naming Lago's parameter", async () => {
      const required = await t.door.fail('get_customer', {});
      expect(expectLagoError(required, 'get customer')).toContain('external_customer_id is required');
      const status = await t.door.fail('list_invoices', { status: 'paid' });
      expect(expectLagoError(status, 'list invoices')).toContain(
        "status must be one of draft, finalized, voided, pending, failed (got 'paid'; a paid invoice is 'finalized' with payment_status 'succeeded')",
      );
      const customer = await t.door.fail('list_invoices', { customer_external_id: 'nobody' });
      expect(expectLagoError(customer, 'list invoices')).toMatch(
        /^Failed to list invoices: customer_external_id\b/,
      );
      const unknown = await t.door.fail('get_customer', { external_customer_id: 'nobody' });
      expect(expectLagoError(unknown, 'get customer')).toMatch(
        /^Failed to get customer: external_customer_id\b/,
      );
      const cents = await t.door.fail('apply_coupon', {
        external_customer_id: 'customer_123',
        coupon_code: 'SUMMER20',
        amount_cents: 100,
      });
      expect(expectLagoError(cents, 'apply coupon')).toContain(
        'amount_currency is required with amount_cents',
      );
      const type = await t.door.fail('list_activity_logs', { resource_types: ['Widget'] });
      expect(expectLagoError(type, 'list activity logs')).toContain(
        'resource_types[0] must be a resource type',
      );
      const path = await t.door.fail('list_api_logs', { request_paths: ['/widgets'] });
      expect(expectLagoError(path, 'list api logs')).toContain('request_paths[0] names no resource');
      const extra = await t.door.fail('get_invoice', { invoice_id: 'x', id: 'y' });
      expect(expectLagoError(extra, 'get invoice')).toContain("unknown field 'id'");
    });
  },
  { clock: SEED_TIME },
);
