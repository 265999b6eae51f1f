import { prepared } from '../db/prepared.js';
import type { TaxesTable } from '../db/schema.js';
import { Decimal } from '../domain/decimal.js';
import { BillfoldError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { TaxRate } from '../domain/invoice-math.js';
import { pageOffset, pagination, type PageRequest, type Pagination } from '../domain/pagination.js';
import { toIso } from '../domain/time.js';
import { sql, type SqlBool } from 'kysely';
import { countAll, escapeLike } from '../db/sql.js';
import { diff, recordActivity } from './activity.js';
import type { ServiceContext } from './context.js';
import { resolveCustomer } from './customers.js';

/**
 * Taxes: a code, a name and a rate in percent. A tax applies to an invoice line when the line
 * names it; a line that names none takes, in this order, the first level that has any: its
 * product's taxes (the product's tax_codes and taxes listing the product), the customer's
 * (taxes listing the customer), the organization's (taxes applied_to_organization).
 */
export interface TaxView {
  id: string;
  code: string;
  name: string;
  rate: string;
  description: string | null;
  applied_to_organization: boolean;
  customer_ids: string[];
  product_codes: string[];
  created_at: string;
  updated_at: string;
}

export interface TaxFields {
  code?: string;
  name?: string;
  rate?: Decimal;
  description?: string | null;
  applied_to_organization?: boolean;
  customer_ids?: string[];
  product_codes?: string[];
}

function view(row: TaxesTable): TaxView {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    rate: Decimal.parse(row.rate).toString(),
    description: row.description,
    applied_to_organization: row.applied_to_organization === 1,
    customer_ids: JSON.parse(row.customer_ids) as string[],
    product_codes: JSON.parse(row.product_codes) as string[],
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  };
}

export function taxRateOf(row: Pick<TaxesTable, 'code' | 'name' | 'rate'>): TaxRate {
  return { code: row.code, name: row.name, rate: Decimal.parse(row.rate) };
}

const liveTaxes = prepared((db, p: { org: string }) =>
  db.selectFrom('taxes').selectAll().where('organization_id', '=', p.org).where('deleted_at', 'is', null),
);

/** All live taxes of the organization (a handful), for resolving lines. */
export function organizationTaxes(ctx: ServiceContext): Promise<TaxesTable[]> {
  return liveTaxes(ctx.db, { org: ctx.organizationId });
}

async function findTax(ctx: ServiceContext, ref: string): Promise<TaxesTable | undefined> {
  return ctx.db
    .selectFrom('taxes')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('deleted_at', 'is', null)
    .where((eb) => eb.or([eb('id', '=', ref), eb('code', '=', ref)]))
    .executeTakeFirst();
}

async function resolveTax(ctx: ServiceContext, ref: string, field = 'tax_id'): Promise<TaxesTable> {
  const row = await findTax(ctx, ref);
  if (!row) {
    throw new BillfoldError(
      'NOT_FOUND',
      `${field}: no tax has the id or code '${ref}'`,
      { resource: 'tax', field, ref },
      'list_taxes shows every tax with its code.',
    );
  }
  return row;
}

async function customerIds(ctx: ServiceContext, refs: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, ref] of refs.entries()) {
    const c = await resolveCustomer(ctx, ref, `customer_ids[${i}]`);
    if (!ids.includes(c.id)) ids.push(c.id);
  }
  return ids;
}

export async function createTax(
  ctx: ServiceContext,
  input: Required<Pick<TaxFields, 'code' | 'name' | 'rate'>> & TaxFields,
): Promise<TaxView> {
  const existing = await findTax(ctx, input.code);
  if (existing && existing.code === input.code) {
    throw new BillfoldError(
      'CONFLICT',
      `code: a tax with the code '${input.code}' already exists (${existing.id})`,
      { field: 'code', value: input.code, tax_id: existing.id },
      'Use update_tax to change it, or choose another code.',
    );
  }
  const now = ctx.now();
  const row: TaxesTable = {
    id: newId('tax', now),
    organization_id: ctx.organizationId,
    code: input.code,
    name: input.name,
    rate: input.rate.toString(),
    description: input.description ?? null,
    applied_to_organization: input.applied_to_organization ? 1 : 0,
    customer_ids: JSON.stringify(await customerIds(ctx, input.customer_ids ?? [])),
    product_codes: JSON.stringify([...new Set(input.product_codes ?? [])]),
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
  await ctx.db.insertInto('taxes').values(row).execute();
  await recordActivity(ctx, {
    type: 'tax.created',
    resourceType: 'tax',
    resourceId: row.id,
    changes: { code: row.code, name: row.name, rate: row.rate },
  });
  return view(row);
}

export async function getTax(ctx: ServiceContext, ref: string): Promise<TaxView> {
  return view(await resolveTax(ctx, ref));
}

export async function updateTax(ctx: ServiceContext, ref: string, patch: TaxFields): Promise<TaxView> {
  const before = await resolveTax(ctx, ref);
  if (patch.code && patch.code !== before.code) {
    const other = await findTax(ctx, patch.code);
    if (other && other.code === patch.code) {
      throw new BillfoldError(
        'CONFLICT',
        `code: '${patch.code}' already belongs to tax ${other.id}`,
        { field: 'code', value: patch.code, tax_id: other.id },
        'Choose another code.',
      );
    }
  }
  const next: TaxesTable = { ...before };
  if (patch.code !== undefined) next.code = patch.code;
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.rate !== undefined) next.rate = patch.rate.toString();
  if (patch.description !== undefined) next.description = patch.description;
  if (patch.applied_to_organization !== undefined)
    next.applied_to_organization = patch.applied_to_organization ? 1 : 0;
  if (patch.customer_ids !== undefined)
    next.customer_ids = JSON.stringify(await customerIds(ctx, patch.customer_ids));
  if (patch.product_codes !== undefined)
    next.product_codes = JSON.stringify([...new Set(patch.product_codes)]);
  const changes = diff(before, next, [
    'code',
    'name',
    'rate',
    'description',
    'applied_to_organization',
    'customer_ids',
    'product_codes',
  ]);
  if (Object.keys(changes).length === 0) return view(before);
  next.updated_at = ctx.now();
  const { id, organization_id, created_at, deleted_at, ...settable } = next;
  void created_at;
  void deleted_at;
  await ctx.db
    .updateTable('taxes')
    .set(settable)
    .where('id', '=', id)
    .where('organization_id', '=', organization_id)
    .execute();
  await recordActivity(ctx, { type: 'tax.updated', resourceType: 'tax', resourceId: id, changes });
  return view(next);
}

/**
 * Deletes a tax: it no longer applies to new lines and its code becomes free. Invoices keep the
 * rate they were made with.
 */
export async function deleteTax(ctx: ServiceContext, ref: string): Promise<TaxView> {
  const row = await resolveTax(ctx, ref);
  const now = ctx.now();
  await ctx.db
    .updateTable('taxes')
    .set({ deleted_at: now, updated_at: now })
    .where('id', '=', row.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  await recordActivity(ctx, {
    type: 'tax.deleted',
    resourceType: 'tax',
    resourceId: row.id,
    changes: { deleted_at: [null, toIso(now)] },
  });
  return view({ ...row, deleted_at: now, updated_at: now });
}

export async function listTaxes(
  ctx: ServiceContext,
  filter: { search?: string; applied_to_organization?: boolean },
  page: PageRequest,
): Promise<{ taxes: TaxView[]; pagination: Pagination }> {
  let q = ctx.db
    .selectFrom('taxes')
    .where('organization_id', '=', ctx.organizationId)
    .where('deleted_at', 'is', null);
  if (filter.applied_to_organization !== undefined)
    q = q.where('applied_to_organization', '=', filter.applied_to_organization ? 1 : 0);
  if (filter.search) {
    const pattern = `%${escapeLike(filter.search.toLowerCase())}%`;
    q = q.where(
      sql<SqlBool>`lower(code || ' ' || name || ' ' || coalesce(description, '')) like ${pattern} escape '\\'`,
    );
  }
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const rows = await q.selectAll().orderBy('code').limit(page.per_page).offset(pageOffset(page)).execute();
  return { taxes: rows.map(view), pagination: pagination(page, Number(count)) };
}

/** Checks that every code names a live tax; the error names the field and the unknown code. */
export function requireTaxCodes(
  all: readonly TaxesTable[],
  codes: readonly string[],
  field: string,
): TaxesTable[] {
  return codes.map((code, i) => {
    const t = all.find((x) => x.code === code);
    if (!t) {
      const known = all.map((x) => x.code);
      throw new BillfoldError(
        'VALIDATION_ERROR',
        `${field}[${i}]: no tax has the code '${code}'`,
        { issues: [{ field: `${field}[${i}]`, message: `unknown tax code '${code}'` }] },
        known.length
          ? `Known tax codes: ${known.join(', ')}. create_tax adds one.`
          : 'There are no taxes yet; create_tax adds one.',
      );
    }
    return t;
  });
}

/** Checks that every code names a tax of the organization (VALIDATION_ERROR on `tax_codes[i]`). */
export async function checkTaxCodes(
  ctx: ServiceContext,
  codes: readonly string[] | null | undefined,
): Promise<void> {
  if (codes?.length) requireTaxCodes(await organizationTaxes(ctx), codes, 'tax_codes');
}
