import { sql } from 'kysely';
import type { CustomersTable, InvoiceLinesTable, InvoicesTable } from '../db/schema.js';
import { insertRows } from '../db/bulk.js';
import { prepared } from '../db/prepared.js';
import { Decimal } from '../domain/decimal.js';
import { BillfoldError, validation } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { fromMinor } from '../domain/money.js';
import type { DiscountInput, TaxRate } from '../domain/invoice-math.js';
import { counterNames, formatInvoiceNumber, type InvoiceNumbering } from '../domain/numbering.js';
import { addDaysToDate, dateInZone, startOfDayInZone } from '../domain/time.js';
import { recordActivities, recordActivity, type ActivityInput } from './activity.js';
import type { ServiceContext } from './context.js';
import { displayName, onCustomerDeletion, resolveCustomer, upsertCustomer } from './customers.js';
import {
  addressLines,
  customerParty,
  invoiceView,
  type BillingSnapshot,
  type CustomerSummary,
  type InvoiceType,
  type InvoiceView,
} from './invoice-views.js';
import { releaseRedemptions } from './billing/coupon-ledger.js';
import { priceInvoice, resolveLines, searchText } from './invoice-lines.js';
import { drawFromWallets, releaseForInvoice } from './wallets/ledger.js';
import { recordInvoiceChange } from './finance/totals.js';
import { findNumbered } from './numbered-documents.js';
export { batchGetInvoices, listInvoices, type InvoiceListFilter } from './invoice-lists.js';

/**
 * Invoices: drafts that can change, finalized invoices that cannot (except metadata), voided
 * ones. `createInvoice` is the one way an invoice comes to exist — the create_invoice tool and
 * the billing of subscriptions and usage both call it with lines, discounts and a type.
 */

/** A point in time given either as a calendar date (in the organization's zone) or an instant. */
export type DatePoint = { date: string } | { instant: number };

export interface InvoiceLineInput {
  /** A product's code or id: fills description, unit_amount, unit_label and taxes unless given. */
  product_code?: string;
  description?: string;
  /** Default 1. */
  quantity?: Decimal;
  unit_amount?: Decimal;
  unit_label?: string | null;
  /** The line's taxes by code; [] for none. Absent: the product's, customer's or organization's. */
  tax_codes?: string[];
  /** Taxes already resolved (billing runs); wins over tax_codes. */
  taxes?: TaxRate[];
  /** The billing period the line covers, epoch ms. */
  from?: number | null;
  to?: number | null;
  charge_id?: string | null;
  /** Anything the caller wants kept with the line (units, the charge's pricing). */
  details?: Record<string, unknown> | null;
  /**
   * The line was agreed before now (an order line): its product may have been archived since,
   * which stops new lines naming it, not the billing of what was already sold.
   */
  agreed?: boolean;
}

export interface CreateInvoiceInput {
  /** The new invoice's id, when the caller wrote it elsewhere first (a run's ledger rows). */
  id?: string;
  customer: CustomersTable;
  currency?: string;
  lines: InvoiceLineInput[];
  discounts?: DiscountInput[];
  invoice_type?: InvoiceType;
  issued_at?: DatePoint | null;
  due_at?: DatePoint | null;
  net_payment_term?: number | null;
  /** Default draft. Billing runs pass the organization's choice (finalize_invoices). */
  status?: 'draft' | 'finalized';
  external_id?: string | null;
  memo?: string | null;
  metadata?: Record<string, string>;
  subscription_id?: string | null;
  /** The sales order the invoice bills (invoice_order). */
  order_id?: string | null;
}

export interface LoadedInvoice {
  row: InvoicesTable;
  lines: InvoiceLinesTable[];
}

// ---------------------------------------------------------------------------------------------
// Creating and finalizing

export function assertInvoiceable(customer: CustomersTable, field = 'customer_id'): void {
  if (customer.status === 'disabled') {
    throw new BillfoldError(
      'INVALID_STATUS',
      `${field}: customer '${customer.external_id ?? customer.id}' is disabled and cannot be invoiced`,
      { field, customer_id: customer.id, status: customer.status },
      'Activate the customer first with activate_customer.',
    );
  }
}

async function insertLines(ctx: ServiceContext, lines: InvoiceLinesTable[]): Promise<void> {
  await insertRows(ctx.db, ctx.dialect, 'invoice_lines', lines);
}

/**
 * Creates an invoice from lines and discounts, as a draft or finalized (numbered) at once. The
 * caller has resolved the customer; idempotency by external_id is the caller's business.
 */
export async function createInvoice(ctx: ServiceContext, input: CreateInvoiceInput): Promise<LoadedInvoice> {
  assertInvoiceable(input.customer);
  const org = await ctx.organization();
  const currency = input.currency ?? input.customer.currency ?? org.default_currency;
  const resolved = await resolveLines(ctx, input.customer, currency, input.lines);
  const now = ctx.now();
  const row: InvoicesTable = {
    id: input.id ?? newId('invoice', now),
    organization_id: ctx.organizationId,
    customer_id: input.customer.id,
    external_id: input.external_id ?? null,
    number: null,
    sequence: null,
    invoice_type: input.invoice_type ?? 'one_off',
    status: 'draft',
    payment_status: 'pending',
    currency,
    issued_at: null,
    issuing_date: null,
    due_at: null,
    due_date: null,
    net_payment_term: input.net_payment_term ?? null,
    sub_total_amount_cents: 0,
    coupons_amount_cents: 0,
    taxes_amount_cents: 0,
    total_amount_cents: 0,
    amount_paid_cents: 0,
    credited_amount_cents: 0,
    refunded_amount_cents: 0,
    amount_due_cents: 0,
    prepaid_credit_amount_cents: 0,
    tax_breakdown: '[]',
    discounts: '[]',
    billing_snapshot: null,
    memo: input.memo ?? null,
    metadata: JSON.stringify(input.metadata ?? {}),
    search_text: '',
    subscription_id: input.subscription_id ?? null,
    order_id: input.order_id ?? null,
    sent_count: 0,
    last_sent_at: null,
    finalized_at: null,
    voided_at: null,
    void_reason: null,
    paid_at: null,
    created_at: now,
    updated_at: now,
  };
  setDates(row, org.timezone, input.issued_at, input.due_at);
  checkDates(row);
  const lines = priceInvoice(row, resolved, input.discounts ?? []);
  // Without an external_id nothing can collide, so a finalized invoice is numbered before its
  // single insert; with one, the draft goes in first so a lost race never consumes a number.
  const finalizeFirst = input.status === 'finalized' && !row.external_id;
  if (finalizeFirst) await applyFinalization(ctx, row, input.customer);
  row.search_text = searchText(row, input.customer, lines);
  if (row.external_id) {
    const inserted = await ctx.db
      .insertInto('invoices')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['organization_id', 'external_id']).where('external_id', 'is not', null).doNothing(),
      )
      .returning('id')
      .executeTakeFirst();
    if (!inserted) {
      throw new BillfoldError(
        'CONFLICT',
        `external_id: another request created an invoice with external_id '${row.external_id}' at the same moment`,
        { field: 'external_id', value: row.external_id },
        'Retry: the retry returns that invoice.',
      );
    }
  } else {
    await insertRows(ctx.db, ctx.dialect, 'invoices', [row]);
  }
  await insertLines(ctx, lines);
  if (finalizeFirst) await recordInvoiceChange(ctx, null, row);
  const created = {
    type: 'invoice.created',
    resourceType: 'invoice',
    resourceId: row.id,
    customerId: row.customer_id,
    externalCustomerId: input.customer.external_id,
    changes: {
      invoice_type: row.invoice_type,
      currency,
      total_amount_cents: row.total_amount_cents,
      lines: lines.length,
      ...(row.external_id ? { external_id: row.external_id } : {}),
    },
  };
  if (finalizeFirst) await recordActivities(ctx, [created, finalizedActivity(row, input.customer)]);
  else await recordActivity(ctx, created);
  if (!finalizeFirst && input.status === 'finalized')
    return finalizeLoaded(ctx, { row, lines }, input.customer);
  return { row, lines };
}

/** Issue date and due date, from what was given, the customer's or organization's term. */
function setDates(
  row: InvoicesTable,
  timezone: string,
  issued?: DatePoint | null,
  due?: DatePoint | null,
): void {
  if (issued !== undefined) {
    if (issued === null) {
      row.issued_at = null;
      row.issuing_date = null;
    } else if ('date' in issued) {
      row.issuing_date = issued.date;
      row.issued_at = startOfDayInZone(issued.date, timezone);
    } else {
      row.issued_at = issued.instant;
      row.issuing_date = dateInZone(issued.instant, timezone);
    }
  }
  if (due !== undefined) {
    if (due === null) {
      row.due_at = null;
      row.due_date = null;
    } else if ('date' in due) {
      row.due_date = due.date;
      row.due_at = endOfDay(due.date, timezone);
    } else {
      row.due_at = due.instant;
      row.due_date = dateInZone(due.instant, timezone);
    }
  }
}

/** An invoice cannot fall due before it is issued. */
function checkDates(row: InvoicesTable): void {
  if (row.issuing_date && row.due_date && row.due_date < row.issuing_date) {
    throw validation(
      'due_at',
      `the due date ${row.due_date} is before the issue date ${row.issuing_date}`,
      'Give a due date on or after the issue date, or leave due_at out to use the payment term.',
    );
  }
}

/** The last millisecond of a calendar day in a zone: an invoice due on a date is due all that day. */
function endOfDay(date: string, timezone: string): number {
  return startOfDayInZone(addDaysToDate(date, 1), timezone) - 1;
}

/** Counters are incremented inside the caller's transaction; a rollback gives the value back. */
export async function nextCounter(ctx: ServiceContext, name: string): Promise<number> {
  const [r] = await incrementCounter(ctx.db, { org: ctx.organizationId, name });
  return Number(r!.value);
}

/** Once per finalized invoice: compiled once. */
const incrementCounter = prepared((db, p: { org: string; name: string }) =>
  db
    .insertInto('counters')
    .values({ organization_id: p.org, name: p.name, value: 1 })
    .onConflict((oc) =>
      oc.columns(['organization_id', 'name']).doUpdateSet({ value: sql<number>`counters.value + 1` }),
    )
    .returning('value'),
);

async function customerNumber(ctx: ServiceContext, customerId: string): Promise<number> {
  const name = counterNames.customerNumber(customerId);
  const existing = await ctx.db
    .selectFrom('counters')
    .select('value')
    .where('organization_id', '=', ctx.organizationId)
    .where('name', '=', name)
    .executeTakeFirst();
  if (existing) return Number(existing.value);
  const n = await nextCounter(ctx, counterNames.customers);
  await ctx.db
    .insertInto('counters')
    .values({ organization_id: ctx.organizationId, name, value: n })
    .execute();
  return n;
}

/** Numbers the draft in memory and freezes its dates, terms and billing details. */
async function applyFinalization(
  ctx: ServiceContext,
  row: InvoicesTable,
  customer: CustomersTable,
): Promise<void> {
  const org = await ctx.organization();
  const now = ctx.now();
  if (row.issued_at === null) {
    setDates(row, org.timezone, { instant: now }, undefined);
    checkDates(row);
  }
  if (row.due_at === null) {
    const term = row.net_payment_term ?? customer.net_payment_term ?? org.net_payment_term;
    row.net_payment_term = term;
    setDates(row, org.timezone, undefined, { date: addDaysToDate(row.issuing_date!, term) });
  }
  const numbering = org.invoice_numbering as InvoiceNumbering;
  const sequence = await nextCounter(
    ctx,
    numbering === 'per_customer' ? counterNames.customerInvoices(customer.id) : counterNames.invoices,
  );
  row.sequence = sequence;
  row.number = formatInvoiceNumber({
    prefix: org.invoice_prefix,
    numbering,
    issuingDate: row.issuing_date!,
    sequence,
    customerNumber: numbering === 'per_customer' ? await customerNumber(ctx, customer.id) : undefined,
  });
  const snapshot: BillingSnapshot = {
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
  row.billing_snapshot = JSON.stringify(snapshot);
  row.status = 'finalized';
  row.finalized_at = now;
  row.updated_at = now;
  row.amount_due_cents = row.total_amount_cents;
  if (row.total_amount_cents === 0) {
    row.payment_status = 'succeeded';
    row.paid_at = now;
  }
  // Prepaid credits pay what is due once the total is final: after coupons and taxes.
  await drawFromWallets(ctx, row);
}

function finalizedActivity(row: InvoicesTable, customer: CustomersTable): ActivityInput {
  return {
    type: 'invoice.finalized',
    resourceType: 'invoice',
    resourceId: row.id,
    customerId: row.customer_id,
    externalCustomerId: customer.external_id,
    changes: {
      status: ['draft', 'finalized'],
      number: [null, row.number],
      total_amount_cents: row.total_amount_cents,
    },
  };
}

async function finalizeLoaded(
  ctx: ServiceContext,
  inv: LoadedInvoice,
  customer?: CustomersTable,
): Promise<LoadedInvoice> {
  const row = { ...inv.row };
  const cust = customer ?? (await customerRow(ctx, row.customer_id));
  assertInvoiceable(cust);
  await applyFinalization(ctx, row, cust);
  row.search_text = searchText(row, cust, inv.lines);
  const result = await ctx.db
    .updateTable('invoices')
    .set({
      number: row.number,
      sequence: row.sequence,
      status: row.status,
      payment_status: row.payment_status,
      issued_at: row.issued_at,
      issuing_date: row.issuing_date,
      due_at: row.due_at,
      due_date: row.due_date,
      net_payment_term: row.net_payment_term,
      billing_snapshot: row.billing_snapshot,
      amount_due_cents: row.amount_due_cents,
      prepaid_credit_amount_cents: row.prepaid_credit_amount_cents ?? 0,
      finalized_at: row.finalized_at,
      paid_at: row.paid_at,
      search_text: row.search_text,
      updated_at: row.updated_at,
    })
    .where('id', '=', row.id)
    .where('organization_id', '=', ctx.organizationId)
    .where('status', '=', 'draft')
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) {
    throw new BillfoldError(
      'CONFLICT',
      `invoice ${row.id} changed while it was being finalized`,
      { invoice_id: row.id },
      'Retry.',
    );
  }
  await recordInvoiceChange(ctx, inv.row, row);
  await recordActivity(ctx, finalizedActivity(row, cust));
  return { row, lines: inv.lines };
}

// ---------------------------------------------------------------------------------------------
// Finding

async function customerRow(ctx: ServiceContext, id: string): Promise<CustomersTable> {
  return ctx.db
    .selectFrom('customers')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

/** Finds an invoice by Billfold id, number or external_id (see findNumbered). */
export function findInvoice(
  ctx: ServiceContext,
  ref: string,
  lock = false,
): Promise<InvoicesTable | undefined> {
  return findNumbered(ctx, 'invoices', 'invoice', ref, lock);
}

export async function resolveInvoice(
  ctx: ServiceContext,
  ref: string,
  options: { lock?: boolean; field?: string } = {},
): Promise<InvoicesTable> {
  const row = await findInvoice(ctx, ref, options.lock);
  if (!row) {
    const field = options.field ?? 'invoice_id';
    throw new BillfoldError(
      'NOT_FOUND',
      `${field}: no invoice has the id, number or external_id '${ref}'`,
      { resource: 'invoice', field, ref },
      'Pass the Billfold id (inv_…), the invoice number (e.g. INV-202604-0001) or your external_id; search_invoices finds any of them.',
    );
  }
  return row;
}

export async function loadLines(
  ctx: ServiceContext,
  invoiceIds: readonly string[],
): Promise<Map<string, InvoiceLinesTable[]>> {
  const map = new Map<string, InvoiceLinesTable[]>();
  if (invoiceIds.length === 0) return map;
  const rows = await ctx.db
    .selectFrom('invoice_lines')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('invoice_id', 'in', invoiceIds)
    .orderBy('invoice_id')
    .orderBy('position')
    .execute();
  for (const r of rows) {
    let list = map.get(r.invoice_id);
    if (!list) map.set(r.invoice_id, (list = []));
    list.push(r);
  }
  return map;
}

async function loadInvoice(ctx: ServiceContext, ref: string, lock = false): Promise<LoadedInvoice> {
  const row = await resolveInvoice(ctx, ref, { lock });
  const lines = (await loadLines(ctx, [row.id])).get(row.id) ?? [];
  return { row, lines };
}

/**
 * Customer summaries for views: the frozen snapshot when finalized, the live row for drafts;
 * and for drafts the customer's payment term, from which a draft's due date is foreseen.
 */
async function customerSummaries(
  ctx: ServiceContext,
  rows: readonly InvoicesTable[],
): Promise<{ summaries: Map<string, CustomerSummary>; terms: Map<string, number | null> }> {
  const out = new Map<string, CustomerSummary>();
  const terms = new Map<string, number | null>();
  const live = [...new Set(rows.filter((r) => !r.billing_snapshot).map((r) => r.customer_id))];
  const customers = live.length
    ? await ctx.db
        .selectFrom('customers')
        .selectAll()
        .where('organization_id', '=', ctx.organizationId)
        .where('id', 'in', live)
        .execute()
    : [];
  const byId = new Map(customers.map((c) => [c.id, c]));
  for (const r of rows) {
    if (r.billing_snapshot) {
      const s = (JSON.parse(r.billing_snapshot) as BillingSnapshot).customer;
      out.set(r.id, { id: s.id, external_id: s.external_id, name: s.name, email: s.email });
    } else {
      const c = byId.get(r.customer_id);
      terms.set(r.id, c?.net_payment_term ?? null);
      out.set(r.id, {
        id: r.customer_id,
        external_id: c?.external_id ?? null,
        name: c ? displayName(c) : r.customer_id,
        email: c?.email ?? null,
      });
    }
  }
  return { summaries: out, terms };
}

export async function viewsOf(ctx: ServiceContext, loaded: readonly LoadedInvoice[]): Promise<InvoiceView[]> {
  const { summaries, terms } = await customerSummaries(
    ctx,
    loaded.map((l) => l.row),
  );
  const now = ctx.now();
  const views = loaded.map((l) => invoiceView(l.row, l.lines, summaries.get(l.row.id)!, now));
  // A draft shows the due date it will get, as Lago's drafts do: its issue date (today when it
  // has none) plus the payment term finalization would use (the invoice's, else the
  // customer's, else the organization's). Nothing is stored: finalization sets the real one.
  const drafts = views.filter((v) => v.status === 'draft' && v.due_date === null);
  if (drafts.length) {
    const org = await ctx.organization();
    const today = dateInZone(now, org.timezone);
    for (const v of drafts) {
      const term = v.net_payment_term ?? terms.get(v.id) ?? org.net_payment_term;
      v.net_payment_term = term;
      v.due_date = addDaysToDate(v.issuing_date ?? today, term);
    }
  }
  return views;
}

export async function viewOf(ctx: ServiceContext, loaded: LoadedInvoice): Promise<InvoiceView> {
  return (await viewsOf(ctx, [loaded]))[0]!;
}

export async function getInvoice(ctx: ServiceContext, ref: string): Promise<InvoiceView> {
  return viewOf(ctx, await loadInvoice(ctx, ref));
}

export async function getInvoiceForDocument(ctx: ServiceContext, ref: string): Promise<LoadedInvoice> {
  return loadInvoice(ctx, ref);
}

// ---------------------------------------------------------------------------------------------
// The create_invoice tool

export interface CreateInvoiceRequest {
  customer_id?: string;
  customer_name?: string;
  customer_email?: string;
  currency?: string;
  lines?: InvoiceLineInput[];
  amount?: Decimal;
  description?: string;
  discounts?: DiscountInput[];
  issued_at?: DatePoint;
  due_at?: DatePoint;
  net_payment_term?: number;
  status?: 'draft' | 'finalized';
  external_id?: string;
  memo?: string;
  metadata?: Record<string, string>;
}

/** How create_invoice found its customer: named by id, found inline by email or name, or made. */
type CustomerMatch = 'customer_id' | 'email' | 'name' | 'created';

async function customerForRequest(
  ctx: ServiceContext,
  req: CreateInvoiceRequest,
): Promise<{ customer: CustomersTable; match: CustomerMatch }> {
  if (req.customer_id) {
    if (req.customer_name || req.customer_email) {
      throw validation(
        'customer_id',
        'give either customer_id or customer_name/customer_email, not both',
        'customer_id names an existing customer; customer_name and customer_email find or create one.',
      );
    }
    return { customer: await resolveCustomer(ctx, req.customer_id), match: 'customer_id' };
  }
  if (!req.customer_name && !req.customer_email) {
    throw validation(
      'customer_id',
      'is required: give customer_id, or customer_name (and customer_email) for a one-off customer',
      'list_customers finds existing customers.',
    );
  }
  const live = () =>
    ctx.db
      .selectFrom('customers')
      .selectAll()
      .where('organization_id', '=', ctx.organizationId)
      .where('deleted_at', 'is', null);
  if (req.customer_email) {
    // The customer with this email — the one with the same name too, when several share it.
    const byEmail = await live()
      .where(sql<boolean>`lower(email) = ${req.customer_email.toLowerCase()}`)
      .orderBy('id')
      .limit(20)
      .execute();
    const found = byEmail.find((c) => c.name === req.customer_name) ?? byEmail[0];
    if (found) return { customer: found, match: 'email' };
  } else {
    // A name alone names the customer of exactly that name, so repeating a one-off call does
    // not make a new customer each time.
    const byName = await live().where('name', '=', req.customer_name!).orderBy('id').executeTakeFirst();
    if (byName) return { customer: byName, match: 'name' };
  }
  const { customer } = await upsertCustomer(ctx, {
    name: req.customer_name ?? null,
    email: req.customer_email ?? null,
  });
  return { customer: await resolveCustomer(ctx, customer.id), match: 'created' };
}

/** Says which customer an inline customer_name/customer_email led to. */
function customerNote(
  customer: CustomersTable,
  match: CustomerMatch,
  req: CreateInvoiceRequest,
): string | undefined {
  const who = `${customer.id} (${displayName(customer)})`;
  if (match === 'email')
    return `Invoiced the existing customer ${who}, found by its email ${customer.email}.`;
  if (match === 'name') return `Invoiced the existing customer ${who}, found by its exact name.`;
  if (match === 'created')
    return `Created the customer ${who}: no customer had ${req.customer_email ? `the email ${req.customer_email}` : `the name '${req.customer_name}'`}.`;
  return undefined;
}

function requestLines(req: CreateInvoiceRequest, required: boolean): InvoiceLineInput[] | undefined {
  if (req.lines && req.amount !== undefined) {
    throw validation('amount', 'give either lines or amount (with description), not both');
  }
  if (req.amount !== undefined) {
    return [{ description: req.description ?? 'Services', quantity: Decimal.ONE, unit_amount: req.amount }];
  }
  if (req.description !== undefined && !req.lines) {
    throw validation('amount', 'is required with description (or give lines instead)');
  }
  if (!req.lines && required) {
    throw validation('lines', 'is required: give lines, or a single amount with a description');
  }
  return req.lines;
}

export async function createInvoiceFromRequest(
  ctx: ServiceContext,
  req: CreateInvoiceRequest,
): Promise<{ invoice: InvoiceView; created: boolean; customer_created?: boolean; note?: string }> {
  if (req.external_id) {
    const existing = await ctx.db
      .selectFrom('invoices')
      .selectAll()
      .where('organization_id', '=', ctx.organizationId)
      .where('external_id', '=', req.external_id)
      .$if(ctx.dialect === 'postgres', (q) => q.forUpdate())
      .executeTakeFirst();
    if (existing) {
      if (req.customer_id || req.customer_email) {
        const { customer } = await customerForRequest(ctx, req);
        if (customer.id !== existing.customer_id) {
          throw new BillfoldError(
            'CONFLICT',
            `external_id: '${req.external_id}' already belongs to invoice ${existing.id} of another customer`,
            { field: 'external_id', value: req.external_id, invoice_id: existing.id },
            'Use another external_id for this customer.',
          );
        }
      }
      if (existing.status !== 'draft') {
        const invoice = await getInvoice(ctx, existing.id);
        return {
          invoice,
          created: false,
          note: `An invoice with external_id '${req.external_id}' already exists and is ${existing.status} (${existing.number}); it was returned unchanged.`,
        };
      }
      const updated = await updateDraft(ctx, existing, { ...req, lines: requestLines(req, false) });
      const final = req.status === 'finalized' ? await finalizeLoaded(ctx, updated) : updated;
      return {
        invoice: await viewOf(ctx, final),
        created: false,
        note: `An invoice with external_id '${req.external_id}' already existed as a draft; it was updated${req.status === 'finalized' ? ' and finalized' : ''}.`,
      };
    }
  }
  const { customer, match } = await customerForRequest(ctx, req);
  const loaded = await createInvoice(ctx, {
    customer,
    currency: req.currency,
    lines: requestLines(req, true)!,
    discounts: req.discounts,
    issued_at: req.issued_at,
    due_at: req.due_at,
    net_payment_term: req.net_payment_term,
    status: req.status ?? 'draft',
    external_id: req.external_id,
    memo: req.memo,
    metadata: req.metadata,
  });
  const note = customerNote(customer, match, req);
  return {
    invoice: await viewOf(ctx, loaded),
    created: true,
    ...(match !== 'customer_id' ? { customer_created: match === 'created' } : {}),
    ...(note ? { note } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Changing

export interface UpdateInvoiceRequest {
  customer_id?: string;
  currency?: string;
  lines?: InvoiceLineInput[];
  discounts?: DiscountInput[];
  issued_at?: DatePoint | null;
  due_at?: DatePoint | null;
  net_payment_term?: number | null;
  memo?: string | null;
  metadata?: Record<string, string>;
}

async function updateDraft(
  ctx: ServiceContext,
  before: InvoicesTable,
  req: UpdateInvoiceRequest,
): Promise<LoadedInvoice> {
  const org = await ctx.organization();
  if (before.order_id) {
    // The order keeps which quantities this draft bills; changing them here would let the
    // order and its invoices disagree.
    const fields = (['lines', 'customer_id', 'currency'] as const).filter(
      (f) => req[f] !== undefined && !(f !== 'lines' && req[f] === before[f]),
    );
    if (fields.length) {
      throw new BillfoldError(
        'INVALID_STATUS',
        `invoice ${before.id} bills a sales order: its ${fields.join(', ')} follow the order and cannot change here`,
        { invoice_id: before.id, order_id: before.order_id, fields },
        'Delete this draft (delete_invoice) and call invoice_order again with the quantities you want; discounts, dates, memo and metadata can change here.',
      );
    }
  }
  const row: InvoicesTable = { ...before };
  let customer: CustomersTable | undefined;
  if (req.customer_id) {
    customer = await resolveCustomer(ctx, req.customer_id);
    assertInvoiceable(customer);
    row.customer_id = customer.id;
  }
  customer ??= await customerRow(ctx, row.customer_id);
  if (req.currency && req.currency !== row.currency && !req.lines) {
    throw validation(
      'lines',
      `are required to change the currency from ${row.currency} to ${req.currency}`,
      'Give the lines with their prices in the new currency.',
    );
  }
  if (req.currency) row.currency = req.currency;
  setDates(row, org.timezone, req.issued_at, req.due_at);
  checkDates(row);
  if (req.net_payment_term !== undefined) row.net_payment_term = req.net_payment_term;
  if (req.memo !== undefined) row.memo = req.memo;
  if (req.metadata !== undefined) row.metadata = JSON.stringify(req.metadata);
  let lines = (await loadLines(ctx, [row.id])).get(row.id) ?? [];
  const changes: Record<string, unknown> = {};
  if (req.lines || req.discounts || req.customer_id) {
    const inputs: InvoiceLineInput[] =
      req.lines ??
      lines.map((l) => ({
        product_code: undefined,
        description: l.description,
        quantity: Decimal.parse(l.quantity),
        unit_amount: Decimal.parse(l.unit_amount),
        unit_label: l.unit_label,
        taxes: (JSON.parse(l.taxes) as Array<{ code: string; name: string; rate: string }>).map((t) => ({
          code: t.code,
          name: t.name,
          rate: Decimal.parse(t.rate),
        })),
        from: l.from_at,
        to: l.to_at,
        charge_id: l.charge_id,
        details: l.details ? (JSON.parse(l.details) as Record<string, unknown>) : null,
      }));
    const discounts: DiscountInput[] =
      req.discounts ??
      (
        JSON.parse(before.discounts) as Array<{
          description: string;
          coupon_code: string | null;
          percentage: string | null;
          amount_cents: number;
        }>
      ).map((d) =>
        d.percentage !== null
          ? {
              description: d.description,
              coupon_code: d.coupon_code,
              percentage: Decimal.parse(d.percentage),
            }
          : {
              description: d.description,
              coupon_code: d.coupon_code,
              amount: fromMinor(d.amount_cents, before.currency),
            },
      );
    const resolved = await resolveLines(ctx, customer, row.currency, inputs);
    const oldLines = lines;
    lines = priceInvoice(row, resolved, discounts);
    if (!req.lines) {
      // Lines rebuilt from storage keep their product references.
      lines.forEach((l, i) => {
        l.product_id = oldLines[i]?.product_id ?? null;
        l.product_code = oldLines[i]?.product_code ?? null;
      });
    }
    await ctx.db
      .deleteFrom('invoice_lines')
      .where('invoice_id', '=', row.id)
      .where('organization_id', '=', ctx.organizationId)
      .execute();
    await insertLines(ctx, lines);
    changes.total_amount_cents = [before.total_amount_cents, row.total_amount_cents];
    if (req.lines) changes.lines = [oldLines.length, lines.length];
  }
  for (const f of [
    'customer_id',
    'currency',
    'issued_at',
    'due_at',
    'net_payment_term',
    'memo',
    'metadata',
  ] as const) {
    if (before[f] !== row[f]) changes[f] = [before[f], row[f]];
  }
  if (Object.keys(changes).length === 0) return { row: before, lines };
  row.search_text = searchText(row, customer, lines);
  row.updated_at = ctx.now();
  const { id, organization_id, created_at, ...settable } = row;
  void created_at;
  await ctx.db
    .updateTable('invoices')
    .set(settable)
    .where('id', '=', id)
    .where('organization_id', '=', organization_id)
    .execute();
  await recordActivity(ctx, {
    type: 'invoice.updated',
    resourceType: 'invoice',
    resourceId: row.id,
    customerId: row.customer_id,
    externalCustomerId: customer.external_id,
    changes,
  });
  return { row, lines };
}

export async function updateInvoice(
  ctx: ServiceContext,
  ref: string,
  req: UpdateInvoiceRequest,
): Promise<InvoiceView> {
  const row = await resolveInvoice(ctx, ref, { lock: true });
  if (row.status !== 'draft') {
    const other = Object.keys(req).filter(
      (k) => k !== 'metadata' && req[k as keyof UpdateInvoiceRequest] !== undefined,
    );
    if (other.length) {
      throw new BillfoldError(
        'INVALID_STATUS',
        `invoice ${row.number ?? row.id} is ${row.status}: only metadata can change (got ${other.join(', ')})`,
        { invoice_id: row.id, status: row.status, fields: other },
        'To correct a finalized invoice, issue a credit note (create_credit_note) or void it (void_invoice) and create a new one.',
      );
    }
    if (req.metadata !== undefined) {
      const metadata = JSON.stringify(req.metadata);
      if (metadata !== row.metadata) {
        const lines = (await loadLines(ctx, [row.id])).get(row.id) ?? [];
        const next = { ...row, metadata, updated_at: ctx.now() };
        const customer = await customerRow(ctx, row.customer_id);
        next.search_text = searchText(next, customer, lines);
        await ctx.db
          .updateTable('invoices')
          .set({ metadata, search_text: next.search_text, updated_at: next.updated_at })
          .where('id', '=', row.id)
          .where('organization_id', '=', ctx.organizationId)
          .execute();
        await recordActivity(ctx, {
          type: 'invoice.updated',
          resourceType: 'invoice',
          resourceId: row.id,
          customerId: row.customer_id,
          externalCustomerId: customer.external_id,
          changes: { metadata: [JSON.parse(row.metadata), req.metadata] },
        });
        return viewOf(ctx, { row: next, lines });
      }
    }
    return getInvoice(ctx, row.id);
  }
  return viewOf(ctx, await updateDraft(ctx, row, req));
}

function draftOnlyHint(row: InvoicesTable): string {
  return row.status === 'voided'
    ? 'A voided invoice cannot change; create a new one.'
    : 'A finalized invoice keeps its number: void_invoice cancels it, create_credit_note corrects it.';
}

export async function finalizeInvoice(
  ctx: ServiceContext,
  ref: string,
): Promise<{ invoice: InvoiceView; changed: boolean }> {
  const loaded = await loadInvoice(ctx, ref, true);
  if (loaded.row.status === 'finalized') return { invoice: await viewOf(ctx, loaded), changed: false };
  if (loaded.row.status !== 'draft') {
    throw new BillfoldError(
      'INVALID_STATUS',
      `invoice ${loaded.row.number ?? loaded.row.id} is ${loaded.row.status} and cannot be finalized`,
      { invoice_id: loaded.row.id, status: loaded.row.status },
      draftOnlyHint(loaded.row),
    );
  }
  return { invoice: await viewOf(ctx, await finalizeLoaded(ctx, loaded)), changed: true };
}

/** Finalizes a draft in the caller's transaction (send_invoice); a finalized invoice passes through. */
export async function ensureFinalized(
  ctx: ServiceContext,
  ref: string,
): Promise<LoadedInvoice & { finalizedNow: boolean }> {
  const loaded = await loadInvoice(ctx, ref, true);
  if (loaded.row.status === 'draft') return { ...(await finalizeLoaded(ctx, loaded)), finalizedNow: true };
  return { ...loaded, finalizedNow: false };
}

export async function voidInvoice(ctx: ServiceContext, ref: string, reason?: string): Promise<InvoiceView> {
  const loaded = await loadInvoice(ctx, ref, true);
  const row = loaded.row;
  if (row.status === 'draft') {
    throw new BillfoldError(
      'INVALID_STATUS',
      `invoice ${row.id} is a draft; only finalized invoices are voided`,
      { invoice_id: row.id, status: row.status },
      'Delete a draft with delete_invoice instead.',
    );
  }
  if (row.status === 'voided') {
    throw new BillfoldError(
      'INVALID_STATUS',
      `invoice ${row.number} is already voided`,
      { invoice_id: row.id, status: row.status },
      'Nothing to do; get_invoice shows when and why it was voided.',
    );
  }
  if (row.payment_status === 'succeeded' && row.amount_paid_cents > 0) {
    throw new BillfoldError(
      'INVALID_STATUS',
      `invoice ${row.number} is fully paid and cannot be voided`,
      { invoice_id: row.id, payment_status: row.payment_status },
      'Refund it with create_credit_note (type refund) instead.',
    );
  }
  const now = ctx.now();
  const next: InvoicesTable = {
    ...row,
    status: 'voided',
    voided_at: now,
    void_reason: reason ?? null,
    amount_due_cents: 0,
    updated_at: now,
  };
  await ctx.db
    .updateTable('invoices')
    .set({
      status: 'voided',
      voided_at: now,
      void_reason: next.void_reason,
      amount_due_cents: 0,
      updated_at: now,
    })
    .where('id', '=', row.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  await recordInvoiceChange(ctx, row, next);
  // A voided invoice gave the customer nothing: what it took from their coupons (an amount, a
  // period of a recurring coupon) is theirs again for the next invoice, as for a deleted draft.
  await releaseRedemptions(ctx, row.id);
  // What it drew from wallets goes back to them; a top-up it billed no longer comes.
  await releaseForInvoice(ctx, next);
  await runReleaseHooks(ctx, next);
  await recordActivity(ctx, {
    type: 'invoice.voided',
    resourceType: 'invoice',
    resourceId: row.id,
    customerId: row.customer_id,
    changes: {
      status: ['finalized', 'voided'],
      amount_due_cents: [row.amount_due_cents, 0],
      ...(reason ? { reason } : {}),
    },
  });
  return viewOf(ctx, { row: next, lines: loaded.lines });
}

export async function deleteInvoice(ctx: ServiceContext, ref: string): Promise<InvoiceView> {
  const loaded = await loadInvoice(ctx, ref, true);
  const row = loaded.row;
  if (row.status !== 'draft') {
    throw new BillfoldError(
      'INVALID_STATUS',
      `invoice ${row.number ?? row.id} is ${row.status}; only drafts can be deleted`,
      { invoice_id: row.id, status: row.status },
      row.status === 'finalized'
        ? 'A finalized invoice stays on record: void_invoice cancels it.'
        : 'A voided invoice stays on record.',
    );
  }
  const view = await viewOf(ctx, loaded);
  // A generated draft took from the customer's coupons: deleted, it gives that back, so the
  // invoice that bills its period again takes it afresh.
  await releaseRedemptions(ctx, row.id);
  await runReleaseHooks(ctx, row);
  await ctx.db
    .deleteFrom('invoice_lines')
    .where('invoice_id', '=', row.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  await ctx.db
    .deleteFrom('invoices')
    .where('id', '=', row.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  await recordActivity(ctx, {
    type: 'invoice.deleted',
    resourceType: 'invoice',
    resourceId: row.id,
    customerId: row.customer_id,
    changes: { total_amount_cents: row.total_amount_cents, lines: loaded.lines.length },
  });
  return view;
}

/**
 * Work another resource did for an invoice that must be undone when the invoice stops counting
 * (voided, or a draft deleted), in the same transaction: an order's invoiced quantities.
 */
export type InvoiceReleaseHook = (ctx: ServiceContext, invoice: InvoicesTable) => Promise<void>;
const releaseHooks: InvoiceReleaseHook[] = [];

export function onInvoiceReleased(hook: InvoiceReleaseHook): void {
  releaseHooks.push(hook);
}

async function runReleaseHooks(ctx: ServiceContext, invoice: InvoicesTable): Promise<void> {
  for (const hook of releaseHooks) await hook(ctx, invoice);
}

// A customer who still owes on a finalized invoice cannot be deleted: the debt would lose its debtor.
onCustomerDeletion(async (ctx, customer) => {
  const open = await ctx.db
    .selectFrom('invoices')
    .select(['number', 'amount_due_cents', 'currency'])
    .where('organization_id', '=', ctx.organizationId)
    .where('customer_id', '=', customer.id)
    .where('status', '=', 'finalized')
    .where('amount_due_cents', '>', 0)
    .limit(5)
    .execute();
  if (open.length) {
    throw new BillfoldError(
      'INVALID_STATUS',
      `customer '${customer.external_id ?? customer.id}' has unpaid finalized invoices (${open.map((o) => o.number).join(', ')}) and cannot be deleted`,
      { customer_id: customer.id, invoices: open.map((o) => o.number) },
      'Record their payments (mark_invoice_paid), credit or void them first — or disable_customer to stop new invoices while keeping the debt on record.',
    );
  }
});
