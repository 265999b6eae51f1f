import { prepared } from '../db/prepared.js';
import { containsText, countAll } from '../db/sql.js';
import type { CustomersTable } from '../db/schema.js';
import { BillfoldError } from '../domain/errors.js';
import { looksLikeId, newId } from '../domain/ids.js';
import { pageOffset, pagination, type PageRequest, type Pagination } from '../domain/pagination.js';
import { toIso } from '../domain/time.js';
import { diff, recordActivity } from './activity.js';
import type { ServiceContext } from './context.js';

/** The editable fields of a customer, as the operations validate them. */
export interface CustomerFields {
  external_id?: string | null;
  name?: string | null;
  firstname?: string | null;
  lastname?: string | null;
  email?: string | null;
  phone?: string | null;
  address_line1?: string | null;
  address_line2?: string | null;
  city?: string | null;
  state?: string | null;
  zipcode?: string | null;
  country?: string | null;
  url?: string | null;
  legal_name?: string | null;
  legal_number?: string | null;
  logo_url?: string | null;
  tax_identification_number?: string | null;
  timezone?: string | null;
  currency?: string | null;
  net_payment_term?: number | null;
  customer_type?: 'individual' | 'company' | null;
  finalize_zero_amount_invoice?: 'inherit' | 'finalize' | 'skip';
  metadata?: Record<string, string>;
}

export const CUSTOMER_STATUSES = ['active', 'disabled'] as const;
export type CustomerStatus = (typeof CUSTOMER_STATUSES)[number];

const FIELDS = [
  'external_id',
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
] as const satisfies readonly (keyof CustomerFields & keyof CustomersTable)[];

/** The columns an update writes: the editable fields and what follows from them. */
const SETTABLE = [...FIELDS, 'metadata', 'search_text', 'updated_at'] as const;

export interface CustomerView {
  id: string;
  external_id: string | null;
  status: CustomerStatus;
  name: string | null;
  display_name: string;
  firstname: string | null;
  lastname: string | null;
  email: string | null;
  phone: string | null;
  address_line1: string | null;
  address_line2: string | null;
  city: string | null;
  state: string | null;
  zipcode: string | null;
  country: string | null;
  url: string | null;
  legal_name: string | null;
  legal_number: string | null;
  logo_url: string | null;
  tax_identification_number: string | null;
  timezone: string | null;
  applicable_timezone: string;
  currency: string | null;
  net_payment_term: number | null;
  applicable_net_payment_term: number;
  customer_type: 'individual' | 'company' | null;
  finalize_zero_amount_invoice: 'inherit' | 'finalize' | 'skip';
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string;
}

/** The name to print on documents: the name, else first and last name, else the email. */
export function displayName(
  row: Pick<
    CustomersTable,
    'name' | 'firstname' | 'lastname' | 'email' | 'legal_name' | 'external_id' | 'id'
  >,
): string {
  const person = [row.firstname, row.lastname].filter(Boolean).join(' ');
  return row.name || row.legal_name || person || row.email || row.external_id || row.id;
}

export async function customerView(ctx: ServiceContext, row: CustomersTable): Promise<CustomerView> {
  const org = await ctx.organization();
  return {
    id: row.id,
    external_id: row.external_id,
    status: row.status as CustomerStatus,
    name: row.name,
    display_name: displayName(row),
    firstname: row.firstname,
    lastname: row.lastname,
    email: row.email,
    phone: row.phone,
    address_line1: row.address_line1,
    address_line2: row.address_line2,
    city: row.city,
    state: row.state,
    zipcode: row.zipcode,
    country: row.country,
    url: row.url,
    legal_name: row.legal_name,
    legal_number: row.legal_number,
    logo_url: row.logo_url,
    tax_identification_number: row.tax_identification_number,
    timezone: row.timezone,
    applicable_timezone: row.timezone ?? org.timezone,
    currency: row.currency,
    net_payment_term: row.net_payment_term,
    applicable_net_payment_term: row.net_payment_term ?? org.net_payment_term,
    customer_type: row.customer_type as CustomerView['customer_type'],
    finalize_zero_amount_invoice:
      row.finalize_zero_amount_invoice as CustomerView['finalize_zero_amount_invoice'],
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  };
}

function searchText(
  row: Pick<CustomersTable, 'name' | 'email' | 'external_id' | 'legal_name' | 'firstname' | 'lastname'>,
): string {
  return [row.name, row.legal_name, row.firstname, row.lastname, row.email, row.external_id]
    .filter(Boolean)
    .join(' ')
    .toLowerCase();
}

// The most frequent lookups in Billfold (every customer_id of every call): compiled once.
const customerById = prepared((db, p: { org: string; id: string }) =>
  db
    .selectFrom('customers')
    .selectAll()
    .where('organization_id', '=', p.org)
    .where('deleted_at', 'is', null)
    .where('id', '=', p.id),
);
const customerByExternalId = prepared((db, p: { org: string; ref: string }) =>
  db
    .selectFrom('customers')
    .selectAll()
    .where('organization_id', '=', p.org)
    .where('deleted_at', 'is', null)
    .where('external_id', '=', p.ref),
);

/**
 * Finds a live customer by Billfold id or by the caller's external_id. Every other resource
 * that takes a `customer_id` resolves it here.
 */
export async function findCustomer(ctx: ServiceContext, ref: string): Promise<CustomersTable | undefined> {
  if (looksLikeId('customer', ref)) {
    const [byId] = await customerById(ctx.db, { org: ctx.organizationId, id: ref });
    if (byId) return byId;
  }
  return findByExternalId(ctx, ref);
}

export async function resolveCustomer(
  ctx: ServiceContext,
  ref: string,
  field = 'customer_id',
): Promise<CustomersTable> {
  const row = await findCustomer(ctx, ref);
  if (!row) {
    throw new BillfoldError(
      'NOT_FOUND',
      `${field}: no customer has the id or external_id '${ref}'`,
      { resource: 'customer', field, ref },
      'Pass the Billfold id (cus_…) or your own external_id; list_customers with `search` finds either.',
    );
  }
  return row;
}

async function findByExternalId(
  ctx: ServiceContext,
  externalId: string,
): Promise<CustomersTable | undefined> {
  const [row] = await customerByExternalId(ctx.db, { org: ctx.organizationId, ref: externalId });
  return row;
}

/**
 * Creates a customer, or — when `external_id` names an existing one — updates the fields given
 * and leaves the rest. A retry with the same external_id never makes a duplicate.
 */
export async function upsertCustomer(
  ctx: ServiceContext,
  input: CustomerFields,
): Promise<{ customer: CustomerView; created: boolean }> {
  const now = ctx.now();
  if (input.external_id) {
    const existing = await findByExternalId(ctx, input.external_id);
    if (existing)
      return { customer: await applyUpdate(ctx, existing, input, 'customer.updated'), created: false };
  }
  const row: CustomersTable = {
    id: newId('customer', now),
    organization_id: ctx.organizationId,
    external_id: input.external_id ?? null,
    status: 'active',
    name: input.name ?? null,
    firstname: input.firstname ?? null,
    lastname: input.lastname ?? null,
    email: input.email ?? null,
    phone: input.phone ?? null,
    address_line1: input.address_line1 ?? null,
    address_line2: input.address_line2 ?? null,
    city: input.city ?? null,
    state: input.state ?? null,
    zipcode: input.zipcode ?? null,
    country: input.country ?? null,
    url: input.url ?? null,
    legal_name: input.legal_name ?? null,
    legal_number: input.legal_number ?? null,
    logo_url: input.logo_url ?? null,
    tax_identification_number: input.tax_identification_number ?? null,
    timezone: input.timezone ?? null,
    currency: input.currency ?? null,
    net_payment_term: input.net_payment_term ?? null,
    customer_type: input.customer_type ?? null,
    finalize_zero_amount_invoice: input.finalize_zero_amount_invoice ?? 'inherit',
    metadata: JSON.stringify(input.metadata ?? {}),
    search_text: '',
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
  row.search_text = searchText(row);
  // Two simultaneous creates with one external_id (PostgreSQL, two instances): the unique
  // index lets exactly one insert through and the other updates the winner's row.
  const inserted = await ctx.db
    .insertInto('customers')
    .values(row)
    .onConflict((oc) =>
      oc
        .columns(['organization_id', 'external_id'])
        .where('deleted_at', 'is', null)
        .where('external_id', 'is not', null)
        .doNothing(),
    )
    .returning('id')
    .executeTakeFirst();
  if (!inserted) {
    const winner = await resolveCustomer(ctx, input.external_id!, 'external_id');
    return { customer: await applyUpdate(ctx, winner, input, 'customer.updated'), created: false };
  }
  await recordActivity(ctx, {
    type: 'customer.created',
    resourceType: 'customer',
    resourceId: row.id,
    externalCustomerId: row.external_id,
    changes: createdChanges(row),
  });
  return { customer: await customerView(ctx, row), created: true };
}

function createdChanges(row: CustomersTable): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) if (row[f] !== null) out[f] = row[f];
  if (row.metadata !== '{}') out.metadata = JSON.parse(row.metadata);
  return out;
}

async function applyUpdate(
  ctx: ServiceContext,
  existing: CustomersTable,
  patch: CustomerFields,
  activityType: string,
): Promise<CustomerView> {
  const next: CustomersTable = { ...existing };
  for (const f of FIELDS) {
    if (patch[f] !== undefined) (next as unknown as Record<string, unknown>)[f] = patch[f];
  }
  if (patch.metadata !== undefined) next.metadata = JSON.stringify(patch.metadata);
  next.search_text = searchText(next);
  const changes = diff(existing, next, [...FIELDS, 'metadata']);
  if (Object.keys(changes).length === 0) return customerView(ctx, existing);
  if ('metadata' in changes) changes.metadata = [JSON.parse(existing.metadata), JSON.parse(next.metadata)];
  next.updated_at = ctx.now();
  const settable = Object.fromEntries(SETTABLE.map((f) => [f, next[f]]));
  await ctx.db
    .updateTable('customers')
    .set(settable)
    .where('id', '=', existing.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  await recordActivity(ctx, {
    type: activityType,
    resourceType: 'customer',
    resourceId: existing.id,
    externalCustomerId: next.external_id,
    changes,
  });
  return customerView(ctx, next);
}

export async function getCustomer(ctx: ServiceContext, ref: string): Promise<CustomerView> {
  return customerView(ctx, await resolveCustomer(ctx, ref));
}

export async function updateCustomer(
  ctx: ServiceContext,
  ref: string,
  patch: CustomerFields,
): Promise<CustomerView> {
  const existing = await resolveCustomer(ctx, ref);
  if (patch.external_id && patch.external_id !== existing.external_id) {
    const other = await findByExternalId(ctx, patch.external_id);
    if (other) {
      throw new BillfoldError(
        'CONFLICT',
        `external_id: '${patch.external_id}' already belongs to customer ${other.id}`,
        { field: 'external_id', value: patch.external_id, customer_id: other.id },
        'Choose another external_id, or update that customer instead.',
      );
    }
  }
  return applyUpdate(ctx, existing, patch, 'customer.updated');
}

export async function setCustomerStatus(
  ctx: ServiceContext,
  ref: string,
  status: CustomerStatus,
): Promise<{ customer: CustomerView; changed: boolean }> {
  const existing = await resolveCustomer(ctx, ref);
  if (existing.status === status) return { customer: await customerView(ctx, existing), changed: false };
  const now = ctx.now();
  await ctx.db
    .updateTable('customers')
    .set({ status, updated_at: now })
    .where('id', '=', existing.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  await recordActivity(ctx, {
    type: status === 'disabled' ? 'customer.disabled' : 'customer.activated',
    resourceType: 'customer',
    resourceId: existing.id,
    externalCustomerId: existing.external_id,
    changes: { status: [existing.status, status] },
  });
  return { customer: await customerView(ctx, { ...existing, status, updated_at: now }), changed: true };
}

/** Hooks later resources register to refuse or follow a customer's deletion. */
export type CustomerDeletionGuard = (ctx: ServiceContext, customer: CustomersTable) => Promise<void>;
const deletionGuards: CustomerDeletionGuard[] = [];
export function onCustomerDeletion(guard: CustomerDeletionGuard): void {
  deletionGuards.push(guard);
}

/**
 * Deletes a customer. The row is kept (invoices and events still point at it) but disappears
 * from every lookup, and its external_id becomes free for a new customer.
 */
export async function deleteCustomer(ctx: ServiceContext, ref: string): Promise<CustomerView> {
  const existing = await resolveCustomer(ctx, ref);
  for (const guard of deletionGuards) await guard(ctx, existing);
  const now = ctx.now();
  await ctx.db
    .updateTable('customers')
    .set({ deleted_at: now, updated_at: now })
    .where('id', '=', existing.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  await recordActivity(ctx, {
    type: 'customer.deleted',
    resourceType: 'customer',
    resourceId: existing.id,
    externalCustomerId: existing.external_id,
    changes: { deleted_at: [null, toIso(now)] },
  });
  return customerView(ctx, { ...existing, deleted_at: now, updated_at: now });
}

export interface CustomerListFilter {
  search?: string;
  external_id?: string;
  status?: CustomerStatus;
  country?: string;
  currency?: string;
  customer_type?: 'individual' | 'company';
}

export async function listCustomers(
  ctx: ServiceContext,
  filter: CustomerListFilter,
  page: PageRequest,
): Promise<{ customers: CustomerView[]; pagination: Pagination }> {
  let q = ctx.db
    .selectFrom('customers')
    .where('organization_id', '=', ctx.organizationId)
    .where('deleted_at', 'is', null);
  if (filter.external_id) q = q.where('external_id', '=', filter.external_id);
  if (filter.status) q = q.where('status', '=', filter.status);
  if (filter.country) q = q.where('country', '=', filter.country);
  if (filter.currency) q = q.where('currency', '=', filter.currency);
  if (filter.customer_type) q = q.where('customer_type', '=', filter.customer_type);
  if (filter.search) q = q.where(containsText('search_text', filter.search.toLowerCase()));
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll()
    .orderBy('id', 'desc')
    .limit(page.per_page)
    .offset(pageOffset(page))
    .execute();
  const customers = await Promise.all(rows.map((r) => customerView(ctx, r)));
  return { customers, pagination: pagination(page, Number(count)) };
}
