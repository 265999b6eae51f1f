import type { CustomersTable, OrderLinesTable, OrdersTable } from '../../db/schema.js';
import { insertRows } from '../../db/bulk.js';
import { containsText, countAll } from '../../db/sql.js';
import { Decimal } from '../../domain/decimal.js';
import { BillfoldError, validation } from '../../domain/errors.js';
import { looksLikeId, newId } from '../../domain/ids.js';
import { computeInvoice, type TaxRate } from '../../domain/invoice-math.js';
import { counterNames, formatOrderNumber } from '../../domain/numbering.js';
import { pageOffset, pagination, type PageRequest, type Pagination } from '../../domain/pagination.js';
import { moneyFields } from '../../domain/money.js';
import { dateInZone, toIso } from '../../domain/time.js';
import { recordActivity } from '../activity.js';
import type { ServiceContext } from '../context.js';
import { displayName, findCustomer, resolveCustomer } from '../customers.js';
import { resolveLines } from '../invoice-lines.js';
import { findNumbered } from '../numbered-documents.js';
import { assertInvoiceable, nextCounter, type InvoiceLineInput } from '../invoices.js';
import {
  orderView,
  type LoadedOrder,
  type OrderInvoiceSummary,
  type OrderStatus,
  type OrderView,
} from './order-views.js';

/**
 * Sales orders: what a customer has agreed to buy, before it is invoiced. A draft can change;
 * confirming it gives it its number (SO-…, gapless) and freezes its lines, prices and taxes;
 * invoice_order (order-invoicing.ts) bills its quantities, all at once or in parts. Lines are
 * priced by the invoicing rules (domain/invoice-math), so an order and the invoice that bills
 * all of it at once carry the same amounts.
 */

export interface OrderLineInput {
  /** A product's code or id: fills description, unit_amount, unit_label and taxes unless given. */
  product_code?: string;
  description?: string;
  quantity?: Decimal;
  unit_amount?: Decimal;
  unit_label?: string | null;
  tax_codes?: string[];
}

export interface OrderFields {
  currency?: string;
  lines?: OrderLineInput[];
  /** YYYY-MM-DD; default today in the organization's time zone. */
  order_date?: string;
  memo?: string | null;
  metadata?: Record<string, string>;
}

export interface CreateOrderRequest extends OrderFields {
  customer_id: string;
  lines: OrderLineInput[];
  external_id?: string;
  status?: 'draft' | 'confirmed';
}

export interface UpdateOrderRequest extends OrderFields {
  customer_id?: string;
}

// ---------------------------------------------------------------------------------------------
// Finding

/** Finds an order by Billfold id, number or external_id (see findNumbered). */
export function findOrder(ctx: ServiceContext, ref: string, lock = false): Promise<OrdersTable | undefined> {
  return findNumbered(ctx, 'orders', 'order', ref, lock);
}

export async function resolveOrder(
  ctx: ServiceContext,
  ref: string,
  options: { lock?: boolean; field?: string } = {},
): Promise<OrdersTable> {
  const row = await findOrder(ctx, ref, options.lock);
  if (!row) {
    const field = options.field ?? 'order_id';
    throw new BillfoldError(
      'NOT_FOUND',
      `${field}: no order has the id, number or external_id '${ref}'`,
      { resource: 'order', field, ref },
      'Pass the Billfold id (ord_…), the order number (e.g. SO-202611-0001) or your external_id; list_orders with `search` finds any of them.',
    );
  }
  return row;
}

/** Lines, allocations, invoices and customer of the given orders, in their order. */
export async function loadOrders(ctx: ServiceContext, rows: readonly OrdersTable[]): Promise<LoadedOrder[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const lines = await ctx.db
    .selectFrom('order_lines')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('order_id', 'in', ids)
    .orderBy('order_id')
    .orderBy('position')
    .execute();
  const allocations = await ctx.db
    .selectFrom('order_allocations')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('order_id', 'in', ids)
    .orderBy('id')
    .execute();
  const invoiceIds = [...new Set(allocations.map((a) => a.invoice_id))];
  const invoices = invoiceIds.length
    ? await ctx.db
        .selectFrom('invoices')
        .select([
          'id',
          'order_id',
          'number',
          'status',
          'payment_status',
          'currency',
          'total_amount_cents',
          'issued_at',
        ])
        .where('organization_id', '=', ctx.organizationId)
        .where('id', 'in', invoiceIds)
        .orderBy('id')
        .execute()
    : [];
  const customerIds = [...new Set(rows.map((r) => r.customer_id))];
  const customers = await ctx.db
    .selectFrom('customers')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('id', 'in', customerIds)
    .execute();
  const customerById = new Map(customers.map((c) => [c.id, c]));
  return rows.map((row) => {
    const c = customerById.get(row.customer_id);
    return {
      row,
      lines: lines.filter((l) => l.order_id === row.id),
      allocations: allocations.filter((a) => a.order_id === row.id),
      // A deleted draft leaves allocations behind (released) but no invoice: it is not listed.
      invoices: invoices
        .filter((i) => i.order_id === row.id)
        .map((i): OrderInvoiceSummary => ({
          id: i.id,
          number: i.number,
          status: i.status,
          payment_status: i.payment_status,
          currency: i.currency,
          ...moneyFields('total_amount', Number(i.total_amount_cents), i.currency),
          issued_at: toIso(i.issued_at === null ? null : Number(i.issued_at)),
        })),
      customer: {
        id: row.customer_id,
        external_id: c?.external_id ?? null,
        name: c ? displayName(c) : row.customer_id,
        email: c?.email ?? null,
      },
    };
  });
}

export async function loadOrder(ctx: ServiceContext, ref: string, lock = false): Promise<LoadedOrder> {
  const row = await resolveOrder(ctx, ref, { lock });
  return (await loadOrders(ctx, [row]))[0]!;
}

export async function getOrder(ctx: ServiceContext, ref: string): Promise<OrderView> {
  return orderView(await loadOrder(ctx, ref));
}

export interface OrderListFilter {
  customer_id?: string;
  status?: OrderStatus;
  order_date_from?: string;
  order_date_to?: string;
  currency?: string;
  search?: string;
}

export async function listOrders(
  ctx: ServiceContext,
  f: OrderListFilter,
  page: PageRequest,
): Promise<{ orders: OrderView[]; pagination: Pagination }> {
  let q = ctx.db.selectFrom('orders').where('organization_id', '=', ctx.organizationId);
  if (f.customer_id) {
    const c = await findCustomer(ctx, f.customer_id);
    // A deleted customer's orders are still listed by its Billfold id.
    const id = c?.id ?? (looksLikeId('customer', f.customer_id) ? f.customer_id : undefined);
    if (!id) await resolveCustomer(ctx, f.customer_id);
    q = q.where('customer_id', '=', id!);
  }
  if (f.status) q = q.where('status', '=', f.status);
  if (f.currency) q = q.where('currency', '=', f.currency);
  if (f.order_date_from) q = q.where('order_date', '>=', f.order_date_from);
  if (f.order_date_to) q = q.where('order_date', '<=', f.order_date_to);
  if (f.search) q = q.where(containsText('search_text', f.search.toLowerCase()));
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll()
    .orderBy('id', 'desc')
    .limit(page.per_page)
    .offset(pageOffset(page))
    .execute();
  return {
    orders: (await loadOrders(ctx, rows)).map(orderView),
    pagination: pagination(page, Number(count)),
  };
}

// ---------------------------------------------------------------------------------------------
// Pricing

/** Prices lines by the invoicing rules and fills the totals into the row; returns the line rows. */
async function priceOrder(
  ctx: ServiceContext,
  row: OrdersTable,
  customer: CustomersTable,
  inputs: readonly InvoiceLineInput[],
): Promise<OrderLinesTable[]> {
  const resolved = await resolveLines(ctx, customer, row.currency, inputs);
  const totals = computeInvoice(
    row.currency,
    resolved.map((l) => ({ quantity: l.quantity, unitAmount: l.unitAmount, taxes: l.taxes })),
    [],
  );
  row.sub_total_amount_cents = Number(totals.sub_total_amount_cents);
  row.taxes_amount_cents = Number(totals.taxes_amount_cents);
  row.total_amount_cents = Number(totals.total_amount_cents);
  row.tax_breakdown = JSON.stringify(
    totals.tax_breakdown.map((t) => ({
      ...t,
      taxable_amount_cents: Number(t.taxable_amount_cents),
      amount_cents: Number(t.amount_cents),
    })),
  );
  return resolved.map((l, i) => ({
    id: newId('order_line'),
    organization_id: row.organization_id,
    order_id: row.id,
    position: i + 1,
    product_id: l.product?.id ?? null,
    product_code: l.product?.code ?? null,
    description: l.description,
    quantity: l.quantity.toString(),
    unit_amount: l.unitAmount.toString(),
    unit_label: l.unitLabel,
    amount_cents: Number(totals.lines[i]!.amount_cents),
    taxes: JSON.stringify(l.taxes.map((t) => ({ code: t.code, name: t.name, rate: t.rate.toString() }))),
  }));
}

/** A line's stored taxes, as the rates invoicing takes. */
export function storedTaxes(json: string): TaxRate[] {
  return (JSON.parse(json) as Array<{ code: string; name: string; rate: string }>).map((t) => ({
    code: t.code,
    name: t.name,
    rate: Decimal.parse(t.rate),
  }));
}

function searchText(row: OrdersTable, customer: CustomersTable, lines: readonly OrderLinesTable[]): string {
  const meta = Object.values(JSON.parse(row.metadata) as Record<string, string>);
  return [
    row.number,
    row.external_id,
    displayName(customer),
    customer.email,
    customer.external_id,
    row.memo,
    ...lines.map((l) => l.description),
    ...lines.map((l) => l.product_code),
    ...meta,
  ]
    .filter(Boolean)
    .join(' ')
    .toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// Creating, changing, confirming, canceling

export async function createOrder(
  ctx: ServiceContext,
  req: CreateOrderRequest,
): Promise<{ order: OrderView; created: boolean; note?: string }> {
  if (req.external_id) {
    const existing = await ctx.db
      .selectFrom('orders')
      .selectAll()
      .where('organization_id', '=', ctx.organizationId)
      .where('external_id', '=', req.external_id)
      .$if(ctx.dialect === 'postgres', (q) => q.forUpdate())
      .executeTakeFirst();
    if (existing) {
      const customer = await resolveCustomer(ctx, req.customer_id);
      if (customer.id !== existing.customer_id) {
        throw new BillfoldError(
          'CONFLICT',
          `external_id: '${req.external_id}' already belongs to order ${existing.number ?? existing.id} of another customer`,
          { field: 'external_id', value: req.external_id, order_id: existing.id },
          'Use another external_id for this customer.',
        );
      }
      if (existing.status !== 'draft') {
        return {
          order: await getOrder(ctx, existing.id),
          created: false,
          note: `An order with external_id '${req.external_id}' already exists and is ${existing.status} (${existing.number}); it was returned unchanged.`,
        };
      }
      const { customer_id: _c, external_id: _e, status, ...fields } = req;
      void _c;
      void _e;
      await updateDraft(ctx, existing, fields);
      const order =
        status === 'confirmed'
          ? (await confirmOrder(ctx, existing.id)).order
          : await getOrder(ctx, existing.id);
      return {
        order,
        created: false,
        note: `An order with external_id '${req.external_id}' already existed as a draft; it was updated${status === 'confirmed' ? ' and confirmed' : ''}.`,
      };
    }
  }
  const customer = await resolveCustomer(ctx, req.customer_id);
  assertInvoiceable(customer);
  const org = await ctx.organization();
  const now = ctx.now();
  const row: OrdersTable = {
    id: newId('order', now),
    organization_id: ctx.organizationId,
    customer_id: customer.id,
    external_id: req.external_id ?? null,
    number: null,
    sequence: null,
    status: 'draft',
    currency: req.currency ?? customer.currency ?? org.default_currency,
    order_date: req.order_date ?? dateInZone(now, org.timezone),
    sub_total_amount_cents: 0,
    taxes_amount_cents: 0,
    total_amount_cents: 0,
    tax_breakdown: '[]',
    memo: req.memo ?? null,
    metadata: JSON.stringify(req.metadata ?? {}),
    search_text: '',
    confirmed_at: null,
    canceled_at: null,
    cancel_reason: null,
    created_at: now,
    updated_at: now,
  };
  const lines = await priceOrder(ctx, row, customer, req.lines);
  row.search_text = searchText(row, customer, lines);
  if (row.external_id) {
    const inserted = await ctx.db
      .insertInto('orders')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['organization_id', 'external_id']).where('external_id', 'is not', null).doNothing(),
      )
      .returning('id')
      .executeTakeFirst();
    if (!inserted) {
      throw new BillfoldError(
        'CONFLICT',
        `external_id: another request created an order with external_id '${row.external_id}' at the same moment`,
        { field: 'external_id', value: row.external_id },
        'Retry: the retry returns that order.',
      );
    }
  } else {
    await insertRows(ctx.db, ctx.dialect, 'orders', [row]);
  }
  await insertRows(ctx.db, ctx.dialect, 'order_lines', lines);
  await recordActivity(ctx, {
    type: 'order.created',
    resourceType: 'order',
    resourceId: row.id,
    customerId: customer.id,
    externalCustomerId: customer.external_id,
    changes: {
      currency: row.currency,
      total_amount_cents: row.total_amount_cents,
      lines: lines.length,
      ...(row.external_id ? { external_id: row.external_id } : {}),
    },
  });
  if (req.status === 'confirmed') return { ...(await confirmOrder(ctx, row.id)), created: true };
  return { order: await getOrder(ctx, row.id), created: true };
}

async function updateDraft(ctx: ServiceContext, before: OrdersTable, req: UpdateOrderRequest): Promise<void> {
  const row: OrdersTable = { ...before };
  let customer: CustomersTable;
  if (req.customer_id) {
    customer = await resolveCustomer(ctx, req.customer_id);
    assertInvoiceable(customer);
    row.customer_id = customer.id;
  } else {
    customer = await resolveCustomer(ctx, row.customer_id);
  }
  if (req.currency && req.currency !== row.currency && !req.lines) {
    throw validation(
      'lines',
      `are required to change the currency from ${row.currency} to ${req.currency}`,
      'Give the lines with their prices in the new currency.',
    );
  }
  if (req.currency) row.currency = req.currency;
  if (req.order_date !== undefined) row.order_date = req.order_date;
  if (req.memo !== undefined) row.memo = req.memo;
  if (req.metadata !== undefined) row.metadata = JSON.stringify(req.metadata);
  const changes: Record<string, unknown> = {};
  let lines = await ctx.db
    .selectFrom('order_lines')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('order_id', '=', row.id)
    .orderBy('position')
    .execute();
  if (req.lines || req.customer_id) {
    // New lines, or the same ones (with the taxes they had) for another customer.
    const inputs: InvoiceLineInput[] =
      req.lines ??
      lines.map((l) => ({
        product_code: l.product_id ?? undefined,
        description: l.description,
        quantity: Decimal.parse(l.quantity),
        unit_amount: Decimal.parse(l.unit_amount),
        unit_label: l.unit_label,
        taxes: storedTaxes(l.taxes),
        agreed: true,
      }));
    const old = lines;
    lines = await priceOrder(ctx, row, customer, inputs);
    await ctx.db
      .deleteFrom('order_lines')
      .where('organization_id', '=', ctx.organizationId)
      .where('order_id', '=', row.id)
      .execute();
    await insertRows(ctx.db, ctx.dialect, 'order_lines', lines);
    changes.total_amount_cents = [before.total_amount_cents, row.total_amount_cents];
    if (req.lines) changes.lines = [old.length, lines.length];
  }
  for (const f of ['customer_id', 'currency', 'order_date', 'memo', 'metadata'] as const) {
    if (before[f] !== row[f]) changes[f] = [before[f], row[f]];
  }
  if (Object.keys(changes).length === 0) return;
  row.search_text = searchText(row, customer, lines);
  row.updated_at = ctx.now();
  const { id, organization_id, created_at, ...settable } = row;
  void created_at;
  await ctx.db
    .updateTable('orders')
    .set(settable)
    .where('id', '=', id)
    .where('organization_id', '=', organization_id)
    .execute();
  await recordActivity(ctx, {
    type: 'order.updated',
    resourceType: 'order',
    resourceId: row.id,
    customerId: row.customer_id,
    externalCustomerId: customer.external_id,
    changes,
  });
}

export async function updateOrder(
  ctx: ServiceContext,
  ref: string,
  req: UpdateOrderRequest,
): Promise<OrderView> {
  const row = await resolveOrder(ctx, ref, { lock: true });
  if (row.status !== 'draft') {
    const other = Object.keys(req).filter(
      (k) => k !== 'metadata' && req[k as keyof UpdateOrderRequest] !== undefined,
    );
    if (other.length) {
      throw new BillfoldError(
        'INVALID_STATUS',
        `order ${row.number ?? row.id} is ${row.status}: only metadata can change (got ${other.join(', ')})`,
        { order_id: row.id, status: row.status, fields: other },
        row.status === 'canceled'
          ? 'A canceled order stays on record; create a new order.'
          : 'A confirmed order is what the customer agreed to: cancel it (cancel_order) and create a new one to change it.',
      );
    }
    if (req.metadata !== undefined && JSON.stringify(req.metadata) !== row.metadata) {
      const metadata = JSON.stringify(req.metadata);
      const loaded = await loadOrder(ctx, row.id);
      const customer = await resolveCustomer(ctx, row.customer_id);
      const next = { ...row, metadata, updated_at: ctx.now() };
      next.search_text = searchText(next, customer, loaded.lines);
      await ctx.db
        .updateTable('orders')
        .set({ metadata, search_text: next.search_text, updated_at: next.updated_at })
        .where('id', '=', row.id)
        .where('organization_id', '=', ctx.organizationId)
        .execute();
      await recordActivity(ctx, {
        type: 'order.updated',
        resourceType: 'order',
        resourceId: row.id,
        customerId: row.customer_id,
        changes: { metadata: [JSON.parse(row.metadata), req.metadata] },
      });
    }
    return getOrder(ctx, row.id);
  }
  await updateDraft(ctx, row, req);
  return getOrder(ctx, row.id);
}

export async function confirmOrder(
  ctx: ServiceContext,
  ref: string,
): Promise<{ order: OrderView; changed: boolean }> {
  const row = await resolveOrder(ctx, ref, { lock: true });
  if (row.status !== 'draft') {
    if (row.status === 'canceled') {
      throw new BillfoldError(
        'INVALID_STATUS',
        `order ${row.number ?? row.id} is canceled and cannot be confirmed`,
        { order_id: row.id, status: row.status },
        'Create a new order instead.',
      );
    }
    // Confirmed already (and perhaps invoiced since): a retry changes nothing.
    return { order: await getOrder(ctx, row.id), changed: false };
  }
  const customer = await resolveCustomer(ctx, row.customer_id);
  assertInvoiceable(customer);
  const now = ctx.now();
  const sequence = await nextCounter(ctx, counterNames.orders);
  const number = formatOrderNumber(row.order_date, sequence);
  const lines = await ctx.db
    .selectFrom('order_lines')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('order_id', '=', row.id)
    .execute();
  const next: OrdersTable = {
    ...row,
    number,
    sequence,
    status: 'confirmed',
    confirmed_at: now,
    updated_at: now,
  };
  next.search_text = searchText(next, customer, lines);
  const result = await ctx.db
    .updateTable('orders')
    .set({
      number,
      sequence,
      status: 'confirmed',
      confirmed_at: now,
      search_text: next.search_text,
      updated_at: now,
    })
    .where('id', '=', row.id)
    .where('organization_id', '=', ctx.organizationId)
    .where('status', '=', 'draft')
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) {
    throw new BillfoldError(
      'CONFLICT',
      `order ${row.id} changed while it was being confirmed`,
      { order_id: row.id },
      'Retry.',
    );
  }
  await recordActivity(ctx, {
    type: 'order.confirmed',
    resourceType: 'order',
    resourceId: row.id,
    customerId: row.customer_id,
    externalCustomerId: customer.external_id,
    changes: {
      status: ['draft', 'confirmed'],
      number: [null, number],
      total_amount_cents: row.total_amount_cents,
    },
  });
  return { order: await getOrder(ctx, row.id), changed: true };
}

export async function cancelOrder(ctx: ServiceContext, ref: string, reason?: string): Promise<OrderView> {
  const row = await resolveOrder(ctx, ref, { lock: true });
  const name = row.number ?? row.id;
  if (row.status === 'canceled') {
    throw new BillfoldError(
      'INVALID_STATUS',
      `order ${name} is already canceled`,
      { order_id: row.id, status: row.status },
      'Nothing to do; get_order shows when and why it was canceled.',
    );
  }
  if (row.status === 'invoiced') {
    throw new BillfoldError(
      'INVALID_STATUS',
      `order ${name} is fully invoiced and cannot be canceled`,
      { order_id: row.id, status: row.status },
      'Void its invoices first (void_invoice, or delete_invoice for drafts); the order then has quantities left and can be canceled.',
    );
  }
  const now = ctx.now();
  await ctx.db
    .updateTable('orders')
    .set({ status: 'canceled', canceled_at: now, cancel_reason: reason ?? null, updated_at: now })
    .where('id', '=', row.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  await recordActivity(ctx, {
    type: 'order.canceled',
    resourceType: 'order',
    resourceId: row.id,
    customerId: row.customer_id,
    changes: { status: [row.status, 'canceled'], ...(reason ? { reason } : {}) },
  });
  return getOrder(ctx, row.id);
}
