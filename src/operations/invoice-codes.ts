import * as z from 'zod';
import { INVOICE_STANDINGS } from '../services/invoice-views.js';
import { invoiceCodes } from '../services/invoicing/invoice-codes.js';
import { validateQrCode as validate } from '../services/invoicing/qr-validation.js';
import { READ, defineOperation } from './define.js';
import { InvoiceRef, moneyOut } from './schemas/common.js';

const group = 'invoices';

export const getInvoiceQrCodes = defineOperation({
  name: 'get_invoice_qr_codes',
  title: 'Get the QR codes of an invoice',
  description:
    'Returns the texts of the two QR codes an issued invoice carries on its PDF and portal page, to print ' +
    'them on your own documents too. `verification_code`, a URL naming the invoice (number, issue date, total, currency) ' +
    "signed with the organization's key, which validate_qr_code (or a phone, opening the URL) checks; and " +
    '`epc_code`, the EPC069-12 SEPA credit transfer a banking app scans (IBAN, amount due, the invoice number as ' +
    'remittance), for an invoice in EUR with an IBAN and something left to pay, else null. A draft has no codes ' +
    'yet (null). `invoice_id`: id, number or external_id.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({ invoice_id: InvoiceRef }),
  output: z.object({
    invoice_id: z.string(),
    invoice_number: z.string().nullable(),
    verification_code: z
      .string()
      .nullable()
      .describe('The verification QR code’s text (a URL); null for a draft'),
    epc_code: z
      .string()
      .nullable()
      .describe('The EPC069-12 payload; null unless EUR, an IBAN and an amount due'),
  }),
  handler: (ctx, input) => invoiceCodes(ctx, input.invoice_id),
});

const QrInvoice = z
  .object({
    id: z.string(),
    number: z.string().nullable(),
    issuer: z.string().describe('The issuing organization, as printed on the invoice'),
    customer: z.object({ id: z.string(), external_id: z.string().nullable(), name: z.string() }),
    currency: z.string(),
    ...moneyOut('total_amount', 'The invoice total'),
    ...moneyOut('amount_due', 'What is left to pay today'),
    issuing_date: z.string().nullable(),
    due_date: z.string().nullable(),
    status_today: z
      .enum(INVOICE_STANDINGS)
      .describe('paid (nothing left to pay), due, overdue (past its due date) or voided'),
  })
  .describe('The invoice the code names, as it stands today');

const EpcCheck = z
  .object({
    beneficiary_name: z.string(),
    iban: z.string(),
    bic: z.string().nullable(),
    iban_checksum_valid: z.boolean().describe('The IBAN’s mod-97 check digits hold'),
    iban_is_organization: z.boolean().describe('The IBAN is this organization’s (today’s or the invoice’s)'),
    amount_cents: z.int().nullable(),
    amount: z.string().nullable(),
    currency: z.literal('EUR'),
    reference: z.string().nullable().describe('The remittance text or structured reference'),
    reference_matches_open_invoice: z
      .boolean()
      .describe('The reference names an issued EUR invoice with something left to pay'),
    amount_matches: z.boolean().describe('The amount is exactly that invoice’s amount due'),
    matches_open_invoice: z.boolean().describe('All of the above'),
  })
  .describe('For a SEPA transfer code: what it asks to pay, checked against the invoices');

export const validateQrCode = defineOperation({
  name: 'validate_qr_code',
  title: 'Validate a scanned QR code',
  description:
    'Checks the decoded text of a QR code scanned from an invoice. `result`: `valid` — a verification code of ' +
    'this organization whose signature holds; `invoice` gives its number, issuer, customer, total, currency, ' +
    'issue date and status_today (paid, due, overdue or voided). `tampered` — it has the verification code’s ' +
    'shape but the signature does not match (an amount, number or date was changed, or it was forged); no ' +
    'invoice data is returned. `revoked` — the signature holds, but with a key the organization revoked ' +
    '(rotate_signing_key, revoke_signing_key), so it no longer vouches for it; no invoice data either. A key retired ' +
    'by a rotation without revoking keeps its codes `valid`. `unknown` — not one of this organization’s codes. `epc_transfer` — a SEPA ' +
    'credit transfer (EPC069-12) code: `epc_transfer` says whether the IBAN checksum holds and is the ' +
    'organization’s, and whether the reference and amount match an open invoice (given in `invoice`). ' +
    '`message` says the same in a sentence.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    text: z
      .string()
      .min(1)
      .max(4296)
      .describe('The text decoded from the QR code, exactly as the scanner read it'),
  }),
  output: z.object({
    result: z.enum(['valid', 'tampered', 'revoked', 'unknown', 'epc_transfer']),
    message: z.string(),
    invoice: QrInvoice.nullable(),
    epc_transfer: EpcCheck.nullable(),
  }),
  handler: (ctx, input) => validate(ctx, input.text),
});

export const invoiceCodeOperations = [getInvoiceQrCodes, validateQrCode];
