import { sql } from 'kysely';
import { containsText, countAll, rowsByAnyKey } from '../db/sql.js';
import type { InvoicesTable } from '../db/schema.js';
import { looksLikeId } from '../domain/ids.js';
import { pageOffset, pagination, type PageRequest, type Pagination } from '../domain/pagination.js';
import type { ServiceContext } from './context.js';
import { findCustomer, resolveCustomer } from './customers.js';
import type { InvoiceStatus, InvoiceType, InvoiceView, PaymentStatus } from './invoice-views.js';
import { loadLines, viewsOf } from './invoices.js';

/** Finding many invoices: list_invoices and search_invoices filters, batch_get_invoices. */

export interface InvoiceListFilter {
  customer_id?: string;
  /** Invoices of the customers with this email (any case). */
  customer_email?: string;
  status?: InvoiceStatus;
  payment_status?: PaymentStatus;
  overdue?: boolean;
  invoice_type?: InvoiceType;
  issuing_date_from?: string;
  issuing_date_to?: string;
  currency?: string;
  search?: string;
}

export async function listInvoices(
  ctx: ServiceContext,
  f: InvoiceListFilter,
  page: PageRequest,
): Promise<{ invoices: InvoiceView[]; pagination: Pagination }> {
  let q = ctx.db.selectFrom('invoices').where('organization_id', '=', ctx.organizationId);
  if (f.customer_id) {
    const c = await findCustomer(ctx, f.customer_id);
    // A deleted customer's invoices are still listed by its Billfold id.
    const id = c?.id ?? (looksLikeId('customer', f.customer_id) ? f.customer_id : undefined);
    if (!id) await resolveCustomer(ctx, f.customer_id);
    q = q.where('customer_id', '=', id!);
  }
  if (f.customer_email) {
    const email = f.customer_email.toLowerCase();
    q = q.where('customer_id', 'in', (eb) =>
      eb
        .selectFrom('customers')
        .select('id')
        .where('organization_id', '=', ctx.organizationId)
        .where(sql<boolean>`lower(email) = ${email}`),
    );
  }
  if (f.status) q = q.where('status', '=', f.status);
  if (f.payment_status) q = q.where('payment_status', '=', f.payment_status);
  if (f.invoice_type) q = q.where('invoice_type', '=', f.invoice_type);
  if (f.currency) q = q.where('currency', '=', f.currency);
  if (f.issuing_date_from) q = q.where('issuing_date', '>=', f.issuing_date_from);
  if (f.issuing_date_to) q = q.where('issuing_date', '<=', f.issuing_date_to);
  if (f.overdue !== undefined) {
    const now = ctx.now();
    q = f.overdue
      ? q.where('status', '=', 'finalized').where('amount_due_cents', '>', 0).where('due_at', '<', now)
      : q.where((eb) =>
          eb.or([
            eb('status', '!=', 'finalized'),
            eb('amount_due_cents', '<=', 0),
            eb('due_at', '>=', now),
            eb('due_at', 'is', null),
          ]),
        );
  }
  if (f.search) q = q.where(containsText('search_text', f.search.toLowerCase()));
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll()
    .orderBy('id', 'desc')
    .limit(page.per_page)
    .offset(pageOffset(page))
    .execute();
  const lines = await loadLines(
    ctx,
    rows.map((r) => r.id),
  );
  const invoices = await viewsOf(
    ctx,
    rows.map((row) => ({ row, lines: lines.get(row.id) ?? [] })),
  );
  return { invoices, pagination: pagination(page, Number(count)) };
}

export async function batchGetInvoices(
  ctx: ServiceContext,
  refs: readonly string[],
): Promise<{ invoices: InvoiceView[]; missing: string[] }> {
  const unique = [...new Set(refs)];
  // An invoice two refs name comes back twice: `found` keeps it once.
  const rows = await rowsByAnyKey(['id', 'number', 'external_id'] as const, (column) =>
    ctx.db
      .selectFrom('invoices')
      .selectAll()
      .where('organization_id', '=', ctx.organizationId)
      .where(column, 'in', unique)
      .execute(),
  );
  const found: InvoicesTable[] = [];
  const missing: string[] = [];
  for (const ref of unique) {
    const row =
      rows.find((r) => r.id === ref) ??
      rows.find((r) => r.number === ref) ??
      rows.find((r) => r.external_id === ref);
    if (row) {
      if (!found.some((f) => f.id === row.id)) found.push(row);
    } else missing.push(ref);
  }
  const lines = await loadLines(
    ctx,
    found.map((r) => r.id),
  );
  return {
    invoices: await viewsOf(
      ctx,
      found.map((row) => ({ row, lines: lines.get(row.id) ?? [] })),
    ),
    missing,
  };
}
