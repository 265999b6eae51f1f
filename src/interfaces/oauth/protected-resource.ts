import type { ScopeNames } from '../../config.js';
import type { TokenScope } from './principal.js';
import { DEFAULT_PROFILE, PROFILE_NAMES } from '../mcp/profiles/registry.js';

/**
 * Billfold as an OAuth 2.1 protected resource (RFC 9728, as the MCP authorization
 * specification uses it): the metadata documents that tell a client which authorization server
 * issues tokens for Billfold, and the `WWW-Authenticate` challenges that point to them.
 *
 * Each MCP endpoint is a resource of its own (`https://billing.example.com/mcp`,
 * `…/mcp/lago`, `…/sse`), with its metadata at the well-known path with the endpoint's path
 * appended, since RFC 9728 §3.3 wants a document's `resource` to be the URL its location was
 * made from; the JSON API and Lago's REST API belong to the server's own URL, described at the
 * well-known path itself. A token for any of them is accepted at every door: they are one
 * server with one set of data and scopes.
 */
export const METADATA_PATH = '/.well-known/oauth-protected-resource';

const nonDefault = PROFILE_NAMES.filter((p) => p !== DEFAULT_PROFILE);

/** The path of every resource Billfold describes ('' is the server itself). */
export const RESOURCE_PATHS: readonly string[] = [
  '',
  '/mcp',
  ...nonDefault.map((p) => `/mcp/${p}`),
  '/sse',
  ...nonDefault.map((p) => `/sse/${p}`),
];

/** The resource a request path belongs to: `/mcp/lago` → `/mcp/lago`, `/api/v1/x` → ''. */
export function resourcePathOf(requestPath: string): string {
  const m = /^\/(mcp|sse)(?:\/([^/]+))?\/?$/.exec(requestPath);
  if (!m) return '';
  const path = m[2] ? `/${m[1]}/${m[2]}` : `/${m[1]}`;
  return RESOURCE_PATHS.includes(path) ? path : `/${m[1]}`;
}

/** The resource path a metadata request asks about, or null when it is not one Billfold has. */
export function metadataResourcePath(requestPath: string): string | null {
  if (requestPath !== METADATA_PATH && !requestPath.startsWith(`${METADATA_PATH}/`)) return null;
  const rest = requestPath.slice(METADATA_PATH.length).replace(/\/$/, '');
  return RESOURCE_PATHS.includes(rest) ? rest : null;
}

export function resourceUrl(base: string, path: string): string {
  return `${base}${path}`;
}

export function metadataUrl(base: string, path: string): string {
  return `${base}${METADATA_PATH}${path}`;
}

/** Accepted audiences when none is configured: every resource URL (and the base with a slash). */
export function ownAudiences(base: string): string[] {
  return [...RESOURCE_PATHS.map((p) => resourceUrl(base, p)), `${base}/`];
}

export function scopeNamesOf(names: ScopeNames): string[] {
  return [names.read, names.write, names.admin];
}

/** RFC 9728 §2: the document for one resource. */
export function metadataDocument(
  base: string,
  path: string,
  authorizationServer: string,
  names: ScopeNames,
): Record<string, unknown> {
  return {
    resource: resourceUrl(base, path),
    authorization_servers: [authorizationServer],
    scopes_supported: scopeNamesOf(names),
    bearer_methods_supported: ['header'],
    resource_name: path === '' ? 'Billfold' : `Billfold (${path})`,
  };
}

/** RFC 6750 quoted-string: backslash and quote escaped, anything unprintable made a space. */
function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&').replace(/[^\x20-\x7E]/g, ' ')}"`;
}

export interface Challenge {
  error?: 'invalid_token' | 'insufficient_scope';
  description?: string;
  /** Billfold scopes the request needs (named as tokens carry them). */
  scope?: TokenScope;
}

/**
 * `WWW-Authenticate: Bearer …` for a refused request: the error (none when no credential was
 * sent, RFC 6750 §3.1), the scope a step-up would need, and, where an authorization server is
 * configured, the metadata an MCP client starts its OAuth flow from.
 */
export function challengeHeader(
  challenge: Challenge,
  names: ScopeNames,
  metadata: string | undefined,
): string {
  const parts = ['realm="billfold"'];
  if (challenge.error) parts.push(`error=${quoted(challenge.error)}`);
  if (challenge.description) parts.push(`error_description=${quoted(challenge.description)}`);
  if (challenge.scope) parts.push(`scope=${quoted(names[challenge.scope])}`);
  if (metadata) parts.push(`resource_metadata=${quoted(metadata)}`);
  return `Bearer ${parts.join(', ')}`;
}
