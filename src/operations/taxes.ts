import * as z from 'zod';
import * as taxes from '../services/taxes.js';
import { CREATE, DELETE, READ, UPDATE, defineOperation } from './define.js';
import { CustomerRef, DecimalInput, Pagination, page, text } from './schemas/common.js';
import { Tax } from './schemas/invoice.js';
import { Code } from './products.js';

const group = 'taxes';

const Rate = DecimalInput.refine((d) => !d.isNegative() && d.lte(100), {
  message: 'must be a percentage from 0 to 100, e.g. "20" or "5.5"',
}).describe('Percent, exact, e.g. "20" for 20 %');

const applies = {
  applied_to_organization: z
    .boolean()
    .optional()
    .describe('Applies by default to lines of every customer that has no tax of its own'),
  customer_ids: z
    .array(CustomerRef)
    .max(100)
    .optional()
    .describe("Customers whose lines take this tax by default (instead of the organization's)"),
  product_codes: z
    .array(Code)
    .max(100)
    .optional()
    .describe('Products whose lines take this tax by default (before customer and organization taxes)'),
};

const RULE =
  'A line that names tax_codes gets exactly those; otherwise the first level that has taxes applies: the ' +
  "product's (its tax_codes and taxes listing it), the customer's, then the organization's.";

export const createTax = defineOperation({
  name: 'create_tax',
  title: 'Create a tax',
  description: `Adds a tax rate (e.g. code "vat_fr_20", rate "20"), and says where it applies by default. ${RULE}`,
  group,
  scope: 'write',
  annotations: CREATE,
  input: z.strictObject({
    code: Code.describe('Your unique code for the tax, e.g. "vat_20"'),
    name: text(100).min(1).describe('Printed on invoices, e.g. "VAT"'),
    rate: Rate,
    description: text(500).nullable().optional(),
    ...applies,
  }),
  output: z.object({ tax: Tax }),
  handler: async (ctx, input) => ({ tax: await taxes.createTax(ctx, input) }),
});

export const getTax = defineOperation({
  name: 'get_tax',
  title: 'Get a tax',
  description:
    'Returns one tax: its code, name, rate (percent, exact) and what it applies to by default — the whole ' +
    'organization, listed customers or listed products. `tax_id` is its code or its Billfold id (tax_…).',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({ tax_id: z.string().trim().min(1).max(255).describe('The tax code or id') }),
  output: z.object({ tax: Tax }),
  handler: async (ctx, input) => ({ tax: await taxes.getTax(ctx, input.tax_id) }),
});

export const listTaxes = defineOperation({
  name: 'list_taxes',
  title: 'List taxes',
  description: `Lists taxes by code; \`search\` matches code, name or description. ${RULE}`,
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    search: z.string().trim().min(1).max(200).optional(),
    applied_to_organization: z.boolean().optional(),
    ...page,
  }),
  output: z.object({ taxes: z.array(Tax), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, ...filter }) => taxes.listTaxes(ctx, filter, { page: p, per_page }),
});

export const updateTax = defineOperation({
  name: 'update_tax',
  title: 'Update a tax',
  description:
    'Changes the fields you pass. Finalized invoices keep the rate they were issued with; a draft keeps the ' +
    'rates of its lines until its lines are set again with update_invoice.',
  group,
  scope: 'write',
  annotations: UPDATE,
  input: z.strictObject({
    tax_id: z.string().trim().min(1).max(255).describe('The tax code or id'),
    code: Code.optional(),
    name: text(100).min(1).optional(),
    rate: Rate.optional(),
    description: text(500).nullable().optional(),
    ...applies,
  }),
  output: z.object({ tax: Tax }),
  handler: async (ctx, { tax_id, ...patch }) => ({ tax: await taxes.updateTax(ctx, tax_id, patch) }),
});

export const deleteTax = defineOperation({
  name: 'delete_tax',
  title: 'Delete a tax',
  description:
    'Removes a tax: new lines no longer take it and its code is free again. Invoices keep the taxes they were made with.',
  group,
  scope: 'write',
  annotations: DELETE,
  input: z.strictObject({ tax_id: z.string().trim().min(1).max(255).describe('The tax code or id') }),
  output: z.object({ tax: Tax, deleted: z.literal(true) }),
  handler: async (ctx, input) => ({ tax: await taxes.deleteTax(ctx, input.tax_id), deleted: true as const }),
});

export const taxOperations = [createTax, getTax, listTaxes, updateTax, deleteTax];
