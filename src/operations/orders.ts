import * as z from 'zod';
import * as orders from '../services/invoicing/orders.js';
import { invoiceOrder } from '../services/invoicing/order-invoicing.js';
import { ORDER_STATUSES } from '../services/invoicing/order-views.js';
import { CREATE, READ, UPDATE, defineOperation } from './define.js';
import { TaxCodes } from './products.js';
import {
  Currency,
  CustomerRef,
  DateOnly,
  DateOrInstant,
  DecimalInput,
  ExternalId,
  Iso,
  IsoNullable,
  Metadata,
  Money,
  Pagination,
  ProductRef,
  moneyOut,
  page,
  text,
} from './schemas/common.js';
import { Invoice } from './schemas/invoice.js';

const group = 'orders';

export const OrderStatus = z.enum(ORDER_STATUSES);

const OrderRef = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .describe('The order: its Billfold id (ord_…), its number (e.g. SO-202611-0001) or your external_id');

const Quantity = DecimalInput.refine((d) => d.isPositive(), { message: 'must be greater than 0' });

const LineIn = z.strictObject({
  product_code: ProductRef.optional().describe(
    'A product code: fills description, unit_amount, unit_label and taxes unless you give them',
  ),
  description: text(1000).min(1).optional().describe('What is sold; required without product_code'),
  quantity: Quantity.optional().describe('Number of units, exact decimal (default 1)'),
  unit_amount: Money.refine((d) => !d.isNegative(), { message: 'must not be negative' })
    .optional()
    .describe(
      'Price of one unit in major units; may be finer than the currency. Required without product_code',
    ),
  unit_label: text(50).nullable().optional(),
  tax_codes: TaxCodes.optional().describe(
    'Taxes of this line by code; [] for none. Absent: the product’s, else the customer’s, else the organization’s',
  ),
});

const editable = {
  currency: Currency.optional().describe("Default: the customer's currency, else the organization's"),
  order_date: DateOnly.optional().describe(
    "The order's date (default today); its month goes into the number",
  ),
  memo: text(2000).nullable().optional().describe('A note kept with the order'),
  metadata: Metadata.optional(),
};

const LineTax = z.object({ code: z.string(), name: z.string(), rate: z.string() });

export const Order = z.object({
  id: z.string().describe('Billfold id, ord_…'),
  number: z.string().nullable().describe('Given at confirmation (SO-YYYYMM-NNNN); null on a draft'),
  external_id: z.string().nullable(),
  status: OrderStatus,
  customer_id: z.string(),
  customer: z.object({
    id: z.string(),
    external_id: z.string().nullable(),
    name: z.string(),
    email: z.string().nullable(),
  }),
  currency: z.string(),
  order_date: z.string(),
  lines: z.array(
    z.object({
      id: z.string().describe('Order line id, ol_…'),
      position: z.int(),
      product_id: z.string().nullable(),
      product_code: z.string().nullable(),
      description: z.string(),
      quantity: z.string(),
      invoiced_quantity: z
        .string()
        .describe('Units billed by invoices that still count (not voided or deleted)'),
      remaining_quantity: z.string().describe('Units still to invoice'),
      unit_amount: z.string(),
      unit_label: z.string().nullable(),
      ...moneyOut('amount', 'quantity × unit_amount, rounded half-up'),
      taxes: z.array(LineTax),
    }),
  ),
  tax_breakdown: z.array(
    z.object({
      code: z.string(),
      name: z.string(),
      rate: z.string(),
      ...moneyOut('taxable_amount', 'Sum of the line amounts this rate applies to'),
      ...moneyOut('amount', 'Tax at this rate, rounded once'),
    }),
  ),
  ...moneyOut('sub_total_amount', 'Sum of the line amounts'),
  ...moneyOut('taxes_amount', 'Taxes'),
  ...moneyOut('total_amount', 'Subtotal + taxes'),
  invoices: z
    .array(
      z.object({
        id: z.string(),
        number: z.string().nullable(),
        status: z.string(),
        payment_status: z.string(),
        currency: z.string(),
        ...moneyOut('total_amount', 'Invoice total'),
        issued_at: IsoNullable,
      }),
    )
    .describe('The invoices made from this order, voided ones included'),
  memo: z.string().nullable(),
  metadata: z.record(z.string(), z.string()),
  confirmed_at: IsoNullable,
  canceled_at: IsoNullable,
  cancel_reason: z.string().nullable(),
  created_at: Iso,
  updated_at: Iso,
});

const STATUS_RULES =
  'Statuses: draft (can change) → confirmed (numbered SO-…, frozen) → partially_invoiced → invoiced; a draft, ' +
  'confirmed or partially invoiced order can be canceled.';

export const createOrder = defineOperation({
  name: 'create_order',
  title: 'Create a sales order',
  description:
    'Records what a customer has agreed to buy, before it is invoiced: `customer_id` (Billfold id or external_id), ' +
    '`lines` ([{product_code?, description?, quantity, unit_amount?, tax_codes?}]; a product fills in description, ' +
    'price and taxes), currency. Lines are priced as invoice lines are (quantity × unit_amount rounded half-up; ' +
    'each tax rate once on the sum of its lines). status draft (default) can still change; confirmed numbers it ' +
    'at once. `external_id` makes it idempotent: calling again updates the draft, or returns a confirmed order ' +
    `unchanged with a note. Bill it with invoice_order. ${STATUS_RULES}`,
  group,
  scope: 'write',
  annotations: CREATE,
  input: z.strictObject({
    customer_id: CustomerRef,
    ...editable,
    lines: z.array(LineIn).min(1).max(500),
    status: z.enum(['draft', 'confirmed']).default('draft'),
    external_id: ExternalId.optional().describe('Your own id for this order: makes retries safe'),
  }),
  output: z.object({
    order: Order,
    created: z.boolean(),
    note: z.string().optional().describe('Says what happened when external_id matched an existing order'),
  }),
  handler: (ctx, input) => orders.createOrder(ctx, { ...input, memo: input.memo ?? undefined }),
});

export const getOrder = defineOperation({
  name: 'get_order',
  title: 'Get a sales order',
  description:
    'Returns one order with its lines (what was ordered, what is invoiced, what is left), taxes, totals and the ' +
    'invoices made from it. `order_id` is the Billfold id (ord_…), the order number (SO-…) or your external_id.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({ order_id: OrderRef }),
  output: z.object({ order: Order }),
  handler: async (ctx, input) => ({ order: await orders.getOrder(ctx, input.order_id) }),
});

export const listOrders = defineOperation({
  name: 'list_orders',
  title: 'List sales orders',
  description:
    'Lists orders, newest first, with their lines, totals and invoices. Filters: customer_id, status (draft, ' +
    'confirmed, partially_invoiced, invoiced, canceled), currency, order_date_from / order_date_to (YYYY-MM-DD, ' +
    'inclusive), and search (number, external_id, customer name, email or external_id, line descriptions, ' +
    'product codes, memo, metadata). "What is still to invoice?": status confirmed, then partially_invoiced.',
  group,
  scope: 'read',
  annotations: READ,
  input: z
    .strictObject({
      customer_id: CustomerRef.optional(),
      status: OrderStatus.optional(),
      currency: Currency.optional(),
      order_date_from: DateOnly.optional().describe('Dated on or after this day'),
      order_date_to: DateOnly.optional().describe('Dated on or before this day'),
      search: z.string().trim().min(1).max(200).optional(),
      ...page,
    })
    .refine((v) => !v.order_date_from || !v.order_date_to || v.order_date_from <= v.order_date_to, {
      message: 'order_date_from must not be after order_date_to',
      path: ['order_date_from'],
    }),
  output: z.object({ orders: z.array(Order), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, ...filter }) => orders.listOrders(ctx, filter, { page: p, per_page }),
});

export const updateOrder = defineOperation({
  name: 'update_order',
  title: 'Update a draft sales order',
  description:
    'Changes a draft order: customer, currency (with its lines), lines (replaced as a whole), order_date, memo, ' +
    'metadata; totals are recomputed. A confirmed, invoiced or canceled order only takes metadata; anything else ' +
    'is INVALID_STATUS (cancel it and create a new one). Pass null to clear memo.',
  group,
  scope: 'write',
  annotations: UPDATE,
  input: z.strictObject({
    order_id: OrderRef,
    customer_id: CustomerRef.optional(),
    ...editable,
    lines: z.array(LineIn).min(1).max(500).optional(),
  }),
  output: z.object({ order: Order }),
  handler: async (ctx, { order_id, ...patch }) => ({ order: await orders.updateOrder(ctx, order_id, patch) }),
});

export const confirmOrder = defineOperation({
  name: 'confirm_order',
  title: 'Confirm a sales order',
  description:
    'Confirms a draft: it gets the next number of the gapless order sequence (SO-YYYYMM-NNNN, the month of its ' +
    'order_date) and its lines, prices and taxes no longer change. Confirming a confirmed order returns it ' +
    'unchanged (changed: false); a canceled one is INVALID_STATUS.',
  group,
  scope: 'write',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.strictObject({ order_id: OrderRef }),
  output: z.object({ order: Order, changed: z.boolean() }),
  handler: (ctx, input) => orders.confirmOrder(ctx, input.order_id),
});

export const cancelOrder = defineOperation({
  name: 'cancel_order',
  title: 'Cancel a sales order',
  description:
    'Cancels a draft, confirmed or partially invoiced order: nothing more is invoiced from it (invoices already ' +
    'made stay as they are). A fully invoiced order is INVALID_STATUS: void its invoices first.',
  group,
  scope: 'write',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  input: z.strictObject({ order_id: OrderRef, reason: text(500).min(1).optional() }),
  output: z.object({ order: Order }),
  handler: async (ctx, input) => ({ order: await orders.cancelOrder(ctx, input.order_id, input.reason) }),
});

export const invoiceOrderOp = defineOperation({
  name: 'invoice_order',
  title: 'Invoice a sales order',
  description:
    'Makes an invoice from a confirmed or partially invoiced order: every unit still to invoice, or the parts ' +
    'you name in `lines` ([{order_line_id or position, quantity?}]; quantity defaults to what is left on that ' +
    'line). The invoice takes each line’s description, unit price and taxes from the order and is priced by the ' +
    'invoicing rules; it names the order (order_id) and the order lists it. The order becomes ' +
    'partially_invoiced, or invoiced once every unit is. A unit is never invoiced twice, even by two calls at ' +
    'once; voiding the invoice (or deleting its draft) gives its quantities back. status draft (default) or ' +
    'finalized; `external_id` makes a retry return the same invoice.',
  group,
  scope: 'write',
  annotations: CREATE,
  input: z.strictObject({
    order_id: OrderRef,
    lines: z
      .array(
        z.strictObject({
          order_line_id: z.string().trim().min(1).max(255).optional().describe('The order line, ol_…'),
          position: z.int().min(1).optional().describe('Or the line by its position on the order, from 1'),
          quantity: Quantity.optional().describe('Units to invoice; default what is left on the line'),
        }),
      )
      .min(1)
      .max(500)
      .optional()
      .describe('Default: every line, for what is left on it'),
    status: z.enum(['draft', 'finalized']).default('draft'),
    issued_at: DateOrInstant.optional(),
    due_at: DateOrInstant.optional(),
    net_payment_term: z.int().min(0).max(365).optional(),
    memo: text(2000).nullable().optional().describe('Printed on the invoice; default "Order SO-…"'),
    metadata: Metadata.optional(),
    external_id: ExternalId.optional().describe("The invoice's external_id: makes retries safe"),
  }),
  output: z.object({
    order: Order,
    invoice: Invoice,
    created: z.boolean(),
    note: z.string().optional(),
  }),
  handler: (ctx, { order_id, ...req }) => invoiceOrder(ctx, order_id, req),
});

export const orderOperations = [
  createOrder,
  getOrder,
  listOrders,
  updateOrder,
  confirmOrder,
  cancelOrder,
  invoiceOrderOp,
];
