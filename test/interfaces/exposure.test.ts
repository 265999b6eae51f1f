import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExposure, toolsetsOf } from '../../src/interfaces/exposure.js';
import { buildCatalogue } from '../../src/operations/catalogue.js';
import { httpApiDoor, mcpStdioDoor, runCli } from '../harness/doors.js';
import { PG_URL, startEnvironment, type DbName, type TestEnvironment } from '../harness/environment.js';
import { openProfileDoor } from '../harness/profiles.js';

/** Toolsets and read-only mode: what every door and every profile lists and accepts. */

async function toolNames(env: TestEnvironment, key: string, path: string): Promise<string[]> {
  const client = new Client({ name: 'exposure-tests', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${env.url}${path}`), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    }),
  );
  const { tools } = await client.listTools();
  await client.close();
  return tools.map((t) => t.name);
}

describe('toolsets', () => {
  it('are the catalogue groups, with metering standing for its three, and refuse a name that is none', () => {
    const catalogue = buildCatalogue();
    const names = toolsetsOf(catalogue);
    expect(names).toEqual(
      expect.arrayContaining(['customers', 'invoices', 'usage_events', 'ai_costs', 'billable_metrics']),
    );
    const e = createExposure(catalogue, { toolsets: ['Customers', 'metering'], readOnly: false });
    expect(e.toolsets).toEqual(['system', 'customers', 'billable_metrics', 'usage_events', 'ai_costs']);
    expect(() => createExposure(catalogue, { toolsets: ['customer'], readOnly: false })).toThrow(
      /BILLFOLD_TOOLSETS: there is no toolset 'customer'; the toolsets are system, customers, /,
    );
  });
});

for (const db of ['sqlite', 'postgres'] as DbName[]) {
  describe.skipIf(db === 'postgres' && !PG_URL)(`read-only mode with toolsets [${db}]`, () => {
    let env: TestEnvironment;
    let key: string;
    beforeAll(async () => {
      env = await startEnvironment(db, { config: { toolsets: ['customers', 'invoices'], readOnly: true } });
      key = (await env.newOrganization(['admin'])).key;
    });
    afterAll(async () => env?.close());

    it('lists only the reading tools of the chosen toolsets, on /mcp and on every profile', async () => {
      const tools = await toolNames(env, key, '/mcp');
      expect(tools).toContain('verify');
      expect(tools).toContain('list_customers');
      expect(tools).toContain('get_invoice');
      expect(tools).not.toContain('create_customer');
      expect(tools).not.toContain('mark_invoice_paid');
      expect(tools).not.toContain('list_plans');
      for (const name of tools) {
        const op = env.rt.catalogue.get(name)!;
        expect(op.annotations.readOnlyHint, name).toBe(true);
        expect(['system', 'customers', 'invoices']).toContain(op.group);
      }
      expect(await toolNames(env, key, '/mcp/orvion')).toEqual(['get_invoice', 'list_invoices']);
      expect(await toolNames(env, key, '/mcp/customers')).toEqual(['get_customer', 'list_customers']);
    });

    it('refuses a writing call and a call outside the toolsets through the HTTP API, whatever the key', async () => {
      const api = httpApiDoor(env, key);
      const write = await api.fail('create_customer', { name: 'Nope' }, 'FORBIDDEN');
      expect(write.message).toBe('create_customer changes data, and this server runs in read-only mode');
      const other = await api.fail('list_plans', {}, 'NOT_FOUND');
      expect(other.message).toContain(
        'list_plans is in the plans toolset, which this server does not expose',
      );
      expect(other.hint).toContain('BILLFOLD_TOOLSETS');
      const v = await api.ok('verify');
      expect(v.tools).toEqual({ toolsets: ['system', 'customers', 'invoices'], read_only: true });
      expect((await api.ok('list_customers')).customers).toEqual([]);
    });

    it('applies to stdio too (BILLFOLD_READ_ONLY, --toolsets), for the catalogue and for a profile', async () => {
      const stdio = await mcpStdioDoor(env, key, { BILLFOLD_READ_ONLY: '1', BILLFOLD_TOOLSETS: 'customers' });
      const v = await stdio.ok('verify');
      expect(v.tools).toEqual({ toolsets: ['system', 'customers'], read_only: true });
      const refused = await stdio.fail('disable_customer', { customer_id: 'x' }, 'FORBIDDEN');
      expect(refused.message).toContain('read-only mode');
      await stdio.close();
      const profile = await openProfileDoor(env, 'customers', 'mcp_stdio', key, { BILLFOLD_READ_ONLY: '1' });
      const { tools } = await profile.client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['get_customer', 'list_customers']);
      await expect(
        profile.client.callTool({ name: 'add_customer', arguments: { name: 'X' } }),
      ).rejects.toThrow(/Unknown tool 'add_customer' in the customers profile/);
      await profile.close();
    });
  });
}

describe('the CLI', () => {
  it(
    'stops with a toolset or profile that does not exist, naming the setting',
    { timeout: 60_000 },
    async () => {
      const bad = await runCli(['stdio', '--toolsets', 'customers,nothing'], {
        BILLFOLD_DATABASE: ':memory:',
      });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain("there is no toolset 'nothing'");
      const profile = await runCli(['stdio', '--profile', 'stripe'], { BILLFOLD_DATABASE: ':memory:' });
      expect(profile.code).toBe(1);
      expect(profile.stderr).toContain(
        "--profile: there is no profile 'stripe'; the profiles are billfold, ",
      );
      const env = await runCli(['stdio'], { BILLFOLD_DATABASE: ':memory:', BILLFOLD_PROFILE: 'nope' });
      expect(env.stderr).toContain("BILLFOLD_PROFILE: there is no profile 'nope'");
    },
  );
});
