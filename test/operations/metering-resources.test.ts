import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { expect, it } from 'vitest';
import { httpApiDoor } from '../harness/doors.js';
import { describeDatabases } from '../harness/suite.js';

describeDatabases('metering resources and prompts', (t) => {
  it("serves a customer's usage and the price catalog as resources, and the cost review prompt", async () => {
    const org = await t.env.newOrganization(['read', 'write']);
    const api = httpApiDoor(t.env, org.key);
    await api.ok('create_customer', { external_id: 'res-cust', name: 'Res' });
    await api.ok('create_billable_metric', {
      code: 'res_calls',
      name: 'Calls',
      aggregation_type: 'count_agg',
    });
    await api.ok('record_usage', { transaction_id: 'res-1', customer_id: 'res-cust', code: 'res_calls' });
    await api.ok('record_usage', {
      transaction_id: 'res-2',
      customer_id: 'res-cust',
      code: 'res_calls',
      model: 'mystery-model',
      provider: 'acme',
      input_tokens: 5,
    });
    const client = new Client({ name: 'resources-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${t.env.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${org.key}` } },
      }),
    );
    try {
      const usage = await client.readResource({ uri: 'billfold://customers/res-cust/usage' });
      const parsed = JSON.parse((usage.contents[0] as { text: string }).text);
      expect(parsed.metrics).toEqual([
        expect.objectContaining({ code: 'res_calls', units: '2', event_count: 2 }),
      ]);
      const cat = await client.readResource({ uri: 'billfold://catalog/services' });
      const c = JSON.parse((cat.contents[0] as { text: string }).text);
      expect(c.prices_as_of).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(c.services.some((s: { id: string }) => s.id === 'openai/gpt-4o')).toBe(true);
      const prompt = await client.getPrompt({ name: 'ai_cost_review', arguments: {} });
      const text = (prompt.messages[0]!.content as { text: string }).text;
      expect(text).toContain('get_cost_metrics');
      expect(text).toContain('"model": "mystery-model"');
    } finally {
      await client.close();
    }
  });
});
