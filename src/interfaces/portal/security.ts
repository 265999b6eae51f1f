import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError, readBody } from '../http/respond.js';
import type { Runtime } from '../runtime.js';

/**
 * What keeps the portal's pages private: the response headers every page carries, the session
 * cookie, the form token against cross-site requests, and the client address guesses are
 * counted by.
 */

export const COOKIE_NAME = 'billfold_portal';

/** A fresh value for each response's Content-Security-Policy nonce. */
export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

/** Whether links and cookies are served over https (BILLFOLD_PUBLIC_URL says so). */
export function isSecure(rt: Runtime): boolean {
  return rt.publicUrl().startsWith('https:');
}

/**
 * Headers of every portal response. The policy allows nothing but this page's own styles (by
 * nonce), images from here, inline data and the organization's logo host, and form posts back
 * here; no script runs at all, and no other site may frame the page. Personal pages are never
 * stored by a browser or a proxy, and the address (which may hold a link's token) is never sent
 * on as a Referer.
 */
export function portalHeaders(
  rt: Runtime,
  nonce: string,
  imageOrigins: readonly string[] = [],
): Record<string, string> {
  const img = ["'self'", 'data:', ...imageOrigins].join(' ');
  const headers: Record<string, string> = {
    'content-security-policy': [
      "default-src 'none'",
      `style-src 'nonce-${nonce}'`,
      `img-src ${img}`,
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
    'cache-control': 'no-store',
    pragma: 'no-cache',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  };
  if (isSecure(rt)) headers['strict-transport-security'] = 'max-age=31536000';
  return headers;
}

/** The image origin of a logo URL, for the policy; null when it is not an http(s) URL. */
export function originOf(url: string | null): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.origin : null;
  } catch {
    return null;
  }
}

export function readCookie(req: IncomingMessage, name = COOKIE_NAME): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/**
 * The browser session cookie: readable by no script (HttpOnly), sent on no request another site
 * starts (SameSite=Strict), only over https when the portal is served so (Secure), only to the
 * portal's paths, and gone when the session ends.
 */
export function sessionCookie(rt: Runtime, value: string, maxAgeSeconds: number): string {
  const parts = [
    `${COOKIE_NAME}=${value}`,
    'Path=/portal',
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
    'HttpOnly',
    'SameSite=Strict',
  ];
  if (isSecure(rt)) parts.push('Secure');
  return parts.join('; ');
}

export function clearedCookie(rt: Runtime): string {
  return sessionCookie(rt, '', 0);
}

/**
 * The token a form carries: derived from the session cookie, so it needs no storage and no other
 * site can know it. With SameSite=Strict it is a second, independent check.
 */
export function formToken(cookie: string): string {
  return createHash('sha256').update(`billfold-portal-form\u0000${cookie}`).digest('base64url');
}

export function checkFormToken(cookie: string, presented: string | null | undefined): boolean {
  if (!presented) return false;
  const want = Buffer.from(formToken(cookie));
  const got = Buffer.from(presented);
  return want.length === got.length && timingSafeEqual(want, got);
}

/**
 * A form post must come from this site's own pages: a browser says where it comes from in
 * Sec-Fetch-Site (all current browsers) or Origin; a request saying neither is refused too.
 */
export function isSameOriginPost(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'same-origin';
  const origin = req.headers.origin;
  if (!origin || !req.headers.host) return false;
  try {
    return new URL(origin).host.toLowerCase() === req.headers.host.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * The address guesses are counted against: the peer's, or behind a trusted reverse proxy
 * (BILLFOLD_TRUST_PROXY=1) the last address of X-Forwarded-For, the one the proxy itself added.
 */
export function clientAddress(rt: Runtime, req: IncomingMessage): string {
  if (rt.config.trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const list = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '')).split(',');
    const last = list
      .map((s) => s.trim())
      .filter(Boolean)
      .pop();
    if (last) return last;
  }
  return req.socket.remoteAddress ?? 'unknown';
}

/** A posted form (URL-encoded, at most 16 KiB); null when it is larger. */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams | null> {
  try {
    return new URLSearchParams((await readBody(req, 16 * 1024)).toString('utf8'));
  } catch (e) {
    if (e instanceof BodyTooLargeError) return null;
    throw e;
  }
}
