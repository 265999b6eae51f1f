import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { beforeAll, expect, it } from 'vitest';
import { ERROR_CODES, HTTP_STATUS } from '../../src/domain/errors.js';
import { httpApiDoor, type Door } from '../harness/doors.js';
import { pdfText } from '../harness/pdf.js';
import { describeDatabases } from '../harness/suite.js';

/**
 * Seed 004's REST shape over the catalogue: GET /tools, POST /tools/<name>, GET /resources,
 * GET /resources/<path>, GET /prompts, POST /prompts/<name>, GET /capabilities — all listed from
 * the catalogue itself, with the API's keys (Bearer or X-API-Key), scopes and errors.
 */

interface Answer {
  status: number;
  type: string | null;
  body: any;
  raw: Buffer;
}

describeDatabases('seed 004 REST shape', (t) => {
  let key: string;
  let readKey: string;
  let api: Door;
  let invoice: any;

  const request = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(`${t.env.url}${path}`, {
      method,
      headers: {
        'x-api-key': key,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const raw = Buffer.from(await res.arrayBuffer());
    const type = res.headers.get('content-type');
    const answer: Answer = {
      status: res.status,
      type,
      raw,
      body: type?.startsWith('application/json') ? JSON.parse(raw.toString('utf8')) : raw.toString('utf8'),
    };
    if (res.status >= 400) {
      // Every failure is the API's error envelope, with the status its code maps to (405 aside).
      expect(ERROR_CODES).toContain(answer.body.error.code);
      if (res.status !== 405 && res.status !== 400)
        expect(res.status).toBe(HTTP_STATUS[answer.body.error.code as keyof typeof HTTP_STATUS]);
    }
    return answer;
  };

  beforeAll(async () => {
    const org = await t.env.newOrganization(['admin'], 'Cegid shaped');
    key = org.key;
    readKey = await t.env.addKey(org.id, ['read']);
    api = httpApiDoor(t.env, key);
    await api.ok('create_customer', { external_id: 'CUST-001', name: 'Acme SA', currency: 'EUR' });
    ({ invoice } = await api.ok('create_invoice', {
      customer_id: 'CUST-001',
      amount: '1000',
      description: 'Implementation',
      status: 'finalized',
    }));
  });

  it('needs a key, as Bearer or X-API-Key, on every path', async () => {
    for (const path of [
      '/tools',
      '/resources',
      '/prompts',
      '/capabilities',
      '/resources/customers/CUST-001',
    ]) {
      const none = await request('GET', path, undefined, { 'x-api-key': '' });
      expect(none.status, path).toBe(401);
      expect(none.body.error.code).toBe('UNAUTHORIZED');
    }
    const bearer = await request('GET', '/tools', undefined, {
      'x-api-key': '',
      authorization: `Bearer ${key}`,
    });
    expect(bearer.status).toBe(200);
    const wrong = await request('GET', '/tools', undefined, { 'x-api-key': 'bf_not_a_key' });
    expect(wrong.status).toBe(401);
  });

  it('lists every tool of the catalogue with its schemas, and calls any of them by name', async () => {
    const { body } = await request('GET', '/tools');
    expect(body.tools.map((x: any) => x.name)).toEqual(t.env.rt.catalogue.operations.map((op) => op.name));
    const validate = body.tools.find((x: any) => x.name === 'validate_qr_code');
    expect(validate).toMatchObject({
      scope: 'read',
      group: 'invoices',
      annotations: { readOnlyHint: true },
      href: '/tools/validate_qr_code',
      input_schema: { type: 'object', required: ['text'] },
    });
    expect(validate.output_schema.properties.result.enum).toEqual([
      'valid',
      'tampered',
      'revoked',
      'unknown',
      'epc_transfer',
    ]);

    // A call is the operation: the same output as POST /api/v1/<name>.
    const got = await request('POST', '/tools/get_customer', { customer_id: 'CUST-001' });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(await api.ok('get_customer', { customer_id: 'CUST-001' }));
    const made = await request('POST', '/tools/create_customer', { external_id: 'CUST-002', name: 'Globex' });
    expect(made.status).toBe(200);
    expect(made.body.customer.external_id).toBe('CUST-002');
    const list = await request('POST', '/tools/list_invoices', { per_page: 10 });
    expect(list.body.invoices.map((i: any) => i.number)).toEqual([invoice.number]);
  });

  it('answers a bad call as the API does: the field, the unknown tool, the scope, the method', async () => {
    const bad = await request('POST', '/tools/create_customer', { external_id: 'x', currency: 'EURO' });
    expect(bad.status).toBe(422);
    expect(bad.body.error.message).toMatch(/currency/);
    const typo = await request('POST', '/tools/get_custmer', {});
    expect(typo.status).toBe(404);
    expect(typo.body.error.details.suggestions).toContain('get_customer');
    const notJson = await fetch(`${t.env.url}/tools/get_customer`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: '{"customer_id":',
    });
    expect(notJson.status).toBe(400);
    const readOnly = await request(
      'POST',
      '/tools/create_customer',
      { name: 'No' },
      { 'x-api-key': readKey },
    );
    expect(readOnly.status).toBe(403);
    expect(readOnly.body.error.message).toMatch(/write scope/);
    const get = await request('GET', '/tools/get_customer');
    expect(get.status).toBe(405);
    expect(get.body.error.message).toMatch(/use POST for \/tools\/get_customer/);
    expect((await request('DELETE', '/tools')).status).toBe(405);
    expect((await request('GET', '/tools/a/b')).status).toBe(404);
  });

  it('lists the resources and templates of the catalogue, and reads one by its path', async () => {
    const { body } = await request('GET', '/resources');
    // Every resource has its template; the concrete ones are those a definition lists.
    expect(body.resource_templates.map((r: any) => r.uri_template)).toEqual(
      t.env.rt.catalogue.resources.map((r) => r.uriTemplate),
    );
    expect(body.resources.map((r: any) => r.name)).toEqual(
      t.env.rt.catalogue.resources.filter((r) => r.listedAs).map((r) => r.name),
    );
    expect(body.resource_templates).toContainEqual(
      expect.objectContaining({
        uri_template: 'billfold://invoices/{invoice_id}',
        href_template: '/resources/invoices/{invoice_id}',
        mime_type: 'application/json',
      }),
    );
    expect(body.resources).toContainEqual(
      expect.objectContaining({ uri: 'billfold://catalog/services', href: '/resources/catalog/services' }),
    );
    // A collection is listed as its first page, a summary as this month's.
    expect(body.resources).toContainEqual(
      expect.objectContaining({ uri: 'billfold://invoices', href: '/resources/invoices' }),
    );
    const month = body.resources.find((r: any) => r.name === 'financial_summary');
    expect(month.uri).toMatch(/^billfold:\/\/financial\/\d{4}-\d{2}$/);
    expect(month.href).toBe(`/resources/${month.uri.slice('billfold://'.length)}`);
    for (const r of body.resources) expect((await request('GET', r.href)).status, r.href).toBe(200);

    // MCP resources/list and resources/templates/list give the same lists.
    const client = new Client({ name: 'seed-004-rest-tests', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${t.env.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${key}` } },
      }),
    );
    const mcp = await client.listResources();
    expect(mcp.resources.map((r) => ({ uri: r.uri, name: r.name, mime_type: r.mimeType }))).toEqual(
      body.resources.map((r: any) => ({ uri: r.uri, name: r.name, mime_type: r.mime_type })),
    );
    const templates = await client.listResourceTemplates();
    expect(templates.resourceTemplates.map((r) => r.uriTemplate)).toEqual(
      body.resource_templates.map((r: any) => r.uri_template),
    );
    await client.close();

    const one = await request('GET', `/resources/invoices/${invoice.number}`);
    expect(one.status).toBe(200);
    expect(one.type).toBe('application/json; charset=utf-8');
    expect(one.body.invoice).toEqual((await api.ok('get_invoice', { invoice_id: invoice.id })).invoice);
    const pdf = await request('GET', `/resources/invoices/${encodeURIComponent(invoice.number)}/pdf`);
    expect(pdf.type).toBe('application/pdf');
    expect(await pdfText(new Uint8Array(pdf.raw))).toContain(invoice.number);
    const customer = await request('GET', '/resources/customers/CUST-001');
    expect(customer.body.customer.name).toBe('Acme SA');

    const missing = await request('GET', '/resources/invoices/INV-000000-0000');
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toMatch(/INV-000000-0000/);
    const nowhere = await request('GET', '/resources/nothing/here/at/all');
    expect(nowhere.status).toBe(404);
    expect(nowhere.body.error.message).toMatch(/billfold:\/\/nothing\/here\/at\/all/);
    expect((await request('POST', '/resources/customers/CUST-001', {})).status).toBe(405);
  });

  it('lists the prompts and renders one from the body’s arguments', async () => {
    const { body } = await request('GET', '/prompts');
    expect(body.prompts.map((p: any) => p.name)).toEqual(t.env.rt.catalogue.prompts.map((p) => p.name));
    expect(body.prompts.find((p: any) => p.name === 'customer_report')).toMatchObject({
      href: '/prompts/customer_report',
      arguments: [
        { name: 'customer_id', required: true },
        { name: 'period', required: false },
      ],
    });
    const report = await request('POST', '/prompts/customer_report', {
      customer_id: 'CUST-001',
      period: '2026-11',
    });
    expect(report.status).toBe(200);
    expect(report.body.name).toBe('customer_report');
    expect(report.body.messages[0].role).toBe('user');
    expect(report.body.messages[0].content.text).toContain('Acme SA');
    expect(report.body.messages[0].content.text).toContain('2026-11');
    // Seed 004 sends numbers where a prompt takes text: taken as their text.
    const numeric = await request('POST', '/prompts/customer_report', {
      customer_id: 'CUST-001',
      period: 202611,
    });
    expect(numeric.body.messages[0].content.text).toContain('202611');
    const analysed = await request('POST', '/prompts/analyze_invoice', { invoice_id: invoice.number });
    expect(analysed.body.messages[0].content.text).toContain(invoice.number);

    const missing = await request('POST', '/prompts/customer_report', {});
    expect(missing.status).toBe(422);
    expect(missing.body.error.message).toBe('prompt customer_report needs customer_id');
    const extra = await request('POST', '/prompts/customer_report', { customer_id: 'CUST-001', limit: 5 });
    expect(extra.status).toBe(422);
    expect(extra.body.error.message).toMatch(/^limit: prompt customer_report has no such argument/);
    const nested = await request('POST', '/prompts/customer_report', { customer_id: { id: 'x' } });
    expect(nested.status).toBe(422);
    expect(nested.body.error.message).toMatch(/customer_id must be a string/);
    const unknown = await request('POST', '/prompts/fraud_detectionn', {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.details.prompts).toContain('customer_report');
    const gone = await request('POST', '/prompts/customer_report', { customer_id: 'CUST-404' });
    expect(gone.status).toBe(404);
    expect((await request('GET', '/prompts/customer_report')).status).toBe(405);
  });

  it('describes the server: what it offers, where, and the caller’s scopes', async () => {
    const { status, body } = await request('GET', '/capabilities', undefined, { 'x-api-key': readKey });
    expect(status).toBe(200);
    expect(body.server.name).toBe('billfold');
    expect(body.scopes).toEqual(['read']);
    expect(body.capabilities.tools.count).toBe(t.env.rt.catalogue.operations.length);
    expect(body.capabilities.prompts.count).toBe(t.env.rt.catalogue.prompts.length);
    const listed = await request('GET', '/resources');
    expect(body.capabilities.resources.count).toBe(listed.body.resources.length);
    expect(body.capabilities.resources.templates).toBe(listed.body.resource_templates.length);
    expect(body.endpoints.call_tool).toBe('POST /tools/<name>');
  });
});
