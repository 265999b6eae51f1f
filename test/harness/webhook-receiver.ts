import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * A real HTTP receiver on loopback for webhook tests: it records every request and answers as
 * the test tells it (200 by default). Signatures are checked with the `standardwebhooks`
 * package — the library a customer would use — never with Billfold's own code.
 */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

export type Responder = (req: ReceivedRequest, res: ServerResponse, n: number) => void | Promise<void>;

export interface Receiver {
  url: string;
  port: number;
  received: ReceivedRequest[];
  /** How to answer from now on (n counts requests from 1). */
  respond(fn: Responder): void;
  /** How to answer requests to one path (n counts that path's requests from 1). */
  route(path: string, fn: Responder): void;
  /** The requests that arrived at one path. */
  at(path: string): ReceivedRequest[];
  /** Resolves once `count` requests have arrived (or fails after `ms`). */
  waitFor(count: number, ms?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startReceiver(port = 0): Promise<Receiver> {
  const received: ReceivedRequest[] = [];
  let responder: Responder = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  };
  const routes = new Map<string, Responder>();
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const r: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      received.push(r);
      for (const w of waiters.splice(0)) {
        if (received.length >= w.count) w.resolve();
        else waiters.push(w);
      }
      const route = routes.get(r.path);
      const n = route ? received.filter((x) => x.path === r.path).length : received.length;
      void Promise.resolve((route ?? responder)(r, res, n)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/hooks`,
    port: actual,
    received,
    respond(fn) {
      responder = fn;
    },
    route(path, fn) {
      routes.set(path, fn);
    },
    at(path) {
      return received.filter((r) => r.path === path);
    },
    waitFor(count, ms = 20_000) {
      if (received.length >= count) return Promise.resolve(received.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`receiver got ${received.length} requests, expected ${count} within ${ms} ms`)),
          ms,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(received.slice());
          },
        });
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The payload, verified with the standardwebhooks package; throws when the signature is not valid. */
export function verified(secret: string, r: ReceivedRequest): any {
  return new Webhook(secret).verify(r.body, r.headers);
}

export function answer(status: number, body = ''): Responder {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(body);
  };
}
