import type { HttpRoute } from '../http/routes.js';
import {
  portalCreditNotePdfRoute,
  portalInvoicePdfRoute,
  portalInvoiceRoute,
  portalInvoicesRoute,
} from './invoices-route.js';
import { portalHomeRoute, portalLinkRoute, portalSignOutRoute } from './link-route.js';
import { portalProfileRoute, portalProfileSaveRoute } from './profile-route.js';
import { notice } from './session.js';
import { portalSubscriptionsRoute } from './subscriptions-route.js';
import { portalUsageRoute } from './usage-route.js';
import { portalVerifyRoute } from './verify-route.js';

/** Any other address under /portal: the portal's own "not found" page, never the API's JSON. */
const portalNotFoundRoute: HttpRoute = {
  method: 'GET',
  pattern: /^\/portal\/.+$/,
  auth: false,
  name: 'portal_not_found',
  handle: async (rt, _req, res) => notice(rt, res, 'not_found'),
};

/**
 * The customer portal's routes, in the order they are tried: the pages first, then a one-segment
 * address as a link's token, then the portal's "not found".
 */
export const portalRoutes: readonly HttpRoute[] = [
  portalHomeRoute,
  portalInvoicesRoute,
  portalInvoicePdfRoute,
  portalInvoiceRoute,
  portalCreditNotePdfRoute,
  portalSubscriptionsRoute,
  portalUsageRoute,
  portalProfileRoute,
  portalProfileSaveRoute,
  portalSignOutRoute,
  portalVerifyRoute,
  portalLinkRoute,
  portalNotFoundRoute,
];
