import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHttpServer, listen, type RunningHttpServer } from '../../src/interfaces/http/server.js';
import type { TestOrganization } from '../harness/environment.js';
import { describeDatabases } from '../harness/suite.js';

/**
 * A plain 2026-07-28 tools/call of a catalogue tool is answered by mcp/direct-tool-call.ts, not
 * the SDK's handler. The same requests go to the environment's server and to a second server
 * over the same runtime with that path turned off: status, content type and body must be the
 * same to the byte, the first server must have answered the plain calls itself (its counter),
 * and everything the direct path is not sure of must reach the SDK (the counter stays put).
 */
const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'direct-test', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

interface Exchange {
  headers: Record<string, string>;
  body: unknown;
}

function toolCall(
  name: unknown,
  args: unknown,
  id: unknown = 1,
  extra: Record<string, unknown> = {},
): Exchange {
  return {
    headers: {
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      ...(typeof name === 'string' ? { 'mcp-name': name } : {}),
    },
    body: {
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name, ...(args === undefined ? {} : { arguments: args }), _meta: META, ...extra },
    },
  };
}

async function post(url: string, key: string, x: Exchange) {
  const res = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...x.headers,
    },
    body: JSON.stringify(x.body),
  });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describeDatabases('tools/call answered directly', (t) => {
  let sdkOnly: RunningHttpServer;
  let org: TestOrganization;
  beforeAll(async () => {
    sdkOnly = await listen(t.env.rt, createHttpServer(t.env.rt, { directToolCalls: false }), '127.0.0.1', 0);
    org = await t.env.newOrganization(['admin']);
    const created = await post(
      t.env.url,
      org.key,
      toolCall('create_customer', {
        external_id: 'direct-1',
        name: 'Zoë — "Quotes" \\ Ünïcode 😀',
        email: 'billing@direct.example',
        currency: 'EUR',
        metadata: { note: 'line\nbreak\u2028separator' },
      }),
    );
    expect(created.status).toBe(200);
  });
  afterAll(async () => {
    await sdkOnly?.close();
  });

  const same = async (x: Exchange) => {
    const direct = await post(t.env.url, org.key, x);
    const sdk = await post(sdkOnly.url, org.key, x);
    expect(direct).toEqual(sdk);
    return direct;
  };

  it('answers plain calls itself, exactly as the SDK does', async () => {
    const before = t.env.rt.metrics.directToolCalls;
    const cases: Exchange[] = [
      toolCall('get_customer', { customer_id: 'direct-1' }),
      toolCall('get_customer', { customer_id: 'direct-1' }, 'a string id'),
      toolCall('get_customer', { customer_id: 'nobody' }, 3), // an operation error
      toolCall('get_customer', { customer_id: 5 }, 4), // a validation error naming the field
      toolCall('list_customers', undefined, 5), // no arguments at all
      toolCall('list_customers', { limit: 1 }, 6),
    ];
    const answers = [];
    for (const x of cases) answers.push(await same(x));
    expect(t.env.rt.metrics.directToolCalls - before).toBe(cases.length);

    const first = JSON.parse(answers[0]!.text);
    expect(answers[0]!.type).toBe('application/json');
    expect(first.id).toBe(1);
    expect(first.result.structuredContent.customer.name).toBe('Zoë — "Quotes" \\ Ünïcode 😀');
    expect(JSON.parse(first.result.content[0].text)).toEqual(first.result.structuredContent);
    expect(first.result._meta['io.modelcontextprotocol/serverInfo']).toMatchObject({ name: 'billfold' });
    const missing = JSON.parse(answers[2]!.text);
    expect(missing.result.isError).toBe(true);
    expect(JSON.parse(missing.result.content[0].text).error.code).toBe('NOT_FOUND');
    const invalid = JSON.parse(answers[3]!.text);
    expect(JSON.parse(invalid.result.content[0].text).error.code).toBe('VALIDATION_ERROR');
    expect(invalid.result.content[0].text).toContain('customer_id');
  });

  it('leaves every other request to the SDK, which answers or refuses it', async () => {
    const before = t.env.rt.metrics.directToolCalls;
    const plain = toolCall('get_customer', { customer_id: 'direct-1' });
    const withHeaders = (h: Record<string, string | undefined>): Exchange => ({
      headers: Object.fromEntries(
        Object.entries({ ...plain.headers, ...h }).filter((e): e is [string, string] => e[1] !== undefined),
      ),
      body: plain.body,
    });
    const cases: Array<[string, Exchange, number]> = [
      ['no Mcp-Name header', withHeaders({ 'mcp-name': undefined }), 400],
      ['an Mcp-Name header naming another tool', withHeaders({ 'mcp-name': 'list_customers' }), 400],
      ['no Mcp-Method header', withHeaders({ 'mcp-method': undefined }), 400],
      ['no MCP-Protocol-Version header', withHeaders({ 'mcp-protocol-version': undefined }), 400],
      ['a Base64-encoded Mcp-Name', withHeaders({ 'mcp-name': '=?base64?Z2V0X2N1c3RvbWVy?=' }), 200],
      ['an unknown tool', toolCall('get_custmer', {}), 200],
      ['a tool name that is not a string', toolCall(7, {}), 200],
      ['arguments that are not an object', toolCall('get_customer', ['direct-1']), 200],
      [
        'params beyond name and arguments',
        toolCall('get_customer', { customer_id: 'direct-1' }, 9, { task: {} }),
        200,
      ],
    ];
    for (const [what, x, status] of cases) {
      const answer = await same(x);
      expect(answer.status, what).toBe(status);
    }
    // The Base64 form names the same tool: the SDK decodes it and serves the call.
    expect(JSON.parse((await same(cases[4]![1])).text).result.structuredContent.customer.external_id).toBe(
      'direct-1',
    );
    expect(t.env.rt.metrics.directToolCalls).toBe(before);
  });
});
