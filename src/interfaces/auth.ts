import type { IncomingHttpHeaders } from 'node:http';
import { BillfoldError } from '../domain/errors.js';
import { authenticateApiKey } from '../services/api-keys.js';
import type { Principal } from '../services/context.js';
import { organizationForClaim } from '../services/organization-claims.js';
import { billfoldScopes, tokenPrincipal } from './oauth/principal.js';
import {
  challengeHeader,
  metadataUrl,
  resourcePathOf,
  scopeNamesOf,
  type Challenge,
} from './oauth/protected-resource.js';
import { KeysUnavailable, looksLikeJwt, TokenRefused } from './oauth/tokens.js';
import type { Runtime } from './runtime.js';

/**
 * A refused credential: the error every door answers with, and the `WWW-Authenticate`
 * challenge that goes with it (protected-resource.ts).
 */
export class AuthenticationFailed extends BillfoldError {
  constructor(
    code: 'UNAUTHORIZED' | 'FORBIDDEN',
    message: string,
    hint: string,
    readonly challenge: Challenge,
    details: Record<string, unknown> = {},
  ) {
    super(code, message, details, hint);
  }
}

/**
 * The credential a request presents: `Authorization: Bearer <key or token>`, or
 * `X-API-Key: <key>`.
 */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1] : undefined;
  }
  const x = headers['x-api-key'];
  return typeof x === 'string' && x.trim() ? x.trim() : undefined;
}

/** The challenge header for a refusal on `requestPath` (with the resource's metadata URL under OAuth). */
export function wwwAuthenticate(rt: Runtime, requestPath: string, challenge: Challenge = {}): string {
  const tokens = rt.config.tokens;
  const metadata = tokens.oauthIssuer ? metadataUrl(rt.publicUrl(), resourcePathOf(requestPath)) : undefined;
  return challengeHeader(challenge, tokens.scopeNames, metadata);
}

function databaseUnavailable(rt: Runtime, e: unknown, what: string): BillfoldError {
  rt.logger.error({ err: (e as Error).message }, `${what} check failed`);
  return new BillfoldError(
    'INTERNAL_ERROR',
    `the ${what} cannot be checked because the database is unavailable`,
    { retryable: true },
    'Retry in a moment; GET /health shows when the database is back.',
  );
}

/**
 * Resolves the request's credential to a principal, or throws AuthenticationFailed saying what
 * is wrong. An API key and a JWT are told apart by shape (tokens.ts), so each costs only its
 * own check.
 */
export async function authenticate(rt: Runtime, headers: IncomingHttpHeaders): Promise<Principal> {
  const credential = presentedKey(headers);
  const tokensToo = rt.tokens !== null;
  if (!credential) {
    const malformed = headers.authorization !== undefined;
    const what = tokensToo ? 'api key or access token' : 'api key';
    throw new AuthenticationFailed(
      'UNAUTHORIZED',
      malformed
        ? `the Authorization header must read "Bearer <${what}>"`
        : `this endpoint needs ${tokensToo ? 'an API key or an access token' : 'an API key'}: send "Authorization: Bearer <${what}>"`,
      'Create a key with `billfold keys create --name <name>`; the first one is printed when the server starts.' +
        (rt.config.tokens.oauthIssuer
          ? ` MCP clients get a token from ${rt.config.tokens.oauthIssuer}.`
          : ''),
      malformed ? { error: 'invalid_token', description: 'malformed Authorization header' } : {},
    );
  }
  if (looksLikeJwt(credential)) return authenticateToken(rt, credential);
  let principal;
  try {
    principal = await authenticateApiKey(rt.db.kysely, credential, rt.now(), rt.config.authCacheMs);
  } catch (e) {
    // A refusal that names its reason (a disabled organization) reaches the caller as it is.
    if (e instanceof BillfoldError) throw e;
    throw databaseUnavailable(rt, e, 'API key');
  }
  if (!principal) {
    throw new AuthenticationFailed(
      'UNAUTHORIZED',
      'the API key is not valid: it is unknown, revoked or expired',
      'Check the key, or create a new one with `billfold keys create`.',
      { error: 'invalid_token', description: 'the API key is unknown, revoked or expired' },
    );
  }
  return principal;
}

async function authenticateToken(rt: Runtime, token: string): Promise<Principal> {
  const verifier = rt.tokens;
  const settings = rt.config.tokens;
  if (!verifier) {
    throw new AuthenticationFailed(
      'UNAUTHORIZED',
      'the credential is a JWT, but this server accepts API keys only',
      'To accept tokens, set BILLFOLD_OAUTH_ISSUER (an OAuth authorization server) or BILLFOLD_JWT_ISSUER with BILLFOLD_JWT_PUBLIC_KEY (README, Authentication).',
      { error: 'invalid_token', description: 'this server accepts API keys only' },
    );
  }
  let verified;
  try {
    verified = await verifier.verify(token);
  } catch (e) {
    if (e instanceof TokenRefused) {
      throw new AuthenticationFailed('UNAUTHORIZED', `the access token is not valid: ${e.message}`, e.hint, {
        error: 'invalid_token',
        description: e.message,
      });
    }
    if (e instanceof KeysUnavailable) {
      rt.logger.warn({ err: e.message }, 'token keys unavailable');
      throw new BillfoldError(
        'INTERNAL_ERROR',
        `the access token cannot be checked now: ${e.message}`,
        { retryable: true },
        'Retry in a moment; the token itself may be fine.',
      );
    }
    throw e;
  }
  const scopes = billfoldScopes(verified, settings.scopeNames);
  if (scopes.length === 0) {
    const names = scopeNamesOf(settings.scopeNames).join(', ');
    throw new AuthenticationFailed(
      'FORBIDDEN',
      `the access token grants none of Billfold's scopes (${names}); it carries ${verified.scopes.join(' ') || 'no scope'}`,
      `Request the token with the scope ${settings.scopeNames.read} (to read), ${settings.scopeNames.write} or ${settings.scopeNames.admin}.`,
      {
        error: 'insufficient_scope',
        scope: 'read',
        description: "the token grants none of Billfold's scopes",
      },
      { granted_scopes: verified.scopes },
    );
  }
  let organizationId;
  try {
    organizationId = await organizationForClaim(
      rt.db.kysely,
      verified.organizationRef,
      rt.now(),
      rt.config.authCacheMs,
    );
  } catch (e) {
    // A disabled organization is refused with its own FORBIDDEN, saying who can enable it.
    if (e instanceof BillfoldError) throw e;
    throw databaseUnavailable(rt, e, 'access token');
  }
  if (!organizationId) {
    throw new AuthenticationFailed(
      'UNAUTHORIZED',
      `the access token's ${settings.orgClaim} claim is '${verified.organizationRef}', which names no organization of this server`,
      `The claim must hold an organization's id (org_…) or external_id; set BILLFOLD_OAUTH_ORG_CLAIM if the organization is in another claim.`,
      { error: 'invalid_token', description: `the ${settings.orgClaim} claim names no organization` },
      { claim: settings.orgClaim, value: verified.organizationRef },
    );
  }
  return tokenPrincipal(verified, organizationId, scopes);
}
