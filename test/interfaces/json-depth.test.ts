import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeDatabases, describeDoors } from '../harness/suite.js';

/**
 * Deep nesting is refused with VALIDATION_ERROR naming the field and the limit, on every door,
 * before anything that recurses (validation, hashing, the API log) sees it.
 */
const arrays = (n: number): unknown => JSON.parse('['.repeat(n) + ']'.repeat(n));
const objects = (n: number): unknown => JSON.parse('{"a":'.repeat(n) + '1' + '}'.repeat(n));

describeDoors('JSON depth limit', (t) => {
  it('refuses a usage event whose properties nest 2,300 arrays deep, alone and in a batch', async () => {
    const event = { transaction_id: 'deep-1', customer_id: 'deep-cust', code: 'calls' };
    const one = await t.door.fail(
      'record_usage',
      { ...event, properties: { p: arrays(2300) } },
      'VALIDATION_ERROR',
    );
    expect(one.message).toBe(
      'properties.p[0][0]… nests deeper than 32 levels of objects and arrays; at most 32 are accepted',
    );
    expect(one.details).toMatchObject({ max_depth: 32, issues: [{ field: 'properties.p[0][0]…' }] });
    const batch = await t.door.fail(
      'record_usage_batch',
      { events: [event, { ...event, transaction_id: 'deep-2', properties: { p: arrays(2300) } }] },
      'VALIDATION_ERROR',
    );
    expect(batch.message).toMatch(/^events\[1\]\.properties\.p… nests deeper than 32 levels/);
    // Nothing of the refused calls was stored.
    expect((await t.door.ok('list_events', { customer_id: 'deep-cust' })).events).toEqual([]);
    // Exactly 32 levels is accepted: the input, properties and 30 arrays.
    const ok = await t.door.ok('record_usage', { ...event, properties: { p: arrays(30) } });
    expect(ok.event.properties).toEqual({ p: arrays(30) });
    await t.door.fail(
      'record_usage',
      { ...event, transaction_id: 'deep-3', properties: { p: arrays(31) } },
      'VALIDATION_ERROR',
    );
  });

  it('refuses objects nested 4,100 deep in any field of any operation, and logs the refusal', async () => {
    const meta = await t.door.fail(
      'create_customer',
      { name: 'Deep', metadata: objects(4100) },
      'VALIDATION_ERROR',
    );
    expect((meta.details as any).issues[0].field).toBe('metadata.a.a.a…');
    const list = await t.door.fail('list_customers', { search: objects(4100) }, 'VALIDATION_ERROR');
    expect(list.message).toContain('search.a.a.a… nests deeper than 32 levels');
    const unknown = await t.door.fail(
      'get_invoice',
      { invoice_id: 'x', extra: [objects(4100)] },
      'VALIDATION_ERROR',
    );
    expect((unknown.details as any).issues[0].field).toBe('extra[0].a.a…');
    // The failed write is in the API log, its body cut at the limit instead of lost.
    const { api_logs } = await t.door.ok('list_api_logs', {
      operations: ['create_customer'],
      http_statuses: ['422'],
    });
    expect(api_logs[0]).toMatchObject({ error_code: 'VALIDATION_ERROR' });
    expect(JSON.stringify(api_logs[0].request_body)).toContain('nested deeper than 32 levels');
  });
});

describeDatabases('JSON depth limit on raw bodies', (t) => {
  const huge = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
  const mcpHeaders = (key: string) => ({
    authorization: `Bearer ${key}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2025-11-25',
  });

  it('answers 422 on the HTTP API for a body nested 100,000 deep', async () => {
    const org = await t.env.newOrganization(['admin']);
    const r = await fetch(`${t.env.url}/api/v1/record_usage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${org.key}` },
      body: `{"transaction_id":"t","customer_id":"c","code":"x","properties":${huge}}`,
    });
    expect(r.status).toBe(422);
    const { error } = (await r.json()) as any;
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', details: { max_depth: 32 } });
    expect(error.message).toContain('properties.a.a.a…');
  });

  it('answers a deep tool argument over /mcp with a tool error, and a deep envelope with a JSON-RPC error', async () => {
    const org = await t.env.newOrganization(['admin']);
    const call = await fetch(`${t.env.url}/mcp`, {
      method: 'POST',
      headers: mcpHeaders(org.key),
      body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"verify","arguments":{"x":${huge}}}}`,
    });
    expect(call.status).toBe(200);
    const text = await call.text();
    expect(text).toContain('"isError":true');
    expect(text).toContain('x.a.a.a… nests deeper than 32 levels');
    for (const body of [
      `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"verify","arguments":{},"_meta":${huge}}}`,
      `{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"cursor":${huge}}}`,
      `[{"jsonrpc":"2.0","id":7,"method":"ping"},{"jsonrpc":"2.0","id":8,"result":${huge}}]`,
    ]) {
      const r = await fetch(`${t.env.url}/mcp`, { method: 'POST', headers: mcpHeaders(org.key), body });
      expect(r.status).toBe(400);
      const answer = (await r.json()) as any;
      expect(answer.error.code).toBe(-32600);
      expect(answer.error.data.error).toMatchObject({ code: 'VALIDATION_ERROR', details: { max_depth: 32 } });
      expect(answer.error.message).toContain('nests deeper than 32 levels');
    }
  });

  it('refuses a deep envelope on /messages, keeping the SSE session open', async () => {
    const org = await t.env.newOrganization(['admin']);
    const abort = new AbortController();
    const stream = await fetch(`${t.env.url}/sse`, {
      headers: { authorization: `Bearer ${org.key}` },
      signal: abort.signal,
    });
    const reader = stream.body!.getReader();
    let seen = '';
    while (!seen.includes('sessionId=')) seen += new TextDecoder().decode((await reader.read()).value);
    const endpoint = /data: (\S+)/.exec(seen)![1]!;
    const post = (body: string) =>
      fetch(`${t.env.url}${endpoint}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${org.key}`, 'content-type': 'application/json' },
        body,
      });
    const deep = await post(`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":${huge}}}`);
    expect(deep.status).toBe(400);
    expect(((await deep.json()) as any).error.data.error.code).toBe('VALIDATION_ERROR');
    expect((await post('{"jsonrpc":"2.0","id":2,"method":"ping"}')).status).toBe(202);
    abort.abort();
  });

  it('answers a deep envelope over stdio with a JSON-RPC error and keeps serving', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, '../../src/interfaces/cli/main.ts'), 'stdio'],
      {
        env: { ...process.env, BILLFOLD_DATABASE: t.env.database, BILLFOLD_LOG_LEVEL: 'silent' },
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    // Answers by id, each awaited as it arrives (the child may take a while to start).
    const answers = new Map<number, { resolve(v: any): void; promise: Promise<any> }>();
    const slot = (id: number) => {
      let entry = answers.get(id);
      if (!entry) {
        let resolve!: (v: any) => void;
        const promise = new Promise<any>((r) => (resolve = r));
        entry = { resolve, promise };
        answers.set(id, entry);
      }
      return entry;
    };
    let buffer = '';
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const line = JSON.parse(buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
        if (typeof line.id === 'number') slot(line.id).resolve(line);
      }
    });
    const answer = (id: number) => slot(id).promise;
    try {
      const deepEnvelope = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
      child.stdin.write(
        `${JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-11-25',
            capabilities: {},
            clientInfo: { name: 't', version: '1' },
          },
        })}\n`,
      );
      await answer(1);
      child.stdin.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
      child.stdin.write(
        `{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta":${deepEnvelope}}}\n`,
      );
      const refused = await answer(2);
      expect(refused.error).toMatchObject({ code: -32600, data: { error: { code: 'VALIDATION_ERROR' } } });
      child.stdin.write(
        `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"verify","arguments":{"x":${deepEnvelope}}}}\n`,
      );
      const tool = await answer(3);
      expect(tool.result.isError).toBe(true);
      expect(tool.result.content[0].text).toContain('x.a.a.a… nests deeper than 32 levels');
      child.stdin.write('{"jsonrpc":"2.0","id":4,"method":"ping"}\n');
      expect((await answer(4)).result).toEqual({});
    } finally {
      child.kill();
    }
  });
});
