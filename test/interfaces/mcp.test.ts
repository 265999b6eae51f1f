import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mcpHttpDoor, mcpStdioDoor } from '../harness/doors.js';
import {
  PG_URL,
  startEnvironment,
  type TestEnvironment,
  type TestOrganization,
} from '../harness/environment.js';
import { describeDatabases } from '../harness/suite.js';

async function connect(env: TestEnvironment, key: string, modern: boolean): Promise<Client> {
  const client = new Client(
    { name: 'mcp-tests', version: '1' },
    modern ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {},
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${env.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    }),
  );
  return client;
}

describeDatabases('MCP protocol surface', (t) => {
  let org: TestOrganization;
  beforeAll(async () => {
    org = await t.env.newOrganization(['admin']);
  });

  it('lists every operation as a tool with title, description, schemas and all four hints', async () => {
    for (const modern of [true, false]) {
      const client = await connect(t.env, org.key, modern);
      const { tools } = await client.listTools();
      const ops = t.env.rt.catalogue.operations;
      expect(tools.map((tool) => tool.name)).toEqual(ops.map((o) => o.name));
      for (const tool of tools) {
        const op = t.env.rt.catalogue.get(tool.name)!;
        expect(tool.title).toBe(op.title);
        expect(tool.description!.length).toBeGreaterThan(60);
        expect(tool.inputSchema).toMatchObject({ type: 'object', additionalProperties: false });
        expect(tool.outputSchema).toMatchObject({ type: 'object' });
        for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const) {
          expect(typeof tool.annotations?.[hint], `${tool.name} ${hint}`).toBe('boolean');
          expect(tool.annotations?.[hint]).toBe(op.annotations[hint]);
        }
      }
      const instructions = client.getInstructions() ?? '';
      expect(instructions).toContain('external_id');
      expect(instructions).toContain('total_amount_cents');
      await client.close();
    }
  });

  it('reads a customer as a resource and renders a prompt', async () => {
    const client = await connect(t.env, org.key, true);
    const door = await mcpHttpDoor(t.env, org.key, 'modern');
    const { customer } = await door.ok('create_customer', { external_id: 'res-1', name: 'Resource Co' });
    const templates = await client.listResourceTemplates();
    expect(templates.resourceTemplates.map((r) => r.uriTemplate)).toContain(
      'billfold://customers/{customer_id}',
    );
    const read = await client.readResource({ uri: 'billfold://customers/res-1' });
    expect(read.contents[0]).toMatchObject({
      uri: 'billfold://customers/res-1',
      mimeType: 'application/json',
    });
    expect(JSON.parse((read.contents[0] as { text: string }).text).customer.id).toBe(customer.id);
    await expect(client.readResource({ uri: 'billfold://customers/nobody' })).rejects.toThrow(/nobody/);
    await expect(client.readResource({ uri: 'billfold://nothing/here' })).rejects.toThrow(
      /No resource matches/,
    );
    const prompts = await client.listPrompts();
    expect(prompts.prompts.map((p) => p.name)).toContain('customer_report');
    const prompt = await client.getPrompt({ name: 'customer_report', arguments: { customer_id: 'res-1' } });
    expect((prompt.messages[0]!.content as { text: string }).text).toContain('Resource Co');
    await expect(client.getPrompt({ name: 'customer_report', arguments: {} })).rejects.toThrow(/customer_id/);
    await door.close();
    await client.close();
  });

  it('answers an unknown tool with a protocol error that suggests the right name, and keeps serving', async () => {
    for (const modern of [true, false]) {
      const client = await connect(t.env, org.key, modern);
      await expect(client.callTool({ name: 'get_custmer', arguments: {} })).rejects.toThrow(
        /Unknown tool 'get_custmer'. Did you mean get_customer\?/,
      );
      const ok = await client.callTool({ name: 'verify', arguments: {} });
      expect(ok.isError).toBeFalsy();
      await client.close();
    }
  });

  it('returns schema violations as tool results the model can read, not protocol errors', async () => {
    const client = await connect(t.env, org.key, true);
    const r = (await client.callTool({ name: 'get_customer', arguments: { customer_id: 42 } })) as any;
    expect(r.isError).toBe(true);
    expect(JSON.parse(r.content[0].text).error).toMatchObject({
      code: 'VALIDATION_ERROR',
      message: 'customer_id must be a string (got 42)',
    });
    expect(r.structuredContent).toBeUndefined();
    await client.close();
  });

  it('answers malformed JSON-RPC with a JSON-RPC error and keeps serving', async () => {
    const headers = {
      authorization: `Bearer ${org.key}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
    };
    const bad = await fetch(`${t.env.url}/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: 'nonsense' }),
    });
    const text = await bad.text();
    expect(text).toMatch(/"error"/);
    expect(text).toMatch(/-326\d\d/);
    const notRpc = await fetch(`${t.env.url}/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ hello: 'world' }),
    });
    expect(notRpc.status).toBeGreaterThanOrEqual(400);
    const client = await connect(t.env, org.key, false);
    expect((await client.callTool({ name: 'verify', arguments: {} })).isError).toBeFalsy();
    await client.close();
  });

  it('keeps stdout of stdio for protocol messages only', async () => {
    // The stdio client parses every line of stdout as JSON-RPC: a stray log line would break it.
    const door = await mcpStdioDoor(t.env, org.key, { BILLFOLD_LOG_LEVEL: 'debug' });
    await door.ok('create_customer', { name: 'Stdio Clean' });
    await door.fail('get_customer', { customer_id: 'none' }, 'NOT_FOUND');
    await door.close();
  });
});

describe.skipIf(!PG_URL)('database outage [postgres]', () => {
  let env: TestEnvironment;
  let org: TestOrganization;
  let dbName: string;
  const admin = () => new pg.Client({ connectionString: PG_URL });
  async function setConnections(allow: boolean) {
    const c = admin();
    await c.connect();
    await c.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS ${allow}`);
    if (!allow)
      await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [dbName]);
    await c.end();
  }
  beforeAll(async () => {
    env = await startEnvironment('postgres');
    org = await env.newOrganization(['admin']);
    dbName = new URL(env.database).pathname.slice(1);
  });
  afterAll(async () => {
    await setConnections(true);
    await env.close();
  });

  it('answers with a clear error while the database is down and recovers when it is back', async () => {
    const door = await mcpHttpDoor(env, org.key, 'modern');
    await door.ok('create_customer', { external_id: 'outage-1', name: 'Before' });
    await setConnections(false);
    const health = await fetch(`${env.url}/health`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as any).database.status).toBe('unavailable');
    const api = await fetch(`${env.url}/api/v1/get_customer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${org.key}` },
      body: '{"customer_id":"outage-1"}',
    });
    expect(api.status).toBe(500);
    const { error } = (await api.json()) as any;
    expect(error.code).toBe('INTERNAL_ERROR');
    expect(error.message).toMatch(/database is unavailable/);
    await setConnections(true);
    // The pool reconnects on its own: the same door works again without a restart.
    expect((await door.ok('get_customer', { customer_id: 'outage-1' })).customer.name).toBe('Before');
    expect((await fetch(`${env.url}/health`)).status).toBe(200);
    await door.close();
  });
});
