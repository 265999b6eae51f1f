import { BillfoldError, HTTP_STATUS } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { runRead } from '../../operations/invoke.js';
import type { ServiceContext } from '../../services/context.js';
import { invoiceFileName, renderCreditNotePdf, renderInvoicePdf } from '../../services/invoice-pdf.js';
import { sendError } from './respond.js';
import type { HttpRoute } from './routes.js';

/** A GET route that serves one document as a PDF, with the read scope of an API key. */
function pdfRoute(
  name: string,
  pattern: RegExp,
  what: string,
  render: (ctx: ServiceContext, ref: string) => Promise<{ pdf: Buffer; fileName: string }>,
): HttpRoute {
  return {
    method: 'GET',
    pattern,
    auth: true,
    name,
    async handle(rt, _req, res, params, principal) {
      const requestId = newId('api_log');
      try {
        const ref = decodeURIComponent(params[0] ?? '');
        const { pdf, fileName } = await runRead(
          { env: rt, principal: principal!, door: 'http_api', requestId },
          'read',
          what,
          (ctx) => render(ctx, ref),
        );
        res.writeHead(200, {
          'content-type': 'application/pdf',
          'content-length': String(pdf.length),
          'content-disposition': `inline; filename="${fileName}"`,
          'x-request-id': requestId,
        });
        res.end(pdf);
        return 200;
      } catch (e) {
        if (!(e instanceof BillfoldError)) throw e;
        sendError(res, e.toBody(), { 'x-request-id': requestId });
        return HTTP_STATUS[e.code];
      }
    },
  };
}

/** GET /api/v1/invoices/{id, number or external_id}.pdf — the invoice document. */
export const invoicePdfRoute = pdfRoute(
  'invoice_pdf',
  /^\/api\/v1\/invoices\/([^/]+)\.pdf$/,
  'invoice PDF',
  async (ctx, ref) => {
    const { pdf, invoice } = await renderInvoicePdf(ctx, ref);
    return { pdf, fileName: invoiceFileName(invoice) };
  },
);

/** GET /api/v1/credit-notes/{id or number}.pdf — the credit note document. */
export const creditNotePdfRoute = pdfRoute(
  'credit_note_pdf',
  /^\/api\/v1\/credit-notes\/([^/]+)\.pdf$/,
  'credit note PDF',
  async (ctx, ref) => {
    const { pdf, number } = await renderCreditNotePdf(ctx, ref);
    return { pdf, fileName: `${number.replace(/[^A-Za-z0-9._-]/g, '_')}.pdf` };
  },
);
