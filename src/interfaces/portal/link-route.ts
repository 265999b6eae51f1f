import { newId } from '../../domain/ids.js';
import {
  browserSession,
  redeemPortalLink,
  signOut,
  type Redemption,
} from '../../services/portal-sessions.js';
import type { HttpRoute } from '../http/routes.js';
import { pathParam } from './format.js';
import { html } from './html.js';
import {
  checkFormToken,
  clearedCookie,
  clientAddress,
  isSameOriginPost,
  readCookie,
  readForm,
  sessionCookie,
} from './security.js';
import { page } from './layout.js';
import { newNonce } from './security.js';
import {
  brandOf,
  firstPage,
  guessLimiter,
  imageOriginsOf,
  notice,
  redirect,
  sendHtml,
  withSession,
} from './session.js';

/**
 * Opening a link, the portal's front door, and signing out.
 *
 * The first open of a live link sets the session cookie and sends the browser on to the first
 * page at an address without the token, so the token is neither kept in the address bar nor
 * sent anywhere again. It does so with a page that refreshes at once rather than a 303: the link
 * is opened from another site (a mail client), and a browser does not send a SameSite=Strict
 * cookie on any request of a redirect chain another site started, so after a 303 the first page
 * would not see the session; the refresh is a navigation of this site's own page, which does.
 * Any later open of the same link — a second device, the same browser again, a link scanner
 * after the customer — gets the page that says it was used.
 */
export const portalLinkRoute: HttpRoute = {
  method: 'GET',
  pattern: /^\/portal\/([^/]+)$/,
  auth: false,
  name: 'portal_link',
  async handle(rt, req, res, params) {
    const address = clientAddress(rt, req);
    const limiter = guessLimiter(rt);
    const wait = limiter.wait(address);
    if (wait > 0) return notice(rt, res, 'too_many', { headers: { 'retry-after': String(wait) } });
    const token = pathParam(params[0]);
    let opened: Redemption;
    try {
      opened = await redeemPortalLink(rt, token, newId('api_log'));
    } catch (e) {
      // Logged here, without the address: the server's own error line would name the path, and
      // with it a link that may still be good.
      rt.logger.error({ err: (e as Error).message }, 'portal link could not be opened');
      return notice(rt, res, 'error');
    }
    if (opened.ok) {
      const seconds = (opened.session.expires_at - rt.now()) / 1000;
      const next = firstPage(opened.session);
      const nonce = newNonce();
      const brand = await brandOf(rt, opened.session);
      return sendHtml(
        rt,
        res,
        200,
        page({
          title: 'Opening your billing',
          nonce,
          brand,
          head: html`<meta http-equiv="refresh" content="0; url=${next}" />`,
          body: html`<h1>Opening your billing…</h1>
            <p><a class="button" href="${next}">Continue</a></p>`,
        }),
        nonce,
        {
          headers: { 'set-cookie': sessionCookie(rt, opened.cookie, seconds) },
          imageOrigins: imageOriginsOf(brand),
        },
      );
    }
    if (opened.because === 'unknown' || !opened.session) {
      limiter.take(address);
      return notice(rt, res, 'link_unknown');
    }
    const brand = await brandOf(rt, opened.session);
    if (opened.because === 'used') {
      // The browser that opened it is still signed in: say so, and offer the way in.
      const cookie = readCookie(req);
      const mine = cookie ? await browserSession(rt.db.kysely, cookie, rt.now()) : null;
      const extra =
        mine?.ok && mine.session.id === opened.session.id
          ? html`<p>You are still signed in on this device.</p>
              <p><a class="button" href="${firstPage(opened.session)}">Continue to your billing</a></p>`
          : undefined;
      return notice(rt, res, 'link_used', { brand, extra });
    }
    return notice(rt, res, opened.because === 'expired' ? 'link_expired' : 'link_revoked', { brand });
  },
};

/** `/portal`: the first page of the session, or the page that says how to get in. */
export const portalHomeRoute: HttpRoute = {
  method: 'GET',
  pattern: /^\/portal\/?$/,
  auth: false,
  name: 'portal_home',
  handle: (rt, req, res) =>
    withSession(rt, req, res, null, async (p) => redirect(rt, res, firstPage(p.session))),
};

/** Ends the session everywhere: the customer is done, or on a shared computer. */
export const portalSignOutRoute: HttpRoute = {
  method: 'POST',
  pattern: /^\/portal\/sign-out$/,
  auth: false,
  name: 'portal_sign_out',
  handle: (rt, req, res) =>
    withSession(rt, req, res, null, async (p) => {
      const form = await readForm(req);
      if (!form || !isSameOriginPost(req) || !checkFormToken(p.cookie, form.get('form_token')))
        return notice(rt, res, 'form_expired', { brand: p.brand, signedIn: p.signedIn });
      await signOut(rt, p.session, newId('api_log'));
      return notice(rt, res, 'signed_out', {
        brand: p.brand,
        imageOrigins: imageOriginsOf(p.brand),
        headers: { 'set-cookie': clearedCookie(rt) },
      });
    }),
};
