/**
 * Invoice numbers. A number is given at finalization from a gapless counter: per organization
 * (`{PREFIX}-{YYYY}{MM}-{SEQ:4}`, e.g. INV-202604-0042) or per customer
 * (`{PREFIX}-{CUSTOMER:3}-{SEQ:4}`, e.g. INV-007-0003, where the customer's number is given the
 * first time it is invoiced). Credit notes take their invoice's number: INV-202604-0042-CN001.
 */

export const INVOICE_NUMBERINGS = ['per_organization', 'per_customer'] as const;
export type InvoiceNumbering = (typeof INVOICE_NUMBERINGS)[number];

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** `issuingDate` is YYYY-MM-DD in the organization's time zone. */
export function formatInvoiceNumber(input: {
  prefix: string;
  numbering: InvoiceNumbering;
  issuingDate: string;
  sequence: number;
  customerNumber?: number;
}): string {
  if (input.numbering === 'per_customer') {
    return `${input.prefix}-${pad(input.customerNumber ?? 0, 3)}-${pad(input.sequence, 4)}`;
  }
  const [y, m] = input.issuingDate.split('-');
  return `${input.prefix}-${y}${m}-${pad(input.sequence, 4)}`;
}

export function formatCreditNoteNumber(invoiceNumber: string, sequence: number): string {
  return `${invoiceNumber}-CN${pad(sequence, 3)}`;
}

/**
 * Sales order numbers: `SO-{YYYY}{MM}-{SEQ:4}` from the organization's own gapless counter,
 * given at confirmation in the confirming transaction, the month taken from the order date.
 */
export const ORDER_PREFIX = 'SO';

export function formatOrderNumber(orderDate: string, sequence: number): string {
  return formatInvoiceNumber({
    prefix: ORDER_PREFIX,
    numbering: 'per_organization',
    issuingDate: orderDate,
    sequence,
  });
}

/** Counter names in the `counters` table. */
export const counterNames = {
  invoices: 'invoice_number',
  customerInvoices: (customerId: string) => `invoice_number:${customerId}`,
  customers: 'customer_number',
  customerNumber: (customerId: string) => `customer_number:${customerId}`,
  orders: 'order_number',
};
