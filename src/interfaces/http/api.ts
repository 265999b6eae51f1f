import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../../services/context.js';
import { isTokenScope } from '../oauth/principal.js';
import { wwwAuthenticate } from '../auth.js';
import { dispatch } from '../dispatch.js';
import type { Runtime } from '../runtime.js';
import { parseJsonBody, readBody, sendError, sendJson, tooLarge, BodyTooLargeError } from './respond.js';

/**
 * POST /api/v1/<operation> (or seed 004's POST /tools/<name>, `path`): the operation's input
 * JSON in, its output JSON (or error) out.
 */
export async function handleApiCall(
  rt: Runtime,
  req: IncomingMessage,
  res: ServerResponse,
  principal: Principal,
  operation: string,
  origin: string | null,
  path = `/api/v1/${operation}`,
): Promise<number> {
  let body: Buffer;
  try {
    body = await readBody(req, rt.config.maxBodyBytes);
  } catch (e) {
    if (e instanceof BodyTooLargeError) {
      sendError(res, tooLarge(rt.config.maxBodyBytes), {}, 413);
      return 413;
    }
    throw e;
  }
  const parsed = parseJsonBody(body);
  if (!parsed.ok) {
    sendError(res, parsed.error, {}, 400);
    return 400;
  }
  const { outcome, requestId, status, retryAfterSeconds } = await dispatch(rt, {
    principal,
    door: 'http_api',
    operation,
    args: parsed.value,
    client: req.headers['user-agent'] ?? null,
    http: { method: 'post', path, origin },
  });
  const headers: Record<string, string> = { 'x-request-id': requestId };
  if (retryAfterSeconds) headers['retry-after'] = String(retryAfterSeconds);
  // A token without the operation's scope is told which scope to ask its authorization server for.
  const required = outcome.ok ? undefined : outcome.error.details.required_scope;
  if (principal.actor.type === 'token' && isTokenScope(required)) {
    headers['www-authenticate'] = wwwAuthenticate(rt, path, {
      error: 'insufficient_scope',
      scope: required,
      description: `${operation} needs the ${rt.config.tokens.scopeNames[required]} scope`,
    });
  }
  if (outcome.ok) sendJson(res, 200, outcome.output, headers);
  else sendError(res, outcome.error, headers, status);
  return status;
}
