import { lagoId } from '../ids.js';
import { Fields } from '../request.js';
import type { LagoRoute } from '../router.js';
import { lagoTime } from '../shapes.js';

const SAME_NAME = [
  'name',
  'legal_name',
  'email',
  'address_line1',
  'address_line2',
  'city',
  'state',
  'zipcode',
  'country',
  'tax_identification_number',
  'default_currency',
  'timezone',
  'net_payment_term',
] as const;

export function organizationObject(o: Record<string, any>): Record<string, unknown> {
  const out: Record<string, unknown> = { lago_id: lagoId(o.id) };
  for (const k of SAME_NAME) out[k] = o[k] ?? null;
  Object.assign(out, {
    legal_number: null,
    created_at: lagoTime(o.created_at),
    webhook_url: null,
    webhook_urls: [],
    document_numbering: o.invoice_numbering,
    document_number_prefix: o.invoice_prefix,
    billing_configuration: {
      invoice_footer: o.invoice_footer,
      invoice_grace_period: 0,
      document_locale: 'en',
    },
    finalize_zero_amount_invoice: true,
    taxes: [],
  });
  return out;
}

export const organizationRoutes: LagoRoute[] = [
  {
    method: 'GET',
    path: '/organizations',
    async handle(call) {
      call.query.done();
      const { organization } = await call.op('get_organization', {}, 'organization');
      return { organization: organizationObject(organization) };
    },
  },
  {
    method: 'PUT',
    path: '/organizations',
    async handle(call) {
      const f = Fields.root(call.body, 'organization');
      const args: Record<string, unknown> = {};
      for (const k of SAME_NAME) f.copy(args, k);
      f.copy(args, 'document_number_prefix', 'invoice_prefix');
      f.copy(args, 'document_numbering', 'invoice_numbering');
      const billing = f.obj('billing_configuration');
      if (billing) {
        billing.copy(args, 'invoice_footer');
        billing.inert('invoice_grace_period', 0);
        billing.inert('document_locale', 'en');
        billing.done();
      }
      f.inert('finalize_zero_amount_invoice', true);
      f.done();
      const { organization } = await call.op('update_organization', args, 'organization', {
        invoice_prefix: 'document_number_prefix',
        invoice_numbering: 'document_numbering',
        invoice_footer: 'billing_configuration.invoice_footer',
      });
      return { organization: organizationObject(organization) };
    },
  },
];
