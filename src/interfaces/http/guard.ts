import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
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

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
// IPv4-mapped forms (::ffff:127.0.0.1) match the IPv4 subnet.
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * True for an address literal in 127.0.0.0/8 or ::1 (bracketed or not), or exactly
 * `localhost`. Parsed as an address: a name that merely starts with "127." (127.0.0.1.nip.io,
 * 127.attacker.example) is a DNS name anyone can point anywhere, so it is not loopback.
 */
export function isLoopback(host: string): boolean {
  const name = host.toLowerCase();
  if (name === 'localhost') return true;
  const address = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The host name of a Host header (`name`, `name:port`, `[v6]`, `[v6]:port`), lower-cased;
 * null when the header is not of that form.
 */
export function hostnameOf(hostHeader: string): string | null {
  const header = hostHeader.trim().toLowerCase();
  if (header.startsWith('[')) {
    const end = header.indexOf(']');
    if (end < 0 || isIP(header.slice(1, end)) !== 6) return null;
    const rest = header.slice(end + 1);
    return rest === '' || /^:\d{1,5}$/.test(rest) ? header.slice(0, end + 1) : null;
  }
  const colon = header.indexOf(':');
  const name = colon < 0 ? header : header.slice(0, colon);
  if (colon >= 0 && !/^\d{1,5}$/.test(header.slice(colon + 1))) return null;
  return /^[a-z0-9._-]+$/.test(name) ? name : null;
}

export function createGuard(config: Config): Guard {
  const extra = new Set(config.allowedHosts.map((h) => h.toLowerCase()));
  const open = !isLoopback(config.host) && extra.size === 0;
  const allowedName = (name: string) => isLoopback(name) || extra.has(name);
  const origins = new Set(config.allowedOrigins.map((o) => o.replace(/\/$/, '').toLowerCase()));
  if (config.publicUrl) origins.add(new URL(config.publicUrl).origin.toLowerCase());
  return {
    open,
    checkHost(req) {
      const host = req.headers.host;
      if (!host) return 'the request has no Host header';
      if (open) return null;
      const name = hostnameOf(host);
      if (name === null) return `Host '${host}' is not a host name with an optional port`;
      return allowedName(name)
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
      // The URL parser has already normalized the name (case, IPv4 forms such as 127.1).
      const sameAsHost =
        req.headers.host !== undefined && url.host.toLowerCase() === req.headers.host.trim().toLowerCase();
      if (origins.has(url.origin.toLowerCase()) || allowedName(url.hostname) || sameAsHost)
        return { ok: true, origin };
      return {
        ok: false,
        message: `Origin '${origin}' is not allowed; add it to BILLFOLD_ALLOWED_ORIGINS to serve it`,
      };
    },
  };
}
