import { beforeAll, expect, it } from 'vitest';
import { describeProfile } from '../../harness/profiles.js';
import { SEED_TOOLS } from './seed-tools.js';

/**
 * Seed 004 (Cegid Y2 ERP MCP): each JSON example of the document, verbatim, through the cegid
 * profile over MCP — the tool calls (`list_invoices {"limit": 10, "offset": 0}`, `create_invoice`
 * for CUST-001), the resources (`cegid://invoices/INV-001`, …) and the four prompts with their
 * example arguments. The document is of January 2025 (its prompts ask about 2025-01), so the
 * server's clock starts then.
 */
const SEED_TIME = Date.parse('2025-01-20T09:00:00Z');

function text(result: { messages: Array<{ content: { type: string; text?: string } }> }): string {
  const c = result.messages[0]!.content;
  expect(c.type).toBe('text');
  return c.text!;
}

describeProfile(
  'cegid',
  (t) => {
    beforeAll(async () => {
      await t.api.ok('create_customer', {
        external_id: 'CUST-001',
        name: 'Dupont SARL',
        email: 'compta@dupont.example',
        currency: 'EUR',
      });
      await t.api.ok('create_product', {
        code: 'PROD-001',
        name: 'Consulting day',
        unit_amount: '800.00',
        currency: 'EUR',
      });
      await t.api.ok('create_invoice', {
        customer_id: 'CUST-001',
        external_id: 'INV-001',
        lines: [{ product_code: 'PROD-001', quantity: '2' }],
        status: 'finalized',
      });
      await t.api.ok('create_invoice', {
        customer_id: 'CUST-001',
        amount: '50.00',
        description: 'Travel',
        status: 'finalized',
      });
      await t.api.ok('create_order', {
        customer_id: 'CUST-001',
        external_id: 'ORD-001',
        lines: [{ product_code: 'PROD-001', quantity: '3' }],
        status: 'confirmed',
      });
    });

    it('lists the seventeen tools, the resources and the four prompts of the seed', async () => {
      const { tools } = await t.door.client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(SEED_TOOLS.cegid!.tools);
      const list = tools.find((tool) => tool.name === 'list_invoices')!;
      expect((list.inputSchema.properties as any).limit).toMatchObject({ default: 20, maximum: 100 });
      expect((list.inputSchema.properties as any).offset).toMatchObject({ default: 0, minimum: 0 });
      const { resources } = await t.door.client.listResources();
      expect(resources.map((r) => r.uri)).toEqual([
        'cegid://invoices',
        'cegid://customers',
        'cegid://products',
        'cegid://orders',
        'cegid://dashboard',
      ]);
      const { resourceTemplates } = await t.door.client.listResourceTemplates();
      expect(resourceTemplates.map((r) => r.uriTemplate)).toEqual([
        'cegid://invoices/{id}',
        'cegid://customers/{id}',
        'cegid://products/{id}',
        'cegid://orders/{id}',
        'cegid://financial/{period}',
      ]);
      const { prompts } = await t.door.client.listPrompts();
      expect(prompts.map((p) => p.name)).toEqual([
        'analyze_invoice',
        'customer_report',
        'financial_analysis',
        'fraud_detection',
      ]);
    });

    it('list_invoices example: {"limit": 10, "offset": 0}, and a window across pages', async () => {
      const out = await t.door.ok('list_invoices', { limit: 10, offset: 0 });
      expect(out).toMatchObject({ total: 2, limit: 10, offset: 0, has_more: false });
      expect(out.invoices.map((i: any) => i.total_amount)).toEqual(['50.00', '1600.00']);
      const second = await t.door.ok('list_invoices', { limit: 1, offset: 1 });
      expect(second.invoices.map((i: any) => i.external_id)).toEqual(['INV-001']);
      expect(second.has_more).toBe(false);
      const first = await t.door.ok('list_invoices', { limit: 1 });
      expect(first).toMatchObject({ total: 2, offset: 0, has_more: true });
    });

    it('create_invoice example: {"customer_id": "CUST-001", "amount": 1000, "currency": "USD"}', async () => {
      const { invoice, created } = await t.door.ok('create_invoice', {
        customer_id: 'CUST-001',
        amount: 1000,
        currency: 'USD',
      });
      expect(created).toBe(true);
      expect(invoice).toMatchObject({
        status: 'draft',
        currency: 'USD',
        total_amount: '1000.00',
        total_amount_cents: 100000,
        customer: { external_id: 'CUST-001', name: 'Dupont SARL' },
      });
      const { deleted } = await t.door.ok('delete_invoice', { invoice_id: invoice.id });
      expect(deleted).toBe(true);
    });

    it('reads invoices, customers, products and orders by the ids people use', async () => {
      const inv = await t.door.ok('get_invoice_details', { invoice_id: 'INV-001' });
      expect(inv.invoice).toMatchObject({
        external_id: 'INV-001',
        total_amount: '1600.00',
        status: 'finalized',
      });
      expect(inv.payments).toEqual([]);
      const { customer } = await t.door.ok('get_customer_details', { customer_id: 'CUST-001' });
      expect(customer).toMatchObject({ external_id: 'CUST-001', name: 'Dupont SARL' });
      const { product } = await t.door.ok('get_product_details', { product_id: 'PROD-001' });
      expect(product).toMatchObject({ code: 'PROD-001', unit_amount: '800' });
      const { order } = await t.door.ok('get_order_details', { order_id: 'ORD-001' });
      expect(order).toMatchObject({ external_id: 'ORD-001', status: 'confirmed' });
      const orders = await t.door.ok('list_orders', { status: 'confirmed', customer_id: 'CUST-001' });
      expect(orders).toMatchObject({ total: 1, has_more: false });
      const products = await t.door.ok('list_products', { limit: 10, offset: 0 });
      expect(products.products.map((p: any) => p.code)).toEqual(['PROD-001']);
      const customers = await t.door.ok('list_customers', { search: 'dupont' });
      expect(customers.customers.map((c: any) => c.external_id)).toEqual(['CUST-001']);
      const found = await t.door.ok('search_invoices', { query: 'Travel', limit: 5 });
      expect(found.invoices.map((i: any) => i.total_amount)).toEqual(['50.00']);
      const batch = await t.door.ok('batch_get_invoices', { invoice_ids: ['INV-001', 'INV-404'] });
      expect(batch.invoices.map((i: any) => i.external_id)).toEqual(['INV-001']);
      expect(batch.missing).toEqual(['INV-404']);
    });

    it('updates a customer and summarizes the month', async () => {
      const { customer } = await t.door.ok('update_customer', { customer_id: 'CUST-001', city: 'Lyon' });
      expect(customer.city).toBe('Lyon');
      const summary = await t.door.ok('get_financial_summary', { period: '2025-01' });
      expect(summary.period).toBe('2025-01');
      const eur = summary.currencies.find((c: any) => c.currency === 'EUR');
      expect(eur).toBeDefined();
    });

    it('resources: cegid://invoices, cegid://invoices/INV-001, cegid://financial/2025-01, cegid://dashboard', async () => {
      const read = async (uri: string) => {
        const { contents } = await t.door.client.readResource({ uri });
        expect(contents[0]!.mimeType).toBe('application/json');
        return JSON.parse((contents[0] as { text: string }).text);
      };
      const all = await read('cegid://invoices');
      expect(all.total).toBeGreaterThanOrEqual(2);
      const one = await read('cegid://invoices/INV-001');
      expect(one.invoice.external_id).toBe('INV-001');
      expect((await read('cegid://customers/CUST-001')).customer.name).toBe('Dupont SARL');
      expect((await read('cegid://products/PROD-001')).product.code).toBe('PROD-001');
      expect((await read('cegid://orders/ORD-001')).order.external_id).toBe('ORD-001');
      expect((await read('cegid://financial/2025-01')).period).toBe('2025-01');
      expect(await read('cegid://dashboard')).toHaveProperty('mrr');
      await expect(t.door.client.readResource({ uri: 'cegid://invoices/INV-404' })).rejects.toThrow(
        /INV-404/,
      );
    });

    it('prompts with the examples of the seed', async () => {
      const analyze = text(
        await t.door.client.getPrompt({ name: 'analyze_invoice', arguments: { invoice_id: 'INV-001' } }),
      );
      expect(analyze).toContain('1600.00');
      const report = text(
        await t.door.client.getPrompt({
          name: 'customer_report',
          arguments: { customer_id: 'CUST-001', period: '2025-01' },
        }),
      );
      expect(report).toContain('Focus on 2025-01');
      expect(report).toContain('Dupont SARL');
      const finance = text(
        await t.door.client.getPrompt({ name: 'financial_analysis', arguments: { period: '2025-01' } }),
      );
      expect(finance).toContain('finances of 2025-01');
      expect(finance).toContain('"currency": "EUR"');
      const fraud = text(
        await t.door.client.getPrompt({ name: 'fraud_detection', arguments: { threshold: '50' } }),
      );
      expect(fraud).toContain('Risk score 50 is a robust z-score above 3.5 for unusual amounts');
      expect(fraud).toContain('unusual-amount threshold 3.5');
      for (const threshold of ['high', '0', '101', '50.5'])
        await expect(
          t.door.client.getPrompt({ name: 'fraud_detection', arguments: { threshold } }),
        ).rejects.toThrow(
          `threshold must be a risk score, a whole number from 1 to 100 (got '${threshold}')`,
        );
    });

    it("validate_qr_code reads a code: one that is none of the organization's is unknown", async () => {
      const out = await t.door.ok('validate_qr_code', { text: 'https://example.com/not-ours' });
      expect(out.result).toBe('unknown');
      expect(typeof out.message).toBe('string');
      const empty = await t.door.fail('validate_qr_code', { text: '' });
      expect(empty.error.message).toBe('text must not be empty');
    });

    it("bad input: Billfold's error naming the seed's parameter", async () => {
      const limit = await t.door.fail('list_invoices', { limit: 500 });
      expect(limit.error).toMatchObject({
        code: 'VALIDATION_ERROR',
        message: 'limit must be at most 100 (got 500)',
      });
      const offset = await t.door.fail('list_invoices', { offset: -1 });
      expect(offset.error.message).toBe('offset must be at least 0 (got -1)');
      const missing = await t.door.fail('get_customer_details', {});
      expect(missing.error.message).toBe('customer_id is required');
      const status = await t.door.fail('list_invoices', { status: 'paid' });
      expect(status.error.message).toContain('status must be one of draft, finalized, voided');
      const unknown = await t.door.fail('get_invoice_details', { invoice_id: 'INV-404' });
      expect(unknown.error.code).toBe('NOT_FOUND');
      expect(unknown.error.message).toContain(
        "invoice_id: no invoice has the id, number or external_id 'INV-404'",
      );
    });
  },
  { clock: SEED_TIME },
);

/**
 * One threshold, two meanings: the cegid profile's fraud_detection reads it as seed 004's risk
 * score (1-100, z = 7 × risk / 100), the catalogue's as detect_anomalies' robust z-score. One
 * customer's sixth invoice lies at a z-score of 4.05 from the five before (median 100, MAD 1:
 * 0.6745 × 6 / 1), so the same 50 finds it on one surface and not on the other.
 */
describeProfile('cegid', (t) => {
  let unusual: string;

  const catalogueFraud = async (threshold: string) => {
    const res = await fetch(`${t.env.url}/prompts/fraud_detection`, {
      method: 'POST',
      headers: { 'x-api-key': t.org.key, 'content-type': 'application/json' },
      body: JSON.stringify({ threshold }),
    });
    const body = (await res.json()) as any;
    return { status: res.status, body, text: body.messages?.[0]?.content.text as string | undefined };
  };
  const cegidFraud = async (threshold: string) =>
    text(await t.door.client.getPrompt({ name: 'fraud_detection', arguments: { threshold } }));
  const unusualCount = (rendered: string) => Number(/"unusual_amount": (\d+)/.exec(rendered)![1]);

  beforeAll(async () => {
    await t.api.ok('create_customer', { external_id: 'CUST-STEADY', name: 'Steady SA', currency: 'EUR' });
    for (const amount of ['100.00', '102.00', '98.00', '101.00', '99.00', '106.00']) {
      const { invoice } = await t.api.ok('create_invoice', {
        customer_id: 'CUST-STEADY',
        amount,
        description: 'Monthly service',
        status: 'finalized',
      });
      unusual = invoice.number;
    }
  });

  it('the same threshold finds the unusual amount as a risk score, not as a z-score', async () => {
    const asRisk = await cegidFraud('50');
    expect(asRisk).toContain('Risk score 50 is a robust z-score above 3.5');
    expect(unusualCount(asRisk)).toBe(1);
    expect(asRisk).toContain(`"number": "${unusual}"`);
    expect(asRisk).toContain('"score": "4.05"');
    const asZ = await catalogueFraud('50');
    expect(asZ.status).toBe(200);
    expect(asZ.text).toContain('unusual-amount threshold 50');
    expect(unusualCount(asZ.text!)).toBe(0);
  });

  it('each surface finds it below its own cut-off and not above', async () => {
    // Risk 57 is z 3.99, risk 58 is z 4.06: on each side of 4.05.
    expect(unusualCount(await cegidFraud('57'))).toBe(1);
    const above = await cegidFraud('58');
    expect(above).toContain('Risk score 58 is a robust z-score above 4.06');
    expect(unusualCount(above)).toBe(0);
    expect(unusualCount((await catalogueFraud('4')).text!)).toBe(1);
    expect(unusualCount((await catalogueFraud('4.1')).text!)).toBe(0);
  });

  it('refuses a threshold out of each range, naming the field and the range', async () => {
    for (const threshold of ['0', '1000001', '-1', 'high']) {
      const { status, body } = await catalogueFraud(threshold);
      expect(status, threshold).toBe(422);
      expect(body.error.message).toBe(
        `threshold: must be a robust z-score greater than 0 and at most 1000000, such as 3.5 (got '${threshold}')`,
      );
    }
    await expect(cegidFraud('101')).rejects.toThrow(
      /threshold must be a risk score, a whole number from 1 to 100/,
    );
  });
});
