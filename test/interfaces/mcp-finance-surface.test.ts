import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { beforeAll, expect, it } from 'vitest';
import type { TestEnvironment, TestOrganization } from '../harness/environment.js';
import { caller } from '../harness/billing.js';
import { describeDatabases } from '../harness/suite.js';

async function connect(env: TestEnvironment, key: string, modern: boolean): Promise<Client> {
  const client = new Client(
    { name: 'mcp-finance-tests', version: '1' },
    modern ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {},
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${env.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    }),
  );
  return client;
}

const textOf = (r: { contents: unknown[] }) => JSON.parse((r.contents[0] as { text: string }).text);
const thisMonth = () => new Date().toISOString().slice(0, 7);

/** Concrete resources, templates for items and filtered collections, prompts and completions. */
describeDatabases('MCP resources, prompts and completions on the organization’s data', (t) => {
  let org: TestOrganization;
  let other: TestOrganization;
  const made: Record<string, string> = {};

  beforeAll(async () => {
    org = await t.env.newOrganization(['admin']);
    other = await t.env.newOrganization(['admin']);
    const c = caller(t.env, org.id);
    await c.call('update_organization', { timezone: 'UTC' });
    for (const [id, name] of [
      ['acme-001', 'Acme Corp'],
      ['acme-002', 'Acme Labs'],
      ['zen-1', 'Zenith'],
    ] as const)
      made[id] = (await c.call('create_customer', { external_id: id, name, currency: 'EUR' })).customer.id;
    await c.call('create_product', {
      code: 'consult-day',
      name: 'Consulting day',
      unit_amount: '800',
      currency: 'EUR',
    });
    const inv = await c.call('create_invoice', {
      customer_id: 'acme-001',
      status: 'finalized',
      lines: [{ description: 'Work', unit_amount: '100', tax_codes: [] }],
    });
    made.invoice = inv.invoice.number;
    const order = await c.call('create_order', {
      customer_id: 'acme-002',
      external_id: 'po-77',
      lines: [{ product_code: 'consult-day', quantity: 2 }],
    });
    made.order = order.order.id;
    await c.call('create_billable_metric', {
      code: 'api_calls',
      name: 'API calls',
      aggregation_type: 'count_agg',
    });
    await c.call('create_plan', {
      code: 'starter',
      name: 'Starter',
      interval: 'monthly',
      amount: '10',
      currency: 'EUR',
    });
    await c.call('create_coupon', {
      code: 'WELCOME10',
      name: 'Welcome',
      coupon_type: 'percentage',
      percentage_rate: '10',
    });
    // Another organization's look-alike must never be offered.
    await caller(t.env, other.id).call('create_customer', {
      external_id: 'acme-999',
      name: 'Acme Elsewhere',
    });
  });

  it('lists concrete resources and keeps templates for items and filtered collections', async () => {
    for (const modern of [true, false]) {
      const client = await connect(t.env, org.key, modern);
      const { resources } = await client.listResources();
      expect(resources.map((r) => r.uri).sort()).toEqual(
        [
          'billfold://catalog/services',
          'billfold://customers',
          'billfold://dashboard',
          `billfold://financial/${thisMonth()}`,
          'billfold://invoices',
          'billfold://orders',
          'billfold://products',
        ].sort(),
      );
      const { resourceTemplates } = await client.listResourceTemplates();
      const templates = resourceTemplates.map((r) => r.uriTemplate);
      for (const tpl of [
        'billfold://orders/{order_id}',
        'billfold://products/{product_id}',
        'billfold://financial/{period}',
        'billfold://dashboard',
      ])
        expect(templates).toContain(tpl);
      expect(templates.find((x) => x.startsWith('billfold://invoices{?'))).toMatch(/status/);
      expect(templates.find((x) => x.startsWith('billfold://customers{?'))).toMatch(/search/);
      await client.close();
    }
  });

  it('reads each resource as the operation behind it answers', async () => {
    const client = await connect(t.env, org.key, true);
    for (const r of (await client.listResources()).resources) {
      const read = await client.readResource({ uri: r.uri });
      expect(read.contents[0]).toMatchObject({ uri: r.uri, mimeType: 'application/json' });
    }
    const dashboard = textOf(await client.readResource({ uri: 'billfold://dashboard' }));
    expect(dashboard.receivables).toEqual([
      expect.objectContaining({ currency: 'EUR', outstanding: '100.00' }),
    ]);
    const month = textOf(await client.readResource({ uri: `billfold://financial/${thisMonth()}` }));
    expect(month).toMatchObject({ period: thisMonth() });
    expect(month.currencies[0]).toMatchObject({ currency: 'EUR', invoiced_net: '100.00' });
    const year = textOf(
      await client.readResource({ uri: `billfold://financial/${thisMonth().slice(0, 4)}` }),
    );
    expect(year.by_month).toHaveLength(12);
    const order = textOf(await client.readResource({ uri: 'billfold://orders/po-77' }));
    expect(order.order.id).toBe(made.order);
    const product = textOf(await client.readResource({ uri: 'billfold://products/consult-day' }));
    expect(product.product).toMatchObject({ code: 'consult-day', unit_amount: '800' });
    const products = textOf(await client.readResource({ uri: 'billfold://products' }));
    expect(products.products.map((p: any) => p.code)).toEqual(['consult-day']);
    const customers = textOf(
      await client.readResource({ uri: 'billfold://customers?search=acme&per_page=1&page=2' }),
    );
    expect(customers.customers).toHaveLength(1);
    expect(customers.pagination).toMatchObject({ current_page: 2, total_count: 2 });
    const finalized = textOf(await client.readResource({ uri: 'billfold://invoices?status=finalized' }));
    expect(finalized.invoices.map((i: any) => i.number)).toEqual([made.invoice]);
    // A wrong filter or period is refused by name, never ignored.
    await expect(client.readResource({ uri: 'billfold://invoices?status=paid' })).rejects.toThrow(/status/);
    await expect(client.readResource({ uri: 'billfold://invoices?colour=red' })).rejects.toThrow(/colour/);
    await expect(client.readResource({ uri: 'billfold://financial/2026-13' })).rejects.toThrow(
      /period: must be a month/,
    );
    await expect(client.readResource({ uri: 'billfold://orders/nothing' })).rejects.toThrow(/nothing/);
    await client.close();
  });

  it('renders financial_analysis and fraud_detection from the data', async () => {
    const client = await connect(t.env, org.key, true);
    const names = (await client.listPrompts()).prompts.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['financial_analysis', 'fraud_detection']));
    const analysis = await client.getPrompt({
      name: 'financial_analysis',
      arguments: { period: thisMonth() },
    });
    const text = (analysis.messages[0]!.content as { text: string }).text;
    expect(text).toContain(`Analyze our finances for ${thisMonth()}`);
    expect(text).toContain('"invoiced_net": "100.00"');
    expect(text).toMatch(/The period before \(\d{4}-\d{2}\)/);
    const quarter = await client.getPrompt({ name: 'financial_analysis', arguments: { period: '2026-Q1' } });
    expect((quarter.messages[0]!.content as { text: string }).text).toContain('The period before (2025-Q4)');
    const fraud = await client.getPrompt({ name: 'fraud_detection', arguments: { threshold: '50' } });
    const body = (fraud.messages[0]!.content as { text: string }).text;
    expect(body).toContain('unusual-amount threshold 50');
    expect(body).toContain('"findings": []');
    await expect(
      client.getPrompt({ name: 'fraud_detection', arguments: { threshold: 'high' } }),
    ).rejects.toThrow(/threshold: must be a robust z-score greater than 0 and at most 1000000/);
    await expect(
      client.getPrompt({ name: 'financial_analysis', arguments: { period: 'Q5' } }),
    ).rejects.toThrow(/period: must be a month/);
    await client.close();
  });

  it('completes arguments from the organization’s own data, by id, external id, number and name', async () => {
    const client = await connect(t.env, org.key, true);
    const prompt = (name: string, argument: string, value: string) =>
      client
        .complete({ ref: { type: 'ref/prompt', name }, argument: { name: argument, value } })
        .then((r) => r.completion.values);
    const template = (uri: string, argument: string, value: string) =>
      client
        .complete({ ref: { type: 'ref/resource', uri }, argument: { name: argument, value } })
        .then((r) => r.completion.values);
    expect((await prompt('customer_report', 'customer_id', 'acme')).sort()).toEqual(['acme-001', 'acme-002']);
    expect(await prompt('customer_report', 'customer_id', 'zeni')).toEqual(['zen-1']); // by name
    expect(await prompt('customer_report', 'customer_id', made['zen-1']!.slice(0, 20))).toContain(
      made['zen-1'],
    );
    expect(await template('billfold://customers/{customer_id}', 'customer_id', 'ACME-00')).toHaveLength(2);
    expect(await prompt('analyze_invoice', 'invoice_id', made.invoice!.slice(0, 6))).toEqual([made.invoice]);
    expect(await template('billfold://orders/{order_id}', 'order_id', 'po-')).toEqual(['po-77']);
    expect(await template('billfold://products/{product_id}', 'product_id', 'cons')).toEqual(['consult-day']);
    expect(await template('billfold://financial/{period}', 'period', thisMonth().slice(0, 4))).toEqual(
      expect.arrayContaining([thisMonth(), thisMonth().slice(0, 4)]),
    );
    expect(await prompt('financial_analysis', 'period', '1999')).toEqual([]);
    expect(await template('billfold://plans/{plan_code}', 'plan_code', 'sta')).toEqual(['starter']);
    expect(await template('billfold://coupons/{coupon_code}', 'coupon_code', 'welc')).toEqual(['WELCOME10']);
    expect(await template('billfold://billable-metrics/{metric_code}', 'metric_code', 'API')).toEqual([
      'api_calls',
    ]);
    const plan = textOf(await client.readResource({ uri: 'billfold://plans/starter' }));
    expect(plan.plan.code).toBe('starter');
    const metric = textOf(await client.readResource({ uri: 'billfold://billable-metrics/api_calls' }));
    expect(metric.billable_metric.code).toBe('api_calls');
    // Nothing from another organization, nothing for an argument the prompt does not take.
    expect(await prompt('customer_report', 'customer_id', 'acme-9')).toEqual([]);
    expect(await prompt('customer_report', 'invoice_id', '')).toEqual([]);
    expect(await prompt('no_such_prompt', 'customer_id', 'acme')).toEqual([]);
    await client.close();
  });
});
