import type { ServerResponse } from 'node:http';
import { formatIban } from '../../domain/iban.js';
import { invoiceFileName } from '../../services/invoice-pdf.js';
import { standingOf, type InvoiceStanding } from '../../services/invoice-views.js';
import type { HttpRoute } from '../http/routes.js';
import type { Runtime } from '../runtime.js';
import type { BalanceOut, CreditNoteOut, InvoiceOut } from './customer-catalogue.js';
import { date, dayOf, money, pathParam, period } from './format.js';
import { howToPay, payee, verification } from './how-to-pay.js';
import { html, type Html } from './html.js';
import { portalHeaders, newNonce } from './security.js';
import { sendPage, withSession, type PortalPage } from './session.js';

/**
 * The customer's invoices: the list with what is left to pay, one invoice with its lines,
 * payments, credit notes and how to pay it, and the PDFs of both documents.
 */

const PER_PAGE = 20;

/** Paid, due, overdue or void, as the customer reads an invoice's standing. */
export function standing(inv: InvoiceOut): { label: string; cls: string } {
  const s = standingOf(inv);
  return { label: STANDING_LABELS[s], cls: s === 'voided' ? 'void' : s };
}

const STANDING_LABELS: Record<InvoiceStanding, string> = {
  paid: 'Paid',
  due: 'Due',
  overdue: 'Overdue',
  voided: 'Void',
};

function badge(inv: InvoiceOut): Html {
  const s = standing(inv);
  return html`<span class="status ${s.cls}">${s.label}</span>`;
}

function pdfHref(inv: InvoiceOut): string {
  return `/portal/invoices/${encodeURIComponent(inv.id)}.pdf`;
}

function creditNoteHref(cn: CreditNoteOut): string {
  return `/portal/credit-notes/${encodeURIComponent(cn.id)}.pdf`;
}

function creditNoteLine(cn: CreditNoteOut, timeZone: string): Html {
  const kind = cn.type === 'refund' ? 'Refund' : 'Credit';
  return html`<li>
    ${kind} note <a href="${creditNoteHref(cn)}">${cn.number}</a> of ${dayOf(cn.issued_at, timeZone)}:
    ${money(cn.total_amount_cents, cn.currency)}${cn.status === 'voided' ? ' (cancelled)' : ''}
  </li>`;
}

/** What is left to pay, per currency (amounts of different currencies are never added). */
function outstanding(balances: readonly BalanceOut[]): Html {
  if (balances.length === 0)
    return html`<div class="notice good" role="status"><p>Nothing to pay. Thank you!</p></div>`;
  return html`<div class="cards">
    ${balances.map((b) => {
      const late = b.overdue_invoices.length;
      return html`<div class="card">
        <h2>To pay</h2>
        <p class="figure">${money(b.amount_due_cents, b.currency)}</p>
        <p>
          ${b.invoices_count}
          invoice${b.invoices_count === 1 ? '' : 's'}${
            late
              ? html`, <strong>${late} overdue (${money(b.overdue_amount_cents, b.currency)})</strong>`
              : ''
          }
        </p>
      </div>`;
    })}
  </div>`;
}

async function listPage(p: PortalPage): Promise<number> {
  const url = new URL(p.req.url ?? '/', 'http://portal');
  const requested = Number(url.searchParams.get('page') ?? '1');
  const pageNo = Number.isInteger(requested) && requested >= 1 && requested <= 100_000 ? requested : 1;
  const [{ invoices, pagination }, balances] = await Promise.all([
    p.catalogue.invoices(pageNo, PER_PAGE),
    p.catalogue.balances(),
  ]);
  const notes = new Map<string, CreditNoteOut[]>();
  await Promise.all(
    invoices
      .filter((i) => i.credited_amount_cents > 0 || i.refunded_amount_cents > 0)
      .map(async (i) => notes.set(i.id, await p.catalogue.creditNotesOf(i.id))),
  );
  const tz = p.customer.applicable_timezone;
  const rows = invoices.map((inv) => {
    const cns = notes.get(inv.id) ?? [];
    const label = inv.number ?? inv.id;
    return html`<tr>
        <td data-label="Invoice"><a href="/portal/invoices/${encodeURIComponent(inv.id)}">${label}</a></td>
        <td data-label="Issued">${date(inv.issuing_date)}</td>
        <td data-label="Due">${date(inv.due_date)}</td>
        <td data-label="Status">${badge(inv)}</td>
        <td data-label="Total" class="num">${money(inv.total_amount_cents, inv.currency)}</td>
        <td data-label="To pay" class="num">${money(Math.max(inv.amount_due_cents, 0), inv.currency)}</td>
        <td data-label="PDF">
          <a href="${pdfHref(inv)}" download>PDF<span class="skip"> of ${label}</span></a>
        </td>
      </tr>
      ${
        cns.length
          ? html`<tr class="sub">
              <td colspan="7" class="full">
                <ul>
                  ${cns.map((cn) => creditNoteLine(cn, tz))}
                </ul>
              </td>
            </tr>`
          : ''
      }`;
  });
  const pager =
    pagination.total_pages > 1
      ? html`<nav class="pager" aria-label="Invoice pages">
          ${pagination.prev_page ? html`<a href="/portal/invoices?page=${pagination.prev_page}" rel="prev">Newer invoices</a>` : ''}
          <span>Page ${pagination.current_page} of ${pagination.total_pages}</span
          >${pagination.next_page ? html`<a href="/portal/invoices?page=${pagination.next_page}" rel="next">Older invoices</a>` : ''}
        </nav>`
      : '';
  const bank = p.organization.bank_iban
    ? html`<section aria-labelledby="bank-h">
        <h2 id="bank-h">How to pay</h2>
        <p>
          By bank transfer to ${payee(p.organization)}, IBAN
          <span class="mono">${formatIban(p.organization.bank_iban)}</span
          >${p.organization.bank_bic ? html`, BIC <span class="mono">${p.organization.bank_bic}</span>` : ''},
          quoting the invoice number. Each invoice's page shows the
          amount${p.organization.bank_iban ? ' and, for invoices in euros, a QR code for your banking app' : ''}.
        </p>
      </section>`
    : '';
  const body = html`<h1>Invoices</h1>
    ${outstanding(balances)}
    ${
      invoices.length
        ? html`<table class="stack">
              <caption>
                ${pagination.total_count} invoice${pagination.total_count === 1 ? '' : 's'}, newest first
              </caption>
              <thead>
                <tr>
                  <th scope="col">Invoice</th>
                  <th scope="col">Issued</th>
                  <th scope="col">Due</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">Total</th>
                  <th scope="col" class="num">To pay</th>
                  <th scope="col">PDF</th>
                </tr>
              </thead>
              <tbody>
                ${rows}
              </tbody>
            </table>
            ${pager}`
        : html`<p>
            ${pagination.total_count ? 'There are no invoices on this page.' : 'You have no invoices yet.'}
          </p>`
    }
    ${bank}`;
  return sendPage(p, 200, 'Invoices', body);
}

async function invoicePage(p: PortalPage, ref: string): Promise<number> {
  const { invoice: inv, payments, credit_notes } = await p.catalogue.invoice(ref);
  const codes = await p.catalogue.codes(inv.id);
  const m = (cents: number) => money(cents, inv.currency);
  const tz = p.customer.applicable_timezone;
  const lines = inv.lines.map(
    (l) =>
      html`<tr>
        <td data-label="Description">
          ${l.description}${l.from && l.to ? html`<br /><span class="muted">${period(l.from, l.to, tz)}</span>` : ''}
        </td>
        <td data-label="Quantity" class="num">${l.quantity}${l.unit_label ? ` ${l.unit_label}` : ''}</td>
        <td data-label="Unit price" class="num">${l.unit_amount} ${inv.currency}</td>
        <td data-label="Amount" class="num">${m(l.amount_cents)}</td>
      </tr>`,
  );
  const totals: Array<[string, string]> = [['Subtotal', m(inv.sub_total_amount_cents)]];
  for (const d of inv.discounts) totals.push([d.description, `−${m(d.amount_cents)}`]);
  for (const t of inv.tax_breakdown) totals.push([`${t.name} ${t.rate} %`, m(t.amount_cents)]);
  totals.push(['Total', m(inv.total_amount_cents)]);
  const title = inv.number ? `Invoice ${inv.number}` : 'Invoice';
  const body = html`<p><a href="/portal/invoices">← All invoices</a></p>
    <h1>${title} ${badge(inv)}</h1>
    <dl class="facts">
      <dt>Issued</dt>
      <dd>${date(inv.issuing_date)}</dd>
      <dt>Due</dt>
      <dd>${date(inv.due_date)}</dd>
      <dt>Total</dt>
      <dd>${m(inv.total_amount_cents)}</dd>
      ${
        inv.amount_paid_cents
          ? html`<dt>Paid</dt>
              <dd>${m(inv.amount_paid_cents)}</dd>`
          : ''
      }
      ${
        inv.credited_amount_cents
          ? html`<dt>Credited</dt>
              <dd>${m(inv.credited_amount_cents)}</dd>`
          : ''
      }
      ${
        inv.refunded_amount_cents
          ? html`<dt>Refunded</dt>
              <dd>${m(inv.refunded_amount_cents)}</dd>`
          : ''
      }
      <dt>To pay</dt>
      <dd><strong>${m(Math.max(inv.amount_due_cents, 0))}</strong></dd>
    </dl>
    <p><a class="button" href="${pdfHref(inv)}" download>Download PDF</a></p>
    ${inv.memo ? html`<p>${inv.memo}</p>` : ''}
    <table class="stack">
      <caption>
        Lines
      </caption>
      <thead>
        <tr>
          <th scope="col">Description</th>
          <th scope="col" class="num">Quantity</th>
          <th scope="col" class="num">Unit price</th>
          <th scope="col" class="num">Amount</th>
        </tr>
      </thead>
      <tbody>
        ${lines}
      </tbody>
      <tfoot>
        ${totals.map(
          ([k, v]) =>
            html`<tr>
              <th scope="row" colspan="3" class="num">${k}</th>
              <td class="num" data-label="${k}">${v}</td>
            </tr>`,
        )}
      </tfoot>
    </table>
    ${
      payments.length
        ? html`<h2>Payments</h2>
            <ul>
              ${payments.map((pay) => html`<li>${dayOf(pay.paid_at, tz)}: ${m(pay.amount_cents)}${pay.reference ? ` (${pay.reference})` : ''}</li>`)}
            </ul>`
        : ''
    }
    ${
      credit_notes.length
        ? html`<h2>Credit notes</h2>
            <ul>
              ${credit_notes.map((cn) => creditNoteLine(cn, tz))}
            </ul>`
        : ''
    }
    ${await howToPay(inv, p.organization)} ${await verification(inv, codes.verification_code)}`;
  return sendPage(p, 200, title, body);
}

function sendPdf(rt: Runtime, res: ServerResponse, pdf: Buffer, fileName: string): number {
  res.writeHead(200, {
    ...portalHeaders(rt, newNonce()),
    'content-type': 'application/pdf',
    'content-length': String(pdf.length),
    'content-disposition': `attachment; filename="${fileName}"`,
  });
  res.end(pdf);
  return 200;
}

export const portalInvoicesRoute: HttpRoute = {
  method: 'GET',
  pattern: /^\/portal\/invoices$/,
  auth: false,
  name: 'portal_invoices',
  handle: (rt, req, res) => withSession(rt, req, res, 'invoices', listPage),
};

export const portalInvoicePdfRoute: HttpRoute = {
  method: 'GET',
  pattern: /^\/portal\/invoices\/([^/]+)\.pdf$/,
  auth: false,
  name: 'portal_invoice_pdf',
  handle: (rt, req, res, params) =>
    withSession(rt, req, res, 'invoices', async (p) => {
      const { pdf, invoice } = await p.catalogue.invoicePdf(pathParam(params[0]));
      return sendPdf(rt, res, pdf, invoiceFileName(invoice));
    }),
};

export const portalInvoiceRoute: HttpRoute = {
  method: 'GET',
  pattern: /^\/portal\/invoices\/([^/]+)$/,
  auth: false,
  name: 'portal_invoice',
  handle: (rt, req, res, params) =>
    withSession(rt, req, res, 'invoices', (p) => invoicePage(p, pathParam(params[0]))),
};

export const portalCreditNotePdfRoute: HttpRoute = {
  method: 'GET',
  pattern: /^\/portal\/credit-notes\/([^/]+)\.pdf$/,
  auth: false,
  name: 'portal_credit_note_pdf',
  handle: (rt, req, res, params) =>
    withSession(rt, req, res, 'invoices', async (p) => {
      const { pdf, creditNote } = await p.catalogue.creditNotePdf(pathParam(params[0]));
      return sendPdf(rt, res, pdf, `${creditNote.number.replace(/[^A-Za-z0-9._-]/g, '_')}.pdf`);
    }),
};
