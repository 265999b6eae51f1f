import { Decimal } from '../../../../domain/decimal.js';
import { taxBreakdown } from '../../../../domain/invoice-math.js';
import { billfoldRef, derivedLagoId, lagoId } from '../ids.js';
import { meta, type LagoCall } from '../call.js';
import { invalidFields } from '../errors.js';
import { Fields } from '../request.js';
import type { LagoRoute } from '../router.js';
import { lagoTime, majorFromCents } from '../shapes.js';
import { BILLING_ENTITY_CODE, customerObject, getCustomer } from './customers.js';

/** Billfold's invoice types as Lago's: usage invoices are subscription invoices there. */
const INVOICE_TYPE: Record<string, string> = {
  one_off: 'one_off',
  subscription: 'subscription',
  usage: 'subscription',
  credit: 'credit',
  progressive_billing: 'progressive_billing',
};

/**
 * Lago's invoice types and statuses Billfold never makes (add-on and advance-charge invoices;
 * invoices whose generation is pending or failed): a filter on one matches none.
 */
export const UNMADE_INVOICE_TYPES: readonly string[] = ['add_on', 'advance_charges'];
export const UNMADE_INVOICE_STATUSES: readonly string[] = ['pending', 'failed'];

/** A draft has no number in Billfold (numbers are given at finalization, gapless). */
const DRAFT_NUMBER = 'DRAFT';

function rate(r: string): number {
  return Number(r);
}

function feeItem(invoice: Record<string, any>, l: Record<string, any>) {
  const kind = l.details?.kind as string | undefined;
  if (kind === 'charge' || kind === 'charge_minimum')
    return {
      type: 'charge',
      item_type: 'BillableMetric',
      code: l.details.billable_metric_code,
      name: l.description,
      invoice_display_name: l.description,
      lago_item_id: null,
    };
  if (kind === 'fee')
    return {
      type: 'subscription',
      item_type: 'Subscription',
      code: l.details.plan_code ?? '',
      name: l.description,
      invoice_display_name: l.description,
      lago_item_id: lagoId(invoice.subscription_id),
    };
  if (kind === 'minimum_commitment')
    return {
      type: 'commitment',
      item_type: 'Commitment',
      code: 'minimum_commitment',
      name: l.description,
      invoice_display_name: l.description,
      lago_item_id: null,
    };
  return {
    type: 'add_on',
    item_type: 'AddOn',
    code: l.product_code ?? '',
    name: l.description,
    invoice_display_name: l.description,
    lago_item_id: lagoId(l.product_id),
  };
}

/**
 * An invoice line as Lago's fee. A fee's `taxes_amount_cents` is its own taxable amount taxed
 * alone, by the invoice's own rule; the invoice's taxes are computed once per rate over all its
 * lines (Billfold's billing rules), so the fees' taxes may differ from it by a cent.
 */
function feeObject(invoice: Record<string, any>, l: Record<string, any>): Record<string, unknown> {
  const taxable = (l.amount_cents as number) - (l.discount_amount_cents as number);
  const rates = (l.taxes as Array<{ code: string; name: string; rate: string }>).map((t) => ({
    ...t,
    rate: Decimal.parse(t.rate),
  }));
  const own = taxBreakdown([BigInt(taxable)], [rates]);
  const taxes = Number(own.taxes);
  return {
    lago_id: lagoId(l.id),
    lago_charge_id: lagoId(l.charge_id),
    lago_charge_filter_id: null,
    lago_invoice_id: lagoId(invoice.id),
    lago_true_up_fee_id: null,
    lago_true_up_parent_fee_id: null,
    lago_subscription_id: lagoId(invoice.subscription_id),
    lago_customer_id: lagoId(invoice.customer_id),
    external_customer_id: invoice.customer.external_id,
    external_subscription_id: null,
    amount_cents: l.amount_cents,
    precise_amount: l.amount,
    precise_total_amount: Decimal.parse(l.amount).sub(Decimal.parse(l.discount_amount)).toString(),
    amount_currency: invoice.currency,
    taxes_amount_cents: taxes,
    taxes_precise_amount: null,
    taxes_rate: rates.reduce((s, t) => s + Number(t.rate.toString()), 0),
    units: l.quantity,
    precise_unit_amount: l.unit_amount,
    total_aggregated_units: l.details?.units ?? l.quantity,
    total_amount_cents: taxable + taxes,
    total_amount_currency: invoice.currency,
    events_count: l.details?.event_count ?? null,
    pay_in_advance: false,
    invoiceable: true,
    from_date: lagoTime(l.from),
    to_date: lagoTime(l.to),
    payment_status: invoice.payment_status,
    created_at: lagoTime(invoice.created_at),
    succeeded_at: lagoTime(invoice.paid_at),
    failed_at: null,
    refunded_at: null,
    event_transaction_id: null,
    description: l.description,
    precise_coupons_amount_cents: String(l.discount_amount_cents),
    sub_total_excluding_taxes_amount_cents: taxable,
    sub_total_excluding_taxes_precise_amount_cents: String(taxable),
    self_billed: false,
    item: feeItem(invoice, l),
    applied_taxes: own.breakdown.map((t) => ({
      lago_id: derivedLagoId(l.id, t.code),
      lago_fee_id: lagoId(l.id),
      lago_tax_id: null,
      tax_name: t.name,
      tax_code: t.code,
      tax_rate: rate(t.rate),
      tax_description: null,
      amount_cents: Number(t.amount_cents),
      amount_currency: invoice.currency,
      created_at: lagoTime(invoice.created_at),
    })),
  };
}

/** Where an invoice's PDF is served (with the same API key), below Billfold's base URL. */
export function invoiceFileUrl(baseUrl: string, invoice: Record<string, any>): string {
  return `${baseUrl}/api/v1/invoices/${encodeURIComponent(invoice.id)}.pdf`;
}

/**
 * Billfold's invoice as Lago's invoice object, with its customer (Billfold's customer object,
 * which Lago embeds whole). `baseUrl` is where file_url points.
 */
export function invoiceObject(
  inv: Record<string, any>,
  customer: Record<string, any>,
  baseUrl: string,
): Record<string, unknown> {
  const created = lagoTime(inv.created_at);
  return {
    lago_id: lagoId(inv.id),
    billing_entity_code: BILLING_ENTITY_CODE,
    sequential_id: null,
    number: inv.number ?? DRAFT_NUMBER,
    issuing_date: inv.issuing_date ?? (inv.created_at as string).slice(0, 10),
    payment_dispute_lost_at: null,
    payment_due_date: inv.due_date,
    payment_overdue: inv.overdue,
    net_payment_term: inv.net_payment_term,
    invoice_type: INVOICE_TYPE[inv.invoice_type] ?? inv.invoice_type,
    status: inv.status,
    payment_status: inv.payment_status,
    currency: inv.currency,
    fees_amount_cents: inv.sub_total_amount_cents,
    coupons_amount_cents: inv.coupons_amount_cents,
    // Lago's credit notes consumed by this invoice; Billfold's credit notes reduce the invoice
    // they correct (amount_due below), never a later one.
    credit_notes_amount_cents: 0,
    sub_total_excluding_taxes_amount_cents: inv.sub_total_amount_cents - inv.coupons_amount_cents,
    taxes_amount_cents: inv.taxes_amount_cents,
    sub_total_including_taxes_amount_cents: inv.total_amount_cents,
    prepaid_credit_amount_cents: 0,
    prepaid_granted_credit_amount_cents: null,
    prepaid_purchased_credit_amount_cents: null,
    progressive_billing_credit_amount_cents: 0,
    total_amount_cents: inv.total_amount_cents,
    total_due_amount_cents: inv.amount_due_cents,
    total_paid_amount_cents: inv.amount_paid_cents,
    version_number: 4,
    self_billed: false,
    file_url: inv.status === 'draft' ? null : invoiceFileUrl(baseUrl, inv),
    web_url: null,
    created_at: created,
    updated_at: lagoTime(inv.updated_at),
    voided_at: lagoTime(inv.voided_at),
    customer: customerObject(customer),
    metadata: Object.entries(inv.metadata as Record<string, string>).map(([key, value]) => ({
      lago_id: derivedLagoId(inv.id, key),
      key,
      value,
      created_at: lagoTime(inv.updated_at),
    })),
    applied_taxes: (inv.tax_breakdown as Array<Record<string, any>>).map((t) => ({
      lago_id: derivedLagoId(inv.id, t.code),
      lago_invoice_id: lagoId(inv.id),
      lago_tax_id: null,
      tax_name: t.name,
      tax_code: t.code,
      tax_rate: rate(t.rate),
      tax_description: null,
      amount_cents: t.amount_cents,
      amount_currency: inv.currency,
      fees_amount_cents: t.taxable_amount_cents,
      created_at: created,
    })),
    credits: (inv.discounts as Array<Record<string, any>>)
      .filter((d) => d.coupon_code)
      .map((d, i) => ({
        lago_id: derivedLagoId(inv.id, `credit:${i}`),
        amount_cents: d.amount_cents,
        amount_currency: inv.currency,
        before_taxes: true,
        item: { lago_item_id: null, type: 'coupon', code: d.coupon_code, name: d.description },
        invoice: { lago_id: lagoId(inv.id), payment_status: inv.payment_status },
      })),
    fees: (inv.lines as Array<Record<string, any>>).map((l) => feeObject(inv, l)),
    subscriptions: [],
    applied_invoice_custom_sections: [],
    applied_usage_thresholds: [],
    error_details: [],
  };
}

/** An invoice as this request answers it: its customer read once per request. */
async function invoiceReply(call: LagoCall, inv: Record<string, any>): Promise<Record<string, unknown>> {
  const customer = await call.memo(`customer:${inv.customer_id}`, () => getCustomer(call, inv.customer_id));
  return invoiceObject(inv, customer, call.baseUrl);
}

async function getInvoice(call: LagoCall, ref: string) {
  return (await call.op('get_invoice', { invoice_id: billfoldRef('invoice', ref) }, 'invoice'))
    .invoice as Record<string, any>;
}

async function listInvoices(call: LagoCall, customer: string | undefined) {
  const q = call.query;
  const args: Record<string, unknown> = { ...q.page() };
  const c = customer ?? q.str('external_customer_id');
  if (c) args.customer_id = c;
  for (const k of ['issuing_date_from', 'issuing_date_to', 'currency']) {
    const v = q.str(k);
    if (v) args[k] = v;
  }
  const status = q.one('statuses', 'status');
  if (status) args.status = status;
  const paymentStatus = q.one('payment_statuses', 'payment_status');
  if (paymentStatus) args.payment_status = paymentStatus;
  const overdue = q.bool('payment_overdue');
  if (overdue !== undefined) args.overdue = overdue;
  const search = q.str('search_term');
  if (search) args.search = search;
  const type = q.str('invoice_type');
  q.inert('self_billed', 'false');
  q.inert('payment_dispute_lost', 'false');
  q.inert('billing_entity_codes', BILLING_ENTITY_CODE);
  q.done();
  const empty = {
    invoices: [],
    meta: { current_page: 1, next_page: null, prev_page: null, total_pages: 0, total_count: 0 },
  };
  if (type) {
    // Billfold makes no add-on or advance-charge invoices: none match.
    if (!['subscription', 'one_off', 'credit', 'progressive_billing'].includes(type)) {
      if (UNMADE_INVOICE_TYPES.includes(type)) return empty;
      throw invalidFields({
        invoice_type: `must be one of subscription, add_on, credit, one_off, advance_charges, progressive_billing (got '${type}')`,
      });
    }
    args.invoice_type = type;
  }
  if (status && UNMADE_INVOICE_STATUSES.includes(status)) return empty;
  const out = await call.op('list_invoices', args, 'invoice', {
    customer_id: 'external_customer_id',
    status: 'statuses[]',
    payment_status: 'payment_statuses[]',
    overdue: 'payment_overdue',
    search: 'search_term',
  });
  const invoices = [];
  for (const inv of out.invoices) invoices.push(await invoiceReply(call, inv));
  return { invoices, meta: meta(out.pagination) };
}

async function oneOffInvoice(call: LagoCall) {
  const f = Fields.root(call.body, 'invoice');
  const customerRef = f.str('external_customer_id');
  let currency = f.str('currency')?.toUpperCase();
  const fees = f.list('fees');
  f.inert('billing_entity_code', BILLING_ENTITY_CODE);
  f.inert('invoice_custom_section');
  f.inert('payment_method');
  f.inert('skip_psp', false);
  f.done();
  if (!customerRef) throw invalidFields({ 'invoice.external_customer_id': 'is required' });
  if (!fees || fees.length === 0) throw invalidFields({ 'invoice.fees': 'must list at least one fee' });
  const lines = [];
  for (const fee of fees) {
    const line: Record<string, unknown> = {};
    fee.copy(line, 'add_on_code', 'product_code');
    const units = fee.get('units');
    if (units !== undefined && units !== null) line.quantity = units;
    const display = fee.str('invoice_display_name');
    const description = fee.str('description');
    if (display || description)
      line.description = display && description ? `${display} — ${description}` : (display ?? description);
    fee.copy(line, 'tax_codes');
    fee.copy(line, 'from_datetime', 'from');
    fee.copy(line, 'to_datetime', 'to');
    const cents = fee.get('unit_amount_cents');
    if (cents !== undefined && cents !== null) {
      currency ??= ((await getCustomer(call, customerRef)).currency as string | null) ?? undefined;
      if (!currency)
        throw invalidFields({ 'invoice.currency': 'is required: the customer has no default currency' });
      line.unit_amount = majorFromCents(`${fee.path}.unit_amount_cents`, cents, currency);
    }
    fee.inert('skip_psp', false);
    fee.done();
    lines.push(line);
  }
  const args: Record<string, unknown> = { customer_id: customerRef, lines, status: 'finalized' };
  if (currency) args.currency = currency;
  const { invoice } = await call.op('create_invoice', args, 'invoice', {
    customer_id: 'invoice.external_customer_id',
    currency: 'invoice.currency',
    lines: 'invoice.fees',
    product_code: 'add_on_code',
    quantity: 'units',
    unit_amount: 'unit_amount_cents',
  });
  return { invoice: await invoiceReply(call, invoice) };
}

async function updateInvoice(call: LagoCall, ref: string) {
  const f = Fields.root(call.body, 'invoice');
  const paymentStatus = f.str('payment_status');
  const metadata = f.list('metadata');
  f.done();
  const id = billfoldRef('invoice', ref);
  let invoice = await getInvoice(call, ref);
  if (metadata) {
    const m: Record<string, unknown> = {};
    for (const entry of metadata) {
      entry.get('id');
      m[entry.str('key') ?? ''] = entry.get('value');
      entry.done();
    }
    invoice = (
      await call.op('update_invoice', { invoice_id: id, metadata: m }, 'invoice', {
        metadata: 'invoice.metadata',
      })
    ).invoice;
  }
  if (paymentStatus !== undefined && paymentStatus !== invoice.payment_status) {
    if (paymentStatus !== 'succeeded')
      throw invalidFields({
        'invoice.payment_status': `Billfold sets the payment status from the payments recorded: it can move to succeeded (a payment of the amount due), not from ${invoice.payment_status} to ${paymentStatus}`,
      });
    invoice = (await call.op('mark_invoice_paid', { invoice_id: id }, 'invoice')).invoice;
  }
  return { invoice: await invoiceReply(call, invoice) };
}

export const invoiceRoutes: LagoRoute[] = [
  { method: 'POST', path: '/invoices', handle: (call) => oneOffInvoice(call) },
  { method: 'GET', path: '/invoices', handle: (call) => listInvoices(call, undefined) },
  {
    method: 'GET',
    path: '/customers/{external_customer_id}/invoices',
    handle: (call, [customer]) => listInvoices(call, customer),
  },
  {
    method: 'GET',
    path: '/invoices/{lago_id}',
    async handle(call, [ref]) {
      call.query.done();
      return { invoice: await invoiceReply(call, await getInvoice(call, ref!)) };
    },
  },
  { method: 'PUT', path: '/invoices/{lago_id}', handle: (call, [ref]) => updateInvoice(call, ref!) },
  {
    method: 'PUT',
    path: '/invoices/{lago_id}/finalize',
    async handle(call, [ref]) {
      call.query.done();
      const { invoice } = await call.op(
        'finalize_invoice',
        { invoice_id: billfoldRef('invoice', ref!) },
        'invoice',
      );
      return { invoice: await invoiceReply(call, invoice) };
    },
  },
  {
    method: 'POST',
    path: '/invoices/{lago_id}/void',
    async handle(call, [ref]) {
      call.query.done();
      if (call.body !== undefined) {
        const f = new Fields((call.body ?? {}) as Record<string, unknown>, '');
        f.inert('generate_credit_note', false);
        f.inert('refund_amount', 0);
        f.inert('credit_amount', 0);
        f.done();
      }
      const { invoice } = await call.op(
        'void_invoice',
        { invoice_id: billfoldRef('invoice', ref!) },
        'invoice',
      );
      return { invoice: await invoiceReply(call, invoice) };
    },
  },
  {
    method: 'DELETE',
    path: '/invoices/{lago_id}',
    async handle(call, [ref]) {
      call.query.done();
      const { invoice } = await call.op(
        'delete_invoice',
        { invoice_id: billfoldRef('invoice', ref!) },
        'invoice',
      );
      return { invoice: await invoiceReply(call, invoice) };
    },
  },
  {
    method: 'POST',
    path: '/invoices/{lago_id}/download',
    async handle(call, [ref]) {
      call.query.done();
      // Billfold renders the PDF on request; file_url serves it with the same API key.
      return { invoice: await invoiceReply(call, await getInvoice(call, ref!)) };
    },
  },
];
