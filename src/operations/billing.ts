import * as z from 'zod';
import { generateInvoice, previewInvoice } from '../services/billing/generate.js';
import { CREATE, READ, defineOperation } from './define.js';
import { CustomerRef, DateOnly, Instant, Iso } from './schemas/common.js';
import { Invoice } from './schemas/invoice.js';
import { SubscriptionRef } from './subscriptions.js';

const group = 'billing';

const inputs = {
  customer_id: CustomerRef.optional().describe(
    "The subscription's customer (Billfold id or external id); optional, checked when given",
  ),
  subscription_id: SubscriptionRef,
  period: z
    .strictObject({ from: DateOnly, to: DateOnly })
    .optional()
    .describe(
      "One billing period of the subscription as calendar dates in its time zone, `to` exclusive (e.g. {from: '2026-03-01', to: '2026-04-01'} for March on a monthly calendar plan)",
    ),
  at: Instant.optional().describe('Any instant inside the period wanted, instead of `period`'),
};

export const generateInvoiceOp = defineOperation({
  name: 'generate_invoice',
  title: 'Generate a subscription invoice',
  description:
    "Builds a DRAFT invoice for one billing period of a subscription from its plan and the period's usage: " +
    'the base fee (prorated by days for a partial first or last period, trial days free), one line per charge ' +
    '(and per filter value) with its units, a minimum-commitment true-up, then coupons and taxes. Each line ' +
    'states its period (from/to) and details (units, charge model, breakdown). Default period: the current one; ' +
    'or give `period` {from, to} (exactly one of its periods) or `at` (an instant inside it). The billing run ' +
    'later refreshes this draft with the final usage instead of invoicing the period again; calling this again ' +
    'refreshes it too. subscription_id (and the optional customer_id) accept Billfold ids or your external_ids. Errors: ' +
    'NOT_FOUND (customer, subscription), VALIDATION_ERROR (subscription of another customer, a period that is not ' +
    'one of its periods or outside its life), INVALID_STATUS (canceled subscription), CONFLICT (the ' +
    'period is already on a finalized invoice).',
  group,
  scope: 'write',
  annotations: CREATE,
  input: z.strictObject(inputs),
  output: z.object({ invoice: Invoice }),
  handler: async (ctx, input) => ({ invoice: await generateInvoice(ctx, input) }),
});

export const previewInvoiceOp = defineOperation({
  name: 'preview_invoice',
  title: 'Preview a subscription invoice',
  description:
    'Shows the invoice a subscription will get next — at its next billing moment, with the usage recorded so ' +
    'far — without writing anything (the id it shows is provisional). With `period` or `at`, shows what ' +
    'generate_invoice would build for that period instead. billing_at says when the next invoice is due. Same ' +
    'ids and errors as generate_invoice; INVALID_STATUS when no invoice is to come (the subscription has ended).',
  group,
  scope: 'read',
  annotations: READ,
  // Built in a transaction that is rolled back, which a read-only transaction cannot hold.
  transactions: 'steps',
  input: z.strictObject(inputs),
  output: z.object({
    invoice: Invoice,
    billing_at: Iso.describe('When the billing run will issue it (or the end of the period asked for)'),
  }),
  handler: (ctx, input) => previewInvoice(ctx, input),
});

export const billingOperations = [generateInvoiceOp, previewInvoiceOp];
