import type { InvoicesTable, OrderAllocationsTable, OrdersTable } from '../../db/schema.js';
import { insertRows } from '../../db/bulk.js';
import { Decimal } from '../../domain/decimal.js';
import { BillfoldError, validation } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { recordActivity } from '../activity.js';
import type { ServiceContext } from '../context.js';
import { resolveCustomer } from '../customers.js';
import type { InvoiceView } from '../invoice-views.js';
import {
  createInvoice,
  onInvoiceReleased,
  viewOf,
  type DatePoint,
  type InvoiceLineInput,
} from '../invoices.js';
import { invoicedQuantities, orderView, type OrderStatus, type OrderView } from './order-views.js';
import { getOrder, loadOrder, storedTaxes } from './orders.js';

/**
 * Billing a confirmed order: invoice_order makes one invoice, through the invoice service, from
 * the quantities still to invoice — all of them, or the parts named — and records which invoice
 * line bills which quantity of which order line. The order row is locked for the whole call and
 * the quantities left are read after the lock, so two calls at once never bill the same unit;
 * an invoice voided or a draft deleted gives its quantities back.
 */

export interface InvoiceOrderRequest {
  /** Which lines and how much of each; default every unit still to invoice. */
  lines?: Array<{ order_line_id?: string; position?: number; quantity?: Decimal }>;
  status?: 'draft' | 'finalized';
  issued_at?: DatePoint;
  due_at?: DatePoint;
  net_payment_term?: number;
  memo?: string | null;
  metadata?: Record<string, string>;
  external_id?: string;
}

const INVOICEABLE: readonly string[] = ['confirmed', 'partially_invoiced'];

/** The status an order's quantities give it (a canceled order stays canceled). */
function statusFor(current: string, remaining: readonly Decimal[], anyInvoiced: boolean): OrderStatus {
  if (current === 'canceled' || current === 'draft') return current;
  if (remaining.every((r) => r.isZero())) return 'invoiced';
  return anyInvoiced ? 'partially_invoiced' : 'confirmed';
}

async function setStatus(ctx: ServiceContext, order: OrdersTable, status: OrderStatus): Promise<void> {
  const now = ctx.now();
  // The lock makes this the only writer; the status guard says so again, in SQL.
  const result = await ctx.db
    .updateTable('orders')
    .set({ status, updated_at: now })
    .where('id', '=', order.id)
    .where('organization_id', '=', ctx.organizationId)
    .where('status', '=', order.status)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) {
    throw new BillfoldError(
      'CONFLICT',
      `order ${order.number ?? order.id} changed while it was being invoiced`,
      { order_id: order.id },
      'Retry: get_order shows what is left to invoice.',
    );
  }
}

export async function invoiceOrder(
  ctx: ServiceContext,
  ref: string,
  req: InvoiceOrderRequest,
): Promise<{ order: OrderView; invoice: InvoiceView; created: boolean; note?: string }> {
  const loaded = await loadOrder(ctx, ref, true);
  const order = loaded.row;
  const name = order.number ?? order.id;
  if (req.external_id) {
    const existing = await ctx.db
      .selectFrom('invoices')
      .selectAll()
      .where('organization_id', '=', ctx.organizationId)
      .where('external_id', '=', req.external_id)
      .executeTakeFirst();
    if (existing) {
      if (existing.order_id !== order.id) {
        throw new BillfoldError(
          'CONFLICT',
          `external_id: '${req.external_id}' already belongs to invoice ${existing.number ?? existing.id}, which does not bill order ${name}`,
          { field: 'external_id', value: req.external_id, invoice_id: existing.id },
          'Use another external_id for this invoice.',
        );
      }
      const lines = await ctx.db
        .selectFrom('invoice_lines')
        .selectAll()
        .where('organization_id', '=', ctx.organizationId)
        .where('invoice_id', '=', existing.id)
        .orderBy('position')
        .execute();
      return {
        order: orderView(loaded),
        invoice: await viewOf(ctx, { row: existing, lines }),
        created: false,
        note: `Invoice ${existing.number ?? existing.id} with external_id '${req.external_id}' already bills this order; it was returned unchanged.`,
      };
    }
  }
  if (!INVOICEABLE.includes(order.status)) {
    const hints: Record<string, string> = {
      draft: 'Confirm it first with confirm_order.',
      invoiced: 'Every unit is invoiced: get_order lists its invoices.',
      canceled: 'A canceled order is not invoiced; create a new order.',
    };
    throw new BillfoldError(
      'INVALID_STATUS',
      `order ${name} is ${order.status}; only confirmed or partially invoiced orders can be invoiced`,
      { order_id: order.id, status: order.status },
      hints[order.status],
    );
  }
  const invoiced = invoicedQuantities(loaded.lines, loaded.allocations);
  const remainingOf = (lineId: string, quantity: string) =>
    Decimal.parse(quantity).sub(invoiced.get(lineId) ?? Decimal.ZERO);

  // What this invoice bills, line by line.
  const picked: Array<{ line: (typeof loaded.lines)[number]; quantity: Decimal }> = [];
  if (req.lines) {
    const seen = new Set<string>();
    req.lines.forEach((want, i) => {
      const field = `lines[${i}]`;
      if ((want.order_line_id === undefined) === (want.position === undefined)) {
        throw validation(field, 'name the order line by order_line_id or by position (one of them)');
      }
      const line = loaded.lines.find((l) =>
        want.order_line_id !== undefined ? l.id === want.order_line_id : l.position === want.position,
      );
      if (!line) {
        const by = want.order_line_id !== undefined ? 'order_line_id' : 'position';
        throw validation(
          `${field}.${by}`,
          `order ${name} has no line ${String(want.order_line_id ?? want.position)}`,
          `Its lines are at positions 1 to ${loaded.lines.length}; get_order shows their ids.`,
        );
      }
      if (seen.has(line.id)) throw validation(field, `line ${line.position} is named twice`);
      seen.add(line.id);
      const left = remainingOf(line.id, line.quantity);
      const quantity = want.quantity ?? left;
      if (left.isZero()) {
        throw validation(
          `${field}`,
          `line ${line.position} (${line.description}) has nothing left to invoice (${line.quantity} of ${line.quantity} invoiced)`,
          'Leave it out; get_order shows what is left on each line.',
        );
      }
      if (quantity.gt(left)) {
        throw validation(
          `${field}.quantity`,
          `${quantity.toString()} is more than the ${left.toString()} left to invoice on line ${line.position} (${line.description})`,
          `Invoice at most ${left.toString()}.`,
          { remaining_quantity: left.toString() },
        );
      }
      picked.push({ line, quantity });
    });
  } else {
    for (const line of loaded.lines) {
      const left = remainingOf(line.id, line.quantity);
      if (left.isPositive()) picked.push({ line, quantity: left });
    }
  }
  if (picked.length === 0) {
    throw new BillfoldError(
      'INVALID_STATUS',
      `order ${name} has nothing left to invoice`,
      { order_id: order.id, status: order.status },
      'get_order lists its invoices.',
    );
  }
  // Keep the order's own line order on the invoice.
  picked.sort((a, b) => a.line.position - b.line.position);

  const customer = await resolveCustomer(ctx, order.customer_id);
  const lines: InvoiceLineInput[] = picked.map(({ line, quantity }) => ({
    // By id: the product's code may have changed since the order was taken.
    product_code: line.product_id ?? undefined,
    description: line.description,
    quantity,
    unit_amount: Decimal.parse(line.unit_amount),
    unit_label: line.unit_label,
    taxes: storedTaxes(line.taxes),
    agreed: true,
    details: { order_id: order.id, order_number: order.number, order_line_id: line.id },
  }));
  const created = await createInvoice(ctx, {
    customer,
    currency: order.currency,
    lines,
    status: req.status ?? 'draft',
    issued_at: req.issued_at,
    due_at: req.due_at,
    net_payment_term: req.net_payment_term,
    external_id: req.external_id,
    memo: req.memo === undefined ? `Order ${name}` : req.memo,
    metadata: req.metadata,
    order_id: order.id,
  });

  const now = ctx.now();
  const allocations: OrderAllocationsTable[] = picked.map(({ line, quantity }, i) => ({
    id: newId('order_allocation', now),
    organization_id: ctx.organizationId,
    order_id: order.id,
    order_line_id: line.id,
    invoice_id: created.row.id,
    invoice_line_id: created.lines[i]!.id,
    quantity: quantity.toString(),
    created_at: now,
    released_at: null,
  }));
  await insertRows(ctx.db, ctx.dialect, 'order_allocations', allocations);
  const after = invoicedQuantities(loaded.lines, [...loaded.allocations, ...allocations]);
  const status = statusFor(
    order.status,
    loaded.lines.map((l) => Decimal.parse(l.quantity).sub(after.get(l.id) ?? Decimal.ZERO)),
    true,
  );
  await setStatus(ctx, order, status);
  await recordActivity(ctx, {
    type: 'order.invoiced',
    resourceType: 'order',
    resourceId: order.id,
    customerId: order.customer_id,
    externalCustomerId: customer.external_id,
    changes: {
      ...(status !== order.status ? { status: [order.status, status] } : {}),
      invoice_id: created.row.id,
      lines: picked.map((p) => ({ order_line_id: p.line.id, quantity: p.quantity.toString() })),
    },
  });
  return {
    order: await getOrder(ctx, order.id),
    invoice: await viewOf(ctx, created),
    created: true,
  };
}

// An invoice that no longer counts gives its quantities back to the order it billed.
onInvoiceReleased(async (ctx, invoice: InvoicesTable) => {
  if (!invoice.order_id) return;
  const loaded = await loadOrder(ctx, invoice.order_id, true);
  const now = ctx.now();
  const released = await ctx.db
    .updateTable('order_allocations')
    .set({ released_at: now })
    .where('organization_id', '=', ctx.organizationId)
    .where('invoice_id', '=', invoice.id)
    .where('released_at', 'is', null)
    .executeTakeFirst();
  if (Number(released.numUpdatedRows) === 0) return;
  const live = loaded.allocations.filter((a) => a.invoice_id !== invoice.id);
  const after = invoicedQuantities(loaded.lines, live);
  const status = statusFor(
    loaded.row.status,
    loaded.lines.map((l) => Decimal.parse(l.quantity).sub(after.get(l.id) ?? Decimal.ZERO)),
    live.some((a) => a.released_at === null),
  );
  if (status !== loaded.row.status) await setStatus(ctx, loaded.row, status);
  await recordActivity(ctx, {
    type: 'order.invoice_released',
    resourceType: 'order',
    resourceId: loaded.row.id,
    customerId: loaded.row.customer_id,
    changes: {
      invoice_id: invoice.id,
      invoice_status: invoice.status,
      ...(status !== loaded.row.status ? { status: [loaded.row.status, status] } : {}),
    },
  });
});
