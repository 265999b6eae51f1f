import type { CustomersTable, InvoiceLinesTable, InvoicesTable } from '../db/schema.js';
import { moneyFields } from '../domain/money.js';
import { toIso } from '../domain/time.js';
import { displayName } from './customers.js';

/** The shapes invoices and their lines take on output, and the billing snapshot frozen at finalization. */

export const INVOICE_STATUSES = ['draft', 'finalized', 'voided'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];
export const PAYMENT_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
export const INVOICE_TYPES = ['one_off', 'subscription', 'usage', 'credit', 'progressive_billing'] as const;
export type InvoiceType = (typeof INVOICE_TYPES)[number];

export interface PartySnapshot {
  name: string;
  legal_name: string | null;
  email: string | null;
  address_lines: string[];
  country: string | null;
  tax_identification_number: string | null;
}

export interface BillingSnapshot {
  customer: PartySnapshot & { id: string; external_id: string | null; legal_number: string | null };
  organization: PartySnapshot & {
    bank_name: string | null;
    bank_iban: string | null;
    bank_bic: string | null;
    invoice_footer: string | null;
  };
}

export function addressLines(p: {
  address_line1: string | null;
  address_line2: string | null;
  city: string | null;
  state: string | null;
  zipcode: string | null;
  country: string | null;
}): string[] {
  const cityLine = [p.zipcode, p.city, p.state].filter(Boolean).join(' ');
  return [p.address_line1, p.address_line2, cityLine, p.country].filter((s): s is string => Boolean(s));
}

export function customerParty(c: CustomersTable): BillingSnapshot['customer'] {
  return {
    id: c.id,
    external_id: c.external_id,
    name: displayName(c),
    legal_name: c.legal_name,
    email: c.email,
    address_lines: addressLines(c),
    country: c.country,
    tax_identification_number: c.tax_identification_number,
    legal_number: c.legal_number,
  };
}

export interface InvoiceLineView {
  id: string;
  position: number;
  product_id: string | null;
  product_code: string | null;
  description: string;
  quantity: string;
  unit_amount: string;
  unit_label: string | null;
  amount_cents: number;
  amount: string;
  discount_amount_cents: number;
  discount_amount: string;
  taxes: Array<{ code: string; name: string; rate: string }>;
  from: string | null;
  to: string | null;
  charge_id: string | null;
  details: Record<string, unknown> | null;
}

export function lineView(l: InvoiceLinesTable, currency: string): InvoiceLineView {
  return {
    id: l.id,
    position: l.position,
    product_id: l.product_id,
    product_code: l.product_code,
    description: l.description,
    quantity: l.quantity,
    unit_amount: l.unit_amount,
    unit_label: l.unit_label,
    ...moneyFields('amount', l.amount_cents, currency),
    ...moneyFields('discount_amount', l.discount_amount_cents, currency),
    taxes: JSON.parse(l.taxes) as InvoiceLineView['taxes'],
    from: toIso(l.from_at),
    to: toIso(l.to_at),
    charge_id: l.charge_id,
    details: l.details ? (JSON.parse(l.details) as Record<string, unknown>) : null,
  };
}

export interface StoredTaxLine {
  code: string;
  name: string;
  rate: string;
  taxable_amount_cents: number;
  amount_cents: number;
}
export interface StoredDiscount {
  description: string;
  coupon_code: string | null;
  percentage: string | null;
  amount_cents: number;
}

export interface CustomerSummary {
  id: string;
  external_id: string | null;
  name: string;
  email: string | null;
}

export function isOverdue(row: InvoicesTable, now: number): boolean {
  return row.status === 'finalized' && row.amount_due_cents > 0 && row.due_at !== null && row.due_at < now;
}

/** An issued invoice's standing today, as a payer reads it. */
export const INVOICE_STANDINGS = ['paid', 'due', 'overdue', 'voided'] as const;
export type InvoiceStanding = (typeof INVOICE_STANDINGS)[number];

/** Voided; else paid once nothing is left to pay (payments and credit notes); else overdue or due. */
export function standingOf(inv: {
  status: string;
  amount_due_cents: number;
  overdue: boolean;
}): InvoiceStanding {
  if (inv.status === 'voided') return 'voided';
  if (inv.amount_due_cents <= 0) return 'paid';
  return inv.overdue ? 'overdue' : 'due';
}

export function invoiceView(
  row: InvoicesTable,
  lines: readonly InvoiceLinesTable[],
  customer: CustomerSummary,
  now: number,
) {
  const c = row.currency;
  const taxes = JSON.parse(row.tax_breakdown) as StoredTaxLine[];
  const discounts = JSON.parse(row.discounts) as StoredDiscount[];
  return {
    id: row.id,
    number: row.number,
    external_id: row.external_id,
    invoice_type: row.invoice_type as InvoiceType,
    status: row.status as InvoiceStatus,
    payment_status: row.payment_status as PaymentStatus,
    overdue: isOverdue(row, now),
    customer_id: row.customer_id,
    customer,
    currency: c,
    issued_at: toIso(row.issued_at),
    issuing_date: row.issuing_date,
    due_at: toIso(row.due_at),
    due_date: row.due_date,
    net_payment_term: row.net_payment_term,
    lines: lines.map((l) => lineView(l, c)),
    discounts: discounts.map((d) => ({
      description: d.description,
      coupon_code: d.coupon_code,
      percentage: d.percentage,
      ...moneyFields('amount', d.amount_cents, c),
    })),
    tax_breakdown: taxes.map((t) => ({
      code: t.code,
      name: t.name,
      rate: t.rate,
      ...moneyFields('taxable_amount', t.taxable_amount_cents, c),
      ...moneyFields('amount', t.amount_cents, c),
    })),
    ...moneyFields('sub_total_amount', row.sub_total_amount_cents, c),
    ...moneyFields('coupons_amount', row.coupons_amount_cents, c),
    ...moneyFields('taxes_amount', row.taxes_amount_cents, c),
    ...moneyFields('total_amount', row.total_amount_cents, c),
    ...moneyFields('prepaid_credit_amount', row.prepaid_credit_amount_cents ?? 0, c),
    ...moneyFields('amount_paid', row.amount_paid_cents, c),
    ...moneyFields('credited_amount', row.credited_amount_cents, c),
    ...moneyFields('refunded_amount', row.refunded_amount_cents, c),
    ...moneyFields('amount_due', row.amount_due_cents, c),
    memo: row.memo,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    subscription_id: row.subscription_id,
    order_id: row.order_id,
    sent_count: row.sent_count,
    last_sent_at: toIso(row.last_sent_at),
    finalized_at: toIso(row.finalized_at),
    voided_at: toIso(row.voided_at),
    void_reason: row.void_reason,
    paid_at: toIso(row.paid_at),
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
    pdf_uri: `billfold://invoices/${row.id}/pdf`,
  };
}
export type InvoiceView = ReturnType<typeof invoiceView>;
