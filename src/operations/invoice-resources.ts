import { renderCreditNotePdf, renderInvoicePdf } from '../services/invoice-pdf.js';
import { getInvoice } from '../services/invoices.js';
import type { ResourceDefinition } from './define.js';

export const invoiceResources: ResourceDefinition[] = [
  {
    name: 'invoice',
    title: 'Invoice',
    description:
      'One invoice as JSON (the object get_invoice returns). invoice_id: id, number or external_id.',
    uriTemplate: 'billfold://invoices/{invoice_id}',
    mimeType: 'application/json',
    scope: 'read',
    async read(ctx, params) {
      const invoice = await getInvoice(ctx, params.invoice_id ?? '');
      return { text: JSON.stringify({ invoice }, null, 2) };
    },
  },
  {
    name: 'invoice_pdf',
    title: 'Invoice PDF',
    description:
      'The invoice document as a PDF: issuer and customer, number and dates, lines, tax breakdown, totals and payment instructions.',
    uriTemplate: 'billfold://invoices/{invoice_id}/pdf',
    mimeType: 'application/pdf',
    scope: 'read',
    async read(ctx, params) {
      const { pdf } = await renderInvoicePdf(ctx, params.invoice_id ?? '');
      return { blob: pdf };
    },
  },
  {
    name: 'credit_note_pdf',
    title: 'Credit note PDF',
    description:
      'The credit note document as a PDF, with the invoice it corrects, its items, taxes and total.',
    uriTemplate: 'billfold://credit-notes/{credit_note_id}/pdf',
    mimeType: 'application/pdf',
    scope: 'read',
    async read(ctx, params) {
      const { pdf } = await renderCreditNotePdf(ctx, params.credit_note_id ?? '');
      return { blob: pdf };
    },
  },
];
