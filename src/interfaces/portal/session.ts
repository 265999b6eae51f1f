import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PortalSessionsTable } from '../../db/schema.js';
import { newId } from '../../domain/ids.js';
import { browserSession, type BrowserSession, type PortalFeature } from '../../services/portal-sessions.js';
import { RateLimiter } from '../rate-limit.js';
import type { Runtime } from '../runtime.js';
import {
  CatalogueError,
  CustomerCatalogue,
  type CustomerOut,
  type OrganizationOut,
} from './customer-catalogue.js';
import { moment } from './format.js';
import { html, type Html } from './html.js';
import { branding, FEATURE_PAGES, page, type Branding, type SignedIn } from './layout.js';
import {
  clearedCookie,
  clientAddress,
  formToken,
  newNonce,
  originOf,
  portalHeaders,
  readCookie,
} from './security.js';

/**
 * What every portal request goes through: the guess limit of its address, the session its
 * cookie names — looked up afresh each time, so a revoked or expired session stops at the next
 * page — and the pages shown when there is no session to show.
 */

export interface PortalPage {
  rt: Runtime;
  req: IncomingMessage;
  res: ServerResponse;
  nonce: string;
  cookie: string;
  session: PortalSessionsTable;
  catalogue: CustomerCatalogue;
  organization: OrganizationOut;
  customer: CustomerOut;
  brand: Branding;
  signedIn: SignedIn;
}

const limiters = new WeakMap<Runtime, RateLimiter>();

/** Failed link and cookie checks per client address, on this instance. */
export function guessLimiter(rt: Runtime): RateLimiter {
  let l = limiters.get(rt);
  if (!l) {
    l = new RateLimiter(rt.config.portalGuessesPerMinute);
    limiters.set(rt, l);
  }
  return l;
}

export function sendHtml(
  rt: Runtime,
  res: ServerResponse,
  status: number,
  body: Html,
  nonce: string,
  options: { imageOrigins?: readonly string[]; headers?: Record<string, string | string[]> } = {},
): number {
  const text = body.text;
  res.writeHead(status, {
    ...portalHeaders(rt, nonce, options.imageOrigins),
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...options.headers,
  });
  res.end(text);
  return status;
}

export function redirect(
  rt: Runtime,
  res: ServerResponse,
  location: string,
  headers: Record<string, string | string[]> = {},
): number {
  res.writeHead(303, { ...portalHeaders(rt, newNonce()), location, 'content-length': '0', ...headers });
  res.end();
  return 303;
}

export type NoticeKind =
  | 'link_unknown'
  | 'link_used'
  | 'link_expired'
  | 'link_revoked'
  | 'no_session'
  | 'session_expired'
  | 'session_revoked'
  | 'signed_out'
  | 'not_found'
  | 'feature_off'
  | 'customer_gone'
  | 'form_expired'
  | 'too_many'
  | 'error';

const ASK_AGAIN = 'Ask the business that sent it to you for a new link.';

const NOTICES: Record<NoticeKind, { status: number; title: string; text: string }> = {
  link_unknown: {
    status: 404,
    title: 'This link is not valid',
    text: `Check that you opened the whole link from the message you received. If it still does not work, ${ASK_AGAIN.toLowerCase()}`,
  },
  link_used: {
    status: 410,
    title: 'This link has already been used',
    text: `Each billing link opens once, on the device that opens it first, to keep your billing private. ${ASK_AGAIN}`,
  },
  link_expired: {
    status: 410,
    title: 'This link has expired',
    text: `Billing links work for a limited time only. ${ASK_AGAIN}`,
  },
  link_revoked: {
    status: 410,
    title: 'This link has been cancelled',
    text: `The business that sent it has cancelled it. ${ASK_AGAIN}`,
  },
  no_session: {
    status: 403,
    title: 'Open your billing link',
    text: 'These pages open from the link you received by email or message. Open that link on this device.',
  },
  session_expired: {
    status: 410,
    title: 'Your session has ended',
    text: `The time your billing link gave you is over. ${ASK_AGAIN}`,
  },
  session_revoked: {
    status: 410,
    title: 'Your session has ended',
    text: `You signed out, or the business cancelled your link. ${ASK_AGAIN}`,
  },
  signed_out: {
    status: 200,
    title: 'You are signed out',
    text: 'Your billing link no longer opens these pages on any device. To see them again, ask for a new link.',
  },
  not_found: {
    status: 404,
    title: 'Page not found',
    text: 'There is no such page in your billing. Use the links above to find your invoices.',
  },
  feature_off: {
    status: 404,
    title: 'Page not included',
    text: 'The link you opened does not include this page. Use the links above, or ask for a new link.',
  },
  customer_gone: {
    status: 410,
    title: 'This billing account is no longer available',
    text: 'Contact the business that sent you the link.',
  },
  form_expired: {
    status: 403,
    title: 'The form could not be sent',
    text: 'It came from a page that is no longer valid. Open the page again and send the form from there.',
  },
  too_many: {
    status: 429,
    title: 'Too many attempts',
    text: 'This address has tried too many links that do not work. Wait a minute, then open the link again.',
  },
  error: {
    status: 500,
    title: 'Something went wrong',
    text: 'Your billing could not be shown just now. Try again in a moment.',
  },
};

export function notice(
  rt: Runtime,
  res: ServerResponse,
  kind: NoticeKind,
  options: {
    brand?: Branding;
    signedIn?: SignedIn;
    extra?: Html;
    headers?: Record<string, string | string[]>;
    imageOrigins?: readonly string[];
  } = {},
): number {
  const n = NOTICES[kind];
  const nonce = newNonce();
  const body = html`<h1>${n.title}</h1>
    <div class="notice${n.status >= 400 ? ' bad' : ''}" role="${n.status >= 400 ? 'alert' : 'status'}">
      <p>${n.text}</p>
    </div>
    ${options.extra ?? ''}`;
  const brand = options.brand ?? branding(null);
  return sendHtml(
    rt,
    res,
    n.status,
    page({ title: n.title, nonce, brand, body, signedIn: options.signedIn }),
    nonce,
    {
      headers: options.headers,
      imageOrigins: options.imageOrigins ?? imageOriginsOf(brand),
    },
  );
}

export function imageOriginsOf(brand: Branding): string[] {
  const o = originOf(brand.logoUrl);
  return o ? [o] : [];
}

/** Branding of an organization for the pages shown around a link (used, expired): never the customer's data. */
export async function brandOf(rt: Runtime, session: PortalSessionsTable): Promise<Branding> {
  try {
    return branding(await new CustomerCatalogue(rt, session).organization());
  } catch {
    return branding(null);
  }
}

/**
 * Runs a page for the session the request's cookie names, or answers with the page that says why
 * there is none. `feature` is the part of the portal the page belongs to; a link without it
 * does not open it.
 */
export async function withSession(
  rt: Runtime,
  req: IncomingMessage,
  res: ServerResponse,
  feature: PortalFeature | null,
  render: (p: PortalPage) => Promise<number>,
): Promise<number> {
  const address = clientAddress(rt, req);
  const limiter = guessLimiter(rt);
  const wait = limiter.wait(address);
  if (wait > 0) return notice(rt, res, 'too_many', { headers: { 'retry-after': String(wait) } });
  const cookie = readCookie(req);
  if (!cookie) return notice(rt, res, 'no_session');
  let found: BrowserSession;
  try {
    found = await browserSession(rt.db.kysely, cookie, rt.now());
  } catch (e) {
    rt.logger.error({ err: (e as Error).message }, 'portal session could not be read');
    return notice(rt, res, 'error');
  }
  if (!found.ok) {
    const cleared = { 'set-cookie': clearedCookie(rt) };
    if (found.because === 'unknown') {
      limiter.take(address);
      return notice(rt, res, 'no_session', { headers: cleared });
    }
    return notice(rt, res, found.because === 'expired' ? 'session_expired' : 'session_revoked', {
      headers: cleared,
    });
  }
  const session = found.session;
  const catalogue = new CustomerCatalogue(rt, session);
  let organization: OrganizationOut;
  let customer: CustomerOut;
  try {
    [organization, customer] = await Promise.all([catalogue.organization(), catalogue.customer()]);
  } catch (e) {
    if (e instanceof CatalogueError && e.error.code === 'NOT_FOUND') return notice(rt, res, 'customer_gone');
    rt.logger.error({ err: e, portal_session: session.id }, 'portal page failed');
    return notice(rt, res, 'error');
  }
  const brand = branding(organization);
  const features = JSON.parse(session.features) as PortalFeature[];
  const signedIn: SignedIn = {
    customerName: customer.display_name,
    features,
    current: feature,
    returnUrl: session.return_url,
    formToken: formToken(cookie),
    endsAt: moment(session.expires_at, customer.applicable_timezone),
  };
  if (feature && !features.includes(feature)) return notice(rt, res, 'feature_off', { brand, signedIn });
  try {
    return await render({
      rt,
      req,
      res,
      nonce: newNonce(),
      cookie,
      session,
      catalogue,
      organization,
      customer,
      brand,
      signedIn,
    });
  } catch (e) {
    if (e instanceof CatalogueError && e.error.code === 'NOT_FOUND')
      return notice(rt, res, 'not_found', { brand, signedIn });
    const requestId = newId('api_log');
    rt.logger.error({ err: e, request_id: requestId, portal_session: session.id }, 'portal page failed');
    if (res.headersSent) {
      res.destroy();
      return 500;
    }
    return notice(rt, res, 'error', {
      brand,
      signedIn,
      extra: html`<p class="muted">Reference: <span class="mono">${requestId}</span></p>`,
    });
  }
}

/** Where a session starts: its first page. */
export function firstPage(session: PortalSessionsTable): string {
  const features = JSON.parse(session.features) as PortalFeature[];
  return FEATURE_PAGES[features[0] ?? 'invoices'].path;
}

/** Shows a page of the signed-in portal. */
export function sendPage(p: PortalPage, status: number, title: string, body: Html): number {
  return sendHtml(
    p.rt,
    p.res,
    status,
    page({ title, nonce: p.nonce, brand: p.brand, body, signedIn: p.signedIn }),
    p.nonce,
    {
      imageOrigins: imageOriginsOf(p.brand),
    },
  );
}
