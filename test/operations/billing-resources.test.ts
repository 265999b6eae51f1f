import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { expect, it } from 'vitest';
import { httpApiDoor } from '../harness/doors.js';
import { describeDatabases } from '../harness/suite.js';

describeDatabases('billing resources and prompts', (t) => {
  it('serves a subscription as a resource, and the revenue and upcoming invoice prompts', async () => {
    const org = await t.env.newOrganization(['read', 'write']);
    const api = httpApiDoor(t.env, org.key);
    await api.ok('create_customer', { external_id: 'bres-cust', name: 'Bres', currency: 'EUR' });
    await api.ok('create_plan', {
      code: 'bres',
      name: 'Bres',
      interval: 'quarterly',
      currency: 'EUR',
      amount: '90',
    });
    await api.ok('create_subscription', {
      customer_id: 'bres-cust',
      plan_code: 'bres',
      external_id: 'bres-sub',
    });
    const client = new Client({ name: 'billing-resources-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${t.env.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${org.key}` } },
      }),
    );
    try {
      const res = await client.readResource({ uri: 'billfold://subscriptions/bres-sub' });
      const { subscription } = JSON.parse((res.contents[0] as { text: string }).text);
      expect(subscription).toMatchObject({ external_id: 'bres-sub', plan_code: 'bres', status: 'active' });
      await expect(client.readResource({ uri: 'billfold://subscriptions/nope' })).rejects.toThrow(/nope/);

      const revenue = await client.getPrompt({ name: 'revenue_review', arguments: {} });
      const text = (revenue.messages[0]!.content as { text: string }).text;
      expect(text).toContain('get_customer_revenue');
      // Committed MRR of the one quarterly subscription: 90 / 3.
      expect(text).toMatch(/"currency": "EUR"[\s\S]*"mrr": "30.00"/);

      const upcoming = await client.getPrompt({
        name: 'upcoming_invoice_check',
        arguments: { subscription_id: 'bres-sub' },
      });
      const u = (upcoming.messages[0]!.content as { text: string }).text;
      expect(u).toContain('preview_invoice');
      expect(u).toContain('"external_id": "bres-sub"');
    } finally {
      await client.close();
    }
  });
});
