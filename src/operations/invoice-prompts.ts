import { listCreditNotes } from '../services/credit-notes.js';
import { deliveriesOf } from '../services/invoice-delivery.js';
import { getInvoice, resolveInvoice } from '../services/invoices.js';
import { paymentsOfInvoice } from '../services/payments.js';
import { accountsReceivable } from '../services/receivables.js';
import type { PromptDefinition } from './define.js';

export const invoicePrompts: PromptDefinition[] = [
  {
    name: 'analyze_invoice',
    title: 'Analyze an invoice',
    description:
      'Checks one invoice for anomalies (arithmetic, taxes, missing billing details, overdue balance, unusual amounts) and summarizes it.',
    arguments: [
      {
        name: 'invoice_id',
        description: 'Billfold id (inv_…), invoice number or your external_id',
        required: true,
      },
    ],
    scope: 'read',
    async render(ctx, args) {
      const invoice = await getInvoice(ctx, args.invoice_id ?? '');
      const row = await resolveInvoice(ctx, invoice.id);
      const payments = await paymentsOfInvoice(ctx, row);
      const notes = (await listCreditNotes(ctx, { invoice_id: row.id }, { page: 1, per_page: 100 }))
        .credit_notes;
      const deliveries = await deliveriesOf(ctx, row.id);
      return [
        `Analyze invoice ${invoice.number ?? invoice.id} (${invoice.status}, payment ${invoice.payment_status}${invoice.overdue ? ', OVERDUE' : ''}).`,
        'Check and report, citing amounts exactly as given:',
        '1. Arithmetic: each line amount = quantity × unit_amount rounded half-up to the currency; subtotal = sum of ' +
          'lines; each tax = rate × its taxable amount, rounded once; total = subtotal − discounts + taxes; amount_due = ' +
          'total − paid − credited.',
        '2. Taxes: lines without tax, rates that differ from the others, a customer abroad charged domestic tax.',
        '3. Billing details: customer email, address and tax id present; due date sensible for the payment term.',
        '4. Collection: amount due, days overdue, whether it was sent (deliveries) and what to do next ' +
          '(send_invoice to remind, mark_invoice_paid when paid, create_credit_note to correct).',
        '5. Anything unusual: duplicated lines, zero or very large amounts, credit notes or partial payments.',
        'End with a three-line summary.',
        '',
        'Invoice:',
        JSON.stringify(invoice, null, 2),
        '',
        'Payments:',
        JSON.stringify(payments, null, 2),
        '',
        'Credit notes:',
        JSON.stringify(notes, null, 2),
        '',
        'Deliveries:',
        JSON.stringify(deliveries, null, 2),
      ].join('\n');
    },
  },
  {
    name: 'who_owes_us',
    title: 'Who owes us money?',
    description:
      'Accounts receivable by customer with aging, and a collection plan: whom to remind first and how much is at stake.',
    arguments: [
      { name: 'currency', description: 'Only this currency (ISO 4217), optional', required: false },
    ],
    scope: 'read',
    async render(ctx, args) {
      const currency = args.currency?.trim().toUpperCase() || undefined;
      const ar = await accountsReceivable(ctx, { currency });
      return [
        `Who owes us money, as of ${ar.as_of}${currency ? ` (${currency} only)` : ''}?`,
        'From the receivables below: give the total due and overdue per currency (never add different currencies ' +
          'together), list the customers with overdue balances, most at stake first, with their overdue invoice ' +
          'numbers and how late they are, and propose the next step for each (send_invoice as a reminder with a ' +
          'short message, or a call for anything over 60 days). Quote amounts exactly as given.',
        '',
        JSON.stringify(ar, null, 2),
      ].join('\n');
    },
  },
];
