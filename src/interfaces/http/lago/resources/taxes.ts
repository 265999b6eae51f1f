import { lagoId } from '../ids.js';
import { meta } from '../call.js';
import { Fields } from '../request.js';
import type { LagoRoute } from '../router.js';
import { lagoTime } from '../shapes.js';

/**
 * Lago writes a tax rate as a JSON number; Billfold keeps it as an exact decimal string and
 * computes with that. A rate is a percentage, not an amount of money.
 */
export function taxObject(t: Record<string, any>): Record<string, unknown> {
  return {
    lago_id: lagoId(t.id),
    name: t.name,
    code: t.code,
    description: t.description ?? null,
    rate: Number(t.rate),
    applied_to_organization: t.applied_to_organization,
    customers_count: t.customer_ids.length,
    created_at: lagoTime(t.created_at),
  };
}

function taxInput(f: Fields): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const k of ['code', 'name', 'rate', 'description', 'applied_to_organization']) f.copy(args, k);
  f.done();
  return args;
}

export const taxRoutes: LagoRoute[] = [
  {
    method: 'POST',
    path: '/taxes',
    async handle(call) {
      const { tax } = await call.op('create_tax', taxInput(Fields.root(call.body, 'tax')), 'tax');
      return { tax: taxObject(tax) };
    },
  },
  {
    method: 'PUT',
    path: '/taxes/{code}',
    async handle(call, [code]) {
      const args = { tax_id: code, ...taxInput(Fields.root(call.body, 'tax')) };
      const { tax } = await call.op('update_tax', args, 'tax', { tax_id: 'code' });
      return { tax: taxObject(tax) };
    },
  },
  {
    method: 'GET',
    path: '/taxes/{code}',
    async handle(call, [code]) {
      call.query.done();
      const { tax } = await call.op('get_tax', { tax_id: code }, 'tax');
      return { tax: taxObject(tax) };
    },
  },
  {
    method: 'DELETE',
    path: '/taxes/{code}',
    async handle(call, [code]) {
      call.query.done();
      const { tax } = await call.op('delete_tax', { tax_id: code }, 'tax');
      return { tax: taxObject(tax) };
    },
  },
  {
    method: 'GET',
    path: '/taxes',
    async handle(call) {
      const args = { ...call.query.page() };
      call.query.done();
      const out = await call.op('list_taxes', args, 'tax');
      return { taxes: out.taxes.map(taxObject), meta: meta(out.pagination) };
    },
  },
];
