import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../src/interfaces/http/openapi.js';
import { jsonSchemaOf } from '../../src/interfaces/mcp/catalogue-surface.js';
import { httpApiDoor, mcpHttpDoor } from '../harness/doors.js';
import { startEnvironment, type TestEnvironment, type TestOrganization } from '../harness/environment.js';
import { describeDatabases } from '../harness/suite.js';

/** A raw request, so tests can send headers fetch will not (Host) and bodies that are not JSON. */
function raw(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describeDatabases('HTTP surface', (t) => {
  let org: TestOrganization;
  beforeAll(async () => {
    org = await t.env.newOrganization(['admin']);
  });
  const auth = () => ({ authorization: `Bearer ${org.key}`, 'content-type': 'application/json' });

  it('rejects a foreign Host header (DNS rebinding) before anything else', async () => {
    const r = await raw(t.env.url, {
      method: 'POST',
      path: '/api/v1/verify',
      headers: { ...auth(), host: 'evil.example:8787' },
      body: '{}',
    });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body).error).toMatchObject({ code: 'FORBIDDEN' });
    expect(JSON.parse(r.body).error.message).toContain('BILLFOLD_ALLOWED_HOSTS');
    const mcp = await raw(t.env.url, {
      method: 'POST',
      path: '/mcp',
      headers: { ...auth(), host: 'evil.example' },
      body: '{}',
    });
    expect(mcp.status).toBe(403);
    const ok = await raw(t.env.url, {
      method: 'POST',
      path: '/api/v1/verify',
      headers: { ...auth(), host: `localhost:${new URL(t.env.url).port}` },
      body: '{}',
    });
    expect(ok.status).toBe(200);
  });

  it('refuses Host and Origin names that merely start with 127. on every route', async () => {
    const port = new URL(t.env.url).port;
    const routes: Array<[string, string]> = [
      ['POST', '/api/v1/verify'],
      ['POST', '/mcp'],
      ['GET', '/metrics'],
      ['GET', '/health'],
      ['GET', '/sse'],
    ];
    for (const host of ['127.attacker.example', `127.0.0.1.nip.io:${port}`]) {
      for (const [method, path] of routes) {
        const r = await raw(t.env.url, {
          method,
          path,
          headers: { ...auth(), host },
          body: method === 'POST' ? '{}' : undefined,
        });
        expect(r.status, `${host} ${path}`).toBe(403);
        expect(JSON.parse(r.body).error.message).toContain('BILLFOLD_ALLOWED_HOSTS');
      }
    }
    for (const origin of ['http://127.attacker.example', `http://127.0.0.1.nip.io:${port}`]) {
      const r = await raw(t.env.url, {
        method: 'POST',
        path: '/api/v1/verify',
        headers: { ...auth(), origin },
        body: '{}',
      });
      expect(r.status, origin).toBe(403);
      expect(JSON.parse(r.body).error.message).toContain('BILLFOLD_ALLOWED_ORIGINS');
    }
    // Any address of 127.0.0.0/8 is loopback.
    const other = await raw(t.env.url, {
      method: 'GET',
      path: '/health',
      headers: { host: `127.8.9.10:${port}` },
    });
    expect(other.status).toBe(200);
  });

  it('rejects a foreign Origin with 403 and answers an allowed one with CORS headers', async () => {
    const foreign = await fetch(`${t.env.url}/api/v1/verify`, {
      method: 'POST',
      headers: { ...auth(), origin: 'https://evil.example' },
      body: '{}',
    });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as any).error.message).toContain('BILLFOLD_ALLOWED_ORIGINS');
    const local = await fetch(`${t.env.url}/api/v1/verify`, {
      method: 'POST',
      headers: { ...auth(), origin: 'http://localhost:5173' },
      body: '{}',
    });
    expect(local.status).toBe(200);
    expect(local.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(local.headers.get('access-control-expose-headers')).toContain('x-request-id');
    const preflight = await fetch(`${t.env.url}/mcp`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('mcp-protocol-version');
  });

  it('answers malformed JSON with 400 and keeps serving', async () => {
    const api = await fetch(`${t.env.url}/api/v1/verify`, {
      method: 'POST',
      headers: auth(),
      body: '{"oops":',
    });
    expect(api.status).toBe(400);
    expect(((await api.json()) as any).error).toMatchObject({
      code: 'VALIDATION_ERROR',
      message: expect.stringContaining('not valid JSON'),
    });
    const mcp = await fetch(`${t.env.url}/mcp`, {
      method: 'POST',
      headers: { ...auth(), accept: 'application/json, text/event-stream' },
      body: '{"jsonrpc":',
    });
    expect(mcp.status).toBe(400);
    expect(((await mcp.json()) as any).error.code).toBe(-32700);
    const array = await fetch(`${t.env.url}/api/v1/verify`, {
      method: 'POST',
      headers: auth(),
      body: '[1,2]',
    });
    expect(array.status).toBe(422);
    expect(((await array.json()) as any).error.message).toBe('input must be an object (got an array)');
    expect(
      (await fetch(`${t.env.url}/api/v1/verify`, { method: 'POST', headers: auth(), body: '' })).status,
    ).toBe(200);
  });

  it('names the operation it does not know and suggests the right one', async () => {
    const r = await fetch(`${t.env.url}/api/v1/get_custmer`, { method: 'POST', headers: auth(), body: '{}' });
    expect(r.status).toBe(404);
    const { error } = (await r.json()) as any;
    expect(error).toMatchObject({ code: 'NOT_FOUND', hint: 'Did you mean get_customer?' });
    const get = await fetch(`${t.env.url}/api/v1/get_customer`, { headers: auth() });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const nowhere = await fetch(`${t.env.url}/nowhere`);
    expect(nowhere.status).toBe(404);
    expect(((await nowhere.json()) as any).error.code).toBe('NOT_FOUND');
  });

  it('reports health with a database check, and metrics in Prometheus format', async () => {
    const health = await fetch(`${t.env.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', database: { status: 'ok', dialect: t.db } });
    await httpApiDoor(t.env, org.key).ok('verify', {});
    const metrics = await (await fetch(`${t.env.url}/metrics`)).text();
    expect(metrics).toMatch(
      /billfold_operation_calls_total\{operation="verify",door="http_api",outcome="ok"\} \d+/,
    );
    expect(metrics).toContain('# TYPE billfold_operation_duration_seconds histogram');
    expect(metrics).toMatch(/process_resident_memory_bytes \d+/);
    expect(metrics).not.toContain(org.id);
  });

  it('publishes OpenAPI 3.1 generated from the same definitions as the MCP tools', async () => {
    const doc = (await (await fetch(`${t.env.url}/api/v1/openapi.json`)).json()) as any;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const op of t.env.rt.catalogue.operations) {
      const path = doc.paths[`/api/v1/${op.name}`];
      expect(path, op.name).toBeDefined();
      const { $schema: _a, ...input } = jsonSchemaOf(op.input, 'input');
      const { $schema: _b, ...output } = jsonSchemaOf(op.output, 'output');
      expect(path.post.requestBody.content['application/json'].schema).toEqual(input);
      expect(path.post.responses['200'].content['application/json'].schema).toEqual(output);
      expect(path.post.responses['422'].content['application/json'].schema.$ref).toBe(
        '#/components/schemas/Error',
      );
      expect(path.post['x-required-scope']).toBe(op.scope);
    }
    expect(Object.keys(doc.paths)).toHaveLength(t.env.rt.catalogue.operations.length);
    expect(openApiDocument(t.env.rt.catalogue)).toEqual(doc);
  });
});

describe('limits', () => {
  let env: TestEnvironment;
  let org: TestOrganization;
  beforeAll(async () => {
    env = await startEnvironment('sqlite', { config: { maxBodyBytes: 2048, rateLimitPerMinute: 5 } });
    org = await env.newOrganization(['admin']);
  });
  afterAll(() => env.close());

  it('refuses a body over the size limit with 413 on the API and on /mcp', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(5000) });
    const api = await fetch(`${env.url}/api/v1/create_customer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${org.key}` },
      body: big,
    });
    expect(api.status).toBe(413);
    expect(((await api.json()) as any).error.message).toContain('larger than the 2 KiB limit');
    const mcp = await fetch(`${env.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${org.key}`, 'content-type': 'application/json' },
      body: big,
    });
    expect(mcp.status).toBe(413);
  });

  it('rate-limits per key with RATE_LIMITED and Retry-After, on the API and over MCP', async () => {
    const other = await env.newOrganization(['admin']);
    const api = httpApiDoor(env, org.key);
    let limited;
    for (let i = 0; i < 8 && !limited; i++) {
      const r = await fetch(`${env.url}/api/v1/verify`, {
        method: 'POST',
        headers: { authorization: `Bearer ${org.key}` },
        body: '{}',
      });
      if (r.status === 429) limited = r;
    }
    expect(limited).toBeDefined();
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited!.json()) as any).error.code).toBe('RATE_LIMITED');
    await api.fail('verify', {}, 'RATE_LIMITED');
    // Another key has its own budget.
    const mcp = await mcpHttpDoor(env, other.key, 'modern');
    await mcp.ok('verify', {});
    for (let i = 0; i < 6; i++) await mcp.call('verify', {});
    await mcp.fail('verify', {}, 'RATE_LIMITED');
    await mcp.close();
  });
});
