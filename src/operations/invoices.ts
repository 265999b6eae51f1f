import * as z from 'zod';
import { Decimal } from '../domain/decimal.js';
import type { DiscountInput } from '../domain/invoice-math.js';
import { deliveriesOf, sendInvoice } from '../services/invoice-delivery.js';
import * as invoices from '../services/invoices.js';
import * as invoiceLists from '../services/invoice-lists.js';
import { listPayments, paymentsOfInvoice, recordPayment } from '../services/payments.js';
import { listCreditNotes } from '../services/credit-notes.js';
import { CREATE, DELETE, READ, UPDATE, defineOperation } from './define.js';
import {
  Currency,
  CustomerRef,
  DateOnly,
  DateOrInstant,
  DecimalInput,
  Email,
  ExternalId,
  Instant,
  InvoiceRef,
  Metadata,
  Money,
  Pagination,
  PositiveMoney,
  ProductRef,
  page,
  text,
} from './schemas/common.js';
import {
  CreditNote,
  Delivery,
  Invoice,
  InvoiceStatus,
  InvoiceType,
  Payment,
  PaymentMethod,
  PaymentStatus,
} from './schemas/invoice.js';
import { TaxCodes } from './products.js';
import { getAccountsReceivable } from './receivables.js';

const group = 'invoices';

const Quantity = DecimalInput.refine((d) => d.isPositive(), { message: 'must be greater than 0' }).describe(
  'Number of units, exact decimal (default 1)',
);

const LineIn = z.strictObject({
  product_code: ProductRef.optional().describe(
    'A product code: fills description, unit_amount, unit_label and taxes unless you give them',
  ),
  description: text(1000).min(1).optional().describe('What is billed; required without product_code'),
  quantity: Quantity.optional(),
  unit_amount: Money.refine((d) => !d.isNegative(), { message: 'must not be negative' })
    .optional()
    .describe(
      'Price of one unit in major units; may be finer than the currency. Required without product_code',
    ),
  unit_label: text(50).nullable().optional(),
  tax_codes: TaxCodes.optional().describe(
    'Taxes of this line by code; [] for none. Absent: the product’s, else the customer’s, else the organization’s',
  ),
  from: Instant.optional().describe('Start of the period this line bills'),
  to: Instant.optional().describe('End of the period this line bills'),
});

const DiscountIn = z
  .strictObject({
    description: text(255).min(1),
    amount: PositiveMoney.optional().describe('A fixed amount off, in major units'),
    percentage: DecimalInput.refine((d) => d.isPositive() && d.lte(100), {
      message: 'must be more than 0 and at most 100',
    })
      .optional()
      .describe('A percentage off what is left of the subtotal'),
  })
  .refine((d) => (d.amount === undefined) !== (d.percentage === undefined), {
    message: 'give either amount or percentage',
  });

type LineInType = z.output<typeof LineIn>;
function lineInputs(lines: LineInType[] | undefined): invoices.InvoiceLineInput[] | undefined {
  return lines?.map((l) => ({ ...l, from: l.from ?? null, to: l.to ?? null }));
}
function discountInputs(d: Array<z.output<typeof DiscountIn>> | undefined): DiscountInput[] | undefined {
  return d?.map((x) => ({ description: x.description, amount: x.amount, percentage: x.percentage }));
}

const editable = {
  currency: Currency.optional().describe("Default: the customer's currency, else the organization's"),
  lines: z.array(LineIn).min(1).max(500).optional(),
  discounts: z.array(DiscountIn).max(10).optional().describe('Taken off the subtotal before taxes'),
  net_payment_term: z
    .int()
    .min(0)
    .max(365)
    .optional()
    .describe('Days to pay; default the customer’s, else the organization’s'),
  memo: text(2000).nullable().optional().describe('A note printed on the invoice'),
  metadata: Metadata.optional(),
};

const MONEY_RULES =
  'Each line amount is quantity × unit_amount, exact, rounded half-up to the currency’s minor unit; discounts ' +
  'come off the subtotal; each tax rate applies once to the sum of the taxed line amounts after discounts, ' +
  'rounded half-up; total = subtotal − discounts + taxes. Amounts come back as *_cents integers and decimal strings.';

export const createInvoice = defineOperation({
  name: 'create_invoice',
  title: 'Create an invoice',
  description:
    'Creates an invoice for a customer (`customer_id`: Billfold id or external_id) — or, for a one-off, ' +
    '`customer_name`/`customer_email` find the customer (by email; by its exact name when there is no email) or ' +
    'create it, and `note` says which. Give `lines` ' +
    '([{product_code?, description?, quantity, unit_amount?, tax_codes?}]; a product fills in description, ' +
    'price and taxes) or a single `amount` with a `description`. status draft (default) can still change; ' +
    'finalized gives it its number at once. issued_at defaults to the finalization moment and due_at to ' +
    'issued_at + net_payment_term days. `external_id` makes it idempotent: calling again updates the draft, ' +
    `or returns a finalized invoice unchanged with a note. ${MONEY_RULES}`,
  group,
  scope: 'write',
  annotations: CREATE,
  input: z.strictObject({
    customer_id: CustomerRef.optional(),
    customer_name: text().min(1).optional().describe('One-off customer: name, when there is no customer_id'),
    customer_email: Email.optional().describe('One-off customer: found by this email, or created with it'),
    ...editable,
    amount: PositiveMoney.optional().describe('Shortcut for one line: the amount (with description)'),
    description: text(1000).min(1).optional().describe('Description of the single line given by amount'),
    issued_at: DateOrInstant.optional(),
    due_at: DateOrInstant.optional(),
    status: z.enum(['draft', 'finalized']).default('draft'),
    external_id: ExternalId.optional().describe('Your own id for this invoice: makes retries safe'),
  }),
  output: z.object({
    invoice: Invoice,
    created: z.boolean(),
    customer_created: z
      .boolean()
      .optional()
      .describe(
        'With customer_name/customer_email: true when a new customer was made, false when one was found',
      ),
    note: z
      .string()
      .optional()
      .describe(
        'Says which customer customer_name/customer_email led to, or what happened when external_id matched an existing invoice',
      ),
  }),
  handler: (ctx, input) =>
    invoices.createInvoiceFromRequest(ctx, {
      ...input,
      memo: input.memo ?? undefined,
      lines: lineInputs(input.lines),
      discounts: discountInputs(input.discounts),
    }),
});

export const getInvoice = defineOperation({
  name: 'get_invoice',
  title: 'Get an invoice',
  description:
    'Returns one invoice with its lines, discounts, tax breakdown and totals, plus its payments, credit ' +
    'notes and email deliveries. `invoice_id` is the Billfold id (inv_…), the invoice number or your external_id.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({ invoice_id: InvoiceRef }),
  output: z.object({
    invoice: Invoice,
    payments: z.array(Payment),
    credit_notes: z.array(CreditNote),
    deliveries: z.array(Delivery),
  }),
  handler: async (ctx, input) => {
    const invoice = await invoices.getInvoice(ctx, input.invoice_id);
    const row = await invoices.resolveInvoice(ctx, invoice.id);
    const [payments, notes, deliveries] = [
      await paymentsOfInvoice(ctx, row),
      await listCreditNotes(ctx, { invoice_id: row.id }, { page: 1, per_page: 100 }),
      await deliveriesOf(ctx, row.id),
    ];
    return { invoice, payments, credit_notes: notes.credit_notes, deliveries };
  },
});

const listFilters = {
  customer_id: CustomerRef.optional(),
  customer_email: Email.optional().describe('Only invoices of customers with this email (any case)'),
  status: InvoiceStatus.optional(),
  payment_status: PaymentStatus.optional(),
  overdue: z.boolean().optional().describe('true: finalized, unpaid and past due; false: the others'),
  invoice_type: InvoiceType.optional(),
  issuing_date_from: DateOnly.optional().describe('Issued on or after this date'),
  issuing_date_to: DateOnly.optional().describe('Issued on or before this date'),
  currency: Currency.optional(),
};

export const listInvoices = defineOperation({
  name: 'list_invoices',
  title: 'List invoices',
  description:
    'Lists invoices, newest first, with their lines and totals. Filters: customer_id, customer_email, status (draft, ' +
    'finalized, voided), payment_status (pending, succeeded, failed), overdue, invoice_type, issuing_date_from ' +
    '/ issuing_date_to (YYYY-MM-DD), currency, and search (number, customer name or email, line descriptions, ' +
    'metadata). For "who owes us money", use overdue: true or payment_status: pending with status: finalized.',
  group,
  scope: 'read',
  annotations: READ,
  input: z
    .strictObject({ ...listFilters, search: z.string().trim().min(1).max(200).optional(), ...page })
    .refine((v) => !v.issuing_date_from || !v.issuing_date_to || v.issuing_date_from <= v.issuing_date_to, {
      message: 'issuing_date_from must not be after issuing_date_to',
      path: ['issuing_date_from'],
    }),
  output: z.object({ invoices: z.array(Invoice), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, ...filter }) =>
    invoiceLists.listInvoices(ctx, filter, { page: p, per_page }),
});

export const searchInvoices = defineOperation({
  name: 'search_invoices',
  title: 'Search invoices',
  description:
    'Finds invoices whose number, external_id, customer name, email or external_id, line descriptions, memo ' +
    'or metadata values contain `query` (case-insensitive), newest first. Takes the same filters as list_invoices.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({ query: z.string().trim().min(1).max(200), ...listFilters, ...page }),
  output: z.object({ invoices: z.array(Invoice), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, query, ...filter }) =>
    invoiceLists.listInvoices(ctx, { ...filter, search: query }, { page: p, per_page }),
});

export const batchGetInvoices = defineOperation({
  name: 'batch_get_invoices',
  title: 'Get several invoices',
  description:
    'Returns up to 100 invoices at once, each named by Billfold id, number or external_id, in the order ' +
    'given; `missing` lists the references that matched nothing.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({ invoice_ids: z.array(InvoiceRef).min(1).max(100) }),
  output: z.object({ invoices: z.array(Invoice), missing: z.array(z.string()) }),
  handler: (ctx, input) => invoiceLists.batchGetInvoices(ctx, input.invoice_ids),
});

export const updateInvoice = defineOperation({
  name: 'update_invoice',
  title: 'Update an invoice',
  description:
    'Changes a draft: customer, currency (with its lines), lines (replaced as a whole), discounts, dates, ' +
    'payment term, memo, metadata; totals are recomputed. A finalized or voided invoice only takes metadata; ' +
    'anything else is INVALID_STATUS (issue a credit note, or void and re-invoice). Pass null to clear a date.',
  group,
  scope: 'write',
  annotations: UPDATE,
  input: z.strictObject({
    invoice_id: InvoiceRef,
    customer_id: CustomerRef.optional(),
    ...editable,
    net_payment_term: editable.net_payment_term.unwrap().nullable().optional(),
    issued_at: DateOrInstant.nullable().optional(),
    due_at: DateOrInstant.nullable().optional(),
  }),
  output: z.object({ invoice: Invoice }),
  handler: async (ctx, { invoice_id, ...patch }) => ({
    invoice: await invoices.updateInvoice(ctx, invoice_id, {
      ...patch,
      lines: lineInputs(patch.lines),
      discounts: discountInputs(patch.discounts),
    }),
  }),
});

export const finalizeInvoice = defineOperation({
  name: 'finalize_invoice',
  title: 'Finalize an invoice',
  description:
    'Issues a draft: gives it the next number of the gapless sequence, fixes its issue and due dates and ' +
    'freezes the billing details printed on it. A finalized invoice can no longer change (except metadata). ' +
    'Finalizing a finalized invoice returns it unchanged (changed: false).',
  group,
  scope: 'write',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.strictObject({ invoice_id: InvoiceRef }),
  output: z.object({ invoice: Invoice, changed: z.boolean() }),
  handler: (ctx, input) => invoices.finalizeInvoice(ctx, input.invoice_id),
});

export const voidInvoice = defineOperation({
  name: 'void_invoice',
  title: 'Void an invoice',
  description:
    'Cancels a finalized invoice that is not fully paid: it keeps its number, nothing is due on it any more, ' +
    "and it no longer counts as owed. What it took from the customer's coupons is given back for their next " +
    'invoice. A draft is deleted instead (delete_invoice); a paid invoice is refunded with create_credit_note.',
  group,
  scope: 'write',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  input: z.strictObject({ invoice_id: InvoiceRef, reason: text(500).min(1).optional() }),
  output: z.object({ invoice: Invoice }),
  handler: async (ctx, input) => ({
    invoice: await invoices.voidInvoice(ctx, input.invoice_id, input.reason),
  }),
});

export const deleteInvoice = defineOperation({
  name: 'delete_invoice',
  title: 'Delete a draft invoice',
  description:
    'Deletes a draft for good (drafts have no number, so no gap is left). A draft generated from a subscription ' +
    'gives back what its coupons took, and its period is invoiced again by the next billing run or ' +
    'generate_invoice. Finalized invoices stay on record: void them instead.',
  group,
  scope: 'write',
  annotations: DELETE,
  input: z.strictObject({ invoice_id: InvoiceRef }),
  output: z.object({ invoice: Invoice, deleted: z.literal(true) }),
  handler: async (ctx, input) => ({
    invoice: await invoices.deleteInvoice(ctx, input.invoice_id),
    deleted: true as const,
  }),
});

export const sendInvoiceOp = defineOperation({
  name: 'send_invoice',
  title: 'Email an invoice',
  description:
    'Emails the invoice with its PDF attached to `recipient_email` (default: the customer’s email), with an ' +
    'optional `subject` and a `message` shown above the details. A draft is finalized first. The result says ' +
    'where it went: transport smtp (with the message id) or outbox (an .eml file, when no mail server is ' +
    'configured). Every send is recorded on the invoice (sent_count, deliveries in get_invoice). If the mail ' +
    'server refuses, a draft finalized by this call stays finalized; call again to retry the email.',
  group,
  scope: 'write',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  input: z.strictObject({
    invoice_id: InvoiceRef,
    recipient_email: Email.optional(),
    subject: text(200).min(1).optional(),
    message: text(5000).min(1).optional(),
  }),
  output: z.object({
    invoice: Invoice,
    delivery: Delivery,
    finalized: z.boolean().describe('True when this call finalized a draft'),
  }),
  handler: (ctx, input) => sendInvoice(ctx, input),
  transactions: 'steps',
});

export const markInvoicePaid = defineOperation({
  name: 'mark_invoice_paid',
  title: 'Record a payment on an invoice',
  description:
    'Records a payment against a finalized invoice. `amount` defaults to the balance due; a smaller amount is ' +
    'a partial payment, a larger one is refused (VALIDATION_ERROR). When nothing is left due, payment_status ' +
    'becomes succeeded. `reference` (bank reference, transaction id) makes retries safe: the same reference on ' +
    'the same invoice returns the payment already recorded.',
  group,
  scope: 'write',
  annotations: CREATE,
  input: z.strictObject({
    invoice_id: InvoiceRef,
    amount: PositiveMoney.optional().describe('Amount received, major units; default the balance due'),
    paid_at: Instant.optional().describe('When it was received; default now'),
    reference: text(255).min(1).optional(),
    payment_method: PaymentMethod.optional(),
  }),
  output: z.object({ invoice: Invoice, payment: Payment, created: z.boolean() }),
  handler: (ctx, input) => recordPayment(ctx, input),
});

export const listPaymentsOp = defineOperation({
  name: 'list_payments',
  title: 'List payments',
  description:
    'Lists recorded payments, latest first, with their invoice number. Filter by customer_id, invoice_id, ' +
    'payment_method, and paid_at range (from inclusive, to exclusive).',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    customer_id: CustomerRef.optional(),
    invoice_id: InvoiceRef.optional(),
    payment_method: PaymentMethod.optional(),
    from: Instant.optional(),
    to: Instant.optional(),
    ...page,
  }),
  output: z.object({ payments: z.array(Payment), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, ...filter }) => listPayments(ctx, filter, { page: p, per_page }),
});

export const invoiceOperations = [
  createInvoice,
  getInvoice,
  listInvoices,
  searchInvoices,
  batchGetInvoices,
  updateInvoice,
  finalizeInvoice,
  voidInvoice,
  deleteInvoice,
  sendInvoiceOp,
  markInvoicePaid,
  listPaymentsOp,
  getAccountsReceivable,
];
