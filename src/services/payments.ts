import type { InvoicesTable, PaymentsTable } from '../db/schema.js';
import { countAll } from '../db/sql.js';
import { minorUnits } from '../domain/currencies.js';
import type { Decimal } from '../domain/decimal.js';
import { BillfoldError } from '../domain/errors.js';
import { looksLikeId, newId } from '../domain/ids.js';
import { formatMinor, moneyFields } from '../domain/money.js';
import { pageOffset, pagination, type PageRequest, type Pagination } from '../domain/pagination.js';
import { toIso } from '../domain/time.js';
import { recordActivity } from './activity.js';
import type { ServiceContext } from './context.js';
import { findCustomer, resolveCustomer } from './customers.js';
import type { InvoiceView } from './invoice-views.js';
import { getInvoice, loadLines, resolveInvoice, viewOf } from './invoices.js';
import { recordInvoiceChange, recordPaymentReceived } from './finance/totals.js';
import { settlePurchases } from './wallets/ledger.js';

/** Payments recorded against finalized invoices: partial ones allowed, never more than is due. */

export const PAYMENT_METHODS = [
  'bank_transfer',
  'card',
  'cash',
  'check',
  'direct_debit',
  'crypto',
  'other',
] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

export interface PaymentView {
  id: string;
  invoice_id: string;
  invoice_number: string | null;
  customer_id: string;
  amount_cents: number;
  amount: string;
  currency: string;
  status: 'succeeded';
  payment_method: PaymentMethod | null;
  reference: string | null;
  paid_at: string;
  created_at: string;
}

export function paymentView(p: PaymentsTable, invoiceNumber: string | null): PaymentView {
  return {
    id: p.id,
    invoice_id: p.invoice_id,
    invoice_number: invoiceNumber,
    customer_id: p.customer_id,
    ...moneyFields('amount', p.amount_cents, p.currency),
    currency: p.currency,
    status: 'succeeded',
    payment_method: p.payment_method as PaymentMethod | null,
    reference: p.reference,
    paid_at: toIso(p.paid_at),
    created_at: toIso(p.created_at),
  };
}

export interface RecordPaymentInput {
  invoice_id: string;
  amount?: Decimal;
  paid_at?: number;
  reference?: string;
  payment_method?: PaymentMethod;
}

export async function recordPayment(
  ctx: ServiceContext,
  input: RecordPaymentInput,
): Promise<{ invoice: InvoiceView; payment: PaymentView; created: boolean }> {
  const row = await resolveInvoice(ctx, input.invoice_id, { lock: true });
  if (input.reference) {
    // The reference makes a retry safe: the same payment is returned, not recorded twice.
    const same = await ctx.db
      .selectFrom('payments')
      .selectAll()
      .where('organization_id', '=', ctx.organizationId)
      .where('invoice_id', '=', row.id)
      .where('reference', '=', input.reference)
      .executeTakeFirst();
    if (same) {
      return {
        invoice: await getInvoice(ctx, row.id),
        payment: paymentView(same, row.number),
        created: false,
      };
    }
  }
  if (row.status !== 'finalized') {
    throw new BillfoldError(
      'INVALID_STATUS',
      `invoice ${row.number ?? row.id} is ${row.status}; payments are recorded on finalized invoices only`,
      { invoice_id: row.id, status: row.status },
      row.status === 'draft'
        ? 'Finalize it first with finalize_invoice (or send_invoice, which finalizes it).'
        : 'A voided invoice is not owed; record the payment on the invoice that replaced it.',
    );
  }
  if (row.amount_due_cents <= 0) {
    throw new BillfoldError(
      'INVALID_STATUS',
      `invoice ${row.number} has nothing left to pay`,
      { invoice_id: row.id, amount_due_cents: row.amount_due_cents, payment_status: row.payment_status },
      'list_payments with invoice_id shows the payments already recorded.',
    );
  }
  const units = minorUnits(row.currency);
  let cents: number;
  if (input.amount === undefined) cents = row.amount_due_cents;
  else {
    if (input.amount.round(units).cmp(input.amount) !== 0) {
      throw new BillfoldError(
        'VALIDATION_ERROR',
        `amount: ${input.amount.toString()} has more decimals than ${row.currency} allows (${units})`,
        { issues: [{ field: 'amount', message: `at most ${units} decimals in ${row.currency}` }] },
        `Give the amount to the ${row.currency} minor unit, e.g. ${formatMinor(row.amount_due_cents, row.currency)}.`,
      );
    }
    cents = Number(input.amount.rescale(units).coef);
  }
  if (cents > row.amount_due_cents) {
    const due = formatMinor(row.amount_due_cents, row.currency);
    throw new BillfoldError(
      'VALIDATION_ERROR',
      `amount: ${input.amount!.toString()} ${row.currency} is more than the ${due} ${row.currency} due on invoice ${row.number}`,
      {
        issues: [{ field: 'amount', message: 'over-payment' }],
        amount_due_cents: row.amount_due_cents,
        amount_due: due,
      },
      `Record at most ${due}; leave amount out to pay the balance due.`,
    );
  }
  const now = ctx.now();
  if (input.paid_at !== undefined && input.paid_at > now + 86_400_000) {
    throw new BillfoldError(
      'VALIDATION_ERROR',
      `paid_at: ${new Date(input.paid_at).toISOString()} is in the future; record a payment once it is received`,
      { issues: [{ field: 'paid_at', message: 'in the future' }] },
      'Leave paid_at out to use the current time.',
    );
  }
  const payment: PaymentsTable = {
    id: newId('payment', now),
    organization_id: ctx.organizationId,
    invoice_id: row.id,
    customer_id: row.customer_id,
    amount_cents: cents,
    currency: row.currency,
    status: 'succeeded',
    payment_method: input.payment_method ?? null,
    reference: input.reference ?? null,
    paid_at: input.paid_at ?? now,
    created_at: now,
  };
  await ctx.db.insertInto('payments').values(payment).execute();
  await recordPaymentReceived(ctx, payment);
  const next: InvoicesTable = {
    ...row,
    amount_paid_cents: row.amount_paid_cents + cents,
    amount_due_cents: row.amount_due_cents - cents,
    updated_at: now,
  };
  if (next.amount_due_cents === 0) {
    next.payment_status = 'succeeded';
    next.paid_at = payment.paid_at;
  }
  await ctx.db
    .updateTable('invoices')
    .set({
      amount_paid_cents: next.amount_paid_cents,
      amount_due_cents: next.amount_due_cents,
      payment_status: next.payment_status,
      paid_at: next.paid_at,
      updated_at: now,
    })
    .where('id', '=', row.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  await recordInvoiceChange(ctx, row, next);
  // A top-up invoice paid in full makes its credits usable.
  if (next.amount_due_cents === 0) await settlePurchases(ctx, next);
  await recordActivity(ctx, {
    type: next.amount_due_cents === 0 ? 'invoice.paid' : 'invoice.payment_recorded',
    resourceType: 'invoice',
    resourceId: row.id,
    customerId: row.customer_id,
    changes: {
      payment_id: payment.id,
      amount_cents: cents,
      amount_paid_cents: [row.amount_paid_cents, next.amount_paid_cents],
      amount_due_cents: [row.amount_due_cents, next.amount_due_cents],
      ...(row.payment_status !== next.payment_status
        ? { payment_status: [row.payment_status, next.payment_status] }
        : {}),
    },
  });
  const lines = (await loadLines(ctx, [row.id])).get(row.id) ?? [];
  return {
    invoice: await viewOf(ctx, { row: next, lines }),
    payment: paymentView(payment, row.number),
    created: true,
  };
}

export interface PaymentListFilter {
  customer_id?: string;
  invoice_id?: string;
  from?: number;
  to?: number;
  payment_method?: PaymentMethod;
}

export async function listPayments(
  ctx: ServiceContext,
  f: PaymentListFilter,
  page: PageRequest,
): Promise<{ payments: PaymentView[]; pagination: Pagination }> {
  let q = ctx.db
    .selectFrom('payments')
    .innerJoin('invoices', 'invoices.id', 'payments.invoice_id')
    .where('payments.organization_id', '=', ctx.organizationId);
  if (f.customer_id) {
    const c = await findCustomer(ctx, f.customer_id);
    const id = c?.id ?? (looksLikeId('customer', f.customer_id) ? f.customer_id : undefined);
    if (!id) await resolveCustomer(ctx, f.customer_id);
    q = q.where('payments.customer_id', '=', id!);
  }
  if (f.invoice_id) {
    const inv = await resolveInvoice(ctx, f.invoice_id);
    q = q.where('payments.invoice_id', '=', inv.id);
  }
  if (f.payment_method) q = q.where('payments.payment_method', '=', f.payment_method);
  if (f.from !== undefined) q = q.where('payments.paid_at', '>=', f.from);
  if (f.to !== undefined) q = q.where('payments.paid_at', '<', f.to);
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll('payments')
    .select('invoices.number as invoice_number')
    .orderBy('payments.paid_at', 'desc')
    .orderBy('payments.id', 'desc')
    .limit(page.per_page)
    .offset(pageOffset(page))
    .execute();
  return {
    payments: rows.map(({ invoice_number, ...p }) => paymentView(p, invoice_number)),
    pagination: pagination(page, Number(count)),
  };
}

export async function paymentsOfInvoice(ctx: ServiceContext, invoice: InvoicesTable): Promise<PaymentView[]> {
  const rows = await ctx.db
    .selectFrom('payments')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('invoice_id', '=', invoice.id)
    .orderBy('paid_at')
    .orderBy('id')
    .execute();
  return rows.map((p) => paymentView(p, invoice.number));
}
