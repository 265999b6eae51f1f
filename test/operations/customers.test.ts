import { expect, it } from 'vitest';
import { describeDoors } from '../harness/suite.js';

/** What each door records as its `door` in the activity log. */
const RECORDED_DOOR: Record<string, string> = {
  http_api: 'http_api',
  mcp_http: 'mcp_http',
  mcp_http_2025: 'mcp_http',
  mcp_sse: 'mcp_sse',
  mcp_stdio: 'mcp_stdio',
};

const ACME = {
  external_id: 'acme-001',
  name: 'Acme Corporation',
  firstname: 'Wile',
  lastname: 'Coyote',
  email: 'billing@acme.example',
  phone: '+1 415 555 0100',
  address_line1: '123 Business St',
  address_line2: 'Suite 400',
  city: 'San Francisco',
  state: 'CA',
  zipcode: '94105',
  country: 'us',
  url: 'https://acme.example',
  legal_name: 'Acme Corporation Inc.',
  legal_number: 'C1234567',
  logo_url: 'https://acme.example/logo.png',
  tax_identification_number: 'US-94-1234567',
  timezone: 'America/Los_Angeles',
  currency: 'usd',
  net_payment_term: 45,
  customer_type: 'company',
  finalize_zero_amount_invoice: 'skip',
  metadata: { crm_id: 'HB-1', segment: 'enterprise' },
};

describeDoors('customers', (t) => {
  it('creates a customer with the full Lago field set and reads it back by id and by external_id', async () => {
    const { customer, created } = await t.door.ok('create_customer', ACME);
    expect(created).toBe(true);
    expect(customer.id).toMatch(/^cus_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(customer).toMatchObject({
      ...ACME,
      country: 'US',
      currency: 'USD',
      status: 'active',
      display_name: 'Acme Corporation',
      applicable_timezone: 'America/Los_Angeles',
      applicable_net_payment_term: 45,
    });
    expect(Date.parse(customer.created_at)).toBeGreaterThan(0);
    const byId = await t.door.ok('get_customer', { customer_id: customer.id });
    const byExternal = await t.door.ok('get_customer', { customer_id: 'acme-001' });
    expect(byId.customer).toEqual(customer);
    expect(byExternal.customer).toEqual(customer);
  });

  it('upserts by external_id: a second create updates only the given fields and never duplicates', async () => {
    const first = await t.door.ok('create_customer', {
      external_id: 'upsert-1',
      name: 'First Name',
      email: 'a@upsert.example',
    });
    const second = await t.door.ok('create_customer', { external_id: 'upsert-1', name: 'Second Name' });
    expect(second.created).toBe(false);
    expect(second.customer.id).toBe(first.customer.id);
    expect(second.customer.name).toBe('Second Name');
    expect(second.customer.email).toBe('a@upsert.example');
    const list = await t.door.ok('list_customers', { search: 'upsert-1' });
    expect(list.pagination.total_count).toBe(1);
  });

  it('creates a customer without external_id each time it is called', async () => {
    const a = await t.door.ok('create_customer', { name: 'No External Ltd' });
    const b = await t.door.ok('create_customer', { name: 'No External Ltd' });
    expect(a.customer.id).not.toBe(b.customer.id);
    expect(a.customer.external_id).toBeNull();
    const list = await t.door.ok('list_customers', { search: 'no external' });
    expect(list.pagination.total_count).toBe(2);
  });

  it('names the field and what would work when input is invalid, and stores nothing', async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ email: 'not-an-email' }, 'email', /email address/],
      [{ country: 'XX' }, 'country', /ISO 3166-1 alpha-2/],
      [{ currency: 'EURO' }, 'currency', /ISO 4217/],
      [{ timezone: 'Mars/Olympus' }, 'timezone', /IANA time zone/],
      [{ url: 'ftp://acme.example' }, 'url', /URL/],
      [{ customer_type: 'robot' }, 'customer_type', /one of individual, company \(got 'robot'\)/],
      [{ finalize_zero_amount_invoice: 'maybe' }, 'finalize_zero_amount_invoice', /inherit, finalize, skip/],
      [{ net_payment_term: -1 }, 'net_payment_term', /at least 0/],
      [{ net_payment_term: '30' }, 'net_payment_term', /must be an integer/],
      [{ metadata: { k: 5 } }, 'metadata.k', /string/],
      [{ nickname: 'x' }, '(input)', /unknown field 'nickname'.*the fields are: external_id, name/],
    ];
    for (const [input, field, pattern] of cases) {
      const error = await t.door.fail(
        'create_customer',
        { external_id: 'invalid-1', name: 'Invalid', ...input },
        'VALIDATION_ERROR',
      );
      expect(error.message).toMatch(pattern);
      const issues = error.details.issues as Array<{ field: string; message: string }>;
      expect(issues.map((i) => i.field)).toContain(field);
    }
    await t.door.fail('get_customer', { customer_id: 'invalid-1' }, 'NOT_FOUND');
  });

  it('reports a missing customer with the reference it could not find', async () => {
    const error = await t.door.fail('get_customer', { customer_id: 'nobody-here' }, 'NOT_FOUND');
    expect(error.message).toContain("'nobody-here'");
    expect(error.hint).toBeTruthy();
    await t.door.fail('get_customer', {}, 'VALIDATION_ERROR');
  });

  it('lists with search, exact filters and pagination, and rejects an invalid filter', async () => {
    const names = ['Zeta Lists One', 'Zeta Lists Two', 'Zeta Lists Three'];
    for (const [i, name] of names.entries()) {
      await t.door.ok('create_customer', {
        external_id: `zeta-${i}`,
        name,
        email: `zeta${i}@lists.example`,
        country: i === 0 ? 'FR' : 'DE',
        currency: i === 2 ? 'JPY' : 'EUR',
      });
    }
    const all = await t.door.ok('list_customers', { search: 'ZETA LISTS', per_page: 2 });
    expect(all.customers).toHaveLength(2);
    expect(all.pagination).toEqual({
      current_page: 1,
      total_pages: 2,
      total_count: 3,
      next_page: 2,
      prev_page: null,
    });
    // Newest first.
    expect(all.customers[0].name).toBe('Zeta Lists Three');
    const page2 = await t.door.ok('list_customers', { search: 'zeta lists', per_page: 2, page: 2 });
    expect(page2.customers.map((c: { name: string }) => c.name)).toEqual(['Zeta Lists One']);
    expect(page2.pagination).toMatchObject({ current_page: 2, next_page: null, prev_page: 1 });
    expect((await t.door.ok('list_customers', { search: 'zeta1@lists' })).pagination.total_count).toBe(1);
    expect((await t.door.ok('list_customers', { search: 'zeta-2' })).customers[0].name).toBe(
      'Zeta Lists Three',
    );
    expect(
      (await t.door.ok('list_customers', { search: 'zeta lists', country: 'de' })).pagination.total_count,
    ).toBe(2);
    expect(
      (await t.door.ok('list_customers', { search: 'zeta lists', currency: 'JPY' })).pagination.total_count,
    ).toBe(1);
    expect((await t.door.ok('list_customers', { search: '100%' })).pagination.total_count).toBe(0);
    const bad = await t.door.fail('list_customers', { status: 'archived' }, 'VALIDATION_ERROR');
    expect(bad.message).toBe("status must be one of active, disabled (got 'archived')");
    await t.door.fail('list_customers', { per_page: 101 }, 'VALIDATION_ERROR');
    await t.door.fail('list_customers', { page: 0 }, 'VALIDATION_ERROR');
    await t.door.fail('list_customers', { sort: 'name' }, 'VALIDATION_ERROR');
  });

  it('updates only the given fields, clears with null, and refuses a taken external_id', async () => {
    const { customer } = await t.door.ok('create_customer', {
      external_id: 'upd-1',
      name: 'Update Me',
      email: 'old@upd.example',
      city: 'Lyon',
      metadata: { a: '1' },
    });
    await t.door.ok('create_customer', { external_id: 'upd-2', name: 'Other' });
    const { customer: updated } = await t.door.ok('update_customer', {
      customer_id: 'upd-1',
      email: 'new@upd.example',
      city: null,
      metadata: { b: '2' },
    });
    expect(updated).toMatchObject({
      id: customer.id,
      name: 'Update Me',
      email: 'new@upd.example',
      city: null,
      metadata: { b: '2' },
    });
    const conflict = await t.door.fail(
      'update_customer',
      { customer_id: customer.id, external_id: 'upd-2' },
      'CONFLICT',
    );
    expect(conflict.message).toContain('upd-2');
    const renamed = await t.door.ok('update_customer', {
      customer_id: customer.id,
      external_id: 'upd-1-renamed',
    });
    expect(renamed.customer.external_id).toBe('upd-1-renamed');
    await t.door.fail('update_customer', { customer_id: 'upd-1', name: 'x' }, 'NOT_FOUND');
  });

  it('disables and activates a customer; the status filter follows', async () => {
    await t.door.ok('create_customer', { external_id: 'status-1', name: 'Status Toggle' });
    const disabled = await t.door.ok('disable_customer', { customer_id: 'status-1' });
    expect(disabled).toMatchObject({ changed: true, customer: { status: 'disabled' } });
    expect((await t.door.ok('disable_customer', { customer_id: 'status-1' })).changed).toBe(false);
    const listed = await t.door.ok('list_customers', { status: 'disabled', search: 'status toggle' });
    expect(listed.pagination.total_count).toBe(1);
    const active = await t.door.ok('activate_customer', { customer_id: 'status-1' });
    expect(active).toMatchObject({ changed: true, customer: { status: 'active' } });
    expect(
      (await t.door.ok('list_customers', { status: 'disabled', search: 'status toggle' })).pagination
        .total_count,
    ).toBe(0);
  });

  it('deletes a customer: gone from lookups and lists, its external_id free again', async () => {
    const { customer } = await t.door.ok('create_customer', { external_id: 'del-1', name: 'Delete Me' });
    const deleted = await t.door.ok('delete_customer', { customer_id: 'del-1' });
    expect(deleted).toMatchObject({ deleted: true, customer: { id: customer.id } });
    await t.door.fail('get_customer', { customer_id: customer.id }, 'NOT_FOUND');
    await t.door.fail('get_customer', { customer_id: 'del-1' }, 'NOT_FOUND');
    await t.door.fail('delete_customer', { customer_id: 'del-1' }, 'NOT_FOUND');
    expect((await t.door.ok('list_customers', { search: 'delete me' })).pagination.total_count).toBe(0);
    const again = await t.door.ok('create_customer', { external_id: 'del-1', name: 'Delete Me Again' });
    expect(again.created).toBe(true);
    expect(again.customer.id).not.toBe(customer.id);
  });

  it('writes an activity log entry for every change, naming the door and the fields changed', async () => {
    const { customer } = await t.door.ok('create_customer', {
      external_id: 'audit-1',
      name: 'Audited',
      email: 'x@audit.example',
    });
    await t.door.ok('update_customer', { customer_id: 'audit-1', name: 'Audited Renamed' });
    await t.door.ok('update_customer', { customer_id: 'audit-1', name: 'Audited Renamed' }); // no change, no entry
    await t.door.ok('disable_customer', { customer_id: 'audit-1' });
    const { activity_logs } = await t.door.ok('list_activity_logs', { customer_id: 'audit-1' });
    expect(activity_logs.map((a: { activity_type: string }) => a.activity_type)).toEqual([
      'customer.disabled',
      'customer.updated',
      'customer.created',
    ]);
    for (const entry of activity_logs) {
      expect(entry).toMatchObject({
        resource_type: 'customer',
        resource_id: customer.id,
        activity_source: 'api',
      });
      expect(entry.door).toBe(RECORDED_DOOR[t.door.name]);
      expect(entry.actor.type).toBe('api_key');
    }
    expect(activity_logs[1].changes).toEqual({ name: ['Audited', 'Audited Renamed'] });
    expect(activity_logs[2].changes).toMatchObject({ external_id: 'audit-1', name: 'Audited' });
    const one = await t.door.ok('get_activity_log', { activity_id: activity_logs[0].activity_id });
    expect(one.activity_log).toEqual(activity_logs[0]);
    const typed = await t.door.ok('list_activity_logs', {
      activity_types: ['customer.disabled'],
      resource_ids: [customer.id],
    });
    expect(typed.pagination.total_count).toBe(1);
    await t.door.fail('get_activity_log', { activity_id: 'act_nope' }, 'NOT_FOUND');
    await t.door.fail('list_activity_logs', { activity_sources: ['web'] }, 'VALIDATION_ERROR');
    await t.door.fail('list_activity_logs', { from_date: '2026-02-30' }, 'VALIDATION_ERROR');
  });

  it('keeps an API log of the changes requested, failures included', async () => {
    await t.door.ok('create_customer', { external_id: 'apilog-1', name: 'Api Logged' });
    await t.door.fail('create_customer', { external_id: 'apilog-2', email: 'bad' }, 'VALIDATION_ERROR');
    const ok = await t.door.ok('list_api_logs', {
      operations: ['create_customer'],
      http_statuses: ['succeeded'],
      per_page: 100,
    });
    expect(
      ok.api_logs.some(
        (l: { request_body: { external_id?: string } }) => l.request_body?.external_id === 'apilog-1',
      ),
    ).toBe(true);
    const failed = await t.door.ok('list_api_logs', { http_statuses: ['422'] });
    const entry = failed.api_logs.find(
      (l: { request_body: { external_id?: string } }) => l.request_body?.external_id === 'apilog-2',
    );
    expect(entry).toMatchObject({
      operation: 'create_customer',
      http_status: 422,
      error_code: 'VALIDATION_ERROR',
    });
    expect(entry.door).toBe(RECORDED_DOOR[t.door.name]);
    expect(entry.request_response).toEqual({ error: expect.objectContaining({ code: 'VALIDATION_ERROR' }) });
    const one = await t.door.ok('get_api_log', { request_id: entry.request_id });
    expect(one.api_log.request_id).toBe(entry.request_id);
    // A success keeps what it pointed at, not a copy of the object.
    const success = ok.api_logs.find(
      (l: { request_body: { external_id?: string } }) => l.request_body?.external_id === 'apilog-1',
    );
    expect(success.request_response).toEqual({
      customer: { id: expect.stringMatching(/^cus_/), external_id: 'apilog-1', status: 'active' },
      created: true,
    });
  });

  it('verifies the connection: organization, key and server', async () => {
    const v = await t.door.ok('verify', {});
    expect(v).toMatchObject({
      verified: true,
      organization: { id: t.org.id },
      principal: { type: 'api_key', scopes: ['admin'] },
      door: RECORDED_DOOR[t.door.name],
      server: { name: 'billfold', database: t.db },
    });
  });
});
