import * as z from 'zod';
import { INVOICE_NUMBERINGS } from '../../domain/numbering.js';
import { CREDIT_NOTE_REASONS, CREDIT_NOTE_TYPES } from '../../services/credit-notes.js';
import { INVOICE_STATUSES, INVOICE_TYPES, PAYMENT_STATUSES } from '../../services/invoice-views.js';
import { PAYMENT_METHODS } from '../../services/payments.js';
import { Iso, IsoNullable, moneyOut } from './common.js';

export const InvoiceStatus = z.enum(INVOICE_STATUSES);
export const PaymentStatus = z.enum(PAYMENT_STATUSES);
export const InvoiceType = z.enum(INVOICE_TYPES);
export const PaymentMethod = z.enum(PAYMENT_METHODS);
export const CreditNoteReason = z.enum(CREDIT_NOTE_REASONS);
export const CreditNoteType = z.enum(CREDIT_NOTE_TYPES);
export const InvoiceNumbering = z.enum(INVOICE_NUMBERINGS);

export const Organization = z.object({
  id: z.string(),
  name: z.string(),
  legal_name: z.string().nullable(),
  email: z.string().nullable(),
  address_line1: z.string().nullable(),
  address_line2: z.string().nullable(),
  city: z.string().nullable(),
  state: z.string().nullable(),
  zipcode: z.string().nullable(),
  country: z.string().nullable(),
  tax_identification_number: z.string().nullable(),
  default_currency: z.string(),
  timezone: z.string(),
  net_payment_term: z.int(),
  invoice_prefix: z.string(),
  invoice_numbering: InvoiceNumbering,
  invoice_footer: z.string().nullable(),
  bank_name: z.string().nullable(),
  bank_iban: z.string().nullable(),
  bank_bic: z.string().nullable(),
  finalize_invoices: z.boolean(),
  past_due_grace_period_days: z
    .int()
    .describe('Days an invoice may stay overdue before its subscription counts as past_due'),
  logo_url: z.string().nullable().describe("The logo the customer portal shows (the organization's own URL)"),
  accent_color: z
    .string()
    .nullable()
    .describe("The customer portal's accent colour, #rrggbb; null for the default"),
  external_id: z
    .string()
    .nullable()
    .describe(
      "The organization's id in another system (an identity provider's organization); set by the operator",
    ),
  status: z
    .enum(['active', 'disabled'])
    .describe('disabled: every key and token of the organization is refused'),
  disabled_at: IsoNullable,
  created_at: Iso,
  updated_at: Iso,
});

export const Product = z.object({
  id: z.string().describe('Billfold id, prod_…'),
  code: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  unit_amount: z.string().describe('Price of one unit in major units, exact; may be finer than the currency'),
  currency: z.string(),
  unit_label: z.string().nullable(),
  tax_codes: z.array(z.string()),
  active: z.boolean(),
  metadata: z.record(z.string(), z.string()),
  created_at: Iso,
  updated_at: Iso,
  archived_at: IsoNullable,
});

export const Tax = z.object({
  id: z.string().describe('Billfold id, tax_…'),
  code: z.string(),
  name: z.string(),
  rate: z.string().describe('Percent, exact decimal (e.g. "20" or "5.5")'),
  description: z.string().nullable(),
  applied_to_organization: z.boolean(),
  customer_ids: z.array(z.string()),
  product_codes: z.array(z.string()),
  created_at: Iso,
  updated_at: Iso,
});

const LineTax = z.object({ code: z.string(), name: z.string(), rate: z.string() });

export const InvoiceLine = z.object({
  id: z.string().describe('Line id, il_…'),
  position: z.int(),
  product_id: z.string().nullable(),
  product_code: z.string().nullable(),
  description: z.string(),
  quantity: z.string(),
  unit_amount: z.string(),
  unit_label: z.string().nullable(),
  ...moneyOut('amount', 'quantity × unit_amount, rounded half-up'),
  ...moneyOut('discount_amount', "This line's share of the invoice discounts"),
  taxes: z.array(LineTax),
  from: IsoNullable.describe('Start of the billing period the line covers'),
  to: IsoNullable,
  charge_id: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
});

export const Invoice = z.object({
  id: z.string().describe('Billfold id, inv_…'),
  number: z.string().nullable().describe('Given at finalization; null on a draft'),
  external_id: z.string().nullable(),
  invoice_type: InvoiceType,
  status: InvoiceStatus,
  payment_status: PaymentStatus,
  overdue: z.boolean().describe('Finalized, not fully paid, and past its due date'),
  customer_id: z.string(),
  customer: z.object({
    id: z.string(),
    external_id: z.string().nullable(),
    name: z.string(),
    email: z.string().nullable(),
  }),
  currency: z.string(),
  issued_at: IsoNullable,
  issuing_date: z.string().nullable(),
  due_at: IsoNullable,
  due_date: z.string().nullable(),
  net_payment_term: z.int().nullable(),
  lines: z.array(InvoiceLine),
  discounts: z.array(
    z.object({
      description: z.string(),
      coupon_code: z.string().nullable(),
      percentage: z.string().nullable(),
      ...moneyOut('amount', 'Discount'),
    }),
  ),
  tax_breakdown: z.array(
    z.object({
      code: z.string(),
      name: z.string(),
      rate: z.string(),
      ...moneyOut('taxable_amount', 'Sum of the taxable line amounts after discounts'),
      ...moneyOut('amount', 'Tax at this rate, rounded once'),
    }),
  ),
  ...moneyOut('sub_total_amount', 'Sum of the line amounts'),
  ...moneyOut('coupons_amount', 'Discounts'),
  ...moneyOut('taxes_amount', 'Taxes'),
  ...moneyOut('total_amount', 'Subtotal − discounts + taxes'),
  ...moneyOut(
    'prepaid_credit_amount',
    'What the customer’s wallets paid at finalization (subscription invoices), after coupons and taxes',
  ),
  ...moneyOut('amount_paid', 'Payments received'),
  ...moneyOut('credited_amount', 'Credit notes of type credit'),
  ...moneyOut('refunded_amount', 'Credit notes of type refund'),
  ...moneyOut('amount_due', 'Left to pay: total − prepaid credits − paid − credited'),
  memo: z.string().nullable(),
  metadata: z.record(z.string(), z.string()),
  subscription_id: z.string().nullable(),
  order_id: z.string().nullable().describe('The sales order this invoice bills (get_order shows it)'),
  sent_count: z.int(),
  last_sent_at: IsoNullable,
  finalized_at: IsoNullable,
  voided_at: IsoNullable,
  void_reason: z.string().nullable(),
  paid_at: IsoNullable,
  created_at: Iso,
  updated_at: Iso,
  pdf_uri: z.string().describe('MCP resource with the PDF; also GET /api/v1/invoices/{id}.pdf'),
});

export const Payment = z.object({
  id: z.string().describe('Billfold id, pay_…'),
  invoice_id: z.string(),
  invoice_number: z.string().nullable(),
  customer_id: z.string(),
  ...moneyOut('amount', 'Amount paid'),
  currency: z.string(),
  status: z.literal('succeeded'),
  payment_method: PaymentMethod.nullable(),
  reference: z.string().nullable(),
  paid_at: Iso,
  created_at: Iso,
});

export const CreditNote = z.object({
  id: z.string().describe('Billfold id, cn_…'),
  number: z.string(),
  invoice_id: z.string(),
  invoice_number: z.string().nullable(),
  customer_id: z.string(),
  type: CreditNoteType,
  reason: CreditNoteReason,
  description: z.string().nullable(),
  status: z.enum(['finalized', 'voided']),
  currency: z.string(),
  items: z.array(
    z.object({
      invoice_line_id: z.string().nullable(),
      description: z.string(),
      ...moneyOut('amount', 'Credited before tax'),
    }),
  ),
  tax_breakdown: z.array(
    z.object({
      code: z.string(),
      name: z.string(),
      rate: z.string(),
      ...moneyOut('taxable_amount', 'Credited amount this rate applies to'),
      ...moneyOut('amount', 'Tax credited at this rate'),
    }),
  ),
  ...moneyOut('sub_total_amount', 'Credited before tax'),
  ...moneyOut('taxes_amount', 'Tax credited'),
  ...moneyOut('total_amount', 'Credited including tax'),
  issued_at: Iso,
  voided_at: IsoNullable,
  created_at: Iso,
  updated_at: Iso,
});

export const Delivery = z.object({
  id: z.string().describe('Billfold id, msg_…'),
  invoice_id: z.string(),
  recipient_email: z.string(),
  subject: z.string(),
  transport: z
    .enum(['smtp', 'outbox'])
    .describe('smtp: handed to the mail server; outbox: written as an .eml file'),
  message_id: z.string(),
  location: z.string().nullable().describe("The .eml file (outbox) or the mail server's reply (smtp)"),
  sent_at: Iso,
});
