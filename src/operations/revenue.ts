import * as z from 'zod';
import * as revenue from '../services/billing/revenue.js';
import { READ, defineOperation } from './define.js';
import { CustomerRef, Instant, Iso, moneyOut } from './schemas/common.js';

const group = 'revenue';

const ByType = z
  .object({
    ...moneyOut('recurring', 'Base fees and minimum-commitment true-ups of subscription invoices'),
    ...moneyOut('usage', 'Lines priced by plan charges on usage'),
    ...moneyOut('seat', 'Lines priced by charges on recurring unique-count metrics (seats)'),
    ...moneyOut('one_off', 'Lines of invoices not generated from a subscription'),
    ...moneyOut(
      'prepaid_credits',
      'Wallet top-ups invoiced (credits bought): paid in advance, so not in revenue, which counts the invoices they pay',
    ),
  })
  .describe('Invoiced amounts by revenue type, net of coupons, before tax');

const InvoiceTypeRevenue = z.object({
  invoice_type: z
    .string()
    .describe(
      'subscription, progressive_billing (usage billed when it crossed a threshold), credit (wallet top-up), one_off…',
    ),
  invoice_count: z.int(),
  ...moneyOut('amount', 'Its invoices net of coupons, before tax'),
  ...moneyOut('credited', 'Credit notes issued in the window on invoices of this type, before tax'),
  in_revenue: z
    .boolean()
    .describe('false for wallet top-ups: credits bought are prepaid, and count as the invoices they pay'),
});

const CurrencyRevenue = z.object({
  currency: z.string(),
  invoice_count: z.int().describe('Invoices counted in revenue (wallet top-ups are not)'),
  ...moneyOut('revenue', 'Invoiced net of coupons, before tax, less credit notes issued in the window'),
  ...moneyOut('credited', 'Credit notes issued in the window, before tax'),
  by_type: ByType,
  by_invoice_type: z
    .array(InvoiceTypeRevenue)
    .describe('The same invoices by invoice type: revenue = Σ (amount − credited) of the types in_revenue'),
});

export const getCustomerRevenue = defineOperation({
  name: 'get_customer_revenue',
  title: 'Revenue, cost and margin of a customer',
  description:
    'How much a customer was invoiced over a window and what serving them cost: revenue per currency (finalized ' +
    'invoices issued in [from, to), net of coupons, before tax, less credit notes) split into recurring, usage, ' +
    'seat and one_off (wallet top-ups are shown as prepaid_credits beside them, outside revenue), and by invoice ' +
    "type with counts: progressive_billing invoices count once (the period's final invoice deducts what they billed), " +
    'top-ups (credit) are listed but not revenue (credits bought are prepaid and count as the invoices they pay); ' +
    'the usage cost of their events (USD, from the cost catalog); and margin = USD revenue − ' +
    'cost (null when the customer was not invoiced in USD). `customer_id` is the Billfold id or your external id.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    customer_id: CustomerRef,
    from: Instant.describe('Start of the window (inclusive), ISO 8601 or Unix seconds'),
    to: Instant.describe('End of the window (exclusive), ISO 8601 or Unix seconds'),
  }),
  output: z.object({
    customer_id: z.string(),
    external_customer_id: z.string().nullable(),
    from: Iso,
    to: Iso,
    revenue: z.array(CurrencyRevenue),
    cost: z.string().describe('Usage cost in USD, exact'),
    cost_cents: z.int(),
    cost_currency: z.literal('USD'),
    unpriced_event_count: z.int().describe('Events whose cost is not known yet (see get_needs_attention)'),
    margin: z.string().nullable(),
    margin_cents: z.int().nullable(),
    margin_percent: z.string().nullable().describe('Margin over USD revenue, percent with 2 decimals'),
  }),
  handler: (ctx, input) => revenue.getCustomerRevenue(ctx, input),
});

export const getMrr = defineOperation({
  name: 'get_mrr',
  title: 'Monthly recurring revenue',
  description:
    'Monthly recurring revenue per currency, in one of three readings. `canonical` (default): what ' +
    'subscriptions earned in the last completed calendar month (organization time zone) — each line of a ' +
    'finalized subscription invoice counts for the share of its period inside the month, so an advance fee ' +
    'counts for the month it pays for and usage for the month it was used — net of coupons and of credit notes ' +
    'issued in the month, before tax, split into recurring (fees, commitment true-ups), usage and seat. ' +
    '`run_rate`: the same over the last 30 days, scaled to an average month (× 365.25 / 12 / 30), each type and ' +
    'the credit notes alike, so the breakdown adds up to the total. `committed`: ' +
    'the contractual floor of active subscriptions — per subscription the higher of its base fee and its ' +
    'minimum commitment, brought to a month (weekly × 52 / 12, quarterly ÷ 3, yearly ÷ 12). Filter by ' +
    'customer_id or subscription_id (id or external_id, every plan of it). One-off invoices never count.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    variant: z.enum(revenue.MRR_VARIANTS).optional().describe('canonical (default), run_rate or committed'),
    customer_id: CustomerRef.optional(),
    subscription_id: z.string().trim().min(1).max(255).optional().describe('Subscription id or external_id'),
  }),
  output: z.object({
    variant: z.enum(revenue.MRR_VARIANTS),
    customer_id: z.string().nullable(),
    subscription_id: z.string().nullable(),
    from: Iso.nullable().describe('The window revenue was earned in (null for committed)'),
    to: Iso.nullable(),
    currencies: z.array(
      z.object({
        currency: z.string(),
        subscription_count: z.int().nullable().describe('Active subscriptions counted (committed only)'),
        ...moneyOut(
          'mrr',
          'Monthly recurring revenue: by_type recurring + usage + seat − credited, to the cent',
        ),
        credited: z
          .string()
          .nullable()
          .describe('Credit notes of the window, scaled as the rest (null for committed)'),
        credited_cents: z.int().nullable(),
        by_type: ByType.nullable().describe(
          'What the window earned, by type, scaled as the total (run_rate) (null for committed)',
        ),
      }),
    ),
  }),
  handler: (ctx, input) => revenue.getMrr(ctx, input),
});

export const revenueOperations = [getCustomerRevenue, getMrr];
