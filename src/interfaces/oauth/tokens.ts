import {
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { KeyObject } from 'node:crypto';
import type { TokenSettings } from '../../config.js';
import { KeysUnavailable, sameIssuer, trustedIssuers, type IssuerKeys } from './keys.js';

/**
 * Bearer JWTs (OAuth access tokens, and tokens services mint themselves) verified with jose:
 * the signature against the issuer's keys, `iss`, `aud`, `exp` and `nbf` with a small leeway,
 * and the algorithm from an allow-list. What a token grants (scopes, organization) is read
 * from it here and resolved against the database in principal.ts.
 */
export interface VerifiedToken {
  issuer: string;
  subject: string;
  /** Every scope-like value the token carries (scope, scp, roles), unmapped. */
  scopes: string[];
  /** The value of the organization claim. */
  organizationRef: string;
  /** Who the subject is in words, when the token says (user name, e-mail, client id). */
  label: string | null;
  /** When the token expires, in ms. */
  expiresAt: number;
}

/** The token is not acceptable; the message says why, in the caller's terms. */
export class TokenRefused extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

export { KeysUnavailable };

export interface TokenVerifier {
  readonly issuers: readonly IssuerKeys[];
  readonly settings: TokenSettings;
  /** Throws TokenRefused, or KeysUnavailable when the issuer's keys cannot be fetched. */
  verify(token: string): Promise<VerifiedToken>;
}

const JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const JWE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * A JWT is three base64url segments joined by dots (five when encrypted); an API key is
 * `bfk_` and base62, with no dot. The shape alone tells them apart, before any lookup.
 */
export function looksLikeJwt(credential: string): boolean {
  return !credential.startsWith('bfk_') && (JWS.test(credential) || JWE.test(credential));
}

/** Verified tokens, by their text, until they expire: a repeated token costs a map lookup. */
const CACHE_MAX = 10_000;

const iso = (seconds: unknown) =>
  typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : String(seconds);

function scopesOf(payload: JWTPayload): string[] {
  const out: string[] = [];
  const add = (v: unknown) => {
    if (typeof v === 'string') out.push(...v.split(' ').filter(Boolean));
    else if (Array.isArray(v)) for (const x of v) if (typeof x === 'string') out.push(x);
  };
  // RFC 9068 (and Auth0, Keycloak, oidc-provider): `scope`, space-separated. Entra and Okta:
  // `scp`; Entra puts an application's own permissions (client credentials) in `roles`, Auth0
  // its RBAC permissions in `permissions`.
  add(payload.scope);
  add(payload.scp);
  add(payload.roles);
  add(payload.permissions);
  return out;
}

function labelOf(payload: JWTPayload): string | null {
  // An e-mail first: the activity log's user_email (and Lago's filter by user) reads it.
  for (const claim of ['email', 'preferred_username', 'name', 'client_id', 'azp', 'appid']) {
    const v = payload[claim];
    if (typeof v === 'string' && v) return v;
  }
  return null;
}

export function createTokenVerifier(
  settings: TokenSettings,
  /** The audiences accepted when BILLFOLD_OAUTH_AUDIENCE is not set (Billfold's resource URLs). */
  defaultAudiences: () => string[],
): TokenVerifier | null {
  const issuers = trustedIssuers(settings);
  if (issuers.length === 0) return null;
  const cache = new Map<string, VerifiedToken>();
  const tolerance = settings.clockToleranceSeconds;
  const audiences = () => (settings.audience.length ? settings.audience : defaultAudiences());
  const trusted = issuers.map((i) => `'${i.issuer}'`).join(', ');

  async function verifyUncached(token: string): Promise<VerifiedToken> {
    if (JWE.test(token)) {
      throw new TokenRefused(
        'the token is an encrypted JWT (JWE); Billfold verifies signed JWTs only',
        'Ask the authorization server for signed (not encrypted) access tokens for this resource.',
      );
    }
    let header: ReturnType<typeof decodeProtectedHeader>;
    let claims: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      claims = decodeJwt(token);
    } catch (e) {
      throw new TokenRefused(
        `the token is not a well-formed JWT: ${(e as Error).message}`,
        'Send the access token exactly as the authorization server issued it.',
      );
    }
    if (!header.alg || header.alg.toLowerCase() === 'none') {
      throw new TokenRefused(
        'the token is not signed (alg none): unsigned tokens are never accepted',
        'Use a token signed by the authorization server.',
      );
    }
    if (!settings.algorithms.includes(header.alg)) {
      throw new TokenRefused(
        `the token is signed with ${header.alg}, which is not accepted; accepted: ${settings.algorithms.join(', ')}`,
        header.alg.startsWith('HS')
          ? 'Symmetric algorithms (HS*) are never accepted: sign with a private key (RS256, ES256, EdDSA) and publish the public key.'
          : 'Change the signing algorithm of the issuer, or BILLFOLD_OAUTH_ALGORITHMS.',
      );
    }
    const iss = typeof claims.iss === 'string' ? claims.iss : undefined;
    const source = iss ? issuers.find((i) => sameIssuer(i.issuer, iss)) : undefined;
    if (!source) {
      throw new TokenRefused(
        iss
          ? `the token's issuer (iss) is '${iss}'; this server trusts ${trusted}`
          : `the token has no issuer (iss) claim; this server trusts ${trusted}`,
        'Get the token from the authorization server Billfold is configured with (BILLFOLD_OAUTH_ISSUER, BILLFOLD_JWT_ISSUER).',
      );
    }
    const accepted = audiences();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, source.getKey as JWTVerifyGetKey & KeyObject, {
        // The token's own spelling, already matched (sameIssuer forgives a trailing slash).
        issuer: iss,
        audience: accepted,
        algorithms: settings.algorithms,
        clockTolerance: tolerance,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (e) {
      throw refusal(e, source, header.kid, claims, accepted);
    }
    const orgValue = payload[settings.orgClaim];
    const organizationRef =
      typeof orgValue === 'string' ? orgValue : typeof orgValue === 'number' ? String(orgValue) : undefined;
    if (!organizationRef) {
      throw new TokenRefused(
        `the token has no '${settings.orgClaim}' claim naming the organization it acts for`,
        `Have the authorization server add the claim '${settings.orgClaim}' (the organization's id or external_id), or set BILLFOLD_OAUTH_ORG_CLAIM to the claim it uses.`,
      );
    }
    return {
      issuer: source.issuer,
      subject: payload.sub!,
      scopes: scopesOf(payload),
      organizationRef,
      label: labelOf(payload),
      expiresAt: (payload.exp! + tolerance) * 1000,
    };
  }

  return {
    issuers,
    settings,
    async verify(token) {
      const hit = cache.get(token);
      if (hit) {
        if (hit.expiresAt > Date.now()) return hit;
        cache.delete(token);
      }
      const verified = await verifyUncached(token);
      if (cache.size >= CACHE_MAX) {
        // Expired entries first; otherwise the oldest.
        const now = Date.now();
        for (const [k, v] of cache) if (v.expiresAt <= now) cache.delete(k);
        if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
      }
      cache.set(token, verified);
      return verified;
    },
  };
}

function refusal(
  e: unknown,
  source: IssuerKeys,
  kid: string | undefined,
  claims: JWTPayload,
  audiences: string[],
): Error {
  const renew = `Get a new token from ${source.issuer}.`;
  if (e instanceof KeysUnavailable) return e;
  if (e instanceof errors.JWTExpired) {
    return new TokenRefused(`the token expired at ${iso(claims.exp)}`, renew);
  }
  if (e instanceof errors.JWTClaimValidationFailed) {
    switch (e.claim) {
      case 'aud':
        return new TokenRefused(
          claims.aud === undefined
            ? `the token has no audience (aud); this server accepts ${audiences.join(', ')}`
            : `the token's audience (aud) is ${JSON.stringify(claims.aud)}; this server accepts ${audiences.join(', ')}`,
          'Request the token for this resource (the resource parameter, RFC 8707), or set BILLFOLD_OAUTH_AUDIENCE to the audience the authorization server puts in its tokens.',
        );
      case 'nbf':
        return new TokenRefused(`the token is not valid before ${iso(claims.nbf)}`, 'Check the clocks.');
      case 'iat':
        return new TokenRefused(
          `the token was issued in the future (iat ${iso(claims.iat)})`,
          'Check the clocks.',
        );
      default:
        return new TokenRefused(
          e.reason === 'missing'
            ? `the token has no '${e.claim}' claim, which Billfold requires`
            : `the token's '${e.claim}' claim is not acceptable: ${e.message}`,
          renew,
        );
    }
  }
  if (e instanceof errors.JWKSNoMatchingKey) {
    return new TokenRefused(
      kid
        ? `no signing key of ${source.issuer} has the key id (kid) '${kid}' (its keys are fetched again at most once a minute)`
        : `no signing key of ${source.issuer} fits the token`,
      renew,
    );
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) {
    return new TokenRefused(`the token's signature does not verify with the keys of ${source.issuer}`, renew);
  }
  if (e instanceof errors.JOSEAlgNotAllowed || e instanceof errors.JOSENotSupported) {
    return new TokenRefused(`the token's algorithm or key cannot be used: ${e.message}`, renew);
  }
  if (e instanceof errors.JWTInvalid || e instanceof errors.JWSInvalid) {
    return new TokenRefused(`the token is not a well-formed JWT: ${e.message}`, renew);
  }
  if (e instanceof errors.JWKSTimeout || e instanceof errors.JWKSInvalid || e instanceof errors.JOSEError) {
    return new KeysUnavailable(`the signing keys of ${source.issuer} cannot be fetched: ${e.message}`);
  }
  // fetch() itself failing (connection refused, DNS): the keys are unavailable, not the token bad.
  if (e instanceof TypeError || (e as { name?: string }).name === 'TimeoutError') {
    return new KeysUnavailable(
      `the signing keys of ${source.issuer} cannot be fetched: ${(e as Error).message}`,
    );
  }
  return e as Error;
}
