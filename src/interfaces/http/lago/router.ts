import type { IncomingMessage, ServerResponse } from 'node:http';
import { BillfoldError } from '../../../domain/errors.js';
import { AuthenticationFailed, authenticate, wwwAuthenticate } from '../../auth.js';
import type { Runtime } from '../../runtime.js';
import { BodyTooLargeError, readBody, sendJson } from '../respond.js';
import { LAGO_PREFIX, LagoCall } from './call.js';
import { fromBillfold, LagoError } from './errors.js';
import { unsupportedEndpoint } from './unsupported.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a handler answers: Lago answers every success with 200 and the object's body. */
export type LagoReply = Record<string, unknown>;

export interface LagoRoute {
  method: Method;
  /** Lago's path template below the mount point, e.g. `/customers/{external_customer_id}`. */
  path: string;
  handle(call: LagoCall, params: string[]): Promise<LagoReply>;
}

interface Compiled extends LagoRoute {
  pattern: RegExp;
  statics: number;
}

export function compile(routes: readonly LagoRoute[]): Compiled[] {
  return routes
    .map((r) => {
      const segments = r.path.split('/').filter(Boolean);
      const pattern = new RegExp(
        `^/${segments.map((s) => (s.startsWith('{') ? '([^/]+)' : s.replace(/[.]/g, '\\.'))).join('/')}$`,
      );
      return { ...r, pattern, statics: segments.filter((s) => !s.startsWith('{')).length };
    })
    .sort((a, b) => b.statics - a.statics);
}

/**
 * Serves `/lago/api/v1/...`: authenticates with the Bearer key, finds Lago's route, reads the
 * JSON body and answers with the route's Lago body or Lago's error body.
 */
export function lagoHandler(routes: readonly LagoRoute[]) {
  const compiled = compile(routes);
  return async function handleLago(
    rt: Runtime,
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    origin: string | null,
  ): Promise<number> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const sub = path.slice(LAGO_PREFIX.length) || '/';
    let call: LagoCall | undefined;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      if (call?.requestId) headers['x-request-id'] = call.requestId;
      sendJson(res, status, body, headers);
      return status;
    };
    let challenge: string | undefined;
    try {
      const principal = await authenticate(rt, req.headers).catch((e: unknown) => {
        if (e instanceof AuthenticationFailed) challenge = wwwAuthenticate(rt, path, e.challenge);
        throw e instanceof BillfoldError ? fromBillfold(e.toBody(), 'api_key') : e;
      });
      const matches = compiled.filter((r) => r.pattern.test(sub));
      const route = matches.find((r) => r.method === method);
      if (!route) {
        if (matches.length)
          throw new LagoError(
            405,
            'method_not_allowed',
            `${method} is not a method of ${sub}; it takes ${[...new Set(matches.map((m) => m.method))].join(', ')}`,
          );
        throw unsupportedEndpoint(method, sub);
      }
      let body: unknown = undefined;
      if (method !== 'GET' && method !== 'DELETE') {
        let raw: Buffer;
        try {
          raw = await readBody(req, rt.config.maxBodyBytes);
        } catch (e) {
          if (!(e instanceof BodyTooLargeError)) throw e;
          throw new LagoError(
            413,
            'payload_too_large',
            `the request body is larger than the ${Math.round(rt.config.maxBodyBytes / 1024)} KiB limit`,
            undefined,
            'Send fewer events per batch, or raise BILLFOLD_MAX_BODY_BYTES.',
          );
        }
        if (raw.length) {
          try {
            body = JSON.parse(raw.toString('utf8'));
          } catch (e) {
            throw new LagoError(
              400,
              undefined,
              `the request body is not valid JSON: ${(e as Error).message}`,
            );
          }
        }
      } else {
        // DELETE may carry a body in Lago's clients; Billfold reads none.
        req.resume();
      }
      call = new LagoCall(
        rt,
        principal,
        method,
        sub,
        url.searchParams,
        body,
        origin,
        (req.headers['user-agent'] as string | undefined) ?? null,
        (rt.config.publicUrl ?? `http://${req.headers.host ?? 'localhost'}`).replace(/\/$/, ''),
      );
      const params = route.pattern
        .exec(sub)!
        .slice(1)
        .map((p) => decodeURIComponent(p));
      const reply = await route.handle(call, params);
      return send(200, reply);
    } catch (e) {
      if (!(e instanceof LagoError)) throw e;
      const headers: Record<string, string> = {};
      if (challenge) headers['www-authenticate'] = challenge;
      else if (e.status === 401) headers['www-authenticate'] = 'Bearer realm="billfold"';
      if (e.retryAfterSeconds) headers['retry-after'] = String(e.retryAfterSeconds);
      return send(e.status, e.body(), headers);
    }
  };
}
