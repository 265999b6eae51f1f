import { derivedLagoId, lagoId } from '../ids.js';
import type { LagoCall } from '../call.js';
import { meta } from '../call.js';
import { Fields } from '../request.js';
import type { LagoRoute } from '../router.js';
import { lagoTime } from '../shapes.js';

/** The Billfold customer fields Lago's customer body carries under the same names. */
const SAME_NAME = [
  'name',
  'firstname',
  'lastname',
  'email',
  'phone',
  'address_line1',
  'address_line2',
  'city',
  'state',
  'zipcode',
  'country',
  'url',
  'legal_name',
  'legal_number',
  'logo_url',
  'tax_identification_number',
  'timezone',
  'currency',
  'net_payment_term',
  'customer_type',
  'finalize_zero_amount_invoice',
] as const;

export const BILLING_ENTITY_CODE = 'default';

/** Billfold's customer as Lago's customer object. */
export function customerObject(c: Record<string, any>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    lago_id: lagoId(c.id),
    sequential_id: null,
    slug: null,
    external_id: c.external_id,
    billing_entity_code: BILLING_ENTITY_CODE,
    account_type: 'customer',
  };
  for (const k of SAME_NAME) out[k] = c[k] ?? null;
  out.applicable_timezone = c.applicable_timezone;
  out.created_at = lagoTime(c.created_at);
  out.updated_at = lagoTime(c.updated_at);
  out.skip_invoice_custom_sections = false;
  out.billing_configuration = {
    invoice_grace_period: null,
    payment_provider: null,
    payment_provider_code: null,
    provider_customer_id: null,
    sync: false,
    sync_with_provider: false,
    document_locale: null,
    provider_payment_methods: [],
  };
  out.shipping_address = {
    address_line1: null,
    address_line2: null,
    city: null,
    zipcode: null,
    state: null,
    country: null,
  };
  out.metadata = Object.entries((c.metadata ?? {}) as Record<string, string>).map(([key, value]) => ({
    lago_id: derivedLagoId(c.id, key),
    key,
    value,
    display_in_invoice: false,
    created_at: lagoTime(c.updated_at),
  }));
  out.integration_customers = [];
  out.applicable_invoice_custom_sections = [];
  out.taxes = [];
  return out;
}

/** Lago's customer body as create_customer's input. */
function customerInput(f: Fields): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  f.copy(args, 'external_id');
  for (const k of SAME_NAME) f.copy(args, k);
  const metadata = f.list('metadata');
  if (metadata) {
    const m: Record<string, unknown> = {};
    for (const entry of metadata) {
      const key = entry.str('key');
      entry.get('id');
      // Billfold does not print customer metadata on invoices; accepted either way, and README says so.
      entry.bool('display_in_invoice');
      m[key ?? ''] = entry.get('value');
      entry.done();
    }
    args.metadata = m;
  }
  f.inert('account_type', 'customer');
  f.inert('billing_entity_code', BILLING_ENTITY_CODE);
  f.inert('skip_invoice_custom_sections', false);
  const billing = f.obj('billing_configuration');
  if (billing) {
    billing.inert('sync', false);
    billing.inert('sync_with_provider', false);
    billing.done();
  }
  f.done();
  return args;
}

export async function getCustomer(call: LagoCall, ref: string): Promise<Record<string, any>> {
  return (await call.op<{ customer: Record<string, any> }>('get_customer', { customer_id: ref }, 'customer'))
    .customer;
}

export const customerRoutes: LagoRoute[] = [
  {
    method: 'POST',
    path: '/customers',
    async handle(call) {
      const f = Fields.root(call.body, 'customer');
      const args = customerInput(f);
      const { customer } = await call.op('create_customer', args, 'customer');
      return { customer: customerObject(customer) };
    },
  },
  {
    method: 'GET',
    path: '/customers',
    async handle(call) {
      const q = call.query;
      const page = q.page();
      const only = q.str('external_customer_id');
      const args: Record<string, unknown> = { ...page };
      const search = q.str('search_term');
      if (search) args.search = search;
      const country = q.one('countries');
      if (country) args.country = country;
      const currency = q.one('currencies');
      if (currency) args.currency = currency;
      const type = q.str('customer_type');
      if (type) args.customer_type = type;
      q.inert('account_type', 'customer');
      q.inert('billing_entity_codes', BILLING_ENTITY_CODE);
      q.done();
      if (only !== undefined) {
        // Lago's Rust client filters the list by one external id: that customer, or none.
        const found = await call
          .op<{ customer: Record<string, any> }>('get_customer', { customer_id: only }, 'customer')
          .then((r) => [r.customer])
          .catch((e: { status?: number }) => {
            if (e.status === 404) return [];
            throw e;
          });
        const count = found.length;
        return {
          customers: found.map(customerObject),
          meta: {
            current_page: 1,
            next_page: null,
            prev_page: null,
            total_pages: count ? 1 : 0,
            total_count: count,
          },
        };
      }
      const out = await call.op('list_customers', args, 'customer', {
        country: 'countries',
        currency: 'currencies',
        search: 'search_term',
      });
      return { customers: out.customers.map(customerObject), meta: meta(out.pagination) };
    },
  },
  {
    method: 'GET',
    path: '/customers/{external_customer_id}',
    async handle(call, [ref]) {
      call.query.done();
      return { customer: customerObject(await getCustomer(call, ref!)) };
    },
  },
  {
    // Lago's portal link is Billfold's one-time portal session link (the customer's invoices,
    // subscriptions, usage and billing details).
    method: 'GET',
    path: '/customers/{external_customer_id}/portal_url',
    async handle(call, [ref]) {
      call.query.done();
      const { url } = await call.op('create_portal_session', { customer_id: ref }, 'customer');
      return { customer: { portal_url: url } };
    },
  },
  {
    method: 'DELETE',
    path: '/customers/{external_customer_id}',
    async handle(call, [ref]) {
      call.query.done();
      const { customer } = await call.op('delete_customer', { customer_id: ref }, 'customer');
      return { customer: customerObject(customer) };
    },
  },
];
