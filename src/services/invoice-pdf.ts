import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import type { CustomersTable } from '../db/schema.js';
import { formatIban } from '../domain/iban.js';
import { formatMinor } from '../domain/money.js';
import type { ServiceContext } from './context.js';
import { getCreditNote } from './credit-notes.js';
import { addressLines, customerParty, type BillingSnapshot, type InvoiceView } from './invoice-views.js';
import { getInvoiceForDocument, viewOf } from './invoices.js';
import { codesOf } from './invoicing/invoice-codes.js';
import { BOLD, REGULAR, useFonts } from './pdf-fonts.js';

/**
 * The invoice document: issuer and customer, number and dates, lines, discounts, the tax
 * breakdown per rate, totals, payments and how to pay. A finalized invoice prints the details
 * frozen at finalization, so the document never changes after it is issued; a draft prints
 * today's details under a DRAFT mark.
 */

/** "1234567.5" → "1,234,567.50"-style grouping of an exact decimal string. */
export function groupDigits(amount: string): string {
  const neg = amount.startsWith('-');
  const [int, frac] = (neg ? amount.slice(1) : amount).split('.') as [string, string | undefined];
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${neg ? '-' : ''}${grouped}${frac !== undefined ? `.${frac}` : ''}`;
}

export function formatMoney(cents: number, currency: string): string {
  return `${groupDigits(formatMinor(cents, currency))} ${currency}`;
}

async function snapshotFor(
  ctx: ServiceContext,
  invoice: { billing_snapshot: string | null; customer_id: string },
): Promise<BillingSnapshot> {
  if (invoice.billing_snapshot) return JSON.parse(invoice.billing_snapshot) as BillingSnapshot;
  const org = await ctx.organization();
  const customer = (await ctx.db
    .selectFrom('customers')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('id', '=', invoice.customer_id)
    .executeTakeFirstOrThrow()) as CustomersTable;
  return {
    customer: customerParty(customer),
    organization: {
      name: org.name,
      legal_name: org.legal_name,
      email: org.email,
      address_lines: addressLines(org),
      country: org.country,
      tax_identification_number: org.tax_identification_number,
      bank_name: org.bank_name,
      bank_iban: org.bank_iban,
      bank_bic: org.bank_bic,
      invoice_footer: org.invoice_footer,
    },
  };
}

export async function renderInvoicePdf(
  ctx: ServiceContext,
  ref: string,
): Promise<{ pdf: Buffer; invoice: InvoiceView }> {
  const loaded = await getInvoiceForDocument(ctx, ref);
  const invoice = await viewOf(ctx, loaded);
  const snapshot = await snapshotFor(ctx, loaded.row);
  const { doc, done } = startDocument(ctx, `invoice ${invoice.number ?? invoice.id}`, {
    Title: invoice.number ? `Invoice ${invoice.number}` : 'Draft invoice',
    Author: snapshot.organization.legal_name ?? snapshot.organization.name,
    Subject: `Invoice for ${snapshot.customer.name}`,
  });
  const codes = await codesOf(ctx, loaded.row);
  drawInvoice(doc, invoice, snapshot, {
    verification: codes.verification_code ? await qrPng(codes.verification_code) : null,
    epc: codes.epc_code ? await qrPng(codes.epc_code) : null,
  });
  return { pdf: await done, invoice };
}

/** The QR codes the document prints, as images the `qrcode` library drew. */
interface CodeImages {
  verification: Buffer | null;
  epc: Buffer | null;
}

/**
 * A QR code as a PNG of 8 pixels per module, without its margin (the page around it is white):
 * printed 90 points wide that is about 400 dpi, sharp on any printer.
 */
function qrPng(text: string): Promise<Buffer> {
  return QRCode.toBuffer(text, { type: 'png', errorCorrectionLevel: 'M', margin: 0, scale: 8 });
}

export function invoiceFileName(invoice: Pick<InvoiceView, 'number' | 'id'>): string {
  return `${(invoice.number ?? `draft-${invoice.id}`).replace(/[^A-Za-z0-9._-]/g, '_')}.pdf`;
}

const MARGIN = 50;
const WIDTH = 595.28 - 2 * MARGIN;

/**
 * A new A4 document drawing with the runtime's fonts, and its bytes once it ends. Characters it
 * drew that its fonts lack are logged, with the setting that fixes it.
 */
function startDocument(
  ctx: ServiceContext,
  what: string,
  info: PDFKit.DocumentInfo,
): { doc: PDFKit.PDFDocument; done: Promise<Buffer> } {
  const fonts = ctx.env.pdfFonts();
  const doc = new PDFDocument({ size: 'A4', margin: MARGIN, info: { ...info, Creator: 'Billfold' } });
  const lacking = useFonts(doc, fonts);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => {
      const missing = lacking();
      if (missing.length) {
        ctx.env.logger.warn(
          {
            document: what,
            characters: missing.join(''),
            fonts: fonts.regular.map((f) => f.family),
            request_id: ctx.requestId,
          },
          'the document has characters its fonts cannot draw (they show as empty boxes); add a font that has them to BILLFOLD_PDF_FONT (and BILLFOLD_PDF_FONT_BOLD)',
        );
      }
      resolve(Buffer.concat(chunks));
    });
    doc.on('error', reject);
  });
  return { doc, done };
}

function drawInvoice(doc: PDFKit.PDFDocument, inv: InvoiceView, s: BillingSnapshot, codes: CodeImages): void {
  const money = (cents: number) => formatMoney(cents, inv.currency);
  const org = s.organization;

  // Issuer, left; document title and references, right.
  doc
    .font(BOLD)
    .fontSize(16)
    .text(org.legal_name ?? org.name, MARGIN, MARGIN, { width: WIDTH / 2 });
  doc.font(REGULAR).fontSize(9);
  for (const l of org.address_lines) doc.text(l, { width: WIDTH / 2 });
  if (org.email) doc.text(org.email, { width: WIDTH / 2 });
  if (org.tax_identification_number)
    doc.text(`Tax ID: ${org.tax_identification_number}`, { width: WIDTH / 2 });
  const leftBottom = doc.y;

  const rx = MARGIN + WIDTH / 2;
  doc
    .font(BOLD)
    .fontSize(20)
    .text(inv.status === 'draft' ? 'DRAFT INVOICE' : 'INVOICE', rx, MARGIN, {
      width: WIDTH / 2,
      align: 'right',
    });
  doc.font(REGULAR).fontSize(10);
  const refs: Array<[string, string]> = [
    ['Invoice number', inv.number ?? 'assigned when finalized'],
    ['Issue date', inv.issuing_date ?? 'on finalization'],
    ['Due date', inv.due_date ?? 'on finalization'],
  ];
  if (inv.status === 'voided') refs.push(['Status', 'VOIDED']);
  for (const [k, v] of refs) doc.text(`${k}: ${v}`, rx, doc.y, { width: WIDTH / 2, align: 'right' });

  // Bill to.
  let y = Math.max(leftBottom, doc.y) + 25;
  doc.font(BOLD).fontSize(10).text('Bill to', MARGIN, y);
  doc.font(REGULAR).fontSize(10).text(s.customer.name);
  if (s.customer.legal_name && s.customer.legal_name !== s.customer.name) doc.text(s.customer.legal_name);
  for (const l of s.customer.address_lines) doc.text(l);
  if (s.customer.email) doc.text(s.customer.email);
  if (s.customer.tax_identification_number) doc.text(`Tax ID: ${s.customer.tax_identification_number}`);

  // Lines.
  y = doc.y + 20;
  const cols = [
    { title: 'Description', x: MARGIN, w: 215, align: 'left' as const },
    { title: 'Qty', x: MARGIN + 215, w: 50, align: 'right' as const },
    { title: 'Unit price', x: MARGIN + 265, w: 80, align: 'right' as const },
    { title: 'Tax', x: MARGIN + 345, w: 50, align: 'right' as const },
    { title: 'Amount', x: MARGIN + 395, w: WIDTH - 395, align: 'right' as const },
  ];
  doc.font(BOLD).fontSize(9);
  for (const c of cols) doc.text(c.title, c.x, y, { width: c.w, align: c.align });
  y += 14;
  doc
    .moveTo(MARGIN, y)
    .lineTo(MARGIN + WIDTH, y)
    .lineWidth(0.5)
    .stroke();
  y += 5;
  doc.font(REGULAR).fontSize(9);
  for (const l of inv.lines) {
    if (y > 720) {
      doc.addPage();
      y = MARGIN;
    }
    let desc = l.description;
    if (l.from && l.to) desc += ` (${l.from.slice(0, 10)} to ${l.to.slice(0, 10)})`;
    const cells = [
      desc,
      l.unit_label ? `${groupDigits(l.quantity)} ${l.unit_label}` : groupDigits(l.quantity),
      groupDigits(l.unit_amount),
      l.taxes.map((t) => `${t.rate}%`).join(', ') || '-',
      money(l.amount_cents),
    ];
    const h = Math.max(...cells.map((text, i) => doc.heightOfString(text, { width: cols[i]!.w })));
    cells.forEach((text, i) => doc.text(text, cols[i]!.x, y, { width: cols[i]!.w, align: cols[i]!.align }));
    y += h + 6;
  }
  doc
    .moveTo(MARGIN, y)
    .lineTo(MARGIN + WIDTH, y)
    .lineWidth(0.5)
    .stroke();
  y += 8;

  // Totals.
  const totals: Array<[string, string, boolean?]> = [['Subtotal', money(inv.sub_total_amount_cents)]];
  for (const d of inv.discounts)
    totals.push([
      `Discount: ${d.description}${d.percentage ? ` (${d.percentage}%)` : ''}`,
      `-${money(d.amount_cents)}`,
    ]);
  for (const t of inv.tax_breakdown)
    totals.push([`${t.name} ${t.rate}% on ${money(t.taxable_amount_cents)}`, money(t.amount_cents)]);
  if (inv.tax_breakdown.length === 0) totals.push(['Tax', money(0)]);
  totals.push(['Total', money(inv.total_amount_cents), true]);
  if (inv.amount_paid_cents) totals.push(['Paid', `-${money(inv.amount_paid_cents)}`]);
  if (inv.credited_amount_cents) totals.push(['Credited', `-${money(inv.credited_amount_cents)}`]);
  if (inv.status !== 'voided') totals.push(['Amount due', money(inv.amount_due_cents), true]);
  for (const [label, value, bold] of totals) {
    doc.font(bold ? BOLD : REGULAR).fontSize(bold ? 11 : 9);
    doc.text(label, MARGIN + 180, y, { width: 215, align: 'right' });
    doc.text(value, MARGIN + 395, y, { width: WIDTH - 395, align: 'right' });
    y += bold ? 16 : 13;
  }

  // How to pay.
  y += 15;
  doc.font(BOLD).fontSize(10).text('Payment instructions', MARGIN, y);
  doc.font(REGULAR).fontSize(9);
  if (inv.status === 'voided') doc.text('This invoice has been voided; nothing is owed on it.');
  else if (inv.amount_due_cents === 0 && inv.status === 'finalized') doc.text('Paid in full. Thank you.');
  else {
    doc.text(
      `Please pay ${money(inv.amount_due_cents)}${inv.due_date ? ` by ${inv.due_date}` : ''}${inv.number ? `, quoting ${inv.number}` : ''}.`,
    );
    if (org.bank_name) doc.text(`Bank: ${org.bank_name}`);
    if (org.bank_iban) doc.text(`IBAN: ${formatIban(org.bank_iban)}`);
    if (org.bank_bic) doc.text(`BIC: ${org.bank_bic}`);
  }
  if (inv.memo) {
    doc.moveDown();
    doc.font(BOLD).text('Notes');
    doc.font(REGULAR).text(inv.memo, { width: WIDTH });
  }
  drawCodes(doc, inv, codes);
  if (org.invoice_footer) {
    doc.moveDown(2);
    doc
      .fontSize(8)
      .fillColor('#555555')
      .text(org.invoice_footer, MARGIN, doc.y, { width: WIDTH, align: 'center' });
  }
  doc.end();
}

const QR_SIZE = 90;

/**
 * The codes, side by side under the payment instructions: the verification code (anyone can
 * check the invoice is genuine) and, when there is one, the SEPA transfer to pay it.
 */
function drawCodes(doc: PDFKit.PDFDocument, inv: InvoiceView, codes: CodeImages): void {
  const shown: Array<[Buffer, string]> = [];
  if (codes.verification)
    shown.push([
      codes.verification,
      `Scan to check that invoice ${inv.number} is genuine and see its status.`,
    ]);
  if (codes.epc) shown.push([codes.epc, 'Scan with your banking app to pay by SEPA transfer.']);
  if (shown.length === 0) return;
  let y = doc.y + 18;
  if (y + QR_SIZE + 30 > 841.89 - MARGIN) {
    doc.addPage();
    y = MARGIN;
  }
  const column = WIDTH / 2;
  shown.forEach(([png, caption], i) => {
    const x = MARGIN + i * column;
    doc.image(png, x, y, { width: QR_SIZE, height: QR_SIZE });
    doc
      .font(REGULAR)
      .fontSize(8)
      .fillColor('#333333')
      .text(caption, x + QR_SIZE + 10, y + 4, { width: column - QR_SIZE - 20 });
  });
  doc.fillColor('#000000');
  doc.x = MARGIN;
  doc.y = y + QR_SIZE + 6;
}

const REASONS: Record<string, string> = {
  duplicated_charge: 'Duplicated charge',
  product_unsatisfactory: 'Product unsatisfactory',
  order_change: 'Order change',
  order_cancellation: 'Order cancellation',
  fraudulent_charge: 'Fraudulent charge',
  other: 'Other',
};

/** The credit note document, with the details of the invoice it corrects. */
export async function renderCreditNotePdf(
  ctx: ServiceContext,
  ref: string,
): Promise<{ pdf: Buffer; number: string }> {
  const note = await getCreditNote(ctx, ref);
  const invoice = await ctx.db
    .selectFrom('invoices')
    .select(['billing_snapshot', 'customer_id', 'issuing_date'])
    .where('organization_id', '=', ctx.organizationId)
    .where('id', '=', note.invoice_id)
    .executeTakeFirstOrThrow();
  const s = await snapshotFor(ctx, invoice);
  const { doc, done } = startDocument(ctx, `credit note ${note.number}`, {
    Title: `Credit note ${note.number}`,
    Author: s.organization.legal_name ?? s.organization.name,
  });
  const money = (cents: number) => formatMoney(cents, note.currency);
  const org = s.organization;
  doc
    .font(BOLD)
    .fontSize(16)
    .text(org.legal_name ?? org.name, MARGIN, MARGIN, { width: WIDTH / 2 });
  doc.font(REGULAR).fontSize(9);
  for (const l of org.address_lines) doc.text(l, { width: WIDTH / 2 });
  if (org.tax_identification_number)
    doc.text(`Tax ID: ${org.tax_identification_number}`, { width: WIDTH / 2 });
  const leftBottom = doc.y;
  const rx = MARGIN + WIDTH / 2;
  doc
    .font(BOLD)
    .fontSize(20)
    .text('CREDIT NOTE', rx, MARGIN, { width: WIDTH / 2, align: 'right' });
  doc.font(REGULAR).fontSize(10);
  const refs: Array<[string, string]> = [
    ['Credit note number', note.number],
    ['Date', note.issued_at.slice(0, 10)],
    [
      'Corrects invoice',
      `${note.invoice_number ?? note.invoice_id}${invoice.issuing_date ? ` of ${invoice.issuing_date}` : ''}`,
    ],
    ['Type', note.type === 'refund' ? 'Refund' : 'Credit'],
    ['Reason', REASONS[note.reason] ?? note.reason],
  ];
  if (note.status === 'voided') refs.push(['Status', 'VOIDED']);
  for (const [k, v] of refs) doc.text(`${k}: ${v}`, rx, doc.y, { width: WIDTH / 2, align: 'right' });
  let y = Math.max(leftBottom, doc.y) + 25;
  doc.font(BOLD).fontSize(10).text('Customer', MARGIN, y);
  doc.font(REGULAR).text(s.customer.name);
  for (const l of s.customer.address_lines) doc.text(l);
  if (s.customer.tax_identification_number) doc.text(`Tax ID: ${s.customer.tax_identification_number}`);
  y = doc.y + 20;
  doc.font(BOLD).fontSize(9).text('Description', MARGIN, y, { width: 300 });
  doc.text('Amount', MARGIN + 300, y, { width: WIDTH - 300, align: 'right' });
  y += 14;
  doc
    .moveTo(MARGIN, y)
    .lineTo(MARGIN + WIDTH, y)
    .lineWidth(0.5)
    .stroke();
  y += 5;
  doc.font(REGULAR).fontSize(9);
  for (const item of note.items) {
    const h = doc.heightOfString(item.description, { width: 300 });
    doc.text(item.description, MARGIN, y, { width: 300 });
    doc.text(money(item.amount_cents), MARGIN + 300, y, { width: WIDTH - 300, align: 'right' });
    y += h + 6;
  }
  doc
    .moveTo(MARGIN, y)
    .lineTo(MARGIN + WIDTH, y)
    .lineWidth(0.5)
    .stroke();
  y += 8;
  const totals: Array<[string, string, boolean?]> = [['Subtotal', money(note.sub_total_amount_cents)]];
  for (const t of note.tax_breakdown)
    totals.push([`${t.name} ${t.rate}% on ${money(t.taxable_amount_cents)}`, money(t.amount_cents)]);
  totals.push([
    note.type === 'refund' ? 'Total refunded' : 'Total credited',
    money(note.total_amount_cents),
    true,
  ]);
  for (const [label, value, bold] of totals) {
    doc.font(bold ? BOLD : REGULAR).fontSize(bold ? 11 : 9);
    doc.text(label, MARGIN + 180, y, { width: 215, align: 'right' });
    doc.text(value, MARGIN + 395, y, { width: WIDTH - 395, align: 'right' });
    y += bold ? 16 : 13;
  }
  if (note.description) {
    doc.moveDown();
    doc.font(REGULAR).fontSize(9).text(note.description, MARGIN, doc.y, { width: WIDTH });
  }
  doc.end();
  return { pdf: await done, number: note.number };
}
