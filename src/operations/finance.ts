import * as z from 'zod';
import { ANOMALY_KINDS, detectAnomalies as anomalies } from '../services/finance/anomalies.js';
import { getDashboard as dashboard } from '../services/finance/dashboard.js';
import { getFinancialSummary as summary } from '../services/finance/summary.js';
import { READ, defineOperation } from './define.js';
import { Currency, CustomerRef, Instant, Iso, moneyOut } from './schemas/common.js';

const group = 'revenue';

const Flows = {
  invoice_count: z.int().describe('Finalized invoices issued in the window (voided ones are not counted)'),
  ...moneyOut('invoiced_net', 'Invoiced, net of coupons and discounts, before tax'),
  ...moneyOut('invoiced_tax', 'Tax on those invoices'),
  ...moneyOut('invoiced_total', 'Invoiced including tax'),
  credit_note_count: z.int(),
  ...moneyOut('credit_notes_net', 'Credit notes issued in the window, before tax'),
  ...moneyOut('credit_notes_tax', 'Tax those credit notes gave back'),
  ...moneyOut('credit_notes_total', 'Credit notes including tax'),
  ...moneyOut('net_revenue', 'invoiced_net − credit_notes_net (what get_customer_revenue calls revenue)'),
  payment_count: z.int(),
  ...moneyOut('payments_received', 'Payments dated in the window'),
  refund_count: z.int(),
  ...moneyOut('refunds', 'Refund credit notes issued in the window, including tax'),
  prepaid_credits_invoiced_count: z
    .int()
    .describe('Wallet top-up invoices issued in the window: not in invoice_count or revenue'),
  ...moneyOut(
    'prepaid_credits_invoiced',
    'Wallet top-ups invoiced, including tax (credits are revenue as the invoices they pay)',
  ),
};

const Margin = {
  margin: z
    .string()
    .nullable()
    .describe('USD net revenue − usage cost rounded to the cent; null in other currencies'),
  margin_cents: z.int().nullable(),
  margin_percent: z.string().nullable().describe('Margin over USD net revenue, percent with 2 decimals'),
};

const Cost = {
  cost: z.string().describe('Usage cost of the events in the window, USD, exact'),
  cost_cents: z.int(),
  cost_currency: z.literal('USD'),
  event_count: z.int(),
  unpriced_event_count: z.int().describe('Events whose cost is not known yet (see get_needs_attention)'),
};

export const getFinancialSummary = defineOperation({
  name: 'get_financial_summary',
  title: 'Financial summary of a period',
  description:
    'The books of a period, per currency (currencies are never added together): finalized invoices issued in it ' +
    '(count, net of discounts, tax, total) and the tax per rate, credit notes issued in it, net revenue (invoiced ' +
    'net − credit notes net), payments received and refunds, what customers owed at the end of the period and how ' +
    'much of it was overdue (for a period not yet over: today), and from metering the usage cost (USD) and the ' +
    'margin on USD revenue; plus the same month by month in by_month. `period` is a month (2026-11), a quarter ' +
    "(2026-Q4) or a year (2026) in the organization's time zone; or give from and to (to exclusive); default: " +
    'this month. `currency` keeps one currency.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    period: z.string().trim().max(20).optional().describe('2026-11, 2026-Q4 or 2026'),
    from: Instant.optional().describe('Start of the window (inclusive), ISO 8601 or Unix seconds; with to'),
    to: Instant.optional().describe('End of the window (exclusive); with from'),
    currency: Currency.optional(),
  }),
  output: z.object({
    period: z.string().nullable(),
    from: Iso,
    to: Iso,
    timezone: z.string(),
    as_of: Iso.describe('The moment outstanding and overdue are read at: the end of the window, or now'),
    as_of_date: z.string().describe('The day whose earlier due dates are overdue'),
    currencies: z.array(
      z.object({
        currency: z.string(),
        ...Flows,
        taxes: z.array(
          z.object({
            tax_code: z.string(),
            name: z.string(),
            rate: z.string().describe('Percent'),
            ...moneyOut('taxable_amount', 'Invoiced amount this rate applied to'),
            ...moneyOut('tax_amount', 'Tax invoiced at this rate'),
            ...moneyOut('credited_taxable_amount', 'Credited amount at this rate'),
            ...moneyOut('credited_tax_amount', 'Tax given back by credit notes at this rate'),
            ...moneyOut('net_tax_amount', 'tax_amount − credited_tax_amount: tax collected'),
          }),
        ),
        outstanding_count: z.int().describe('Invoices with something still due at as_of'),
        ...moneyOut('outstanding', 'Still due at as_of'),
        overdue_count: z.int(),
        ...moneyOut('overdue', 'Of that, past its due date on as_of_date'),
        ...Margin,
      }),
    ),
    ...Cost,
    by_month: z.array(
      z.object({
        month: z.string(),
        from: Iso,
        to: Iso,
        currencies: z.array(z.object({ currency: z.string(), ...Flows, ...Margin })),
        ...Cost,
      }),
    ),
  }),
  handler: (ctx, input) => summary(ctx, input),
});

const Change = {
  ...moneyOut('change', 'This figure less the one before'),
  change_percent: z
    .string()
    .nullable()
    .describe('Change over the earlier figure, percent (null when it was 0)'),
};

const Month = z.object({ month: z.string(), from: Iso, to: Iso });

export const getDashboard = defineOperation({
  name: 'get_dashboard',
  title: 'Dashboard',
  description:
    'The figures an owner looks at first, per currency: MRR (canonical, as get_mrr: last completed month) and its ' +
    'change from the month before; net revenue this month so far against last month (as get_financial_summary); ' +
    'what is outstanding and overdue today, count and amount (as get_accounts_receivable); the top five customers ' +
    'by net revenue over the last twelve months including this one (as get_customer_revenue); AI usage cost this ' +
    'month and the margin on USD revenue (as get_cost_metrics); new customers and ended subscriptions (a plan ' +
    'change is not an end) this month and last.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({}),
  output: z.object({
    as_of: Iso,
    today: z.string(),
    timezone: z.string(),
    this_month: Month,
    last_month: Month,
    mrr: z.object({
      from: Iso,
      to: Iso,
      currencies: z.array(
        z.object({
          currency: z.string(),
          ...moneyOut('mrr', 'Canonical MRR of the last completed month'),
          ...moneyOut('prior_mrr', 'The month before'),
          ...Change,
        }),
      ),
    }),
    revenue: z.array(
      z.object({
        currency: z.string(),
        ...moneyOut('this_month', 'Net revenue this month so far'),
        ...moneyOut('last_month', 'Net revenue last month'),
        ...Change,
        invoice_count_this_month: z.int(),
      }),
    ),
    receivables: z.array(
      z.object({
        currency: z.string(),
        outstanding_count: z.int(),
        ...moneyOut('outstanding', 'Still due today'),
        overdue_count: z.int(),
        ...moneyOut('overdue', 'Past its due date'),
      }),
    ),
    top_customers: z.object({
      from: Iso,
      to: Iso,
      currencies: z.array(
        z.object({
          currency: z.string(),
          customers: z.array(
            z.object({
              customer_id: z.string(),
              external_customer_id: z.string().nullable(),
              name: z.string(),
              invoice_count: z.int(),
              ...moneyOut('revenue', 'Net revenue in the window'),
            }),
          ),
        }),
      ),
    }),
    ai: z.object({ ...Cost, ...Margin }),
    new_customers: z.object({ this_month: z.int(), last_month: z.int() }),
    ended_subscriptions: z.object({ this_month: z.int(), last_month: z.int() }),
  }),
  handler: (ctx) => dashboard(ctx),
});

const AnomalyRecord = z.object({
  type: z.enum(['invoice', 'payment', 'credit_note']),
  id: z.string(),
  number: z.string().nullable().describe("Invoice or credit note number, or the payment's reference"),
  ...moneyOut('amount', 'Its total'),
  currency: z.string(),
  date: Iso,
});

/** detect_anomalies' threshold: a robust z-score above 0 and at most this (3.5 unless told). */
export const ANOMALY_THRESHOLD = { default: 3.5, max: 1_000_000 } as const;

export const detectAnomalies = defineOperation({
  name: 'detect_anomalies',
  title: 'Detect billing anomalies',
  description:
    'Looks over the last `days` (default 90) of invoices, payments and credit notes for patterns worth a human ' +
    'look — each finding gives its reason and the records it names, none is proof of fraud: duplicate_invoice (same ' +
    'customer, currency, total and lines within duplicate_days, default 7), overpayment (paid above the total less ' +
    "credit notes), reference_pattern_change (a payment reference shaped unlike all of the customer's earlier ones), " +
    "unusual_amount (robust z-score of an invoice against the customer's earlier invoices above `threshold`, " +
    'default 3.5; needs 5 earlier invoices), credit_after_payment (a credit note within duplicate_days after a ' +
    'payment on its invoice), round_amount_new_customer (a round total of 1,000 or more, a multiple of 100, from a ' +
    'customer created in the 30 days before). Reads only.',
  group: 'invoices',
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    threshold: z
      .number()
      .positive()
      .max(ANOMALY_THRESHOLD.max)
      .optional()
      .describe(`Robust z-score above which an amount is unusual (default ${ANOMALY_THRESHOLD.default})`),
    days: z.int().min(1).max(3660).optional().describe('How far back to look (default 90)'),
    duplicate_days: z
      .int()
      .min(0)
      .max(365)
      .optional()
      .describe('How close in time duplicates and credit-after-payment are (default 7)'),
    customer_id: CustomerRef.optional(),
  }),
  output: z.object({
    from: Iso,
    to: Iso,
    threshold: z.string(),
    duplicate_days: z.int(),
    counts: z.object(
      Object.fromEntries(ANOMALY_KINDS.map((k) => [k, z.int()])) as Record<
        (typeof ANOMALY_KINDS)[number],
        z.ZodInt
      >,
    ),
    findings: z.array(
      z.object({
        kind: z.enum(ANOMALY_KINDS),
        reason: z.string(),
        customer: z.object({ id: z.string(), external_id: z.string().nullable(), name: z.string() }),
        score: z
          .string()
          .nullable()
          .describe('The robust z-score (unusual_amount); null otherwise or when infinite'),
        records: z.array(AnomalyRecord),
      }),
    ),
  }),
  handler: (ctx, input) => anomalies(ctx, input),
});

export const financeOperations = [getFinancialSummary, getDashboard, detectAnomalies];
