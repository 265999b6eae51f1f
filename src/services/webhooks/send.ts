import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { DestinationError, resolveDestination, type Destination } from './destinations.js';

/**
 * One webhook request. The destination is resolved and checked once (destinations.ts) and the
 * socket connects to that address — the name still goes in the Host header and, over TLS, in
 * SNI and the certificate check. Redirects are not followed (a 3xx is a failed attempt), at
 * most 64 KB of the answer is read, and the whole exchange has one deadline.
 */

export interface SendOptions {
  allowPrivate: boolean;
  timeoutMs: number;
}

export interface SendResult {
  /** The HTTP status, or null when no answer came (refused, reset, timed out, not allowed). */
  status: number | null;
  /** The start of the answer's body, for the delivery's record. */
  body: string | null;
  error: string | null;
  durationMs: number;
}

export const MAX_RESPONSE_BYTES = 64 * 1024;
/** How much of an answer a delivery keeps, to show what the receiver said. */
const KEPT_BODY_CHARS = 2000;

// Connections are kept open between deliveries to the same host (and address: a name that
// resolves elsewhere later gets a new connection, checked like the first).
const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 64 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

export async function postWebhook(
  rawUrl: string,
  headers: Record<string, string>,
  body: string,
  options: SendOptions,
): Promise<SendResult> {
  const started = performance.now();
  const done = (status: number | null, text: string | null, error: string | null): SendResult => ({
    status,
    body: text,
    error,
    durationMs: Math.round(performance.now() - started),
  });
  const url = new URL(rawUrl);
  let dest: Destination;
  try {
    dest = await resolveDestination(url, options.allowPrivate);
  } catch (e) {
    return done(null, null, e instanceof DestinationError ? `refused: ${e.message}` : String(e));
  }
  // Whatever the name resolves to by the time the socket opens, it opens to the checked address.
  const pinned = ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    if (opts.all) cb(null, [{ address: dest.address, family: dest.family }]);
    else cb(null, dest.address, dest.family);
  }) as unknown as LookupFunction;
  const secure = url.protocol === 'https:';
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    let timedOut = false;
    const finish = (r: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = (secure ? https : http).request(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port || (secure ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        agent: secure ? agents.https : agents.http,
        lookup: pinned,
        family: dest.family,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          host: url.host,
        },
        ...(secure ? { servername: url.hostname } : {}),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let read = 0;
        const answered = () => {
          if (timedOut) return;
          const text = Buffer.concat(chunks).toString('utf8').slice(0, KEPT_BODY_CHARS);
          const ok = status >= 200 && status < 300;
          const error = ok
            ? null
            : status >= 300 && status < 400
              ? `answered ${status} (redirects are not followed${res.headers.location ? `; Location: ${res.headers.location}` : ''})`
              : `answered ${status}`;
          finish(done(status, text || null, error));
        };
        res.on('data', (c: Buffer) => {
          if (read >= MAX_RESPONSE_BYTES) return;
          chunks.push(c.subarray(0, MAX_RESPONSE_BYTES - read));
          read += c.length;
          // Enough read: the status is known and the rest is not needed.
          if (read >= MAX_RESPONSE_BYTES) {
            answered();
            res.destroy();
          }
        });
        res.on('end', answered);
        res.on('error', () => answered());
        res.on('close', answered);
      },
    );
    // One deadline for connecting, the status and the body: an answer not complete by then is
    // a failed attempt, whatever arrived of it.
    const timer = setTimeout(() => {
      timedOut = true;
      finish(done(null, null, `timed out: no complete answer within ${options.timeoutMs / 1000} s`));
      req.destroy();
    }, options.timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => {
      finish(done(null, null, `${e.code ? `${e.code}: ` : ''}${e.message}`));
    });
    req.end(body);
  });
}
