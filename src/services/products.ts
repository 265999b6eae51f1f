import type { ProductsTable } from '../db/schema.js';
import type { Decimal } from '../domain/decimal.js';
import { BillfoldError } from '../domain/errors.js';
import { looksLikeId, newId } from '../domain/ids.js';
import { pageOffset, pagination, type PageRequest, type Pagination } from '../domain/pagination.js';
import { toIso } from '../domain/time.js';
import { countAll, containsText } from '../db/sql.js';
import { diff, recordActivity } from './activity.js';
import type { ServiceContext } from './context.js';
import { checkTaxCodes } from './taxes.js';

/** Products: what an invoice line can name by code to take its description, price and taxes. */
export interface ProductView {
  id: string;
  code: string;
  name: string;
  description: string | null;
  unit_amount: string;
  currency: string;
  unit_label: string | null;
  tax_codes: string[];
  active: boolean;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
}

export interface ProductFields {
  code?: string;
  name?: string;
  description?: string | null;
  unit_amount?: Decimal;
  currency?: string;
  unit_label?: string | null;
  tax_codes?: string[];
  metadata?: Record<string, string>;
  active?: boolean;
}

export function productView(row: ProductsTable): ProductView {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    description: row.description,
    unit_amount: row.unit_amount,
    currency: row.currency,
    unit_label: row.unit_label,
    tax_codes: JSON.parse(row.tax_codes) as string[],
    active: row.active === 1,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
    archived_at: toIso(row.archived_at),
  };
}

function searchText(row: Pick<ProductsTable, 'code' | 'name' | 'description'>): string {
  return [row.code, row.name, row.description].filter(Boolean).join(' ').toLowerCase();
}

export async function findProduct(ctx: ServiceContext, ref: string): Promise<ProductsTable | undefined> {
  const base = ctx.db.selectFrom('products').selectAll().where('organization_id', '=', ctx.organizationId);
  if (looksLikeId('product', ref)) {
    const byId = await base.where('id', '=', ref).executeTakeFirst();
    if (byId) return byId;
  }
  return base.where('code', '=', ref).executeTakeFirst();
}

export async function resolveProduct(
  ctx: ServiceContext,
  ref: string,
  field = 'product_id',
): Promise<ProductsTable> {
  const row = await findProduct(ctx, ref);
  if (!row) {
    throw new BillfoldError(
      'NOT_FOUND',
      `${field}: no product has the id or code '${ref}'`,
      { resource: 'product', field, ref },
      'list_products with `search` finds products by code or name.',
    );
  }
  return row;
}

export async function createProduct(
  ctx: ServiceContext,
  input: ProductFields & { code: string; name: string; unit_amount: Decimal },
): Promise<{ product: ProductView; created: boolean }> {
  const currency = input.currency ?? (await ctx.organization()).default_currency;
  const existing = await findProduct(ctx, input.code);
  if (existing && existing.code === input.code) {
    const same =
      existing.name === input.name &&
      existing.unit_amount === input.unit_amount.toString() &&
      existing.currency === currency;
    if (same) return { product: productView(existing), created: false };
    throw new BillfoldError(
      'CONFLICT',
      `code: a product with the code '${input.code}' already exists (${existing.id}) with other values`,
      { field: 'code', value: input.code, product_id: existing.id },
      'Use update_product to change it, or choose another code.',
    );
  }
  await checkTaxCodes(ctx, input.tax_codes);
  const now = ctx.now();
  const row: ProductsTable = {
    id: newId('product', now),
    organization_id: ctx.organizationId,
    code: input.code,
    name: input.name,
    description: input.description ?? null,
    unit_amount: input.unit_amount.toString(),
    currency,
    unit_label: input.unit_label ?? null,
    tax_codes: JSON.stringify(input.tax_codes ?? []),
    active: input.active === false ? 0 : 1,
    metadata: JSON.stringify(input.metadata ?? {}),
    search_text: '',
    created_at: now,
    updated_at: now,
    archived_at: input.active === false ? now : null,
  };
  row.search_text = searchText(row);
  await ctx.db.insertInto('products').values(row).execute();
  await recordActivity(ctx, {
    type: 'product.created',
    resourceType: 'product',
    resourceId: row.id,
    changes: { code: row.code, name: row.name, unit_amount: row.unit_amount, currency: row.currency },
  });
  return { product: productView(row), created: true };
}

export async function getProduct(ctx: ServiceContext, ref: string): Promise<ProductView> {
  return productView(await resolveProduct(ctx, ref));
}

export async function updateProduct(
  ctx: ServiceContext,
  ref: string,
  patch: ProductFields,
  activityType = 'product.updated',
): Promise<ProductView> {
  const before = await resolveProduct(ctx, ref);
  if (patch.code && patch.code !== before.code) {
    const other = await findProduct(ctx, patch.code);
    if (other && other.code === patch.code) {
      throw new BillfoldError(
        'CONFLICT',
        `code: '${patch.code}' already belongs to product ${other.id}`,
        { field: 'code', value: patch.code, product_id: other.id },
        'Choose another code.',
      );
    }
  }
  await checkTaxCodes(ctx, patch.tax_codes);
  const next: ProductsTable = { ...before };
  if (patch.code !== undefined) next.code = patch.code;
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.description !== undefined) next.description = patch.description;
  if (patch.unit_amount !== undefined) next.unit_amount = patch.unit_amount.toString();
  if (patch.currency !== undefined) next.currency = patch.currency;
  if (patch.unit_label !== undefined) next.unit_label = patch.unit_label;
  if (patch.tax_codes !== undefined) next.tax_codes = JSON.stringify(patch.tax_codes);
  if (patch.metadata !== undefined) next.metadata = JSON.stringify(patch.metadata);
  const now = ctx.now();
  if (patch.active !== undefined && (patch.active ? 1 : 0) !== before.active) {
    next.active = patch.active ? 1 : 0;
    next.archived_at = patch.active ? null : now;
  }
  next.search_text = searchText(next);
  const changes = diff(before, next, [
    'code',
    'name',
    'description',
    'unit_amount',
    'currency',
    'unit_label',
    'tax_codes',
    'metadata',
    'active',
  ]);
  if (Object.keys(changes).length === 0) return productView(before);
  next.updated_at = now;
  const { id, organization_id, created_at, ...settable } = next;
  void created_at;
  await ctx.db
    .updateTable('products')
    .set(settable)
    .where('id', '=', id)
    .where('organization_id', '=', organization_id)
    .execute();
  await recordActivity(ctx, { type: activityType, resourceType: 'product', resourceId: id, changes });
  return productView(next);
}

export async function archiveProduct(
  ctx: ServiceContext,
  ref: string,
): Promise<{ product: ProductView; changed: boolean }> {
  const before = await resolveProduct(ctx, ref);
  if (before.active === 0) return { product: productView(before), changed: false };
  return { product: await updateProduct(ctx, ref, { active: false }, 'product.archived'), changed: true };
}

export async function listProducts(
  ctx: ServiceContext,
  filter: { search?: string; active?: boolean; currency?: string },
  page: PageRequest,
): Promise<{ products: ProductView[]; pagination: Pagination }> {
  let q = ctx.db.selectFrom('products').where('organization_id', '=', ctx.organizationId);
  if (filter.active !== undefined) q = q.where('active', '=', filter.active ? 1 : 0);
  if (filter.currency) q = q.where('currency', '=', filter.currency);
  if (filter.search) q = q.where(containsText('search_text', filter.search.toLowerCase()));
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const rows = await q.selectAll().orderBy('code').limit(page.per_page).offset(pageOffset(page)).execute();
  return { products: rows.map(productView), pagination: pagination(page, Number(count)) };
}
