import type { OrderAllocationsTable, OrderLinesTable, OrdersTable } from '../../db/schema.js';
import { Decimal } from '../../domain/decimal.js';
import { moneyFields } from '../../domain/money.js';
import { toIso } from '../../domain/time.js';
import type { StoredTaxLine } from '../invoice-views.js';

/** The shapes an order, its lines and its invoices take on output. */

export const ORDER_STATUSES = ['draft', 'confirmed', 'partially_invoiced', 'invoiced', 'canceled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface OrderInvoiceSummary {
  id: string;
  number: string | null;
  status: string;
  payment_status: string;
  currency: string;
  total_amount_cents: number;
  total_amount: string;
  issued_at: string | null;
}

export interface LoadedOrder {
  row: OrdersTable;
  lines: OrderLinesTable[];
  /** Every allocation, released ones included (their invoices were voided or deleted). */
  allocations: OrderAllocationsTable[];
  invoices: OrderInvoiceSummary[];
  customer: { id: string; external_id: string | null; name: string; email: string | null };
}

/** Units of each line billed by live invoices (allocations not released). */
export function invoicedQuantities(
  lines: readonly OrderLinesTable[],
  allocations: readonly OrderAllocationsTable[],
): Map<string, Decimal> {
  const out = new Map(lines.map((l) => [l.id, Decimal.ZERO]));
  for (const a of allocations) {
    if (a.released_at !== null) continue;
    out.set(a.order_line_id, (out.get(a.order_line_id) ?? Decimal.ZERO).add(Decimal.parse(a.quantity)));
  }
  return out;
}

export function orderView(o: LoadedOrder) {
  const c = o.row.currency;
  const invoiced = invoicedQuantities(o.lines, o.allocations);
  const taxes = JSON.parse(o.row.tax_breakdown) as StoredTaxLine[];
  return {
    id: o.row.id,
    number: o.row.number,
    external_id: o.row.external_id,
    status: o.row.status as OrderStatus,
    customer_id: o.row.customer_id,
    customer: o.customer,
    currency: c,
    order_date: o.row.order_date,
    lines: o.lines.map((l) => {
      const done = invoiced.get(l.id) ?? Decimal.ZERO;
      return {
        id: l.id,
        position: l.position,
        product_id: l.product_id,
        product_code: l.product_code,
        description: l.description,
        quantity: l.quantity,
        invoiced_quantity: done.toString(),
        remaining_quantity: Decimal.parse(l.quantity).sub(done).toString(),
        unit_amount: l.unit_amount,
        unit_label: l.unit_label,
        ...moneyFields('amount', l.amount_cents, c),
        taxes: JSON.parse(l.taxes) as Array<{ code: string; name: string; rate: string }>,
      };
    }),
    tax_breakdown: taxes.map((t) => ({
      code: t.code,
      name: t.name,
      rate: t.rate,
      ...moneyFields('taxable_amount', t.taxable_amount_cents, c),
      ...moneyFields('amount', t.amount_cents, c),
    })),
    ...moneyFields('sub_total_amount', o.row.sub_total_amount_cents, c),
    ...moneyFields('taxes_amount', o.row.taxes_amount_cents, c),
    ...moneyFields('total_amount', o.row.total_amount_cents, c),
    invoices: o.invoices,
    memo: o.row.memo,
    metadata: JSON.parse(o.row.metadata) as Record<string, string>,
    confirmed_at: toIso(o.row.confirmed_at),
    canceled_at: toIso(o.row.canceled_at),
    cancel_reason: o.row.cancel_reason,
    created_at: toIso(o.row.created_at),
    updated_at: toIso(o.row.updated_at),
  };
}
export type OrderView = ReturnType<typeof orderView>;
