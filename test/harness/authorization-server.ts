import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { type InteractionDetails } from 'oidc-provider';

/**
 * A real OAuth 2.1 / OpenID Connect authorization server for the tests: oidc-provider on a
 * loopback port, issuing JWT access tokens (RFC 9068) for any resource indicator (RFC 8707)
 * with Billfold's scopes, through client credentials and authorization code with PKCE. Login
 * and consent are answered by the test (`consent`), not by a page. Its signing key can be
 * rotated (`rotateKeys`), and it counts the requests for its key set.
 */
export interface AuthorizationServer {
  issuer: string;
  /** Client credentials: a confidential client's secret. */
  readonly serviceClient: { id: string; secret: string };
  /** Authorization code + PKCE: a public client with this redirect URI. */
  readonly publicClient: { id: string; redirectUri: string };
  /** The organization claim each client (or user account) gets in its tokens; undefined: none. */
  orgClaims: Map<string, string | undefined>;
  /** Scopes the test grants on the consent screen (of those requested); default: all requested. */
  consent: (requested: string[]) => string[];
  /** The user that logs in on the authorization page. */
  accountId: string;
  /** Requests for the JWKS so far. */
  jwksRequests: number;
  /** Lifetime of access tokens, seconds. */
  accessTokenTtl: number;
  /** A token from the client credentials grant, for `resource`, with `scope`. */
  clientCredentialsToken(resource: string, scope: string): Promise<string>;
  /**
   * Follows an authorization URL as a browser would (cookies, redirects), answering login and
   * consent, and returns the redirect URI's query (code, state, iss).
   */
  authorize(url: URL): Promise<URLSearchParams>;
  /** A new signing key: tokens are signed with it, the old key stays published. */
  rotateKeys(): Promise<void>;
  close(): Promise<void>;
}

const SCOPES = 'billfold:read billfold:write billfold:admin';

async function signingKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return {
    ...jwk,
    kid: `key-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    alg: 'ES256',
    use: 'sig',
  };
}

export async function startAuthorizationServer(): Promise<AuthorizationServer> {
  let provider: Provider;
  let keys: JWK[] = [await signingKey()];
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const redirectUri = `${issuer}/callback`;

  const as: AuthorizationServer = {
    issuer,
    serviceClient: { id: 'billing-service', secret: 'billing-service-secret-0123456789abcdef' },
    publicClient: { id: 'assistant', redirectUri },
    orgClaims: new Map(),
    consent: (requested) => requested,
    accountId: 'alice',
    jwksRequests: 0,
    accessTokenTtl: 300,
    async clientCredentialsToken(resource, scope) {
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${as.serviceClient.id}:${as.serviceClient.secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }),
      });
      const body = (await res.json()) as { access_token?: string };
      if (!res.ok || !body.access_token) throw new Error(`token request failed: ${JSON.stringify(body)}`);
      return body.access_token;
    },
    async authorize(url) {
      const cookies = new Map<string, string>();
      let next = url.toString();
      for (let hop = 0; hop < 12; hop++) {
        if (next.startsWith(redirectUri)) return new URL(next).searchParams;
        const res = await fetch(next, {
          redirect: 'manual',
          headers: { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
        });
        for (const c of res.headers.getSetCookie()) {
          const [pair] = c.split(';');
          const eq = pair!.indexOf('=');
          cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
        }
        const location = res.headers.get('location');
        if (!location) throw new Error(`authorization stopped at ${next}: ${res.status} ${await res.text()}`);
        await res.body?.cancel();
        next = new URL(location, next).toString();
      }
      throw new Error('authorization did not reach the redirect URI');
    },
    async rotateKeys() {
      keys = [await signingKey(), ...keys];
      provider = build();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };

  function build(): Provider {
    const p = new Provider(issuer, {
      clients: [
        {
          client_id: as.serviceClient.id,
          client_secret: as.serviceClient.secret,
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: 'client_secret_basic',
          id_token_signed_response_alg: 'ES256',
        },
        {
          client_id: as.publicClient.id,
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: [redirectUri],
          token_endpoint_auth_method: 'none',
          id_token_signed_response_alg: 'ES256',
        },
      ],
      jwks: { keys },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => undefined,
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({
            scope: SCOPES,
            accessTokenTTL: as.accessTokenTtl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          }),
        },
      },
      extraTokenClaims: (_ctx: unknown, token: { clientId?: string; accountId?: string }) => {
        const org = as.orgClaims.get(token.accountId ?? token.clientId ?? '');
        return org === undefined ? undefined : { org_id: org };
      },
      findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id }) }),
      interactions: {
        url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
      },
      cookies: { keys: ['test-cookie-key-0123456789'] },
      ttl: {
        AccessToken: () => as.accessTokenTtl,
        ClientCredentials: () => as.accessTokenTtl,
        AuthorizationCode: 60,
        Grant: 3600,
        Interaction: 600,
        Session: 3600,
        RefreshToken: 3600,
      },
      scopes: ['openid', 'offline_access'],
      pkce: { required: () => true },
      clientBasedCORS: () => true,
    });
    // Tests run the provider over plain http on loopback.
    p.on('server_error', (_ctx: unknown, err: unknown) => console.error('authorization server error', err));
    return p;
  }
  provider = build();

  async function handle(req: IncomingMessage, res: ServerResponse) {
    try {
      const path = (req.url ?? '/').split('?')[0]!;
      if (path === '/jwks') as.jwksRequests++;
      const m = /^\/interaction\/([^/]+)$/.exec(path);
      if (m) return await interact(req, res);
      provider.callback()(req, res);
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String((e as Error).stack));
    }
  }

  /** The login and consent screens, answered by the test. */
  async function interact(req: IncomingMessage, res: ServerResponse) {
    const details: InteractionDetails = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'login') {
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: as.accountId } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    const grant = new provider.Grant({
      accountId: details.session!.accountId,
      clientId: details.params.client_id,
    });
    const missingOidc = details.prompt.details.missingOIDCScope as string[] | undefined;
    if (missingOidc?.length) grant.addOIDCScope(missingOidc.join(' '));
    const missing = (details.prompt.details.missingResourceScopes ?? {}) as Record<string, string[]>;
    for (const [resource, scopes] of Object.entries(missing)) {
      const granted = as.consent(scopes);
      const refused = scopes.filter((x) => !granted.includes(x));
      if (granted.length) grant.addResourceScope(resource, granted.join(' '));
      if (refused.length) grant.rejectResourceScope(resource, refused.join(' '));
    }
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  return as;
}
