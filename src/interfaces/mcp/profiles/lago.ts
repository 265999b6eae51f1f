import * as z from 'zod';
import { fromMinor } from '../../../domain/money.js';
import { meta } from '../../http/lago/call.js';
import { billfoldRef } from '../../http/lago/ids.js';
import { billableMetricObject } from '../../http/lago/resources/billable-metrics.js';
import { appliedCouponObject } from '../../http/lago/resources/coupons.js';
import { customerObject } from '../../http/lago/resources/customers.js';
import {
  invoiceObject,
  UNMADE_INVOICE_STATUSES,
  UNMADE_INVOICE_TYPES,
} from '../../http/lago/resources/invoices.js';
import { activityLogObject, apiLogObject, resourceIdCandidates } from '../../http/lago/resources/logs.js';
import { defineTool, OperationFailed, ProfileError, type Operations, type Profile } from './define.js';
import { present } from './shapes.js';

/**
 * The Lago MCP server of seed 000 (Rust, stdio): its fourteen tools with Lago's parameter names,
 * and results as that server returns them — Lago's objects (`lago_id`, `lago_customer_id`,
 * `amount_cents_remaining`, …) under `invoice`/`customer`/… or a list with `pagination`, built
 * by the same functions as the Lago REST adapter (interfaces/http/lago), so both speak one Lago.
 * A failure is Lago's `{ "error": "Failed to <tool>: <what went wrong>" }`.
 *
 * Every tool here has its operation. To add one: a defineTool entry naming the operations it
 * `uses`, its input in Lago's names, and a `run` that calls them; `fields` renames Billfold's
 * field names in errors to Lago's.
 */

const Page = {
  page: z.int().min(1).default(1).describe('Page number for pagination (default: 1)'),
  per_page: z
    .int()
    .min(1)
    .max(100)
    .default(20)
    .describe('Number of items per page (default: 20, at most 100)'),
};
const Strings = z.array(z.string().trim().min(1));
const DateOnly = z.string().describe('YYYY-MM-DD');

/** Billfold's pagination as the seed writes it (Lago's `meta`, under `pagination`). */
function pagination(out: Record<string, any>) {
  return meta(out.pagination as Parameters<typeof meta>[0]);
}

/** An empty page, for a filter on something Billfold never makes (an add-on invoice). */
function emptyPage(page: number) {
  return { current_page: page, next_page: null, prev_page: null, total_pages: 0, total_count: 0 };
}

/** Invoices as Lago writes them: each with its customer, read once per call. */
async function lagoInvoices(ops: Operations, invoices: Array<Record<string, any>>) {
  const customers = new Map<string, Promise<Record<string, any>>>();
  const customerOf = (id: string) => {
    let c = customers.get(id);
    if (!c) {
      c = ops.call('get_customer', { customer_id: id }).then((r) => r.customer as Record<string, any>);
      customers.set(id, c);
    }
    return c;
  };
  const out = [];
  for (const inv of invoices)
    out.push(invoiceObject(inv, await customerOf(inv.customer_id), ops.publicUrl()));
  return out;
}

const CUSTOMER_FIELDS = [
  'external_id',
  'name',
  'firstname',
  'lastname',
  'email',
  'address_line1',
  'address_line2',
  'city',
  'country',
  'state',
  'zipcode',
  'phone',
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
] as const;

const AGGREGATION_TYPES = [
  'count_agg',
  'sum_agg',
  'max_agg',
  'unique_count_agg',
  'weighted_sum_agg',
  'latest_agg',
] as const;

const METRIC_FIELDS = [
  'name',
  'code',
  'aggregation_type',
  'description',
  'recurring',
  'rounding_function',
  'rounding_precision',
  'expression',
  'field_name',
  'weighted_interval',
  'filters',
] as const;

const text = (max = 255) => z.string().trim().max(max);

export const lagoProfile: Profile = {
  name: 'lago',
  title: 'Lago MCP server',
  seed: '000',
  instructions: [
    'Billing data as Lago shows it: invoices, customers, billable metrics, activity logs, API logs and applied coupons.',
    'Customers are named by their external_customer_id (your id for them); invoices by their lago_id (or number); billable metrics by code.',
    'Amounts are integer cents of the currency (amount_cents, total_amount_cents). Lists take page and per_page and return pagination.',
    'A failed call returns isError with {"error": "..."} naming the parameter that failed and what would work.',
  ].join('\n'),
  failure: (error, tool) => ({
    error: `Failed to ${tool.name.replace(/_/g, ' ')}: ${error.message}${error.hint ? ` (${error.hint})` : ''}`,
  }),
  tools: [
    defineTool({
      name: 'get_invoice',
      title: 'Get an invoice',
      description:
        'Retrieve a specific invoice by its Lago ID (its lago_id; the invoice number or your external id work too), ' +
        'with its fees, taxes, customer and amounts in cents.',
      uses: ['get_invoice', 'get_customer'],
      input: z.strictObject({
        invoice_id: z.string().trim().min(1).max(255).describe('The Lago ID of the invoice to retrieve'),
      }),
      async run(ops, input) {
        const { invoice } = await ops.call('get_invoice', {
          invoice_id: billfoldRef('invoice', input.invoice_id),
        });
        const [out] = await lagoInvoices(ops, [invoice]);
        return { invoice: out };
      },
    }),
    defineTool({
      name: 'list_invoices',
      title: 'List invoices',
      description:
        'List invoices, newest first, with optional filtering by customer external ID, issuing dates, status, ' +
        'payment status and invoice type, and pagination. Billfold makes no add_on invoices and none ' +
        'stays pending or failed, so those filters find none.',
      uses: ['list_invoices', 'get_customer'],
      fields: { customer_id: 'customer_external_id' },
      input: z.strictObject({
        customer_external_id: text().min(1).optional().describe("Filter by customer's external ID"),
        issuing_date_from: DateOnly.optional().describe('Filter invoices issued from this date (ISO format)'),
        issuing_date_to: DateOnly.optional().describe('Filter invoices issued until this date (ISO format)'),
        status: z.enum(['draft', 'finalized', 'voided', 'pending', 'failed']).optional(),
        payment_status: z.enum(['pending', 'succeeded', 'failed']).optional(),
        invoice_type: z
          .enum(['subscription', 'add_on', 'credit', 'one_off', 'progressive_billing'])
          .optional(),
        ...Page,
      }),
      async run(ops, input) {
        if (
          (input.status && UNMADE_INVOICE_STATUSES.includes(input.status)) ||
          (input.invoice_type && UNMADE_INVOICE_TYPES.includes(input.invoice_type))
        )
          return { invoices: [], pagination: emptyPage(input.page) };
        const out = await ops.call('list_invoices', {
          ...(input.customer_external_id ? { customer_id: input.customer_external_id } : {}),
          ...present(input, [
            'issuing_date_from',
            'issuing_date_to',
            'status',
            'payment_status',
            'invoice_type',
          ]),
          page: input.page,
          per_page: input.per_page,
        });
        return { invoices: await lagoInvoices(ops, out.invoices), pagination: pagination(out) };
      },
    }),
    defineTool({
      name: 'get_customer',
      title: 'Get a customer',
      description: 'Retrieve a specific customer by their external ID, with billing details and settings.',
      uses: ['get_customer'],
      fields: { customer_id: 'external_customer_id' },
      input: z.strictObject({
        external_customer_id: text().min(1).describe('The external ID of the customer to retrieve'),
      }),
      async run(ops, input) {
        const { customer } = await ops.call('get_customer', { customer_id: input.external_customer_id });
        return { customer: customerObject(customer) };
      },
    }),
    defineTool({
      name: 'list_customers',
      title: 'List customers',
      description:
        'List customers, newest first, with pagination; external_customer_id lists only that customer (or none).',
      uses: ['list_customers', 'get_customer'],
      input: z.strictObject({
        external_customer_id: text()
          .min(1)
          .optional()
          .describe("Filter by a specific customer's external ID"),
        ...Page,
      }),
      async run(ops, input) {
        if (input.external_customer_id !== undefined) {
          const found = await ops
            .call('get_customer', { customer_id: input.external_customer_id })
            .then((r) => [r.customer])
            .catch((e: unknown) => {
              if (e instanceof OperationFailed && e.error.code === 'NOT_FOUND') return [];
              throw e;
            });
          const count = found.length;
          // One customer at most: it is on page 1, and a later page is empty.
          const shown = input.page === 1 ? found : [];
          return {
            customers: shown.map(customerObject),
            pagination: {
              current_page: input.page,
              next_page: null,
              prev_page: input.page > 1 ? input.page - 1 : null,
              total_pages: count ? 1 : 0,
              total_count: count,
            },
          };
        }
        const out = await ops.call('list_customers', { page: input.page, per_page: input.per_page });
        return { customers: out.customers.map(customerObject), pagination: pagination(out) };
      },
    }),
    defineTool({
      name: 'create_customer',
      title: 'Create or update a customer',
      description:
        'Create or update a customer: a second call with the same external_id updates only the fields it gives.',
      uses: ['create_customer'],
      input: z.strictObject({
        external_id: text().min(1).describe('Unique external identifier for the customer'),
        name: text().optional().describe('Customer name'),
        firstname: text().optional().describe('Customer first name'),
        lastname: text().optional().describe('Customer last name'),
        email: z.string().trim().optional().describe('Customer email address'),
        address_line1: text().optional().describe('Primary address line'),
        address_line2: text().optional().describe('Secondary address line'),
        city: text().optional(),
        country: text().optional().describe('ISO 3166 alpha-2 country code, e.g. US'),
        state: text().optional().describe('State or region'),
        zipcode: text().optional().describe('ZIP or postal code'),
        phone: text().optional(),
        url: z.string().trim().optional().describe('Customer website URL'),
        legal_name: text().optional().describe('Legal business name'),
        legal_number: text().optional().describe('Legal business number'),
        logo_url: z.string().trim().optional().describe('URL to customer logo'),
        tax_identification_number: text().optional().describe('Tax ID number'),
        timezone: text().optional().describe('IANA time zone, e.g. America/New_York'),
        currency: text(3).optional().describe('Customer default currency (ISO 4217 code)'),
        net_payment_term: z.int().min(0).optional().describe('Payment terms in days'),
        customer_type: z.enum(['individual', 'company']).optional(),
        finalize_zero_amount_invoice: z.enum(['inherit', 'finalize', 'skip']).optional(),
      }),
      async run(ops, input) {
        const { customer } = await ops.call('create_customer', present(input, CUSTOMER_FIELDS));
        return { customer: customerObject(customer) };
      },
    }),
    defineTool({
      name: 'get_billable_metric',
      title: 'Get a billable metric',
      description: 'Retrieve a specific billable metric by its code.',
      uses: ['get_billable_metric'],
      input: z.strictObject({
        code: text().min(1).describe('The unique code of the billable metric to retrieve'),
      }),
      async run(ops, input) {
        const { billable_metric } = await ops.call('get_billable_metric', { code: input.code });
        return { billable_metric: billableMetricObject(billable_metric) };
      },
    }),
    defineTool({
      name: 'list_billable_metrics',
      title: 'List billable metrics',
      description:
        'List billable metrics, optionally by aggregation type or recurring status, with pagination.',
      uses: ['list_billable_metrics'],
      input: z.strictObject({
        aggregation_type: z.enum(AGGREGATION_TYPES).optional(),
        recurring: z.boolean().optional().describe('Filter by recurring status'),
        ...Page,
      }),
      async run(ops, input) {
        const out = await ops.call('list_billable_metrics', {
          ...present(input, ['aggregation_type', 'recurring']),
          page: input.page,
          per_page: input.per_page,
        });
        return {
          billable_metrics: out.billable_metrics.map(billableMetricObject),
          pagination: pagination(out),
        };
      },
    }),
    defineTool({
      name: 'create_billable_metric',
      title: 'Create a billable metric',
      description:
        'Create a billable metric: what usage events are aggregated into (count, sum, max, unique count, weighted ' +
        'sum over time or latest value of field_name), with optional rounding and filters for differentiated pricing.',
      uses: ['create_billable_metric'],
      input: z.strictObject({
        name: text().min(1).describe('Name of the billable metric'),
        code: text().min(1).describe('Unique code for the billable metric'),
        aggregation_type: z.enum(AGGREGATION_TYPES).describe('Aggregation method to use'),
        description: z.string().optional(),
        recurring: z.boolean().optional().describe('Whether the metric is recurring'),
        rounding_function: z.enum(['ceil', 'floor', 'round']).optional(),
        rounding_precision: z.int().optional().describe('Number of decimal places for rounding'),
        expression: z.string().optional().describe('Custom expression for calculation'),
        field_name: z.string().optional().describe('Field name to aggregate on from usage events'),
        weighted_interval: z.enum(['seconds']).optional().describe('Interval for weighted sum aggregation'),
        filters: z
          .array(z.strictObject({ key: z.string(), values: z.array(z.string()) }))
          .optional()
          .describe(
            'Filter objects for differentiated pricing: a key of the event properties and its values',
          ),
      }),
      async run(ops, input) {
        const { billable_metric } = await ops.call('create_billable_metric', present(input, METRIC_FIELDS));
        return { billable_metric: billableMetricObject(billable_metric) };
      },
    }),
    defineTool({
      name: 'get_activity_log',
      title: 'Get an activity log',
      description:
        'Retrieve a specific activity log by its activity ID: what changed, on which resource, by whom.',
      uses: ['get_activity_log'],
      input: z.strictObject({
        activity_id: text().min(1).describe('The unique identifier of the activity log'),
      }),
      async run(ops, input) {
        const { activity_log } = await ops.call('get_activity_log', {
          activity_id: billfoldRef('activity', input.activity_id),
        });
        return { activity_log: activityLogObject(activity_log, ops.organizationId) };
      },
    }),
    defineTool({
      name: 'list_activity_logs',
      title: 'List activity logs',
      description:
        'List activity logs, newest first, filtered by activity types (e.g. invoice.created), sources (api, front, ' +
        'system), user emails (the email an API key is named with), customer or subscription external ID, resource ' +
        'IDs or types (Invoice, BillableMetric, Customer; any case) and dates. A filter that could never match is ' +
        'refused, naming it.',
      uses: ['list_activity_logs'],
      fields: { subscription_id: 'external_subscription_id' },
      input: z.strictObject({
        activity_types: Strings.optional().describe('e.g. ["invoice.created", "billable_metric.created"]'),
        activity_sources: z.array(z.enum(['api', 'front', 'system'])).optional(),
        user_emails: Strings.optional().describe('Filter by user email addresses'),
        external_customer_id: text().min(1).optional(),
        external_subscription_id: text().min(1).optional(),
        resource_ids: Strings.optional(),
        resource_types: Strings.optional().describe('e.g. ["Invoice", "BillableMetric", "Customer"]'),
        from_date: DateOnly.optional().describe('Filter logs from this date (YYYY-MM-DD format)'),
        to_date: DateOnly.optional().describe('Filter logs until this date (YYYY-MM-DD format)'),
        ...Page,
      }),
      async run(ops, input) {
        const out = await ops.call('list_activity_logs', {
          ...present(input, [
            'activity_types',
            'activity_sources',
            'user_emails',
            'external_customer_id',
            'resource_types',
            'from_date',
            'to_date',
          ]),
          ...(input.external_subscription_id ? { subscription_id: input.external_subscription_id } : {}),
          ...(input.resource_ids ? { resource_ids: resourceIdCandidates(input.resource_ids) } : {}),
          page: input.page,
          per_page: input.per_page,
        });
        return {
          activity_logs: out.activity_logs.map((a: Record<string, any>) =>
            activityLogObject(a, ops.organizationId),
          ),
          pagination: pagination(out),
        };
      },
    }),
    defineTool({
      name: 'get_api_log',
      title: 'Get an API log',
      description: 'Retrieve a specific API log by its request ID: the request, its status and the response.',
      uses: ['get_api_log'],
      input: z.strictObject({
        request_id: text().min(1).describe('The unique request ID of the API log'),
      }),
      async run(ops, input) {
        const { api_log } = await ops.call('get_api_log', {
          request_id: billfoldRef('api_log', input.request_id),
        });
        return { api_log: apiLogObject(api_log) };
      },
    }),
    defineTool({
      name: 'list_api_logs',
      title: 'List API logs',
      description:
        'List the requests that changed something, newest first, filtered by HTTP methods, statuses (codes like ' +
        '"404" or "succeeded"/"failed"), API version, request paths (a resource such as "/invoices" matches every ' +
        'request about invoices) and dates.',
      uses: ['list_api_logs'],
      input: z.strictObject({
        http_methods: z.array(z.enum(['post', 'put', 'delete'])).optional(),
        http_statuses: Strings.optional().describe('e.g. ["200", "404", "500"] or ["succeeded", "failed"]'),
        api_version: text().min(1).optional().describe('e.g. "v1"'),
        request_paths: Strings.optional().describe('e.g. ["/invoices", "/customers"]'),
        from_date: DateOnly.optional().describe('Filter logs from this date (YYYY-MM-DD format)'),
        to_date: DateOnly.optional().describe('Filter logs until this date (YYYY-MM-DD format)'),
        ...Page,
      }),
      async run(ops, input) {
        const out = await ops.call('list_api_logs', {
          ...present(input, [
            'http_methods',
            'http_statuses',
            'api_version',
            'request_paths',
            'from_date',
            'to_date',
          ]),
          page: input.page,
          per_page: input.per_page,
        });
        return { api_logs: out.api_logs.map(apiLogObject), pagination: pagination(out) };
      },
    }),
    defineTool({
      name: 'list_applied_coupons',
      title: 'List applied coupons',
      description:
        "List the coupons applied to customers, filtered by status (active, terminated), customer's external ID " +
        'or coupon codes, with pagination.',
      uses: ['list_applied_coupons'],
      fields: { customer_id: 'external_customer_id' },
      input: z.strictObject({
        status: z.enum(['active', 'terminated']).optional(),
        external_customer_id: text().min(1).optional(),
        coupon_codes: Strings.optional().describe('Filter by one or more coupon codes'),
        ...Page,
      }),
      async run(ops, input) {
        const out = await ops.call('list_applied_coupons', {
          ...present(input, ['status', 'coupon_codes']),
          ...(input.external_customer_id ? { customer_id: input.external_customer_id } : {}),
          page: input.page,
          per_page: input.per_page,
        });
        return { applied_coupons: out.applied_coupons.map(appliedCouponObject), pagination: pagination(out) };
      },
    }),
    defineTool({
      name: 'apply_coupon',
      title: 'Apply a coupon',
      description:
        'Apply a coupon to a customer, to give a discount before or during a subscription. frequency, ' +
        'frequency_duration, amount_cents (with amount_currency, for fixed-amount coupons) and percentage_rate ' +
        "override the coupon's own terms for this customer.",
      uses: ['apply_coupon'],
      fields: { customer_id: 'external_customer_id', amount: 'amount_cents' },
      input: z.strictObject({
        external_customer_id: text().min(1).describe('The external ID of the customer'),
        coupon_code: text().min(1).describe('The code of the coupon to apply'),
        frequency: z.enum(['once', 'recurring', 'forever']).optional(),
        frequency_duration: z
          .int()
          .min(1)
          .optional()
          .describe('Number of billing periods for recurring coupons'),
        amount_cents: z
          .int()
          .min(0)
          .optional()
          .describe('Override the coupon amount in cents (fixed_amount coupons)'),
        amount_currency: text(3)
          .optional()
          .describe('Currency for the amount override (required with amount_cents)'),
        percentage_rate: z
          .union([z.string(), z.number()])
          .optional()
          .describe('Override the percentage rate (percentage coupons), e.g. "10.5"'),
      }),
      async run(ops, input) {
        const args: Record<string, unknown> = {
          customer_id: input.external_customer_id,
          ...present(input, ['coupon_code', 'frequency', 'frequency_duration', 'percentage_rate']),
        };
        const currency = input.amount_currency?.toUpperCase();
        if (currency) args.amount_currency = currency;
        if (input.amount_cents !== undefined) {
          if (!currency)
            throw new ProfileError(
              'VALIDATION_ERROR',
              'amount_currency is required with amount_cents (e.g. "USD")',
              { field: 'amount_currency' },
            );
          args.amount = fromMinor(input.amount_cents, currency).toString();
        }
        const { applied_coupon } = await ops.call('apply_coupon', args);
        return { applied_coupon: appliedCouponObject(applied_coupon) };
      },
    }),
  ],
};
