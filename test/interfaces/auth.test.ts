import { expect, it } from 'vitest';
import { revokeApiKey } from '../../src/services/api-keys.js';
import { mcpHttpDoor, mcpSseDoor, mcpStdioDoor, openDoor, type DoorName } from '../harness/doors.js';
import { describeDatabases } from '../harness/suite.js';

const HTTP_DOORS: DoorName[] = ['http_api', 'mcp_http', 'mcp_http_2025', 'mcp_sse'];

describeDatabases('authentication and scopes', (t) => {
  async function status(
    path: string,
    init: RequestInit = {},
  ): Promise<{ status: number; body: any; headers: Headers }> {
    const res = await fetch(`${t.env.url}${path}`, init);
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON (an SSE stream, say)
    }
    return { status: res.status, body, headers: res.headers };
  }

  const mcpInit = (key?: string): RequestInit => ({
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    }),
  });

  it('answers 401 with a JSON error when the key is missing, malformed or unknown, on every HTTP door', async () => {
    for (const path of ['/api/v1/verify', '/mcp', '/sse', '/messages?sessionId=x']) {
      const method = path === '/sse' ? 'GET' : 'POST';
      const missing = await status(path, {
        method,
        headers: { 'content-type': 'application/json' },
        body: method === 'POST' ? '{}' : undefined,
      });
      expect(missing.status, path).toBe(401);
      expect(missing.body.error.code).toBe('UNAUTHORIZED');
      expect(missing.body.error.message).toContain('Authorization: Bearer');
      expect(missing.headers.get('www-authenticate')).toContain('Bearer');
      const wrong = await status(path, {
        method,
        headers: { authorization: 'Bearer bfk_notarealkeynotarealkeynotareal' },
        body: method === 'POST' ? '{}' : undefined,
      });
      expect(wrong.status, path).toBe(401);
      expect(wrong.body.error.message).toMatch(/unknown, revoked or expired/);
      const malformed = await status(path, {
        method,
        headers: { authorization: 'Token abc' },
        body: method === 'POST' ? '{}' : undefined,
      });
      expect(malformed.status, path).toBe(401);
      expect(malformed.body.error.message).toContain('"Bearer <api key>"');
    }
  });

  it('accepts X-API-Key as well as a bearer token', async () => {
    const org = await t.env.newOrganization(['read']);
    const r = await status('/api/v1/verify', {
      method: 'POST',
      headers: { 'x-api-key': org.key },
      body: '{}',
    });
    expect(r.status).toBe(200);
    expect(r.body.organization.id).toBe(org.id);
  });

  it('refuses a revoked key at once, through every HTTP door', async () => {
    const org = await t.env.newOrganization(['admin']);
    expect((await status('/mcp', mcpInit(org.key))).status).toBe(200);
    const doors = await Promise.all(HTTP_DOORS.map((d) => openDoor(t.env, d, org.key)));
    for (const d of doors) await d.ok('verify', {});
    await revokeApiKey(t.env.rt.db.kysely, org.id, org.key.slice(0, 12), Date.now());
    for (const d of doors) {
      // The HTTP API answers with the error envelope; MCP clients surface the 401 as an exception.
      const r = await d.call('verify', {}).catch((e: Error) => e);
      if (r instanceof Error) expect(r.message, d.name).toMatch(/401|nauthorized|revoked/);
      else expect(r.ok ? 'ok' : r.error.code, d.name).toBe('UNAUTHORIZED');
      await d.close().catch(() => {});
    }
    const after = await status('/mcp', mcpInit(org.key));
    expect(after.status).toBe(401);
    expect(
      (
        await status('/api/v1/verify', {
          method: 'POST',
          headers: { authorization: `Bearer ${org.key}` },
          body: '{}',
        })
      ).status,
    ).toBe(401);
  });

  it('lets a read-only key read but answers FORBIDDEN when it calls a writing tool, on every door', async () => {
    const org = await t.env.newOrganization(['read']);
    for (const name of [...HTTP_DOORS, 'mcp_stdio' as const]) {
      const door =
        name === 'mcp_stdio' ? await mcpStdioDoor(t.env, org.key) : await openDoor(t.env, name, org.key);
      try {
        const v = await door.ok('verify', {});
        expect(v.principal.scopes).toEqual(['read']);
        await door.ok('list_customers', {});
        const e = await door.fail('create_customer', { name: 'Nope' }, 'FORBIDDEN');
        expect(e.message).toBe('create_customer needs the write scope; this key has read');
        expect(e.hint).toContain('--scopes write');
        const admin = await door.fail('list_api_logs', {}, 'FORBIDDEN');
        expect(admin.details.required_scope).toBe('admin');
      } finally {
        await door.close();
      }
    }
    const writer = await t.env.newOrganization(['write']);
    const door = await mcpHttpDoor(t.env, writer.key, 'modern');
    await door.ok('create_customer', { name: 'Allowed' });
    await door.ok('get_customer', { customer_id: (await door.ok('list_customers', {})).customers[0].id });
    await door.fail('get_api_log', { request_id: 'req_x' }, 'FORBIDDEN');
    await door.close();
  });

  it('refuses an expired key', async () => {
    const org = await t.env.newOrganization(['read']);
    await t.env.rt.db.kysely
      .updateTable('api_keys')
      .set({ expires_at: Date.now() - 1000 })
      .where('organization_id', '=', org.id)
      .execute();
    expect(
      (
        await status('/api/v1/verify', {
          method: 'POST',
          headers: { authorization: `Bearer ${org.key}` },
          body: '{}',
        })
      ).status,
    ).toBe(401);
    await expect(mcpSseDoor(t.env, org.key)).rejects.toThrow();
  });

  it('serves stdio without a key as the default organization with full access', async () => {
    const door = await mcpStdioDoor(t.env);
    try {
      const v = await door.ok('verify', {});
      expect(v.principal).toEqual({
        type: 'local',
        key_id: null,
        key_name: 'local',
        token_subject: null,
        scopes: ['admin', 'platform', 'read', 'write'],
      });
      expect(v.organization.name).toBe('Default organization');
      const bad = await mcpStdioDoor(t.env, 'bfk_notarealkeynotarealkeynotareal').catch((e: Error) => e);
      expect(bad).toBeInstanceOf(Error);
    } finally {
      await door.close();
    }
  });
});
