import { billfoldRef, lagoId } from '../ids.js';
import { meta, type LagoCall } from '../call.js';
import { invalidFields } from '../errors.js';
import { Fields } from '../request.js';
import type { LagoRoute } from '../router.js';
import { lagoTime, majorFromCents } from '../shapes.js';
import { getCustomer } from './customers.js';

/** Billfold records payments received (Lago's manual payments); there are no payment providers. */
export async function paymentObject(
  call: LagoCall,
  p: Record<string, any>,
): Promise<Record<string, unknown>> {
  const customer = await call.memo(`customer:${p.customer_id}`, () => getCustomer(call, p.customer_id));
  return {
    lago_id: lagoId(p.id),
    lago_customer_id: lagoId(p.customer_id),
    external_customer_id: customer.external_id,
    invoice_ids: [lagoId(p.invoice_id)],
    invoice_numbers: [p.invoice_number],
    lago_payable_id: lagoId(p.invoice_id),
    payable_type: 'Invoice',
    amount_cents: p.amount_cents,
    amount_currency: p.currency,
    status: 'succeeded',
    payment_status: 'succeeded',
    type: 'manual',
    reference: p.reference,
    payment_provider_code: null,
    payment_provider_type: null,
    external_payment_id: null,
    provider_payment_id: null,
    provider_customer_id: null,
    payment_method_id: null,
    next_action: {},
    paid_at: lagoTime(p.paid_at),
    created_at: lagoTime(p.created_at),
  };
}

async function listPayments(call: LagoCall, customer: string | undefined) {
  const q = call.query;
  const args: Record<string, unknown> = { ...q.page() };
  const c = customer ?? q.str('external_customer_id');
  if (c) args.customer_id = c;
  const invoice = q.str('invoice_id');
  if (invoice) args.invoice_id = billfoldRef('invoice', invoice);
  q.done();
  const out = await call.op('list_payments', args, 'payment', { customer_id: 'external_customer_id' });
  const payments = [];
  for (const p of out.payments) payments.push(await paymentObject(call, p));
  return { payments, meta: meta(out.pagination) };
}

export const paymentRoutes: LagoRoute[] = [
  {
    method: 'POST',
    path: '/payments',
    async handle(call) {
      const f = Fields.root(call.body, 'payment');
      const invoiceRef = f.str('invoice_id');
      const cents = f.get('amount_cents');
      const args: Record<string, unknown> = {};
      f.copy(args, 'reference');
      f.copy(args, 'paid_at');
      f.done();
      if (!invoiceRef) throw invalidFields({ 'payment.invoice_id': 'is required' });
      args.invoice_id = billfoldRef('invoice', invoiceRef);
      const { invoice } = await call.op('get_invoice', { invoice_id: args.invoice_id }, 'invoice', {
        invoice_id: 'payment.invoice_id',
      });
      if (cents !== undefined && cents !== null)
        args.amount = majorFromCents('payment.amount_cents', cents, invoice.currency);
      const { payment } = await call.op('mark_invoice_paid', args, 'invoice', {
        invoice_id: 'payment.invoice_id',
        amount: 'payment.amount_cents',
      });
      return { payment: await paymentObject(call, payment) };
    },
  },
  { method: 'GET', path: '/payments', handle: (call) => listPayments(call, undefined) },
  {
    method: 'GET',
    path: '/customers/{external_customer_id}/payments',
    handle: (call, [customer]) => listPayments(call, customer),
  },
];
