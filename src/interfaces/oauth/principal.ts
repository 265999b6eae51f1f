import type { ScopeNames } from '../../config.js';
import type { Principal, Scope } from '../../services/context.js';
import type { VerifiedToken } from './tokens.js';

/**
 * What a verified token may do: Billfold's scopes from the token's scope names
 * (BILLFOLD_OAUTH_SCOPE_*); the organization its claim names is found by
 * services/organization-claims.ts. The organization comes from the token only, never from
 * anything else in the request.
 */
/**
 * The scopes a token can grant. `platform` (across organizations) is not among them: it is the
 * installation operator's, given only by a key made on the server's machine.
 */
export const TOKEN_SCOPES = ['read', 'write', 'admin'] as const satisfies readonly Scope[];
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export function isTokenScope(s: unknown): s is TokenScope {
  return (TOKEN_SCOPES as readonly unknown[]).includes(s);
}

export function billfoldScopes(token: VerifiedToken, names: ScopeNames): TokenScope[] {
  return TOKEN_SCOPES.filter((s) => token.scopes.includes(names[s]));
}

export function tokenPrincipal(
  token: VerifiedToken,
  organizationId: string,
  scopes: TokenScope[],
): Principal {
  return {
    organizationId,
    actor: { type: 'token', id: token.subject, name: token.label },
    scopes: new Set(scopes),
  };
}
