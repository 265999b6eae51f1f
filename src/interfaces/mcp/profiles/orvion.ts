import * as z from 'zod';
import { HTTP_STATUS } from '../../../domain/errors.js';
import { defineTool, type Profile, type ProfileErrorBody } from './define.js';

/**
 * The Orvion invoice MCP server of seed 001: create_invoice, get_invoice, list_invoices and
 * mark_invoice_paid with Orvion's parameters, and every result in its `{ ok, data, error }`
 * envelope with its error codes. Orvion's statuses are read from Billfold's: draft; sent (a
 * finalized invoice not paid, not overdue); paid; overdue; canceled (voided).
 *
 * Every tool here has its operation. To add one: a defineTool entry naming the operations it
 * `uses`, its input in Orvion's names, and a `run` that calls them; `fields` renames Billfold's
 * field names in errors to Orvion's.
 */

const ORVION_STATUSES = ['draft', 'sent', 'paid', 'overdue', 'canceled'] as const;
type OrvionStatus = (typeof ORVION_STATUSES)[number];

const InvoiceId = z.string().trim().min(1).max(255).describe('Invoice ID (its id, number or external_id)');
const Amount = z
  .union([z.string(), z.number()])
  .describe(
    'Amount in major units, e.g. 1250.00 or "1250.00" (exact: read as written, never rounded by floats)',
  );
const Timestamp = z.union([z.string(), z.number()]).describe('ISO 8601 timestamp, e.g. 2025-12-31T23:59:59Z');

interface BillfoldInvoice {
  id: string;
  number: string | null;
  external_id: string | null;
  status: 'draft' | 'finalized' | 'voided';
  payment_status: 'pending' | 'succeeded' | 'failed';
  overdue: boolean;
  customer: { id: string; external_id: string | null; name: string; email: string | null };
  currency: string;
  issued_at: string | null;
  due_at: string | null;
  paid_at: string | null;
  total_amount: string;
  total_amount_cents: number;
  amount_paid: string;
  amount_due: string;
  lines: Array<{ description: string }>;
  metadata: Record<string, string>;
  finalized_at: string | null;
  voided_at: string | null;
  created_at: string;
  updated_at: string;
}

function orvionStatus(inv: BillfoldInvoice): OrvionStatus {
  if (inv.status === 'draft') return 'draft';
  if (inv.status === 'voided') return 'canceled';
  if (inv.payment_status === 'succeeded') return 'paid';
  return inv.overdue ? 'overdue' : 'sent';
}

/** Where Orvion's customer_wallet is kept: the invoice's metadata. */
const WALLET_KEY = 'customer_wallet';

function invoiceOut(inv: BillfoldInvoice, payments?: Array<{ reference: string | null }>) {
  return {
    id: inv.id,
    number: inv.number,
    external_id: inv.external_id,
    status: orvionStatus(inv),
    customer_id: inv.customer.id,
    customer_name: inv.customer.name,
    customer_email: inv.customer.email,
    customer_wallet: inv.metadata[WALLET_KEY] ?? null,
    amount: inv.total_amount,
    amount_cents: inv.total_amount_cents,
    currency: inv.currency,
    amount_paid: inv.amount_paid,
    amount_due: inv.amount_due,
    description: inv.lines[0]?.description ?? null,
    issued_at: inv.issued_at,
    due_at: inv.due_at,
    paid_at: inv.paid_at,
    canceled_at: inv.voided_at,
    // The reference of the latest payment; lists carry none (get_invoice has it).
    ...(payments ? { payment_reference: payments.at(-1)?.reference ?? null } : {}),
    created_at: inv.created_at,
    updated_at: inv.updated_at,
  };
}

/** Orvion's status filter as Billfold's list_invoices filters. */
const STATUS_FILTER: Record<OrvionStatus, Record<string, unknown>> = {
  draft: { status: 'draft' },
  sent: { status: 'finalized', payment_status: 'pending', overdue: false },
  paid: { status: 'finalized', payment_status: 'succeeded' },
  overdue: { overdue: true },
  canceled: { status: 'voided' },
};

/** Orvion's error codes: Billfold's CONFLICT (and anything else a client did wrong) is CLIENT_ERROR. */
function orvionCode(code: ProfileErrorBody['code']): string {
  if (code === 'FORBIDDEN') return 'UNAUTHORIZED';
  if (code === 'CONFLICT' || code === 'NOT_SUPPORTED') return 'CLIENT_ERROR';
  return code;
}

export const orvionProfile: Profile = {
  name: 'orvion',
  title: 'Orvion invoice MCP',
  seed: '001',
  instructions: [
    'Invoices: create_invoice, get_invoice, list_invoices and mark_invoice_paid.',
    'Statuses: draft, sent, paid, overdue, canceled. Amounts are exact decimal strings in the invoice currency.',
    'Every result is {ok, data, error}; on failure ok is false and error is {code, message, details} with code NOT_FOUND, UNAUTHORIZED, VALIDATION_ERROR, RATE_LIMITED, INVALID_STATUS, CLIENT_ERROR or INTERNAL_ERROR.',
    'Give external_id when creating an invoice: calling again with it updates the draft instead of making a duplicate.',
  ].join('\n'),
  success: (data) => ({ ok: true, data, error: null }),
  failure: (error) => ({
    ok: false,
    data: null,
    error: {
      code: orvionCode(error.code),
      message: error.message,
      details: {
        http_status: error.code === 'NOT_SUPPORTED' ? 501 : HTTP_STATUS[error.code],
        ...error.details,
        ...(error.hint ? { hint: error.hint } : {}),
      },
    },
  }),
  tools: [
    defineTool({
      name: 'create_invoice',
      title: 'Create an invoice',
      description:
        'Create a new invoice for a customer: customer_name, amount (positive) and currency are required. status ' +
        '"sent" (the default) issues it at once with its number; "draft" keeps it editable. The customer is found by ' +
        'customer_email, else by its exact name, and created when there is none (the result says which). ' +
        'external_id makes it idempotent: calling again with it updates the draft instead of making a duplicate.',
      uses: ['create_invoice'],
      fields: {},
      input: z.strictObject({
        customer_name: z.string().trim().min(1).max(255).describe('Customer name'),
        amount: Amount,
        currency: z.string().trim().min(1).describe('Currency code, e.g. EUR, USD'),
        customer_email: z.email().max(254).optional().describe('Customer email address'),
        customer_wallet: z
          .string()
          .trim()
          .min(1)
          .max(1000)
          .optional()
          .describe('Wallet address or payment identifier (kept on the invoice)'),
        issued_at: Timestamp.optional().describe('ISO 8601 timestamp (default: now)'),
        due_at: Timestamp.optional().describe('ISO 8601 timestamp'),
        external_id: z
          .string()
          .trim()
          .min(1)
          .max(255)
          .optional()
          .describe('External reference ID for idempotency'),
        status: z
          .enum(['draft', 'sent'])
          .default('sent')
          .describe('Initial status: "draft" or "sent" (default)'),
      }),
      async run(ops, input) {
        const out = await ops.call('create_invoice', {
          customer_name: input.customer_name,
          ...(input.customer_email ? { customer_email: input.customer_email } : {}),
          amount: input.amount,
          currency: input.currency,
          ...(input.issued_at !== undefined ? { issued_at: input.issued_at } : {}),
          ...(input.due_at !== undefined ? { due_at: input.due_at } : {}),
          ...(input.external_id ? { external_id: input.external_id } : {}),
          ...(input.customer_wallet ? { metadata: { [WALLET_KEY]: input.customer_wallet } } : {}),
          status: input.status === 'sent' ? 'finalized' : 'draft',
        });
        return {
          invoice: invoiceOut(out.invoice),
          created: out.created,
          ...(out.note ? { note: out.note } : {}),
        };
      },
    }),
    defineTool({
      name: 'get_invoice',
      title: 'Get an invoice',
      description:
        'Fetch a single invoice by ID (its id, its number, or the external_id it was created with).',
      uses: ['get_invoice'],
      fields: { invoice_id: 'id' },
      input: z.strictObject({ id: InvoiceId }),
      async run(ops, input) {
        const out = await ops.call('get_invoice', { invoice_id: input.id });
        return { invoice: invoiceOut(out.invoice, out.payments) };
      },
    }),
    defineTool({
      name: 'list_invoices',
      title: 'List invoices',
      description:
        'List invoices, newest first, optionally filtered by status ("draft", "sent", "paid", "overdue", ' +
        '"canceled") or customer email. limit: 1-100, default 20.',
      uses: ['list_invoices'],
      fields: { per_page: 'limit' },
      input: z.strictObject({
        status: z.enum(ORVION_STATUSES).optional(),
        customer_email: z.email().max(254).optional().describe('Filter by customer email'),
        limit: z.int().min(1).max(100).default(20).describe('Maximum number of invoices (1-100, default 20)'),
      }),
      async run(ops, input) {
        const out = await ops.call('list_invoices', {
          ...(input.status ? STATUS_FILTER[input.status] : {}),
          ...(input.customer_email ? { customer_email: input.customer_email } : {}),
          page: 1,
          per_page: input.limit,
        });
        return {
          invoices: (out.invoices as BillfoldInvoice[]).map((i) => invoiceOut(i)),
          total_count: out.pagination.total_count,
          has_more: out.pagination.next_page !== null,
        };
      },
    }),
    defineTool({
      name: 'mark_invoice_paid',
      title: 'Mark an invoice as paid',
      description:
        'Mark an invoice as paid. amount_paid defaults to what is due; a smaller amount is a partial payment (the ' +
        'invoice stays sent until fully paid). paid_at defaults to now. payment_reference (a transaction hash or bank ' +
        'reference) makes it safe to retry: the same reference is never recorded twice.',
      uses: ['mark_invoice_paid'],
      fields: { invoice_id: 'id', amount: 'amount_paid', reference: 'payment_reference' },
      input: z.strictObject({
        id: InvoiceId,
        paid_at: Timestamp.optional().describe('ISO 8601 timestamp (default: now)'),
        amount_paid: Amount.optional().describe('Amount paid (defaults to the invoice amount due)'),
        payment_reference: z
          .string()
          .trim()
          .min(1)
          .max(255)
          .optional()
          .describe('Payment reference or transaction hash'),
      }),
      async run(ops, input) {
        const out = await ops.call('mark_invoice_paid', {
          invoice_id: input.id,
          ...(input.paid_at !== undefined ? { paid_at: input.paid_at } : {}),
          ...(input.amount_paid !== undefined ? { amount: input.amount_paid } : {}),
          ...(input.payment_reference ? { reference: input.payment_reference } : {}),
        });
        return {
          invoice: { ...invoiceOut(out.invoice), payment_reference: out.payment.reference },
          payment: {
            id: out.payment.id,
            amount: out.payment.amount,
            currency: out.payment.currency,
            paid_at: out.payment.paid_at,
            payment_reference: out.payment.reference,
          },
          created: out.created,
        };
      },
    }),
  ],
};
