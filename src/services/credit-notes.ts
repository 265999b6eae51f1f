import type { CreditNotesTable, InvoicesTable } from '../db/schema.js';
import { countAll } from '../db/sql.js';
import { minorUnits } from '../domain/currencies.js';
import { Decimal } from '../domain/decimal.js';
import { BillfoldError, validation } from '../domain/errors.js';
import { looksLikeId, newId } from '../domain/ids.js';
import {
  computeCreditItems,
  splitGrossCredit,
  type CreditTotals,
  type TaxLine,
} from '../domain/invoice-math.js';
import { formatMinor, moneyFields } from '../domain/money.js';
import { formatCreditNoteNumber } from '../domain/numbering.js';
import { pageOffset, pagination, type PageRequest, type Pagination } from '../domain/pagination.js';
import { toIso } from '../domain/time.js';
import { recordActivity } from './activity.js';
import type { ServiceContext } from './context.js';
import { findCustomer, resolveCustomer } from './customers.js';
import type { InvoiceView, StoredTaxLine } from './invoice-views.js';
import { getInvoice, loadLines, resolveInvoice } from './invoices.js';
import { recordCreditNoteChange, recordInvoiceChange } from './finance/totals.js';

/**
 * Credit notes correct a finalized invoice. A `credit` takes money off what is still due; a
 * `refund` records money given back from what was paid. Neither can exceed what is left: per
 * line, its taxable amount less what earlier notes credited; in all, the amount due (credit) or
 * the amount paid less earlier refunds (refund). Taxes follow the invoice's rule, once per rate.
 */

export const CREDIT_NOTE_REASONS = [
  'duplicated_charge',
  'product_unsatisfactory',
  'order_change',
  'order_cancellation',
  'fraudulent_charge',
  'other',
] as const;
export type CreditNoteReason = (typeof CREDIT_NOTE_REASONS)[number];
export const CREDIT_NOTE_TYPES = ['credit', 'refund'] as const;
export type CreditNoteType = (typeof CREDIT_NOTE_TYPES)[number];

interface StoredItem {
  invoice_line_id: string | null;
  description: string;
  amount_cents: number;
}

export interface CreditNoteInput {
  invoice_id: string;
  type: CreditNoteType;
  reason: CreditNoteReason;
  description?: string;
  items?: Array<{ invoice_line_id: string; amount: Decimal }>;
  amount?: Decimal;
}

export function creditNoteView(row: CreditNotesTable, invoiceNumber: string | null) {
  const c = row.currency;
  return {
    id: row.id,
    number: row.number,
    invoice_id: row.invoice_id,
    invoice_number: invoiceNumber,
    customer_id: row.customer_id,
    type: row.credit_note_type as CreditNoteType,
    reason: row.reason as CreditNoteReason,
    description: row.description,
    status: row.status as 'finalized' | 'voided',
    currency: c,
    items: (JSON.parse(row.items) as StoredItem[]).map((i) => ({
      invoice_line_id: i.invoice_line_id,
      description: i.description,
      ...moneyFields('amount', i.amount_cents, c),
    })),
    tax_breakdown: (JSON.parse(row.tax_breakdown) as StoredTaxLine[]).map((t) => ({
      code: t.code,
      name: t.name,
      rate: t.rate,
      ...moneyFields('taxable_amount', t.taxable_amount_cents, c),
      ...moneyFields('amount', t.amount_cents, c),
    })),
    ...moneyFields('sub_total_amount', row.sub_total_amount_cents, c),
    ...moneyFields('taxes_amount', row.taxes_amount_cents, c),
    ...moneyFields('total_amount', row.total_amount_cents, c),
    issued_at: toIso(row.issued_at),
    voided_at: toIso(row.voided_at),
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  };
}
export type CreditNoteView = ReturnType<typeof creditNoteView>;

function toCents(amount: Decimal, currency: string, field: string): bigint {
  const units = minorUnits(currency);
  if (amount.round(units).cmp(amount) !== 0)
    throw validation(field, `${amount.toString()} has more decimals than ${currency} allows (${units})`);
  if (!amount.isPositive()) throw validation(field, 'must be greater than 0');
  return amount.rescale(units).coef;
}

async function liveNotes(ctx: ServiceContext, invoiceId: string): Promise<CreditNotesTable[]> {
  return ctx.db
    .selectFrom('credit_notes')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('invoice_id', '=', invoiceId)
    .execute();
}

export async function createCreditNote(
  ctx: ServiceContext,
  input: CreditNoteInput,
): Promise<{ credit_note: CreditNoteView; invoice: InvoiceView }> {
  const invoice = await resolveInvoice(ctx, input.invoice_id, { lock: true });
  if (invoice.status !== 'finalized') {
    throw new BillfoldError(
      'INVALID_STATUS',
      `invoice ${invoice.number ?? invoice.id} is ${invoice.status}; credit notes are issued on finalized invoices only`,
      { invoice_id: invoice.id, status: invoice.status },
      invoice.status === 'draft'
        ? 'Change a draft with update_invoice instead.'
        : 'A voided invoice is owed nothing and cannot be credited.',
    );
  }
  if (invoice.invoice_type === 'credit') {
    // Its credits live in a wallet: a note would leave them there, paid for or not.
    throw new BillfoldError(
      'INVALID_STATUS',
      `invoice ${invoice.number} bills prepaid credits; credit notes are not issued on wallet top-ups`,
      { invoice_id: invoice.id, invoice_type: invoice.invoice_type },
      'Void it with void_invoice while it is unpaid (its credits are then not added), or terminate_wallet.',
    );
  }
  if ((input.items && input.amount !== undefined) || (!input.items && input.amount === undefined)) {
    throw validation(
      'items',
      'give either items (per invoice line) or amount (taxes included), one of the two',
    );
  }
  const currency = invoice.currency;
  const notes = await liveNotes(ctx, invoice.id);
  const live = notes.filter((n) => n.status === 'finalized');
  let totals: CreditTotals;
  let items: StoredItem[];
  if (input.items) {
    const lines = (await loadLines(ctx, [invoice.id])).get(invoice.id) ?? [];
    const credited = new Map<string, number>();
    for (const n of live)
      for (const it of JSON.parse(n.items) as StoredItem[])
        if (it.invoice_line_id)
          credited.set(it.invoice_line_id, (credited.get(it.invoice_line_id) ?? 0) + it.amount_cents);
    const want = new Map<string, bigint>();
    input.items.forEach((it, i) => {
      const field = `items[${i}]`;
      const line = lines.find((l) => l.id === it.invoice_line_id);
      if (!line) {
        throw new BillfoldError(
          'VALIDATION_ERROR',
          `${field}.invoice_line_id: invoice ${invoice.number} has no line '${it.invoice_line_id}'`,
          { issues: [{ field: `${field}.invoice_line_id`, message: 'unknown line' }] },
          'get_invoice lists the lines with their ids (il_…).',
        );
      }
      want.set(line.id, (want.get(line.id) ?? 0n) + toCents(it.amount, currency, `${field}.amount`));
    });
    items = [];
    const creditItems = [];
    for (const [lineId, cents] of want) {
      const line = lines.find((l) => l.id === lineId)!;
      const left = line.amount_cents - line.discount_amount_cents - (credited.get(lineId) ?? 0);
      if (cents > BigInt(left)) {
        throw new BillfoldError(
          'VALIDATION_ERROR',
          `items: ${formatMinor(cents, currency)} ${currency} is more than the ${formatMinor(left, currency)} ${currency} left to credit on line '${line.description}'`,
          {
            issues: [{ field: 'items', message: 'exceeds what is left to credit' }],
            invoice_line_id: lineId,
            creditable_amount_cents: left,
          },
          `Credit at most ${formatMinor(left, currency)} (before tax) on this line.`,
        );
      }
      items.push({ invoice_line_id: lineId, description: line.description, amount_cents: Number(cents) });
      creditItems.push({
        amount_cents: cents,
        taxes: (JSON.parse(line.taxes) as Array<{ code: string; name: string; rate: string }>).map((t) => ({
          code: t.code,
          name: t.name,
          rate: Decimal.parse(t.rate),
        })),
      });
    }
    totals = computeCreditItems(creditItems);
  } else {
    const gross = toCents(input.amount!, currency, 'amount');
    totals = splitGrossCredit(gross, {
      total_amount_cents: BigInt(invoice.total_amount_cents),
      taxes_amount_cents: BigInt(invoice.taxes_amount_cents),
      tax_breakdown: (JSON.parse(invoice.tax_breakdown) as StoredTaxLine[]).map((t) => ({
        ...t,
        taxable_amount_cents: BigInt(t.taxable_amount_cents),
        amount_cents: BigInt(t.amount_cents),
      })),
    });
    items = [
      {
        invoice_line_id: null,
        description: input.description ?? 'Credit',
        amount_cents: Number(totals.sub_total_amount_cents),
      },
    ];
  }
  const total = Number(totals.total_amount_cents);
  const limit =
    input.type === 'credit'
      ? invoice.amount_due_cents
      : invoice.amount_paid_cents - invoice.refunded_amount_cents;
  if (total > limit) {
    const what = input.type === 'credit' ? 'still due' : 'paid and not yet refunded';
    throw new BillfoldError(
      'VALIDATION_ERROR',
      `${input.amount !== undefined ? 'amount' : 'items'}: a ${input.type} of ${formatMinor(total, currency)} ${currency} is more than the ${formatMinor(limit, currency)} ${currency} ${what} on invoice ${invoice.number}`,
      {
        issues: [
          { field: input.amount !== undefined ? 'amount' : 'items', message: `exceeds the ${what} amount` },
        ],
        limit_cents: limit,
      },
      input.type === 'credit'
        ? 'A credit reduces what is due; for money already received, use type refund.'
        : 'A refund gives back what was paid; to reduce what is still due, use type credit.',
    );
  }
  const now = ctx.now();
  const sequence = notes.length + 1;
  const row: CreditNotesTable = {
    id: newId('credit_note', now),
    organization_id: ctx.organizationId,
    invoice_id: invoice.id,
    customer_id: invoice.customer_id,
    number: formatCreditNoteNumber(invoice.number!, sequence),
    sequence,
    credit_note_type: input.type,
    reason: input.reason,
    description: input.description ?? null,
    status: 'finalized',
    currency,
    sub_total_amount_cents: Number(totals.sub_total_amount_cents),
    taxes_amount_cents: Number(totals.taxes_amount_cents),
    total_amount_cents: total,
    items: JSON.stringify(items),
    tax_breakdown: JSON.stringify(
      totals.tax_breakdown.map((t: TaxLine) => ({
        ...t,
        taxable_amount_cents: Number(t.taxable_amount_cents),
        amount_cents: Number(t.amount_cents),
      })),
    ),
    issued_at: now,
    voided_at: null,
    created_at: now,
    updated_at: now,
  };
  await ctx.db.insertInto('credit_notes').values(row).execute();
  await recordCreditNoteChange(ctx, invoice.invoice_type, null, row);
  await applyToInvoice(ctx, invoice, row, +1);
  await recordActivity(ctx, {
    type: 'credit_note.created',
    resourceType: 'credit_note',
    resourceId: row.id,
    customerId: row.customer_id,
    changes: {
      number: row.number,
      invoice_id: invoice.id,
      type: row.credit_note_type,
      reason: row.reason,
      total_amount_cents: total,
    },
  });
  return { credit_note: creditNoteView(row, invoice.number), invoice: await getInvoice(ctx, invoice.id) };
}

/** Adds (+1) or takes back (−1) a note's effect on its invoice's balances. */
async function applyToInvoice(
  ctx: ServiceContext,
  invoice: InvoicesTable,
  note: CreditNotesTable,
  sign: 1 | -1,
): Promise<void> {
  const next = { ...invoice };
  if (note.credit_note_type === 'credit') {
    next.credited_amount_cents += sign * note.total_amount_cents;
    next.amount_due_cents -= sign * note.total_amount_cents;
  } else next.refunded_amount_cents += sign * note.total_amount_cents;
  if (next.status === 'finalized') {
    if (next.amount_due_cents === 0 && next.payment_status !== 'succeeded') {
      next.payment_status = 'succeeded';
      next.paid_at = ctx.now();
    } else if (next.amount_due_cents > 0 && next.payment_status === 'succeeded') {
      next.payment_status = 'pending';
      next.paid_at = null;
    }
  }
  await ctx.db
    .updateTable('invoices')
    .set({
      credited_amount_cents: next.credited_amount_cents,
      refunded_amount_cents: next.refunded_amount_cents,
      amount_due_cents: next.status === 'voided' ? 0 : next.amount_due_cents,
      payment_status: next.payment_status,
      paid_at: next.paid_at,
      updated_at: ctx.now(),
    })
    .where('id', '=', invoice.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  await recordInvoiceChange(ctx, invoice, {
    ...next,
    amount_due_cents: next.status === 'voided' ? 0 : next.amount_due_cents,
  });
}

async function resolveCreditNote(ctx: ServiceContext, ref: string): Promise<CreditNotesTable> {
  const row = await ctx.db
    .selectFrom('credit_notes')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where((eb) => (looksLikeId('credit_note', ref) ? eb('id', '=', ref) : eb('number', '=', ref)))
    .executeTakeFirst();
  if (!row) {
    throw new BillfoldError(
      'NOT_FOUND',
      `credit_note_id: no credit note has the id or number '${ref}'`,
      { resource: 'credit_note', field: 'credit_note_id', ref },
      'list_credit_notes with invoice_id shows the notes of an invoice.',
    );
  }
  return row;
}

async function invoiceNumber(ctx: ServiceContext, id: string): Promise<string | null> {
  const r = await ctx.db
    .selectFrom('invoices')
    .select('number')
    .where('id', '=', id)
    .where('organization_id', '=', ctx.organizationId)
    .executeTakeFirst();
  return r?.number ?? null;
}

export async function getCreditNote(ctx: ServiceContext, ref: string): Promise<CreditNoteView> {
  const row = await resolveCreditNote(ctx, ref);
  return creditNoteView(row, await invoiceNumber(ctx, row.invoice_id));
}

export async function voidCreditNote(
  ctx: ServiceContext,
  ref: string,
): Promise<{ credit_note: CreditNoteView; invoice: InvoiceView }> {
  const found = await resolveCreditNote(ctx, ref);
  const invoice = await resolveInvoice(ctx, found.invoice_id, { lock: true });
  const row = await resolveCreditNote(ctx, found.id);
  if (row.status === 'voided') {
    throw new BillfoldError(
      'INVALID_STATUS',
      `credit note ${row.number} is already voided`,
      { credit_note_id: row.id, status: row.status },
      'Nothing to do.',
    );
  }
  const now = ctx.now();
  const next: CreditNotesTable = { ...row, status: 'voided', voided_at: now, updated_at: now };
  await ctx.db
    .updateTable('credit_notes')
    .set({ status: 'voided', voided_at: now, updated_at: now })
    .where('id', '=', row.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  await recordCreditNoteChange(ctx, invoice.invoice_type, row, next);
  await applyToInvoice(ctx, invoice, row, -1);
  await recordActivity(ctx, {
    type: 'credit_note.voided',
    resourceType: 'credit_note',
    resourceId: row.id,
    customerId: row.customer_id,
    changes: { status: ['finalized', 'voided'] },
  });
  return { credit_note: creditNoteView(next, invoice.number), invoice: await getInvoice(ctx, invoice.id) };
}

export async function listCreditNotes(
  ctx: ServiceContext,
  f: {
    invoice_id?: string;
    customer_id?: string;
    status?: 'finalized' | 'voided';
    type?: CreditNoteType;
    reason?: CreditNoteReason;
  },
  page: PageRequest,
): Promise<{ credit_notes: CreditNoteView[]; pagination: Pagination }> {
  let q = ctx.db
    .selectFrom('credit_notes')
    .innerJoin('invoices', 'invoices.id', 'credit_notes.invoice_id')
    .where('credit_notes.organization_id', '=', ctx.organizationId);
  if (f.invoice_id) q = q.where('credit_notes.invoice_id', '=', (await resolveInvoice(ctx, f.invoice_id)).id);
  if (f.customer_id) {
    const c = await findCustomer(ctx, f.customer_id);
    const id = c?.id ?? (looksLikeId('customer', f.customer_id) ? f.customer_id : undefined);
    if (!id) await resolveCustomer(ctx, f.customer_id);
    q = q.where('credit_notes.customer_id', '=', id!);
  }
  if (f.status) q = q.where('credit_notes.status', '=', f.status);
  if (f.type) q = q.where('credit_notes.credit_note_type', '=', f.type);
  if (f.reason) q = q.where('credit_notes.reason', '=', f.reason);
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll('credit_notes')
    .select('invoices.number as invoice_number')
    .orderBy('credit_notes.id', 'desc')
    .limit(page.per_page)
    .offset(pageOffset(page))
    .execute();
  return {
    credit_notes: rows.map(({ invoice_number, ...r }) => creditNoteView(r, invoice_number)),
    pagination: pagination(page, Number(count)),
  };
}
