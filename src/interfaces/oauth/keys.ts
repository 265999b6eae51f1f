import { createPublicKey, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, type JWK, type JWTVerifyGetKey } from 'jose';
import { ConfigError, type TokenSettings } from '../../config.js';

/**
 * Where the keys that sign one trusted issuer's tokens come from: the JWKS its authorization
 * server metadata names (RFC 8414, or OpenID Connect discovery), a configured JWKS URL, or a
 * public key given in the configuration.
 */
export interface IssuerKeys {
  readonly issuer: string;
  /** True for the OAuth authorization server MCP clients are sent to. */
  readonly authorizationServer: boolean;
  /** The key for a token's header; jose calls it during verification. */
  readonly getKey: JWTVerifyGetKey | KeyObject;
}

/**
 * A JWKS is refetched when a token names a key it does not hold (the issuer rotated its keys),
 * but at most once a minute, so tokens with made-up key ids cannot make Billfold hammer the
 * issuer; it is also refetched when older than ten minutes.
 */
export const JWKS_REFETCH_COOLDOWN_MS = 60_000;
const JWKS_MAX_AGE_MS = 10 * 60_000;
const FETCH_TIMEOUT_MS = 5_000;
/** After a failed discovery, the next token tries again no sooner than this. */
const DISCOVERY_RETRY_MS = 10_000;

export class KeysUnavailable extends Error {}

function remoteJwks(url: string): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(url), {
    cooldownDuration: JWKS_REFETCH_COOLDOWN_MS,
    cacheMaxAge: JWKS_MAX_AGE_MS,
    timeoutDuration: FETCH_TIMEOUT_MS,
  });
}

/**
 * The metadata URLs to try for an issuer, in the order the MCP authorization specification
 * gives: RFC 8414's (the well-known path inserted before the issuer's path), OpenID Connect's
 * inserted the same way, and OpenID Connect's appended to the issuer (Keycloak, Entra, Auth0).
 */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, '');
  const at = (p: string) => `${url.origin}${p}`;
  if (path === '') {
    return [at('/.well-known/oauth-authorization-server'), at('/.well-known/openid-configuration')];
  }
  return [
    at(`/.well-known/oauth-authorization-server${path}`),
    at(`/.well-known/openid-configuration${path}`),
    at(`${path}/.well-known/openid-configuration`),
  ];
}

/** Issuers are compared as RFC 8414 says, as strings; one trailing slash is forgiven. */
export function sameIssuer(a: string, b: string): boolean {
  return a.replace(/\/$/, '') === b.replace(/\/$/, '');
}

/** Finds the issuer's jwks_uri from its metadata; the metadata must name the same issuer. */
export async function discoverJwksUri(issuer: string): Promise<string> {
  const problems: string[] = [];
  for (const url of metadataUrls(issuer)) {
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
    } catch (e) {
      problems.push(`${url}: ${(e as Error).message}`);
      continue;
    }
    if (!res.ok) {
      problems.push(`${url}: HTTP ${res.status}`);
      await res.body?.cancel();
      continue;
    }
    let doc: { issuer?: unknown; jwks_uri?: unknown };
    try {
      doc = (await res.json()) as typeof doc;
    } catch {
      problems.push(`${url}: not JSON`);
      continue;
    }
    // RFC 8414 §3.3: metadata that names another issuer is not this issuer's.
    if (typeof doc.issuer !== 'string' || !sameIssuer(doc.issuer, issuer)) {
      problems.push(`${url}: names the issuer '${String(doc.issuer)}'`);
      continue;
    }
    if (typeof doc.jwks_uri !== 'string') {
      problems.push(`${url}: has no jwks_uri`);
      continue;
    }
    return doc.jwks_uri;
  }
  throw new KeysUnavailable(
    `the signing keys of ${issuer} cannot be found: ${problems.join('; ')}. Set BILLFOLD_OAUTH_JWKS_URL to give them.`,
  );
}

/**
 * The authorization server's keys, found through its metadata on the first token (so Billfold
 * starts while the server is down) and kept; a failed discovery is retried after a few seconds.
 */
function discoveredJwks(issuer: string): JWTVerifyGetKey {
  let found: Promise<JWTVerifyGetKey> | undefined;
  let failedAt = 0;
  let failure: Error | undefined;
  return async (header, token) => {
    if (!found) {
      if (failure && Date.now() - failedAt < DISCOVERY_RETRY_MS) throw failure;
      found = discoverJwksUri(issuer).then(remoteJwks);
      found.catch((e: Error) => {
        found = undefined;
        failure = e;
        failedAt = Date.now();
      });
    }
    return (await found)(header, token);
  };
}

/** A configured public key: a PEM (SPKI or certificate), a JWK, or a JWK Set, as text. */
export function configuredKey(text: string): JWTVerifyGetKey | KeyObject {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let parsed: { keys?: unknown };
    try {
      parsed = JSON.parse(trimmed) as { keys?: unknown };
    } catch (e) {
      throw new ConfigError(`BILLFOLD_JWT_PUBLIC_KEY is not valid JSON: ${(e as Error).message}`);
    }
    const keys = Array.isArray(parsed.keys) ? (parsed.keys as JWK[]) : [parsed as JWK];
    for (const k of keys) {
      if (k.kty === 'oct' || k.d !== undefined) {
        throw new ConfigError(
          'BILLFOLD_JWT_PUBLIC_KEY must hold public keys only (no "oct" secrets, no private "d" members)',
        );
      }
    }
    return createLocalJWKSet({ keys });
  }
  if (/PRIVATE KEY/.test(trimmed)) {
    throw new ConfigError('BILLFOLD_JWT_PUBLIC_KEY holds a private key; give the public key only');
  }
  try {
    return createPublicKey(trimmed.replace(/\\n/g, '\n'));
  } catch (e) {
    throw new ConfigError(
      `BILLFOLD_JWT_PUBLIC_KEY must be a PEM public key ("-----BEGIN PUBLIC KEY-----…") or a JWK Set as JSON: ${(e as Error).message}`,
    );
  }
}

/** The issuers this configuration trusts; empty when only API keys are accepted. */
export function trustedIssuers(settings: TokenSettings): IssuerKeys[] {
  const out: IssuerKeys[] = [];
  if (settings.oauthIssuer) {
    out.push({
      issuer: settings.oauthIssuer,
      authorizationServer: true,
      getKey: settings.oauthJwksUrl
        ? remoteJwks(settings.oauthJwksUrl)
        : discoveredJwks(settings.oauthIssuer),
    });
  }
  if (settings.jwtIssuer) {
    out.push({
      issuer: settings.jwtIssuer,
      authorizationServer: false,
      getKey: settings.jwtJwksUrl ? remoteJwks(settings.jwtJwksUrl) : configuredKey(settings.jwtPublicKey!),
    });
  }
  return out;
}
