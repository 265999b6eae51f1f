import * as z from 'zod';
import {
  batchGetInvoices,
  createInvoice,
  deleteInvoice,
  updateInvoice,
} from '../../../operations/invoices.js';
import { createCustomer, updateCustomer } from '../../../operations/customers.js';
import { getFinancialSummary } from '../../../operations/finance.js';
import { validateQrCode } from '../../../operations/invoice-codes.js';
import {
  catalogueTool,
  defineTool,
  ProfileError,
  type Operations,
  type Profile,
  type ProfileResource,
} from './define.js';
import { offsetWindow, present } from './shapes.js';

/**
 * The Cegid Y2 ERP MCP server of seed 004 (FastAPI): its seventeen tools and its `cegid://`
 * resources over Billfold's invoices, customers, products, orders and finance. The document gives
 * tool names and one example per call (`list_invoices {"limit": 10, "offset": 0}`,
 * `create_invoice {"customer_id": "CUST-001", "amount": 1000, "currency": "USD"}`) but no
 * result shapes, so results are Billfold's own objects; lists page by `limit` and `offset`, and
 * the tools the document does not detail take the catalogue operation's own parameters (the
 * same schema object, so they cannot drift apart). Errors are Billfold's
 * `{ error: { code, message, details, hint } }`.
 *
 * Every tool here has its operation.
 */

const MAX_LIMIT = 100;
const Window = {
  limit: z
    .int()
    .min(1)
    .max(MAX_LIMIT)
    .default(20)
    .describe(`How many to return (1-${MAX_LIMIT}, default 20)`),
  offset: z.int().min(0).default(0).describe('How many to skip from the start (default 0)'),
};

/**
 * Seed 004's fraud_detection takes `threshold` as a risk score (its example is 50); the catalogue's
 * fraud_detection and detect_anomalies take a robust z-score. This is the one conversion between
 * them: z = 7 × risk / 100, so the seed's 50 is the catalogue's usual cut-off 3.5 and 100 is twice
 * it. A score of 0 would flag every amount above the customer's median, which detect_anomalies does
 * not take (its threshold is above 0), so the score runs from 1. Whole numbers, as the seed sends.
 */
export const RISK_SCORE = { min: 1, max: 100 } as const;

export function zScoreOfRiskScore(risk: number): number {
  return (7 * risk) / 100;
}

function parseRiskScore(text: string | undefined): number {
  const risk = Number(text);
  if (!/^\d{1,3}$/.test(text ?? '') || risk < RISK_SCORE.min || risk > RISK_SCORE.max)
    throw new ProfileError(
      'VALIDATION_ERROR',
      `threshold must be a risk score, a whole number from ${RISK_SCORE.min} to ${RISK_SCORE.max} (got '${text ?? ''}')`,
      { field: 'threshold', minimum: RISK_SCORE.min, maximum: RISK_SCORE.max },
    );
  return risk;
}

/** One window of a catalogue list, as `{ <plural>, total, limit, offset, has_more }`. */
async function listWindow(
  ops: Operations,
  operation: string,
  plural: string,
  filters: Record<string, unknown>,
  input: { limit: number; offset: number },
) {
  const { items, total } = await offsetWindow(input.limit, input.offset, async (page, perPage) => {
    const out = await ops.call(operation, { ...filters, page, per_page: perPage });
    return { items: out[plural] as unknown[], total: out.pagination.total_count as number };
  });
  return {
    [plural]: items,
    total,
    limit: input.limit,
    offset: input.offset,
    has_more: input.offset + items.length < total,
  };
}

const Ref = (what: string) => z.string().trim().min(1).max(255).describe(what);

const InvoiceFilters = {
  status: z.string().optional().describe('draft, finalized or voided'),
  payment_status: z.string().optional().describe('pending, succeeded or failed'),
  customer_id: Ref('Only this customer: its id or your external id (e.g. CUST-001)').optional(),
  overdue: z.boolean().optional().describe('true: finalized, unpaid and past due'),
};

/** A `cegid://<resource>` list and its `cegid://<resource>/{id}` detail, read with the same tools. */
function resourcePair(spec: {
  plural: string;
  singular: string;
  list: string;
  get: string;
  idField: string;
}): ProfileResource[] {
  return [
    {
      uriTemplate: `cegid://${spec.plural}`,
      name: spec.plural,
      title: `All ${spec.plural}`,
      description: `The first ${MAX_LIMIT} ${spec.plural}, newest first, with the total (list_${spec.plural} pages further).`,
      mimeType: 'application/json',
      uses: [spec.list],
      read: (ops) => listWindow(ops, spec.list, spec.plural, {}, { limit: MAX_LIMIT, offset: 0 }),
    },
    {
      uriTemplate: `cegid://${spec.plural}/{id}`,
      name: spec.singular,
      title: `One ${spec.singular}`,
      description: `One ${spec.singular} by its id or your external id.`,
      mimeType: 'application/json',
      uses: [spec.get],
      read: (ops, { id }) => ops.call(spec.get, { [spec.idField]: id }),
    },
  ];
}

export const cegidProfile: Profile = {
  name: 'cegid',
  title: 'Cegid Y2 ERP MCP',
  seed: '004',
  instructions: [
    'ERP data: invoices, customers, products, orders and financial summaries, as tools and as cegid:// resources.',
    'Lists take limit (1-100, default 20) and offset, and return total and has_more.',
    'Customers, invoices, products and orders are named by their id or by your own id for them (CUST-001, INV-001).',
    'Amounts are exact decimal strings with integer *_cents beside them. A failed call returns isError with {error: {code, message, details, hint}}.',
  ].join('\n'),
  tools: [
    defineTool({
      name: 'list_invoices',
      title: 'List invoices',
      description:
        'List invoices, newest first, with filters (status, payment_status, customer_id, overdue) and limit/offset paging.',
      uses: ['list_invoices'],
      fields: {},
      input: z.strictObject({ ...InvoiceFilters, ...Window }),
      run: (ops, input) =>
        listWindow(
          ops,
          'list_invoices',
          'invoices',
          present(input, ['status', 'payment_status', 'customer_id', 'overdue']),
          input,
        ),
    }),
    defineTool({
      name: 'get_invoice_details',
      title: 'Get invoice details',
      description:
        'Get an invoice by ID (its id, number such as INV-001, or your external id), with its lines, taxes, payments, credit notes and deliveries.',
      uses: ['get_invoice'],
      input: z.strictObject({ invoice_id: Ref('The invoice: id, number or external id') }),
      run: (ops, input) => ops.call('get_invoice', { invoice_id: input.invoice_id }),
    }),
    catalogueTool({
      name: 'create_invoice',
      title: 'Create an invoice',
      description:
        'Create a new invoice for a customer: customer_id with amount and currency for a single line (or lines); a ' +
        'draft unless status is finalized.',
      operation: createInvoice,
    }),
    catalogueTool({
      name: 'update_invoice',
      title: 'Update an invoice',
      description: updateInvoice.description,
      operation: updateInvoice,
    }),
    catalogueTool({
      name: 'delete_invoice',
      title: 'Delete an invoice',
      description: deleteInvoice.description,
      operation: deleteInvoice,
    }),
    defineTool({
      name: 'search_invoices',
      title: 'Search invoices',
      description:
        'Search invoices by keyword (number, customer name or email, external id, line descriptions), with limit/offset.',
      uses: ['search_invoices'],
      input: z.strictObject({
        query: z.string().trim().min(1).max(200).describe('The keyword'),
        ...InvoiceFilters,
        ...Window,
      }),
      run: (ops, input) =>
        listWindow(
          ops,
          'search_invoices',
          'invoices',
          present(input, ['query', 'status', 'payment_status', 'customer_id', 'overdue']),
          input,
        ),
    }),
    catalogueTool({
      name: 'batch_get_invoices',
      title: 'Get several invoices',
      description: batchGetInvoices.description,
      operation: batchGetInvoices,
    }),
    defineTool({
      name: 'list_customers',
      title: 'List customers',
      description:
        'List customers, newest first, optionally by status (active, disabled) or a search on name, email and external id, with limit/offset.',
      uses: ['list_customers'],
      input: z.strictObject({
        status: z.string().optional().describe('active or disabled'),
        search: z.string().trim().min(1).max(200).optional(),
        ...Window,
      }),
      run: (ops, input) =>
        listWindow(ops, 'list_customers', 'customers', present(input, ['status', 'search']), input),
    }),
    defineTool({
      name: 'get_customer_details',
      title: 'Get customer details',
      description: 'Get a customer by ID (its id or your external id, e.g. CUST-001).',
      uses: ['get_customer'],
      input: z.strictObject({ customer_id: Ref('The customer: id or external id') }),
      run: (ops, input) => ops.call('get_customer', { customer_id: input.customer_id }),
    }),
    catalogueTool({
      name: 'create_customer',
      title: 'Create a customer',
      description: createCustomer.description,
      operation: createCustomer,
    }),
    catalogueTool({
      name: 'update_customer',
      title: 'Update a customer',
      description: updateCustomer.description,
      operation: updateCustomer,
    }),
    defineTool({
      name: 'list_products',
      title: 'List products',
      description: 'List the product catalogue (code, name, unit price, tax codes), with limit/offset.',
      uses: ['list_products'],
      input: z.strictObject({ ...Window }),
      run: (ops, input) => listWindow(ops, 'list_products', 'products', {}, input),
    }),
    defineTool({
      name: 'get_product_details',
      title: 'Get product details',
      description: 'Get a product by ID (its id or its code).',
      uses: ['get_product'],
      input: z.strictObject({ product_id: Ref('The product: id or code') }),
      run: (ops, input) => ops.call('get_product', { product_id: input.product_id }),
    }),
    defineTool({
      name: 'list_orders',
      title: 'List orders',
      description:
        'List orders, newest first, with their lines, totals and invoices; filters status and customer_id; limit/offset.',
      uses: ['list_orders'],
      input: z.strictObject({
        status: z.string().optional().describe('draft, confirmed, partially_invoiced, invoiced or canceled'),
        customer_id: Ref('Only this customer: its id or your external id').optional(),
        ...Window,
      }),
      run: (ops, input) =>
        listWindow(ops, 'list_orders', 'orders', present(input, ['status', 'customer_id']), input),
    }),
    defineTool({
      name: 'get_order_details',
      title: 'Get order details',
      description:
        'Get an order by ID (its id or your external id), with its lines and the invoices made from it.',
      uses: ['get_order'],
      input: z.strictObject({ order_id: Ref('The order: id or external id') }),
      run: (ops, input) => ops.call('get_order', { order_id: input.order_id }),
    }),
    catalogueTool({
      name: 'get_financial_summary',
      title: 'Get a financial summary',
      description: getFinancialSummary.description,
      operation: getFinancialSummary,
    }),
    catalogueTool({
      name: 'validate_qr_code',
      title: 'Validate a QR code',
      description: validateQrCode.description,
      operation: validateQrCode,
    }),
  ],
  prompts: [
    {
      name: 'analyze_invoice',
      title: 'Analyze an invoice',
      description: 'Analyze an invoice for anomalies and generate a summary.',
      arguments: [
        { name: 'invoice_id', description: 'The invoice: id, number or external id', required: true },
      ],
      render: (ops, args) => ops.prompt('analyze_invoice', { invoice_id: args.invoice_id! }),
    },
    {
      name: 'customer_report',
      title: 'Customer report',
      description: 'Generate a comprehensive customer report, optionally focused on one month.',
      arguments: [
        { name: 'customer_id', description: 'The customer: id or external id', required: true },
        { name: 'period', description: 'A month to focus on, YYYY-MM', required: false },
      ],
      render: (ops, args) =>
        ops.prompt('customer_report', {
          customer_id: args.customer_id!,
          ...(args.period ? { period: args.period } : {}),
        }),
    },
    {
      name: 'financial_analysis',
      title: 'Financial analysis',
      description: 'Analyze the financial data of a period and its trends.',
      arguments: [
        {
          name: 'period',
          description: 'A month (2025-01), a quarter (2025-Q1) or a year (2025)',
          required: true,
        },
      ],
      async render(ops, args) {
        const summary = await ops.call('get_financial_summary', { period: args.period });
        return [
          `Analyze the finances of ${args.period} from the summary below.`,
          'Per currency (never add currencies together): invoiced, credited and net revenue, payments received, what ' +
            'is outstanding and overdue at the end, taxes collected per rate, and the margin on usage cost; then the ' +
            'trend month by month (by_month) and anything that needs attention (a rise in overdue, a falling margin, ' +
            'large credit notes). Quote amounts exactly as given.',
          '',
          JSON.stringify(summary, null, 2),
        ].join('\n');
      },
    },
    {
      name: 'fraud_detection',
      title: 'Fraud detection',
      description:
        'Analyze recent invoices, payments and credit notes for fraud patterns, flagging amounts at or above a risk score (detect_anomalies).',
      arguments: [
        {
          name: 'threshold',
          description: `Risk score from ${RISK_SCORE.min} to ${RISK_SCORE.max} at or above which an amount is flagged (e.g. 50; higher finds fewer)`,
          required: true,
        },
      ],
      async render(ops, args) {
        const risk = parseRiskScore(args.threshold);
        const zScore = zScoreOfRiskScore(risk);
        return [
          `Risk score ${risk} is a robust z-score above ${zScore} for unusual amounts; the other patterns have no score and are all listed.`,
          await ops.prompt('fraud_detection', { threshold: String(zScore) }),
        ].join('\n');
      },
    },
  ],
  resources: [
    ...resourcePair({
      plural: 'invoices',
      singular: 'invoice',
      list: 'list_invoices',
      get: 'get_invoice',
      idField: 'invoice_id',
    }),
    ...resourcePair({
      plural: 'customers',
      singular: 'customer',
      list: 'list_customers',
      get: 'get_customer',
      idField: 'customer_id',
    }),
    ...resourcePair({
      plural: 'products',
      singular: 'product',
      list: 'list_products',
      get: 'get_product',
      idField: 'product_id',
    }),
    ...resourcePair({
      plural: 'orders',
      singular: 'order',
      list: 'list_orders',
      get: 'get_order',
      idField: 'order_id',
    }),
    {
      uriTemplate: 'cegid://financial/{period}',
      name: 'financial_summary',
      title: 'Financial summary of a period',
      description: 'get_financial_summary of a month (2025-01), a quarter (2025-Q1) or a year (2025).',
      mimeType: 'application/json',
      uses: ['get_financial_summary'],
      read: (ops, { period }) => ops.call('get_financial_summary', { period }),
    },
    {
      uriTemplate: 'cegid://dashboard',
      name: 'dashboard',
      title: 'Dashboard',
      description:
        'get_dashboard: MRR, revenue this month against last, receivables, top customers, AI cost.',
      mimeType: 'application/json',
      uses: ['get_dashboard'],
      read: (ops) => ops.call('get_dashboard', {}),
    },
  ],
};
