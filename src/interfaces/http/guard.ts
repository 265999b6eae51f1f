import type { IncomingMessage } from 'node:http';
import type { Config } from '../../config.js';

/**
 * DNS-rebinding protection. A page on a hostile site can make a browser send requests to
 * 127.0.0.1 under the hostile site's name; checking the Host header (which names that site)
 * and the Origin header (which names the page) stops it. Bound to loopback, only loopback
 * names are accepted unless BILLFOLD_ALLOWED_HOSTS adds others.
 */
export interface Guard {
  checkHost(req: IncomingMessage): string | null;
  /** The allowed origin to echo in CORS headers, null when there is none, or an error. */
  checkOrigin(req: IncomingMessage): { ok: true; origin: string | null } | { ok: false; message: string };
  /** True when any Host is accepted (bound to a public address without an allow-list). */
  readonly open: boolean;
}

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]', '::1'];

export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.includes(host) || host.startsWith('127.');
}

function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  const i = hostHeader.lastIndexOf(':');
  return (i > 0 ? hostHeader.slice(0, i) : hostHeader).toLowerCase();
}

export function createGuard(config: Config): Guard {
  const extra = config.allowedHosts.map((h) => h.toLowerCase());
  const open = !isLoopback(config.host) && extra.length === 0;
  const allowed = new Set([...LOOPBACK_HOSTS, ...extra]);
  const origins = new Set(config.allowedOrigins.map((o) => o.replace(/\/$/, '').toLowerCase()));
  if (config.publicUrl) origins.add(new URL(config.publicUrl).origin.toLowerCase());
  return {
    open,
    checkHost(req) {
      const host = req.headers.host;
      if (!host) return 'the request has no Host header';
      if (open) return null;
      const name = hostnameOf(host);
      return allowed.has(name) || name.startsWith('127.')
        ? null
        : `Host '${name}' is not allowed; add it to BILLFOLD_ALLOWED_HOSTS to serve it`;
    },
    checkOrigin(req) {
      const origin = req.headers.origin;
      if (!origin || origin === 'null') return { ok: true, origin: null };
      let url: URL;
      try {
        url = new URL(origin);
      } catch {
        return { ok: false, message: `Origin '${origin}' is not a valid origin` };
      }
      const normalized = url.origin.toLowerCase();
      const host = url.hostname.startsWith('[') ? url.hostname : url.hostname.toLowerCase();
      const sameAsHost =
        req.headers.host !== undefined && url.host.toLowerCase() === req.headers.host.toLowerCase();
      if (origins.has(normalized) || allowed.has(host) || host === '[::1]' || sameAsHost)
        return { ok: true, origin };
      return {
        ok: false,
        message: `Origin '${origin}' is not allowed; add it to BILLFOLD_ALLOWED_ORIGINS to serve it`,
      };
    },
  };
}
