import { lagoId } from '../ids.js';
import { meta } from '../call.js';
import { invalidFields } from '../errors.js';
import { Fields, unsupported } from '../request.js';
import type { LagoRoute } from '../router.js';
import { exactCents, lagoTime, majorFromCents } from '../shapes.js';

/**
 * Lago's add-ons are Billfold's products: a code, a name, a price and taxes that one-off
 * invoices name (`fees[].add_on_code` → an invoice line's `product_code`). Deleting an add-on
 * archives the product, so invoices that name it keep their lines.
 */
export function addOnObject(p: Record<string, any>): Record<string, unknown> {
  return {
    lago_id: lagoId(p.id),
    name: p.name,
    invoice_display_name: p.name,
    code: p.code,
    // A price finer than the currency has no whole number of cents; `unit_amount` is exact.
    amount_cents: exactCents(p.unit_amount, p.currency),
    amount_currency: p.currency,
    unit_amount: p.unit_amount,
    description: p.description ?? null,
    created_at: lagoTime(p.created_at),
    taxes: [],
    tax_codes: p.tax_codes,
  };
}

function addOnInput(f: Fields, current?: Record<string, any>): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const k of ['code', 'name', 'description', 'tax_codes']) f.copy(args, k);
  const display = f.str('invoice_display_name');
  // Billfold prints the product's name on invoices: a display name passes when it is the same.
  if (display !== undefined && display !== (args.name ?? current?.name))
    throw unsupported('add_on.invoice_display_name', display);
  const currency = (f.str('amount_currency') ?? current?.currency)?.toUpperCase();
  if (currency) args.currency = currency;
  const cents = f.get('amount_cents');
  if (cents !== undefined && cents !== null) {
    if (!currency) throw invalidFields({ 'add_on.amount_currency': 'is required with amount_cents' });
    args.unit_amount = majorFromCents('add_on.amount_cents', cents, currency);
  }
  f.done();
  return args;
}

const NAMES = { unit_amount: 'amount_cents', currency: 'amount_currency', product_id: 'code' };

export const addOnRoutes: LagoRoute[] = [
  {
    method: 'POST',
    path: '/add_ons',
    async handle(call) {
      const { product } = await call.op(
        'create_product',
        addOnInput(Fields.root(call.body, 'add_on')),
        'add_on',
        NAMES,
      );
      return { add_on: addOnObject(product) };
    },
  },
  {
    method: 'PUT',
    path: '/add_ons/{code}',
    async handle(call, [code]) {
      const f = Fields.root(call.body, 'add_on');
      const { product: current } = await call.op('get_product', { product_id: code }, 'add_on');
      const args = { product_id: code, ...addOnInput(f, current) };
      const { product } = await call.op('update_product', args, 'add_on', NAMES);
      return { add_on: addOnObject(product) };
    },
  },
  {
    method: 'GET',
    path: '/add_ons/{code}',
    async handle(call, [code]) {
      call.query.done();
      const { product } = await call.op('get_product', { product_id: code }, 'add_on');
      return { add_on: addOnObject(product) };
    },
  },
  {
    method: 'DELETE',
    path: '/add_ons/{code}',
    async handle(call, [code]) {
      call.query.done();
      const { product } = await call.op('archive_product', { product_id: code }, 'add_on');
      return { add_on: addOnObject(product) };
    },
  },
  {
    method: 'GET',
    path: '/add_ons',
    async handle(call) {
      const args = { ...call.query.page(), active: true };
      call.query.done();
      const out = await call.op('list_products', args, 'add_on');
      return { add_ons: out.products.map(addOnObject), meta: meta(out.pagination) };
    },
  },
];
