import type { OrganizationsTable } from '../db/schema.js';
import { BillfoldError } from '../domain/errors.js';
import { toIso } from '../domain/time.js';
import { diff, recordActivity } from './activity.js';
import { hasScope, type ServiceContext } from './context.js';
import { getOrganizationByRef } from './organizations.js';

/** The organization's identity and invoicing settings, as get_organization shows them. */
export interface OrganizationView {
  id: string;
  name: string;
  legal_name: string | null;
  email: string | null;
  address_line1: string | null;
  address_line2: string | null;
  city: string | null;
  state: string | null;
  zipcode: string | null;
  country: string | null;
  tax_identification_number: string | null;
  default_currency: string;
  timezone: string;
  net_payment_term: number;
  invoice_prefix: string;
  invoice_numbering: 'per_organization' | 'per_customer';
  invoice_footer: string | null;
  bank_name: string | null;
  bank_iban: string | null;
  bank_bic: string | null;
  finalize_invoices: boolean;
  past_due_grace_period_days: number;
  logo_url: string | null;
  accent_color: string | null;
  /** Set only by the installation's operator: it maps another system's organization to this one. */
  external_id: string | null;
  status: 'active' | 'disabled';
  disabled_at: string | null;
  created_at: string;
  updated_at: string;
}

export type OrganizationPatch = Partial<
  Omit<
    OrganizationView,
    'id' | 'created_at' | 'updated_at' | 'finalize_invoices' | 'external_id' | 'status' | 'disabled_at'
  > & {
    finalize_invoices: boolean;
  }
>;

const FIELDS = [
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
  'invoice_prefix',
  'invoice_numbering',
  'invoice_footer',
  'bank_name',
  'bank_iban',
  'bank_bic',
  'finalize_invoices',
  'past_due_grace_period_days',
  'logo_url',
  'accent_color',
] as const satisfies readonly (keyof OrganizationsTable)[];

export function organizationView(row: OrganizationsTable): OrganizationView {
  return {
    id: row.id,
    name: row.name,
    legal_name: row.legal_name,
    email: row.email,
    address_line1: row.address_line1,
    address_line2: row.address_line2,
    city: row.city,
    state: row.state,
    zipcode: row.zipcode,
    country: row.country,
    tax_identification_number: row.tax_identification_number,
    default_currency: row.default_currency,
    timezone: row.timezone,
    net_payment_term: row.net_payment_term,
    invoice_prefix: row.invoice_prefix,
    invoice_numbering: row.invoice_numbering as OrganizationView['invoice_numbering'],
    invoice_footer: row.invoice_footer,
    bank_name: row.bank_name,
    bank_iban: row.bank_iban,
    bank_bic: row.bank_bic,
    finalize_invoices: row.finalize_invoices === 1,
    past_due_grace_period_days: row.past_due_grace_period_days,
    logo_url: row.logo_url,
    accent_color: row.accent_color,
    external_id: row.external_id,
    status: row.disabled_at === null ? 'active' : 'disabled',
    disabled_at: row.disabled_at === null ? null : toIso(row.disabled_at),
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  };
}

/**
 * The caller's own organization, or with `ref` (an id or external id) the one it names. Only
 * the platform scope reaches another organization; anyone else naming one is refused the same
 * way whether it exists or not, so the answer tells nothing about other organizations.
 */
export async function getOrganization(ctx: ServiceContext, ref?: string): Promise<OrganizationView> {
  const own = await ctx.organization();
  if (ref === undefined || ref === own.id || (own.external_id !== null && ref === own.external_id))
    return organizationView(own);
  if (!hasScope(ctx.scopes, 'platform'))
    throw new BillfoldError(
      'FORBIDDEN',
      'organization_id: only a platform key reads another organization than its own',
      { field: 'organization_id', required_scope: 'platform' },
      'Leave organization_id out to read your own organization.',
    );
  return organizationView(await getOrganizationByRef(ctx.db, ref));
}

export async function updateOrganization(
  ctx: ServiceContext,
  patch: OrganizationPatch,
): Promise<OrganizationView> {
  const before = await ctx.organization();
  const next: OrganizationsTable = { ...before };
  for (const f of FIELDS) {
    const v = patch[f];
    if (v === undefined) continue;
    if (f === 'finalize_invoices') next.finalize_invoices = v ? 1 : 0;
    else (next as unknown as Record<string, unknown>)[f] = v;
  }
  const changes = diff(before, next, FIELDS);
  if (Object.keys(changes).length === 0) return organizationView(before);
  next.updated_at = ctx.now();
  const { id, created_at, is_default, ...settable } = next;
  void created_at;
  void is_default;
  await ctx.db.updateTable('organizations').set(settable).where('id', '=', id).execute();
  await recordActivity(ctx, {
    type: 'organization.updated',
    resourceType: 'organization',
    resourceId: id,
    changes,
  });
  return organizationView(next);
}
