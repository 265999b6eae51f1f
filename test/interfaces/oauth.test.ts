import { createPublicKey, createSecretKey } from 'node:crypto';
import {
  Client,
  SSEClientTransport,
  StreamableHTTPClientTransport,
  UnauthorizedError,
  type OAuthClientProvider,
} from '@modelcontextprotocol/client';
import { base64url, decodeJwt, exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startAuthorizationServer, type AuthorizationServer } from '../harness/authorization-server.js';
import { openDoor, type DoorName } from '../harness/doors.js';
import { startEnvironment } from '../harness/environment.js';
import { describeDatabases, environmentVariables } from '../harness/suite.js';
import { PROFILE_NAMES } from '../../src/interfaces/mcp/profiles/registry.js';
import { loadConfig, ConfigError } from '../../src/config.js';
import {
  createOrganization,
  disableOrganization,
  enableOrganization,
} from '../../src/services/organizations.js';

/**
 * Billfold as an OAuth 2.1 resource server, against a real authorization server (oidc-provider
 * on loopback), and JWTs a service mints itself (BILLFOLD_JWT_*), side by side with API keys.
 */
let as: AuthorizationServer;
const SERVICE_ISSUER = 'https://billing-jobs.example';
let serviceKey: CryptoKey;
let servicePem: string;

beforeAll(async () => {
  as = await startAuthorizationServer();
  const pair = await generateKeyPair('RS256', { extractable: true });
  serviceKey = pair.privateKey;
  servicePem = await exportSPKI(pair.publicKey);
  environmentVariables.BILLFOLD_OAUTH_ISSUER = as.issuer;
  environmentVariables.BILLFOLD_JWT_ISSUER = SERVICE_ISSUER;
  environmentVariables.BILLFOLD_JWT_PUBLIC_KEY = servicePem;
});
afterAll(async () => {
  await as?.close();
});
afterEach(() => {
  vi.useRealTimers();
});

const PROFILE = PROFILE_NAMES.find((p) => p !== 'billfold')!;
const HTTP_DOORS: DoorName[] = ['http_api', 'mcp_http', 'mcp_http_2025', 'mcp_sse'];

async function call(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // an SSE stream, or empty
  }
  return {
    status: res.status,
    body,
    challenge: res.headers.get('www-authenticate') ?? '',
    headers: res.headers,
  };
}

const api = (base: string, op: string, token: string | undefined, args: unknown = {}) =>
  call(`${base}/api/v1/${op}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(args),
  });

/** A token a service signs itself (JWT mode), with the claims a test wants. */
function serviceToken(claims: Record<string, unknown>, options: { alg?: string; key?: unknown } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: 'billfold:read billfold:write', ...claims })
    .setProtectedHeader({ alg: options.alg ?? 'RS256' })
    .setIssuer((claims.iss as string) ?? SERVICE_ISSUER)
    .setSubject((claims.sub as string) ?? 'nightly-job')
    .setAudience((claims.aud as string) ?? 'placeholder')
    .setIssuedAt(now)
    .setExpirationTime((claims.exp as number) ?? now + 300)
    .sign((options.key ?? serviceKey) as CryptoKey);
}

describeDatabases('OAuth resource server', (t) => {
  let orgId: string;
  const mcpInit = (token?: string): RequestInit => ({
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    }),
  });
  const toolCall = (token: string, name: string, args: unknown) => ({
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${token}`,
      'mcp-protocol-version': '2025-11-25',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: args } }),
  });

  beforeAll(async () => {
    orgId = (await t.env.newOrganization(['admin'])).id;
    as.orgClaims.set(as.serviceClient.id, orgId);
    as.orgClaims.set(as.accountId, orgId);
  });

  it('publishes protected-resource metadata (RFC 9728) for the server, /mcp, each profile and /sse', async () => {
    const root = await call(`${t.env.url}/.well-known/oauth-protected-resource`);
    expect(root.status).toBe(200);
    expect(root.body).toEqual({
      resource: t.env.url,
      authorization_servers: [as.issuer],
      scopes_supported: ['billfold:read', 'billfold:write', 'billfold:admin'],
      bearer_methods_supported: ['header'],
      resource_name: 'Billfold',
    });
    for (const path of ['/mcp', `/mcp/${PROFILE}`, '/sse', `/sse/${PROFILE}`]) {
      const doc = await call(`${t.env.url}/.well-known/oauth-protected-resource${path}`);
      expect(doc.status, path).toBe(200);
      expect(doc.body.resource).toBe(`${t.env.url}${path}`);
      expect(doc.body.authorization_servers).toEqual([as.issuer]);
    }
    // Any page may read it (browser-based MCP clients), unlike the API.
    const cross = await call(`${t.env.url}/.well-known/oauth-protected-resource/mcp`, {
      headers: { origin: 'https://inspector.example' },
    });
    expect(cross.status).toBe(200);
    expect(cross.headers.get('access-control-allow-origin')).toBe('*');
    const none = await call(`${t.env.url}/.well-known/oauth-protected-resource/mcp/nope`);
    expect(none.status).toBe(404);
    expect(none.body.error.hint).toContain('/mcp/<profile>');
  });

  it('answers 401 with WWW-Authenticate pointing to the resource metadata on every door that takes a key', async () => {
    const cases: Array<[string, RequestInit, string]> = [
      ['/mcp', mcpInit(), '/mcp'],
      [`/mcp/${PROFILE}`, mcpInit(), `/mcp/${PROFILE}`],
      ['/sse', { method: 'GET' }, '/sse'],
      ['/api/v1/verify', { method: 'POST', body: '{}' }, ''],
      ['/lago/api/v1/customers', { method: 'GET' }, ''],
      ['/tools', { method: 'GET' }, ''],
    ];
    for (const [path, init, resource] of cases) {
      const r = await call(`${t.env.url}${path}`, init);
      expect(r.status, path).toBe(401);
      expect(r.challenge, path).toBe(
        `Bearer realm="billfold", resource_metadata="${t.env.url}/.well-known/oauth-protected-resource${resource}"`,
      );
      const bad = await call(`${t.env.url}${path}`, {
        ...init,
        headers: { ...(init.headers as object), authorization: 'Bearer bfk_notarealkeynotarealkeynotareal' },
      });
      expect(bad.status, path).toBe(401);
      expect(bad.challenge, path).toContain('error="invalid_token"');
      expect(bad.challenge, path).toContain('resource_metadata=');
    }
  });

  it('accepts a client-credentials token on every HTTP door, side by side with API keys, as the token subject', async () => {
    const token = await as.clientCredentialsToken(`${t.env.url}/mcp`, 'billfold:read billfold:write');
    for (const name of HTTP_DOORS) {
      const door = await openDoor(t.env, name, token);
      try {
        const v = await door.ok('verify', {});
        expect(v.organization.id, name).toBe(orgId);
        expect(v.principal, name).toEqual({
          type: 'token',
          key_id: null,
          key_name: null,
          token_subject: as.serviceClient.id,
          scopes: ['read', 'write'],
        });
      } finally {
        await door.close();
      }
    }
    const lago = await call(`${t.env.url}/lago/api/v1/customers`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(lago.status).toBe(200);
    // Seed 004's REST shape too.
    const rest = await call(`${t.env.url}/tools/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(rest.body.principal?.token_subject).toBe(as.serviceClient.id);
    // An API key of the same organization still works next to it.
    const key = await t.env.addKey(orgId, ['read']);
    expect((await api(t.env.url, 'verify', key)).body.principal.type).toBe('api_key');
  });

  it('names the token subject in the activity log and the API log', async () => {
    const token = await as.clientCredentialsToken(t.env.url, 'billfold:read billfold:write billfold:admin');
    const created = await api(t.env.url, 'create_customer', token, {
      external_id: `oauth-${t.db}`,
      name: 'Token Customer',
    });
    expect(created.status).toBe(200);
    const activity = await api(t.env.url, 'list_activity_logs', token, {
      resource_ids: [created.body.customer.id],
    });
    expect(activity.body.activity_logs[0].actor).toEqual({
      type: 'token',
      id: as.serviceClient.id,
      name: as.serviceClient.id,
    });
    const byActor = await api(t.env.url, 'list_activity_logs', token, { actor_ids: [as.serviceClient.id] });
    expect(byActor.body.activity_logs.map((a: any) => a.resource_id)).toContain(created.body.customer.id);
    const log = await api(t.env.url, 'get_api_log', token, {
      request_id: created.headers.get('x-request-id'),
    });
    expect(log.body.api_log).toMatchObject({ api_key_id: null, token_subject: as.serviceClient.id });
  });

  it('refuses a token for another audience, with the audience it would accept', async () => {
    const token = await as.clientCredentialsToken('https://other-service.example/api', 'billfold:read');
    const r = await api(t.env.url, 'verify', token);
    expect(r.status).toBe(401);
    expect(r.body.error.message).toContain(`audience (aud) is "https://other-service.example/api"`);
    expect(r.body.error.message).toContain(`${t.env.url}/mcp`);
    expect(r.challenge).toContain('error="invalid_token"');
    expect(r.body.error.hint).toContain('BILLFOLD_OAUTH_AUDIENCE');
  });

  it('refuses a token of an issuer it does not trust', async () => {
    const stranger = await generateKeyPair('RS256');
    const token = await serviceToken(
      { iss: 'https://evil.example', aud: t.env.url },
      { key: stranger.privateKey },
    );
    const r = await api(t.env.url, 'verify', token);
    expect(r.status).toBe(401);
    expect(r.body.error.message).toBe(
      `the access token is not valid: the token's issuer (iss) is 'https://evil.example'; this server trusts '${as.issuer}', '${SERVICE_ISSUER}'`,
    );
  });

  it('refuses expired and not yet valid tokens beyond the leeway, and accepts them within it', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await serviceToken({ aud: t.env.url, org_id: orgId, exp: now - 31 });
    const r = await api(t.env.url, 'verify', expired);
    expect(r.status).toBe(401);
    expect(r.body.error.message).toMatch(/the token expired at \d{4}-/);
    const justExpired = await serviceToken({ aud: t.env.url, org_id: orgId, exp: now - 10 });
    expect((await api(t.env.url, 'verify', justExpired)).status).toBe(200);
    const early = await serviceToken({ aud: t.env.url, org_id: orgId, nbf: now + 120 });
    const e = await api(t.env.url, 'verify', early);
    expect(e.status).toBe(401);
    expect(e.body.error.message).toContain('is not valid before');
    // A token the server has verified and kept is refused once it expires, too.
    const token = await as.clientCredentialsToken(t.env.url, 'billfold:read');
    expect((await api(t.env.url, 'verify', token)).status).toBe(200);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + (as.accessTokenTtl + 31) * 1000 });
    const later = await api(t.env.url, 'verify', token);
    expect(later.status).toBe(401);
    expect(later.body.error.message).toContain('expired');
  });

  it('refuses alg none, an HS256 token signed with the public key, and a tampered signature', async () => {
    const payload = {
      iss: SERVICE_ISSUER,
      sub: 'forger',
      aud: t.env.url,
      org_id: orgId,
      scope: 'billfold:admin',
      exp: Math.floor(Date.now() / 1000) + 300,
    };
    const none = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${base64url.encode(JSON.stringify(payload))}.`;
    const n = await api(t.env.url, 'verify', none);
    expect(n.status).toBe(401);
    expect(n.body.error.message).toContain('not signed (alg none)');
    // The classic confusion: the public key used as an HMAC secret.
    const hs = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'HS256' })
      .sign(createSecretKey(Buffer.from(servicePem)));
    const h = await api(t.env.url, 'verify', hs);
    expect(h.status).toBe(401);
    expect(h.body.error.message).toContain('signed with HS256, which is not accepted');
    expect(h.body.error.hint).toContain('never accepted');
    // A real token with its claims changed: more scope, the signature of the original.
    const real = await as.clientCredentialsToken(t.env.url, 'billfold:read');
    const [header, body, signature] = real.split('.');
    const claims = JSON.parse(Buffer.from(body!, 'base64url').toString());
    claims.scope = 'billfold:read billfold:write billfold:admin';
    const tampered = `${header}.${base64url.encode(JSON.stringify(claims))}.${signature}`;
    const s = await api(t.env.url, 'verify', tampered);
    expect(s.status).toBe(401);
    expect(s.body.error.message).toContain(`signature does not verify with the keys of ${as.issuer}`);
  });

  it('accepts a token signed with a rotated key after one JWKS refetch, and refetches at most once a minute', async () => {
    const before = await as.clientCredentialsToken(t.env.url, 'billfold:read');
    expect((await api(t.env.url, 'verify', before)).status).toBe(200);
    await as.rotateKeys();
    const fetched = as.jwksRequests;
    const rotated = await as.clientCredentialsToken(t.env.url, 'billfold:read');
    expect(decodeJwt(rotated).iss).toBe(as.issuer);
    // Within a minute of the last fetch the unknown key is refused without asking the issuer…
    const soon = await api(t.env.url, 'verify', rotated);
    expect(soon.status).toBe(401);
    expect(soon.body.error.message).toContain('key id (kid)');
    expect(as.jwksRequests).toBe(fetched);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 61_000 });
    // …and once the minute is over, one refetch finds it.
    const r = await api(t.env.url, 'verify', rotated);
    expect(r.status).toBe(200);
    expect(as.jwksRequests).toBe(fetched + 1);
    // Made-up key ids right after cannot make it fetch again.
    const stranger = await generateKeyPair('ES256');
    for (let i = 0; i < 3; i++) {
      const forged = await new SignJWT({ scope: 'billfold:read', org_id: orgId })
        .setProtectedHeader({ alg: 'ES256', kid: `made-up-${i}` })
        .setIssuer(as.issuer)
        .setSubject('x')
        .setAudience(t.env.url)
        .setExpirationTime(Math.floor(Date.now() / 1000) + 60)
        .sign(stranger.privateKey);
      expect((await api(t.env.url, 'verify', forged)).status).toBe(401);
    }
    expect(as.jwksRequests).toBe(fetched + 1);
  });

  it('refuses a token whose organization claim is missing or names no organization', async () => {
    as.orgClaims.set(as.serviceClient.id, 'org_doesnotexist');
    try {
      const token = await as.clientCredentialsToken(t.env.url, 'billfold:read');
      const r = await api(t.env.url, 'verify', token);
      expect(r.status).toBe(401);
      expect(r.body.error.message).toBe(
        "the access token's org_id claim is 'org_doesnotexist', which names no organization of this server",
      );
      expect(r.challenge).toContain('error="invalid_token"');
      as.orgClaims.set(as.serviceClient.id, undefined);
      const without = await api(
        t.env.url,
        'verify',
        await as.clientCredentialsToken(t.env.url, 'billfold:read'),
      );
      expect(without.status).toBe(401);
      expect(without.body.error.message).toContain("has no 'org_id' claim");
      expect(without.body.error.hint).toContain('BILLFOLD_OAUTH_ORG_CLAIM');
    } finally {
      as.orgClaims.set(as.serviceClient.id, orgId);
    }
  });

  it("matches the organization claim against an organization's external_id, and refuses a disabled organization's tokens", async () => {
    const external = `idp-org-${t.db}-${Date.now()}`;
    const org = await createOrganization(t.env.rt.db.kysely, {
      name: 'Idp Org',
      externalId: external,
      now: Date.now(),
    });
    as.orgClaims.set(as.serviceClient.id, external);
    try {
      const token = await as.clientCredentialsToken(t.env.url, 'billfold:read');
      const r = await api(t.env.url, 'verify', token);
      expect(r.status).toBe(200);
      expect(r.body.organization.id).toBe(org.id);
      await disableOrganization(t.env.rt.db.kysely, org.id, Date.now());
      const refused = await api(t.env.url, 'verify', token);
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toContain(`organization '${org.id}' is disabled`);
      const mcp = await call(`${t.env.url}/mcp`, mcpInit(token));
      expect(mcp.status).toBe(403);
      await enableOrganization(t.env.rt.db.kysely, org.id, Date.now());
      await new Promise((r) => setTimeout(r, t.env.rt.config.authCacheMs + 50));
      expect((await api(t.env.url, 'verify', token)).status).toBe(200);
    } finally {
      as.orgClaims.set(as.serviceClient.id, orgId);
    }
  });

  it('answers 403 insufficient_scope with the scope a token lacks, on the API and on /mcp', async () => {
    const reader = await as.clientCredentialsToken(`${t.env.url}/mcp`, 'billfold:read');
    const r = await api(t.env.url, 'create_customer', reader, { name: 'Nope' });
    expect(r.status).toBe(403);
    expect(r.body.error.message).toBe('create_customer needs the write scope; this token grants read');
    expect(r.challenge).toBe(
      `Bearer realm="billfold", error="insufficient_scope", error_description="create_customer needs the billfold:write scope", scope="billfold:write", resource_metadata="${t.env.url}/.well-known/oauth-protected-resource"`,
    );
    const m = await call(`${t.env.url}/mcp`, toolCall(reader, 'create_customer', { name: 'Nope' }));
    expect(m.status).toBe(403);
    expect(m.challenge).toContain('error="insufficient_scope"');
    expect(m.challenge).toContain('scope="billfold:write"');
    expect(m.challenge).toContain(
      `resource_metadata="${t.env.url}/.well-known/oauth-protected-resource/mcp"`,
    );
    const admin = await call(`${t.env.url}/mcp`, toolCall(reader, 'list_api_logs', {}));
    expect(admin.challenge).toContain('scope="billfold:admin"');
    // What it may do, it does.
    const ok = await call(`${t.env.url}/mcp`, toolCall(reader, 'list_customers', {}));
    expect(ok.status).toBe(200);
    // A token with none of Billfold's scopes is refused whatever it calls.
    const unscoped = await as.clientCredentialsToken(t.env.url, '');
    const u = await api(t.env.url, 'verify', unscoped);
    expect(u.status).toBe(403);
    expect(u.body.error.message).toContain("grants none of Billfold's scopes");
    expect(u.challenge).toContain('scope="billfold:read"');
  });

  it('refuses an encrypted or malformed token and keeps API keys apart by shape', async () => {
    const jwe = 'eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d';
    const r = await api(t.env.url, 'verify', jwe);
    expect(r.status).toBe(401);
    expect(r.body.error.message).toContain('encrypted JWT (JWE)');
    const garbage = await api(t.env.url, 'verify', 'eyJub3QiOiJqc29u.eyJ4.sig');
    expect(garbage.status).toBe(401);
    expect(garbage.body.error.message).toContain('not a well-formed JWT');
  });

  it('accepts a JWT a service signs itself (JWT mode), with its own issuer and public key', async () => {
    const token = await serviceToken({
      aud: t.env.url,
      org_id: orgId,
      sub: 'nightly-job',
      name: 'Nightly job',
    });
    const r = await api(t.env.url, 'verify', token);
    expect(r.status).toBe(200);
    expect(r.body.principal).toMatchObject({
      type: 'token',
      token_subject: 'nightly-job',
      scopes: ['read', 'write'],
    });
  });
});

describe('OAuth authorization code with PKCE, driven by the MCP client SDK', () => {
  it('connects after consent, and steps up when a tool needs a scope the consent left out', async () => {
    const env = await startEnvironment('sqlite', { variables: { BILLFOLD_OAUTH_ISSUER: as.issuer } });
    try {
      const org = await env.newOrganization(['admin']);
      as.orgClaims.set(as.accountId, org.id);
      as.consent = (requested) => requested.filter((s) => s === 'billfold:read');
      let authorizationUrl: URL | undefined;
      let tokens: any;
      let verifier = '';
      const provider: OAuthClientProvider = {
        get redirectUrl() {
          return as.publicClient.redirectUri;
        },
        get clientMetadata() {
          return {
            client_name: 'Billfold tests',
            redirect_uris: [as.publicClient.redirectUri],
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
          };
        },
        clientInformation: () => ({ client_id: as.publicClient.id, issuer: as.issuer }) as any,
        tokens: () => tokens,
        saveTokens: (t) => {
          tokens = t;
        },
        redirectToAuthorization: (url) => {
          authorizationUrl = url;
        },
        saveCodeVerifier: (v) => {
          verifier = v;
        },
        codeVerifier: () => verifier,
      };
      const connect = async () => {
        const client = new Client({ name: 'oauth-test', version: '1.0.0' });
        const transport = new StreamableHTTPClientTransport(new URL(`${env.url}/mcp`), {
          authProvider: provider,
        });
        return { client, transport, connected: client.connect(transport) };
      };
      const first = await connect();
      await expect(first.connected).rejects.toBeInstanceOf(UnauthorizedError);
      expect(authorizationUrl!.origin).toBe(as.issuer);
      expect(authorizationUrl!.searchParams.get('resource')).toBe(`${env.url}/mcp`);
      expect(authorizationUrl!.searchParams.get('code_challenge_method')).toBe('S256');
      await first.transport.finishAuth(await as.authorize(authorizationUrl!));
      expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: as.accountId, aud: `${env.url}/mcp` });

      const second = await connect();
      await second.connected;
      const v = (await second.client.callTool({ name: 'verify', arguments: {} })) as any;
      expect(v.structuredContent.principal).toMatchObject({
        type: 'token',
        token_subject: as.accountId,
        scopes: ['read'],
      });

      // create_customer needs write: the server answers 403 insufficient_scope, the client goes
      // back to the authorization server for the union of scopes.
      authorizationUrl = undefined;
      as.consent = (requested) => requested;
      await expect(
        second.client.callTool({ name: 'create_customer', arguments: { name: 'Step Up' } }),
      ).rejects.toThrow();
      expect(authorizationUrl!.searchParams.get('scope')!.split(' ')).toEqual(
        expect.arrayContaining(['billfold:read', 'billfold:write']),
      );
      await second.transport.finishAuth(await as.authorize(authorizationUrl!));
      const third = await connect();
      await third.connected;
      const created = (await third.client.callTool({
        name: 'create_customer',
        arguments: { name: 'Step Up' },
      })) as any;
      expect(created.isError).toBeFalsy();
      expect(created.structuredContent.customer.name).toBe('Step Up');
      await Promise.all([second.client.close(), third.client.close()]);

      // The legacy SSE transport discovers and uses the same authorization.
      const sse = new Client(
        { name: 'oauth-sse', version: '1.0.0' },
        { supportedProtocolVersions: ['2024-11-05'] },
      );
      await sse.connect(new SSEClientTransport(new URL(`${env.url}/sse`), { authProvider: provider }));
      const s = (await sse.callTool({ name: 'verify', arguments: {} })) as any;
      expect(s.structuredContent.principal.token_subject).toBe(as.accountId);
      await sse.close();
    } finally {
      as.consent = (requested) => requested;
      await env.close();
    }
  });
});

describe('token configuration', () => {
  it('refuses symmetric algorithms, half-configured JWT mode and a private key', () => {
    expect(() => loadConfig({ BILLFOLD_OAUTH_ALGORITHMS: 'RS256,HS256' })).toThrow(ConfigError);
    expect(() => loadConfig({ BILLFOLD_OAUTH_ALGORITHMS: 'none' })).toThrow(/asymmetric algorithms only/);
    expect(() => loadConfig({ BILLFOLD_JWT_ISSUER: 'https://jobs.example' })).toThrow(/exactly one of/);
    expect(() => loadConfig({ BILLFOLD_JWT_PUBLIC_KEY: 'x' })).toThrow(/need BILLFOLD_JWT_ISSUER/);
    expect(() => loadConfig({ BILLFOLD_OAUTH_ISSUER: 'http://auth.example.com' })).toThrow(/https:\/\//);
    expect(() => loadConfig({ BILLFOLD_OAUTH_SCOPE_READ: 'a b' })).toThrow(/BILLFOLD_OAUTH_SCOPE_READ/);
    expect(
      loadConfig({ BILLFOLD_OAUTH_ISSUER: 'https://kc.example.com/realms/acme' }).tokens.oauthIssuer,
    ).toBe('https://kc.example.com/realms/acme');
  });

  it('answers without OAuth: a JWT is refused with what to configure, and there is no metadata', async () => {
    const env = await startEnvironment('sqlite');
    try {
      const meta = await call(`${env.url}/.well-known/oauth-protected-resource`);
      expect(meta.status).toBe(404);
      expect(meta.body.error.hint).toContain('BILLFOLD_OAUTH_ISSUER');
      const token = await as.clientCredentialsToken(env.url, 'billfold:read');
      const r = await api(env.url, 'verify', token);
      expect(r.status).toBe(401);
      expect(r.body.error.message).toBe('the credential is a JWT, but this server accepts API keys only');
      expect(r.challenge).toBe(
        'Bearer realm="billfold", error="invalid_token", error_description="this server accepts API keys only"',
      );
    } finally {
      await env.close();
    }
  });

  it('verifies a JWT-mode token against a configured JWKS, takes a configured audience, and says when keys cannot be fetched', async () => {
    const pub = createPublicKey(servicePem).export({ format: 'jwk' });
    const env = await startEnvironment('sqlite', {
      variables: {
        BILLFOLD_JWT_ISSUER: SERVICE_ISSUER,
        BILLFOLD_JWT_PUBLIC_KEY: JSON.stringify({ keys: [{ ...pub, alg: 'RS256', kid: 'svc' }] }),
        BILLFOLD_OAUTH_AUDIENCE: 'api://billfold',
        BILLFOLD_OAUTH_ORG_CLAIM: 'https://billfold.example/org',
      },
    });
    const down = await startEnvironment('sqlite', {
      variables: { BILLFOLD_JWT_ISSUER: SERVICE_ISSUER, BILLFOLD_JWT_JWKS_URL: 'http://127.0.0.1:9/jwks' },
    });
    try {
      const org = await env.newOrganization(['admin']);
      const token = await serviceToken({ aud: 'api://billfold', 'https://billfold.example/org': org.id });
      expect((await api(env.url, 'verify', token)).status).toBe(200);
      const own = await serviceToken({ aud: env.url, 'https://billfold.example/org': org.id });
      expect((await api(env.url, 'verify', own)).body.error.message).toContain(
        'this server accepts api://billfold',
      );
      // No protected-resource metadata in JWT mode: there is no authorization server to point to.
      expect((await call(`${env.url}/.well-known/oauth-protected-resource`)).status).toBe(404);
      const r = await api(down.url, 'verify', await serviceToken({ aud: down.url, org_id: org.id }));
      expect(r.status).toBe(500);
      expect(r.body.error.message).toContain('cannot be checked now');
      expect(r.body.error.details.retryable).toBe(true);
    } finally {
      await env.close();
      await down.close();
    }
  });
});
