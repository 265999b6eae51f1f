import * as z from 'zod';
import * as products from '../services/products.js';
import { CREATE, READ, TOGGLE, UPDATE, defineOperation } from './define.js';
import { Currency, DecimalInput, Metadata, Pagination, ProductRef, page, text } from './schemas/common.js';
import { Product } from './schemas/invoice.js';

const group = 'products';

export const Code = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'must be letters, digits, _ . : or -, e.g. consulting_day');
export const TaxCodes = z.array(Code).max(10);

const UnitAmount = DecimalInput.refine((d) => !d.isNegative(), { message: 'must not be negative' }).describe(
  'Price of one unit in major units, e.g. "1200.00" or "0.0000025"; may be more precise than the currency',
);

const fields = {
  name: text().min(1),
  description: text(1000).nullable().optional(),
  unit_label: text(50).nullable().optional().describe('e.g. "day", "hour", "seat"'),
  tax_codes: TaxCodes.optional().describe('Taxes this product carries by default, by code'),
  metadata: Metadata.optional(),
};

export const createProduct = defineOperation({
  name: 'create_product',
  title: 'Create a product',
  description:
    'Adds a product or service to the catalogue so invoice lines can name it by `code` and take its name, ' +
    'unit price and taxes. unit_amount is exact and may be finer than the currency (line amounts are rounded ' +
    "half-up to the cent). currency defaults to the organization's. Calling it again with the same code and " +
    'values returns the existing product (created: false); other values under a taken code are a CONFLICT.',
  group,
  scope: 'write',
  annotations: CREATE,
  input: z.strictObject({
    code: Code.describe('Your unique code for the product, e.g. "consulting_day"'),
    ...fields,
    unit_amount: UnitAmount,
    currency: Currency.optional(),
  }),
  output: z.object({ product: Product, created: z.boolean() }),
  handler: (ctx, input) => products.createProduct(ctx, input),
});

export const getProduct = defineOperation({
  name: 'get_product',
  title: 'Get a product',
  description:
    'Returns one product: code, name, unit price (exact, may be finer than the currency), currency, unit label, ' +
    'default taxes and whether it is archived. `product_id` is its code or its Billfold id (prod_…).',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({ product_id: ProductRef }),
  output: z.object({ product: Product }),
  handler: async (ctx, input) => ({ product: await products.getProduct(ctx, input.product_id) }),
});

export const listProducts = defineOperation({
  name: 'list_products',
  title: 'List products',
  description:
    'Lists products by code. `search` matches code, name or description (case-insensitive); `active: true` ' +
    'leaves out archived products, `active: false` shows only them; `currency` filters exactly.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    search: z.string().trim().min(1).max(200).optional(),
    active: z.boolean().optional(),
    currency: Currency.optional(),
    ...page,
  }),
  output: z.object({ products: z.array(Product), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, ...filter }) =>
    products.listProducts(ctx, filter, { page: p, per_page }),
});

export const updateProduct = defineOperation({
  name: 'update_product',
  title: 'Update a product',
  description:
    'Changes the fields you pass. Invoices already made keep their prices; new lines use the new ones. ' +
    '`active: true` brings an archived product back.',
  group,
  scope: 'write',
  annotations: UPDATE,
  input: z.strictObject({
    product_id: ProductRef,
    code: Code.optional(),
    name: fields.name.optional(),
    description: fields.description,
    unit_label: fields.unit_label,
    tax_codes: fields.tax_codes,
    metadata: fields.metadata,
    unit_amount: UnitAmount.optional(),
    currency: Currency.optional(),
    active: z.boolean().optional(),
  }),
  output: z.object({ product: Product }),
  handler: async (ctx, { product_id, ...patch }) => ({
    product: await products.updateProduct(ctx, product_id, patch),
  }),
});

export const archiveProduct = defineOperation({
  name: 'archive_product',
  title: 'Archive a product',
  description:
    'Retires a product: new invoice lines can no longer name it, existing invoices are unchanged. ' +
    'update_product with active: true restores it. Archiving an archived product changes nothing.',
  group,
  scope: 'write',
  annotations: TOGGLE,
  input: z.strictObject({ product_id: ProductRef }),
  output: z.object({ product: Product, changed: z.boolean() }),
  handler: (ctx, input) => products.archiveProduct(ctx, input.product_id),
});

export const productOperations = [createProduct, getProduct, listProducts, updateProduct, archiveProduct];
