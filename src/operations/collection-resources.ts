import * as z from 'zod';
import { getBillableMetric } from './billable-metrics.js';
import { getCoupon } from './coupons.js';
import { listCustomers } from './customers.js';
import type { AnyOperation, ResourceDefinition } from './define.js';
import { listInvoices } from './invoices.js';
import { getOrder, listOrders } from './orders.js';
import { getPlan } from './plans.js';
import { getProduct, listProducts } from './products.js';
import { schemaLookup } from './invoke.js';
import { validationErrorFrom } from './validation.js';

/**
 * Collections as resources (recent invoices, customers, orders, the priced products), each read
 * through its list operation — the same filters, pagination and errors — with the filters as the
 * URI's query (`billfold://invoices?status=finalized&page=2`); and single orders, products,
 * plans, coupons and billable metrics through their get operations.
 */

const json = (v: unknown) => ({ text: JSON.stringify(v, null, 2) });

/** Query values are text: the list operations take pages as numbers and flags as booleans. */
function coerce(params: Record<string, string>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(params).map(([k, v]) => [
      k,
      v === 'true'
        ? true
        : v === 'false'
          ? false
          : (k === 'page' || k === 'per_page') && /^\d+$/.test(v)
            ? Number(v)
            : v,
    ]),
  );
}

function collection(
  op: AnyOperation,
  uri: string,
  name: string,
  title: string,
  description: string,
): ResourceDefinition {
  const shape = (op.input as z.ZodObject).shape as Record<string, unknown>;
  const lookup = schemaLookup(op.input);
  return {
    name,
    title,
    description: `${description} The query takes ${op.name}'s filters (${Object.keys(shape).join(', ')}).`,
    uriTemplate: `${uri}{?${Object.keys(shape).join(',')}}`,
    mimeType: 'application/json',
    scope: 'read',
    listedAs: () => uri,
    async read(ctx, params) {
      const parsed = op.input.safeParse(coerce(params));
      if (!parsed.success) throw validationErrorFrom(parsed.error, lookup);
      return json(await op.handler(ctx, parsed.data));
    },
  };
}

/** One object read through its get operation; `rename` maps template variables to its input. */
function item(
  op: AnyOperation,
  uriTemplate: string,
  name: string,
  title: string,
  ref: string,
  rename: Record<string, string> = {},
): ResourceDefinition {
  const lookup = schemaLookup(op.input);
  return {
    name,
    title,
    description: `${title} as JSON (what ${op.name} returns). ${ref}`,
    uriTemplate,
    mimeType: 'application/json',
    scope: 'read',
    async read(ctx, params) {
      const input = Object.fromEntries(Object.entries(params).map(([k, v]) => [rename[k] ?? k, v]));
      const parsed = op.input.safeParse(input);
      if (!parsed.success) throw validationErrorFrom(parsed.error, lookup);
      return json(await op.handler(ctx, parsed.data));
    },
  };
}

export const collectionResources: ResourceDefinition[] = [
  collection(
    listInvoices,
    'billfold://invoices',
    'invoices',
    'Recent invoices',
    'Invoices, newest first, 20 a page (what list_invoices returns).',
  ),
  collection(
    listCustomers,
    'billfold://customers',
    'customers',
    'Customers',
    'Customers, newest first, 20 a page (what list_customers returns).',
  ),
  collection(
    listOrders,
    'billfold://orders',
    'orders',
    'Recent sales orders',
    'Sales orders, newest first, with what is left to invoice (what list_orders returns).',
  ),
  collection(
    listProducts,
    'billfold://products',
    'products',
    'Priced products and services',
    'The catalogue of products and services the organization sells, with their prices and taxes (what list_products returns).',
  ),
  item(
    getOrder,
    'billfold://orders/{order_id}',
    'order',
    'Sales order',
    'order_id: id, number (SO-…) or external_id.',
  ),
  item(getProduct, 'billfold://products/{product_id}', 'product', 'Product', 'product_id: code or id.'),
  item(getPlan, 'billfold://plans/{plan_code}', 'plan', 'Plan', 'plan_code: code or id.'),
  item(getCoupon, 'billfold://coupons/{coupon_code}', 'coupon', 'Coupon', 'coupon_code: code or id.'),
  item(
    getBillableMetric,
    'billfold://billable-metrics/{metric_code}',
    'billable_metric',
    'Billable metric',
    'metric_code: code or id.',
    { metric_code: 'code' },
  ),
];
