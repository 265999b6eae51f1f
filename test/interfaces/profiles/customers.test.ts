import { beforeAll, expect, it } from 'vitest';
import { SAMPLE_CUSTOMERS } from '../../../src/interfaces/cli/demo-sample-customers.js';
import { describeDatabases } from '../../harness/suite.js';
import { describeProfile } from '../../harness/profiles.js';
import { SEED_TOOLS } from './seed-tools.js';

/** Seed 003 (customer management over HTTP + SSE): its examples and its six tools, as written. */

async function loadSamples(api: { ok(tool: string, args?: unknown): Promise<any> }) {
  for (const { status, ...c } of SAMPLE_CUSTOMERS) {
    await api.ok('create_customer', c);
    if (status === 'disabled') await api.ok('disable_customer', { customer_id: c.external_id });
  }
}

describeDatabases('customers profile: the seed JSON-RPC examples, posted as its curl commands do', (t) => {
  it('answers initialize, tools/list and tools/call list_customers {"status": "active"} on POST /mcp/customers', async () => {
    const org = await t.env.newOrganization(['admin']);
    await loadSamples({
      ok: async (tool, args) => {
        const res = await fetch(`${t.env.url}/api/v1/${tool}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${org.key}`, 'content-type': 'application/json' },
          body: JSON.stringify(args),
        });
        expect(res.status).toBe(200);
        return res.json();
      },
    });
    // curl sends Accept: */*; the seed's commands add only Content-Type (and Billfold needs a key).
    const post = async (body: unknown) => {
      const res = await fetch(`${t.env.url}/mcp/customers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: '*/*', authorization: `Bearer ${org.key}` },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
      const text = await res.text();
      // A JSON answer, or one SSE message event carrying it.
      const json = text.trimStart().startsWith('{') ? text : /^data: (.*)$/m.exec(text)![1]!;
      return JSON.parse(json) as any;
    };
    const init = await post({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2024-11-05',
        capabilities: {},
        clientInfo: { name: 'test-client', version: '1.0.0' },
      },
    });
    expect(init.id).toBe(1);
    expect(init.result.serverInfo.name).toBe('billfold');
    expect(init.result.capabilities.tools).toBeDefined();
    const list = await post({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    expect(list.result.tools.map((tool: { name: string }) => tool.name)).toEqual(SEED_TOOLS.customers!.tools);
    const call = await post({
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { name: 'list_customers', arguments: { status: 'active' } },
    });
    expect(call.result.isError).toBeFalsy();
    const result = JSON.parse(call.result.content[0].text);
    const active = SAMPLE_CUSTOMERS.filter((c) => c.status === 'active');
    expect(result.total).toBe(active.length);
    expect(result.customers.map((c: { name: string }) => c.name).sort()).toEqual(
      active.map((c) => c.name).sort(),
    );
    expect(result.customers.every((c: { status: string }) => c.status === 'active')).toBe(true);
  });
});

describeProfile('customers', (t) => {
  beforeAll(async () => {
    await loadSamples(t.api);
  });

  it('lists the six tools of the seed, in its order', async () => {
    const { tools } = await t.door.client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(SEED_TOOLS.customers!.tools);
    const get = tools.find((tool) => tool.name === 'get_customer')!;
    expect(get.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    expect(tools.find((tool) => tool.name === 'add_customer')!.annotations?.readOnlyHint).toBe(false);
  });

  it('lists customers by status and finds a sample customer by its number', async () => {
    const disabled = await t.door.ok('list_customers', { status: 'disabled' });
    expect(disabled.customers.map((c: { name: string }) => c.name)).toEqual(['Henry Moore']);
    const all = await t.door.ok('list_customers');
    expect(all.total).toBe(10);
    expect(all.has_more).toBe(false);
    const three = await t.door.ok('get_customer', { customer_id: 3 });
    expect(three.customer).toMatchObject({
      external_id: '3',
      name: 'Carol Williams',
      email: 'carol.williams@example.com',
      phone: '+1-555-0103',
      status: 'active',
    });
    expect(three.customer.id).toMatch(/^cus_/);
    const byId = await t.door.ok('get_customer', { customer_id: three.customer.id });
    expect(byId.customer).toEqual(three.customer);
  });

  it('adds, updates, disables and activates a customer', async () => {
    const added = await t.door.ok('add_customer', {
      name: 'New Person',
      email: 'new@example.com',
      phone: '+1-555-0199',
    });
    expect(added.created).toBe(true);
    expect(added.customer).toMatchObject({ name: 'New Person', email: 'new@example.com', status: 'active' });
    const id = added.customer.id;
    const updated = await t.door.ok('update_customer', {
      customer_id: id,
      phone: '+1-555-0200',
      email: null,
    });
    expect(updated.customer).toMatchObject({ phone: '+1-555-0200', email: null, name: 'New Person' });
    const off = await t.door.ok('disable_customer', { customer_id: id });
    expect(off).toMatchObject({ changed: true, customer: { status: 'disabled' } });
    expect((await t.door.ok('disable_customer', { customer_id: id })).changed).toBe(false);
    const on = await t.door.ok('activate_customer', { customer_id: id });
    expect(on).toMatchObject({ changed: true, customer: { status: 'active' } });
    // The change is Billfold's own: its audit trail has it, through this door.
    const logs = await t.api.ok('list_activity_logs', { resource_ids: [id] });
    expect(logs.activity_logs.map((l: { activity_type: string }) => l.activity_type)).toContain(
      'customer.updated',
    );
  });

  it('answers bad input with an error naming the seed parameter and what would work', async () => {
    const missing = await t.door.fail('get_customer', {});
    expect(missing.error).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(missing.error.message).toContain('customer_id');
    const status = await t.door.fail('list_customers', { status: 'archived' });
    expect(status.error.message).toBe("status must be one of active, disabled (got 'archived')");
    const unknown = await t.door.fail('get_customer', { customer_id: 'nobody-here' });
    expect(unknown.error).toMatchObject({ code: 'NOT_FOUND' });
    expect(unknown.error.message).toContain(
      "customer_id: no customer has the id or external_id 'nobody-here'",
    );
    const extra = await t.door.fail('add_customer', { name: 'X', company: 'Y' });
    expect(extra.error.message).toContain("unknown field 'company'");
    expect(extra.error.message).toContain('name, email, phone, external_id');
  });
});
