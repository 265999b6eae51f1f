import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../../services/context.js';
import type { Runtime } from '../runtime.js';
import { portalRoutes } from '../portal/routes.js';
import { creditNotePdfRoute, invoicePdfRoute } from './invoice-pdf-route.js';

/**
 * HTTP routes beyond the operation API (documents, the customer portal). Each feature adds
 * its routes to `extraRoutes`; the server tries them in order after its own.
 */
export interface HttpRoute {
  method: 'GET' | 'POST';
  /** Matched against the path; capture groups become `params`. */
  pattern: RegExp;
  /** Routes with auth receive the caller's principal; without, they check access themselves. */
  auth: boolean;
  /** A short label for metrics and logs, e.g. "invoice_pdf". */
  name: string;
  handle(
    rt: Runtime,
    req: IncomingMessage,
    res: ServerResponse,
    params: string[],
    principal: Principal | null,
  ): Promise<number>;
}

export const extraRoutes: HttpRoute[] = [invoicePdfRoute, creditNotePdfRoute, ...portalRoutes];
