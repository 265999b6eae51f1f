import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Where a webhook may be sent. A URL a customer registers must not reach into the network
 * Billfold runs in (its database, a cloud metadata service, an admin console on loopback), so
 * unless private destinations are allowed (BILLFOLD_WEBHOOK_ALLOW_PRIVATE=1), every address
 * the name resolves to must be public. The name is resolved once per attempt and the request
 * connects to the address that was checked (send.ts), so a DNS answer that changes between the
 * check and the connection (rebinding) cannot redirect it.
 */

export class DestinationError extends Error {}

/** Addresses that are not on the public internet: RFC 6890's special-purpose ranges. */
const NOT_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const)
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv6');

/** The IPv4 address an IPv6 one carries (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96), if any. */
function embeddedIpv4(ip: string): string | null {
  const m = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(ip);
  if (!m) return null;
  if (m[1]) return m[1];
  const hi = parseInt(m[2]!, 16);
  const lo = parseInt(m[3]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

export function isPublicAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return !NOT_PUBLIC.check(ip, 'ipv4');
  if (family !== 6) return false;
  const v4 = embeddedIpv4(ip.toLowerCase());
  if (v4) return !NOT_PUBLIC.check(v4, 'ipv4');
  return !NOT_PUBLIC.check(ip, 'ipv6');
}

/** A URL's host as an address or a name, without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** The shape a webhook URL must have; a message naming what is wrong, or null. */
export function urlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `is not a URL (got '${raw}')`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return `must be an http:// or https:// URL (got '${url.protocol}')`;
  if (url.username || url.password)
    return 'must not carry credentials: receivers verify the webhook-signature header instead';
  if (!url.hostname) return 'has no host';
  return null;
}

export interface Destination {
  address: string;
  family: 4 | 6;
}

const RESOLVE_TIMEOUT_MS = 5000;

/**
 * The address to connect to for `url`: every address its host resolves to is checked, and the
 * first is used. Throws a DestinationError saying why not.
 */
export async function resolveDestination(url: URL, allowPrivate: boolean): Promise<Destination> {
  const host = hostOf(url);
  const literal = isIP(host);
  let addresses: Destination[];
  if (literal) {
    addresses = [{ address: host, family: literal as 4 | 6 }];
  } else {
    let timer: NodeJS.Timeout | undefined;
    try {
      const found = await Promise.race([
        lookup(host, { all: true, verbatim: true }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(new DestinationError(`resolving '${host}' took over ${RESOLVE_TIMEOUT_MS / 1000} s`)),
            RESOLVE_TIMEOUT_MS,
          );
        }),
      ]);
      addresses = found.map((a) => ({ address: a.address, family: a.family as 4 | 6 }));
    } catch (e) {
      if (e instanceof DestinationError) throw e;
      throw new DestinationError(
        `'${host}' could not be resolved (${(e as NodeJS.ErrnoException).code ?? e})`,
      );
    } finally {
      clearTimeout(timer);
    }
    if (!addresses.length) throw new DestinationError(`'${host}' has no address`);
  }
  if (!allowPrivate) {
    const inside = addresses.find((a) => !isPublicAddress(a.address));
    if (inside) {
      throw new DestinationError(
        `'${host}' ${literal ? 'is' : `resolves to ${inside.address}, which is`} a private, loopback, link-local or reserved address; ` +
          'webhooks go only to public addresses unless BILLFOLD_WEBHOOK_ALLOW_PRIVATE=1',
      );
    }
  }
  return addresses[0]!;
}
