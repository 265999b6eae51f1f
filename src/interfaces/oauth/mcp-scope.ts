import { hasScope, SCOPES, type Principal, type Scope } from '../../services/context.js';
import { isTokenScope, TOKEN_SCOPES } from './principal.js';
import { AuthenticationFailed } from '../auth.js';
import { DEFAULT_PROFILE, findProfile } from '../mcp/profiles/registry.js';
import type { Runtime } from '../runtime.js';

/**
 * The scope a tool needs, on the catalogue (its operation's) or on a profile (the weakest of
 * the operations it uses: with that the tool can do something, and the operations refuse the
 * rest themselves). Null for tools the server does not offer or that are not operations.
 */
function toolScope(rt: Runtime, profile: string, name: string): Scope | null {
  if (profile === DEFAULT_PROFILE) {
    const op = rt.catalogue.get(name);
    return op && !rt.exposure.refusal(op) ? op.scope : null;
  }
  const tool = findProfile(profile)?.tools.find((t) => t.name === name);
  if (!tool || tool.pending) return null;
  const scopes = tool.uses.map((u) => rt.catalogue.get(u)?.scope).filter((s): s is Scope => s !== undefined);
  return SCOPES.find((s) => scopes.includes(s)) ?? null;
}

/**
 * For a caller with a token: the refusal (HTTP 403, insufficient_scope) of the first tools/call
 * in a Streamable HTTP body whose tool needs a scope the token does not grant. The MCP
 * authorization specification has the server say so at the HTTP level, so that the client can
 * get a token with the scope and send the request again. API keys cannot be stepped up; they get
 * the tool's own FORBIDDEN result, as on every other door.
 */
export function mcpScopeChallenge(
  rt: Runtime,
  profile: string,
  principal: Principal,
  body: unknown,
): AuthenticationFailed | null {
  if (principal.actor.type !== 'token') return null;
  const names = rt.config.tokens.scopeNames;
  for (const m of Array.isArray(body) ? body : [body]) {
    const message = m as { method?: unknown; params?: { name?: unknown } } | null;
    if (message?.method !== 'tools/call' || typeof message.params?.name !== 'string') continue;
    const tool = message.params.name;
    const scope = toolScope(rt, profile, tool);
    // No token grants platform, so there is nothing to step up to: the tool refuses by itself.
    if (!scope || !isTokenScope(scope) || hasScope(principal.scopes, scope)) continue;
    const granted = TOKEN_SCOPES.filter((s) => principal.scopes.has(s)).map((s) => names[s]);
    return new AuthenticationFailed(
      'FORBIDDEN',
      `${tool} needs the ${names[scope]} scope; this token grants ${granted.join(', ')}`,
      `Get a token with ${names[scope]} from the authorization server (MCP clients do this by themselves on this answer).`,
      { error: 'insufficient_scope', scope, description: `${tool} needs ${names[scope]}` },
      { tool, required_scope: names[scope], granted_scopes: granted },
    );
  }
  return null;
}
