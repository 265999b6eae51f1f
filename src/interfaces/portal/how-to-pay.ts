import QRCode from 'qrcode';
import { formatIban } from '../../domain/iban.js';
import { epcTransferFor, payeeName } from '../../services/invoicing/invoice-codes.js';
import type { InvoiceOut, OrganizationOut } from './customer-catalogue.js';
import { money } from './format.js';
import { html, trusted, type Html } from './html.js';

/**
 * "How to pay": the organization's bank details with the invoice's number as the reference and,
 * for an invoice in euros with an IBAN to pay to, the EPC069-12 SEPA credit transfer QR code a
 * banking app scans to fill in the transfer (payee, IBAN, amount, reference). The portal shows
 * today's bank details, so its code pays to them.
 */

export function payee(org: OrganizationOut): string {
  return payeeName(org);
}

/** A QR code as inline SVG, drawn by the `qrcode` library (its output holds no user text). */
export async function qrSvg(payload: string): Promise<Html> {
  const svg = await QRCode.toString(payload, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return trusted(svg.replace('<svg ', '<svg aria-hidden="true" focusable="false" '));
}

/** The bank details block for one invoice (with its QR code when there is one). */
export async function howToPay(invoice: InvoiceOut, org: OrganizationOut): Promise<Html> {
  if (invoice.status !== 'finalized' || invoice.amount_due_cents <= 0) return html``;
  const due = money(invoice.amount_due_cents, invoice.currency);
  if (!org.bank_iban) {
    return html`<section aria-labelledby="pay-h">
      <h2 id="pay-h">How to pay</h2>
      <p>
        Please pay ${due}${invoice.due_date ? ` by the due date` : ''}, quoting
        ${invoice.number}.${org.email ? html` For payment details, write to <a href="mailto:${org.email}">${org.email}</a>.` : ''}
      </p>
    </section>`;
  }
  const epc = epcTransferFor(invoice, org);
  const qr = epc
    ? html`<div>
        <div
          class="qr"
          role="img"
          aria-label="${`QR code for a SEPA transfer of ${due} to ${payee(org)}, reference ${invoice.number}`}"
        >
          ${await qrSvg(epc)}
        </div>
        <p class="muted">Scan with your banking app to fill in the transfer.</p>
      </div>`
    : '';
  return html`<section aria-labelledby="pay-h">
    <h2 id="pay-h">How to pay</h2>
    <div class="pay">
      <dl class="facts">
        <dt>Amount</dt>
        <dd><strong>${due}</strong></dd>
        <dt>Pay to</dt>
        <dd>${payee(org)}</dd>
        <dt>IBAN</dt>
        <dd class="mono">${formatIban(org.bank_iban)}</dd>
        ${
          org.bank_bic
            ? html`<dt>BIC</dt>
                <dd class="mono">${org.bank_bic}</dd>`
            : ''
        }
        ${
          org.bank_name
            ? html`<dt>Bank</dt>
                <dd>${org.bank_name}</dd>`
            : ''
        }
        <dt>Reference</dt>
        <dd class="mono">${invoice.number}</dd>
      </dl>
      ${qr}
    </div>
    <p>Quote the reference so your payment is matched to this invoice.</p>
  </section>`;
}

/**
 * The invoice's verification code, as on its PDF: scanned (or opened), it shows that the
 * invoice is genuine and how it stands.
 */
export async function verification(invoice: InvoiceOut, code: string | null): Promise<Html> {
  if (!code) return html``;
  return html`<section aria-labelledby="verify-h">
    <h2 id="verify-h">Check this invoice</h2>
    <div class="pay">
      <div class="qr" role="img" aria-label="${`QR code to check that invoice ${invoice.number} is genuine`}">
        ${await qrSvg(code)}
      </div>
      <p>
        The code on the PDF is the same: scanned with a phone, or opened <a href="${code}">here</a>, it shows
        that invoice ${invoice.number} was issued by us and what it says.
      </p>
    </div>
  </section>`;
}
