import * as z from 'zod';
import { accountsReceivable } from '../services/receivables.js';
import { READ, defineOperation } from './define.js';
import { Currency, CustomerRef, moneyOut } from './schemas/common.js';

const Aging = z
  .object({
    ...moneyOut('current', 'Not yet due'),
    ...moneyOut('days_1_30', '1 to 30 days past due'),
    ...moneyOut('days_31_60', '31 to 60 days past due'),
    ...moneyOut('days_61_90', '61 to 90 days past due'),
    ...moneyOut('days_over_90', 'More than 90 days past due'),
  })
  .describe('What is owed, by days past the due date');

export const getAccountsReceivable = defineOperation({
  name: 'get_accounts_receivable',
  title: 'Who owes us money',
  description:
    'Answers "who owes us money?": for each customer and currency, what is still due on finalized invoices, ' +
    'how much of it is overdue (and on which invoices), the oldest due date, and an aging breakdown (not yet ' +
    'due, 1-30, 31-60, 61-90, over 90 days late); plus totals per currency. Most overdue first.',
  group: 'invoices',
  scope: 'read',
  annotations: READ,
  input: z.strictObject({ currency: Currency.optional(), customer_id: CustomerRef.optional() }),
  output: z.object({
    as_of: z.string().describe("Today's date in the organization's time zone"),
    balances: z.array(
      z.object({
        customer: z.object({ id: z.string(), external_id: z.string().nullable(), name: z.string() }),
        currency: z.string(),
        invoices_count: z.int(),
        ...moneyOut('amount_due', 'Still due'),
        ...moneyOut('overdue_amount', 'Past its due date'),
        overdue_invoices: z.array(z.string()),
        oldest_due_date: z.string().nullable(),
        aging: Aging,
      }),
    ),
    totals: z.array(
      z.object({
        currency: z.string(),
        ...moneyOut('amount_due', 'Still due'),
        ...moneyOut('overdue_amount', 'Past its due date'),
        aging: Aging,
      }),
    ),
  }),
  handler: (ctx, input) => accountsReceivable(ctx, input),
});
