import { billfoldRef, derivedLagoId, lagoId } from '../ids.js';
import { meta, type LagoCall } from '../call.js';
import { invalidFields } from '../errors.js';
import { Fields } from '../request.js';
import type { LagoRoute } from '../router.js';
import { lagoTime, majorFromCents } from '../shapes.js';
import { BILLING_ENTITY_CODE, customerObject, getCustomer } from './customers.js';

/**
 * Billfold's credit notes of type credit reduce what is due on the invoice they correct: that
 * is Lago's offset (`offset_amount_cents`). Lago's `credit_amount_cents` — a balance the
 * customer spends on later invoices — has no counterpart, nor do notes that split between
 * credit and refund.
 */
export async function creditNoteObject(
  call: LagoCall,
  n: Record<string, any>,
): Promise<Record<string, unknown>> {
  const customer = await call.memo(`customer:${n.customer_id}`, () => getCustomer(call, n.customer_id));
  const seq = /(\d+)$/.exec(n.number as string);
  const voided = n.status === 'voided';
  return {
    lago_id: lagoId(n.id),
    billing_entity_code: BILLING_ENTITY_CODE,
    sequential_id: seq ? Number(seq[1]) : 0,
    number: n.number,
    lago_invoice_id: lagoId(n.invoice_id),
    invoice_number: n.invoice_number,
    issuing_date: (n.issued_at as string).slice(0, 10),
    credit_status: n.type === 'credit' ? (voided ? 'voided' : 'consumed') : null,
    refund_status: n.type === 'refund' ? 'succeeded' : null,
    reason: n.reason,
    description: n.description,
    currency: n.currency,
    total_amount_cents: n.total_amount_cents,
    taxes_amount_cents: n.taxes_amount_cents,
    taxes_rate: (n.tax_breakdown as Array<{ rate: string }>).reduce((s, t) => s + Number(t.rate), 0),
    sub_total_excluding_taxes_amount_cents: n.sub_total_amount_cents,
    balance_amount_cents: 0,
    credit_amount_cents: 0,
    refund_amount_cents: n.type === 'refund' ? n.total_amount_cents : 0,
    offset_amount_cents: n.type === 'credit' ? n.total_amount_cents : 0,
    coupons_adjustment_amount_cents: 0,
    created_at: lagoTime(n.created_at),
    updated_at: lagoTime(n.updated_at),
    voided_at: lagoTime(n.voided_at),
    file_url: `${call.baseUrl}/api/v1/credit-notes/${encodeURIComponent(n.id)}.pdf`,
    self_billed: false,
    items: (n.items as Array<Record<string, any>>).map((item, i) => ({
      lago_id: derivedLagoId(n.id, `item:${i}`),
      amount_cents: item.amount_cents,
      amount_currency: n.currency,
      fee: item.invoice_line_id
        ? {
            lago_id: lagoId(item.invoice_line_id),
            amount_cents: item.amount_cents,
            amount_currency: n.currency,
            description: item.description,
          }
        : null,
    })),
    applied_taxes: (n.tax_breakdown as Array<Record<string, any>>).map((t) => ({
      lago_id: derivedLagoId(n.id, t.code),
      lago_credit_note_id: lagoId(n.id),
      lago_tax_id: null,
      tax_name: t.name,
      tax_code: t.code,
      tax_rate: Number(t.rate),
      tax_description: null,
      amount_cents: t.amount_cents,
      amount_currency: n.currency,
      base_amount_cents: t.taxable_amount_cents,
      created_at: lagoTime(n.created_at),
    })),
    customer: customerObject(customer),
    error_details: [],
  };
}

async function createCreditNote(call: LagoCall) {
  const f = Fields.root(call.body, 'credit_note');
  const invoiceRef = f.str('invoice_id');
  if (!invoiceRef) throw invalidFields({ 'credit_note.invoice_id': 'is required' });
  const invoiceId = billfoldRef('invoice', invoiceRef);
  const args: Record<string, unknown> = { invoice_id: invoiceId };
  args.reason = f.str('reason') ?? 'other';
  f.copy(args, 'description');
  const refund = f.int('refund_amount_cents') ?? 0;
  const offset = f.int('offset_amount_cents') ?? 0;
  f.inert('credit_amount_cents', 0);
  f.inert('metadata');
  if (refund > 0 && offset > 0)
    throw invalidFields({
      'credit_note.refund_amount_cents':
        'a Billfold credit note either refunds or offsets: send refund_amount_cents or offset_amount_cents, in two credit notes',
    });
  if (refund <= 0 && offset <= 0)
    throw invalidFields({
      'credit_note.offset_amount_cents':
        'say how the credit is given: offset_amount_cents (off what is due on the invoice) or refund_amount_cents (money returned), tax included',
    });
  args.type = refund > 0 ? 'refund' : 'credit';
  const items = f.list('items');
  f.done();
  const { invoice } = await call.op('get_invoice', { invoice_id: invoiceId }, 'invoice', {
    invoice_id: 'credit_note.invoice_id',
  });
  if (items && items.length) {
    args.items = items.map((item) => {
      const fee = item.str('fee_id');
      const cents = item.get('amount_cents');
      item.done();
      return {
        invoice_line_id: fee ? billfoldRef('invoice_line', fee) : fee,
        amount: majorFromCents(`${item.path}.amount_cents`, cents, invoice.currency),
      };
    });
  } else {
    args.amount = majorFromCents('credit_note.amount_cents', refund || offset, invoice.currency);
  }
  const { credit_note } = await call.op('create_credit_note', args, 'credit_note', {
    invoice_id: 'credit_note.invoice_id',
    items: 'credit_note.items',
    invoice_line_id: 'fee_id',
    amount: 'amount_cents',
  });
  return { credit_note: await creditNoteObject(call, credit_note) };
}

async function listCreditNotes(call: LagoCall, customer: string | undefined) {
  const q = call.query;
  const args: Record<string, unknown> = { ...q.page() };
  const c = customer ?? q.str('external_customer_id');
  if (c) args.customer_id = c;
  const reason = q.str('reason');
  if (reason) args.reason = reason;
  const invoiceNumber = q.str('invoice_number');
  if (invoiceNumber) args.invoice_id = invoiceNumber;
  const credit = q.str('credit_status');
  const refund = q.str('refund_status');
  if (credit === 'voided') args.status = 'voided';
  else if (credit === 'consumed') Object.assign(args, { type: 'credit', status: 'finalized' });
  else if (credit === 'available')
    return {
      credit_notes: [],
      meta: { current_page: 1, next_page: null, prev_page: null, total_pages: 0, total_count: 0 },
    };
  else if (credit !== undefined)
    throw invalidFields({ credit_status: `must be one of available, consumed, voided (got '${credit}')` });
  if (refund === 'succeeded') args.type = 'refund';
  else if (refund !== undefined)
    throw invalidFields({
      refund_status: `Billfold records refunds as done: only succeeded matches (got '${refund}')`,
    });
  q.inert('self_billed', 'false');
  q.inert('billing_entity_codes', BILLING_ENTITY_CODE);
  q.done();
  const out = await call.op('list_credit_notes', args, 'credit_note', {
    customer_id: 'external_customer_id',
    invoice_id: 'invoice_number',
  });
  const notes = [];
  for (const n of out.credit_notes) notes.push(await creditNoteObject(call, n));
  return { credit_notes: notes, meta: meta(out.pagination) };
}

export const creditNoteRoutes: LagoRoute[] = [
  { method: 'POST', path: '/credit_notes', handle: (call) => createCreditNote(call) },
  { method: 'GET', path: '/credit_notes', handle: (call) => listCreditNotes(call, undefined) },
  {
    method: 'GET',
    path: '/customers/{external_customer_id}/credit_notes',
    handle: (call, [customer]) => listCreditNotes(call, customer),
  },
  {
    method: 'GET',
    path: '/credit_notes/{lago_id}',
    async handle(call, [ref]) {
      call.query.done();
      const { credit_note } = await call.op(
        'get_credit_note',
        { credit_note_id: billfoldRef('credit_note', ref!) },
        'credit_note',
      );
      return { credit_note: await creditNoteObject(call, credit_note) };
    },
  },
  {
    // Lago lets a refund's status be set by hand; Billfold records a refund as done when it is issued.
    method: 'PUT',
    path: '/credit_notes/{lago_id}',
    async handle(call, [ref]) {
      call.query.done();
      const f = Fields.root(call.body, 'credit_note');
      const status = f.str('refund_status');
      f.done();
      const { credit_note } = await call.op(
        'get_credit_note',
        { credit_note_id: billfoldRef('credit_note', ref!) },
        'credit_note',
      );
      const current = credit_note.type === 'refund' ? 'succeeded' : null;
      if (status !== undefined && status !== current)
        throw invalidFields({
          'credit_note.refund_status': `Billfold records a refund as succeeded when it is issued; this note's refund_status is ${current ?? 'none (it is not a refund)'} (got '${status}')`,
        });
      return { credit_note: await creditNoteObject(call, credit_note) };
    },
  },
  {
    method: 'PUT',
    path: '/credit_notes/{lago_id}/void',
    async handle(call, [ref]) {
      call.query.done();
      const { credit_note } = await call.op(
        'void_credit_note',
        { credit_note_id: billfoldRef('credit_note', ref!) },
        'credit_note',
      );
      return { credit_note: await creditNoteObject(call, credit_note) };
    },
  },
  {
    method: 'POST',
    path: '/credit_notes/{lago_id}/download',
    async handle(call, [ref]) {
      call.query.done();
      const { credit_note } = await call.op(
        'get_credit_note',
        { credit_note_id: billfoldRef('credit_note', ref!) },
        'credit_note',
      );
      return { credit_note: await creditNoteObject(call, credit_note) };
    },
  },
];
