import * as z from 'zod';
import {
  TRANSACTION_REASONS,
  TRANSACTION_SOURCES,
  TRANSACTION_STATUSES,
  TRANSACTION_TYPES,
} from '../services/wallets/ledger.js';
import * as wallets from '../services/wallets/wallets.js';
import { CREATE, DELETE, READ, UPDATE, defineOperation } from './define.js';
import {
  Currency,
  CustomerRef,
  DecimalInput,
  ExternalId,
  Instant,
  Iso,
  IsoNullable,
  Pagination,
  PositiveMoney,
  moneyOut,
  page,
  text,
} from './schemas/common.js';
import { Interval } from './schemas/billing.js';

const group = 'wallets';

const Credits = DecimalInput.describe(
  'A number of credits as a decimal string or number, e.g. "100" or "12.5"',
);
const CreditsOut = z.string().describe('Credits, as an exact decimal string');

const WalletRef = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .describe('The wallet’s id (wal_…) or your external_id for it');

const RuleInput = z.strictObject({
  trigger: z
    .enum(wallets.RULE_TRIGGERS)
    .describe(
      '"interval": on a schedule from started_at; "threshold": when the ongoing balance falls to threshold_credits',
    ),
  method: z
    .enum(wallets.RULE_METHODS)
    .optional()
    .describe(
      '"fixed" (default): paid_credits and granted_credits each time; "target": buy what brings the ongoing balance back to target_ongoing_balance',
    ),
  interval: Interval.optional().describe('trigger "interval": how often'),
  started_at: Instant.optional().describe(
    'trigger "interval": the first run (default now); later runs keep its day and time, in UTC',
  ),
  threshold_credits: Credits.optional().describe(
    'trigger "threshold": tops up when the ongoing balance in credits is at or under this',
  ),
  paid_credits: Credits.optional().describe(
    'method "fixed": credits bought each time (billed on an invoice of type credit)',
  ),
  granted_credits: Credits.optional().describe('method "fixed": credits given each time, usable at once'),
  target_ongoing_balance: Credits.optional().describe(
    'method "target": the ongoing balance in credits each top-up restores',
  ),
  invoice_requires_payment: z.boolean().optional().describe('Default: the wallet’s setting'),
});

const Rule = z.object({
  id: z.string(),
  trigger: z.enum(wallets.RULE_TRIGGERS),
  method: z.enum(wallets.RULE_METHODS),
  interval: Interval.nullable(),
  started_at: IsoNullable,
  next_run_at: IsoNullable.describe('trigger "interval": when it runs next'),
  threshold_credits: CreditsOut.nullable(),
  paid_credits: CreditsOut,
  granted_credits: CreditsOut,
  target_ongoing_balance: CreditsOut.nullable(),
  invoice_requires_payment: z.boolean(),
});

export const Wallet = z.object({
  id: z.string().describe('wal_…'),
  external_id: z.string().nullable(),
  name: z.string().nullable(),
  customer_id: z.string(),
  external_customer_id: z.string().nullable(),
  status: z.enum(wallets.WALLET_STATUSES),
  currency: z.string(),
  rate_amount: z.string().describe('The price of one credit in `currency`, exact'),
  priority: z.int().describe('1 is drawn first, 50 last; equal priorities by age'),
  credits_balance: CreditsOut.describe('Settled credits that can be used'),
  ...moneyOut('balance', 'What the settled credits can pay'),
  consumed_credits: CreditsOut.describe('Credits spent on invoices'),
  ...moneyOut('consumed_amount', 'What invoices drew from the wallet'),
  ...moneyOut('ongoing_usage_balance', 'Usage of the current periods not yet invoiced, before taxes'),
  credits_ongoing_usage_balance: CreditsOut,
  ...moneyOut(
    'ongoing_balance',
    'balance − ongoing usage: what will be left once that usage is invoiced (below 0 when usage outruns the credits)',
  ),
  credits_ongoing_balance: CreditsOut,
  invoice_requires_payment: z
    .boolean()
    .describe('Whether purchased credits wait for their invoice to be paid'),
  expiration_at: IsoNullable,
  terminated_at: IsoNullable,
  last_consumed_credit_at: IsoNullable,
  recurring_transaction_rules: z.array(Rule),
  created_at: Iso,
  updated_at: Iso,
});

export const WalletTransaction = z.object({
  id: z.string().describe('wtx_…'),
  wallet_id: z.string(),
  customer_id: z.string(),
  transaction_type: z
    .enum(TRANSACTION_TYPES)
    .describe('inbound: credits added; outbound: credits spent on an invoice'),
  status: z
    .enum(TRANSACTION_STATUSES)
    .describe(
      'pending: a purchase waiting for its invoice to be paid; settled: counted in the balance; failed: its invoice was voided unpaid; voided: taken back (the invoice it paid, or that billed it, was voided)',
    ),
  reason: z.enum(TRANSACTION_REASONS),
  source: z
    .enum(TRANSACTION_SOURCES)
    .describe('manual, or the recurring rule that made it (interval, threshold)'),
  credits: CreditsOut,
  ...moneyOut('amount', 'What the credits are worth'),
  currency: z.string(),
  invoice_id: z.string().nullable().describe('The invoice that bills a purchase, or that a draw paid'),
  external_id: z.string().nullable(),
  settled_at: IsoNullable,
  failed_at: IsoNullable,
  voided_at: IsoNullable,
  created_at: Iso,
});

const TopUpOutput = z.object({
  wallet: Wallet,
  wallet_transactions: z.array(WalletTransaction),
  invoice_id: z
    .string()
    .nullable()
    .describe('The invoice of type credit that bills the purchased credits (get_invoice)'),
  created: z.boolean(),
});

export const createWallet = defineOperation({
  name: 'create_wallet',
  title: 'Create a prepaid wallet',
  description:
    'Opens a wallet of prepaid credits for a customer: `rate_amount` is the price of one credit in the customer’s ' +
    'currency. `paid_credits` are bought — billed at once on an invoice of type credit, usable once that invoice is ' +
    'paid (mark_invoice_paid), or at once with `invoice_requires_payment: false`; `granted_credits` are free and ' +
    'usable at once. When the customer’s subscription invoices are finalized they are paid from the wallet first ' +
    '(after coupons and taxes), partly when the balance is short. `recurring_transaction_rules` top it up on a ' +
    'schedule or when the ongoing balance falls to a threshold. With `external_id`, a retry returns the same wallet.',
  group,
  scope: 'write',
  annotations: CREATE,
  input: z.strictObject({
    customer_id: CustomerRef,
    rate_amount: PositiveMoney.describe(
      'The price of one credit in the currency, e.g. "1" or "0.01" (exact)',
    ),
    currency: Currency.optional().describe(
      'Default the customer’s currency; must match it when the customer has one',
    ),
    name: text(255).nullable().optional(),
    external_id: ExternalId.optional().describe('Your key for the wallet, unique in the organization'),
    priority: z.int().optional().describe('1 (drawn first) to 50 (default)'),
    paid_credits: Credits.optional(),
    granted_credits: Credits.optional(),
    invoice_requires_payment: z
      .boolean()
      .optional()
      .describe('Default true: purchased credits wait for their invoice to be paid'),
    expiration_at: Instant.nullable()
      .optional()
      .describe('When the wallet ends by itself (its credits are then lost)'),
    recurring_transaction_rules: z.array(RuleInput).max(5).optional(),
  }),
  output: TopUpOutput,
  handler: (ctx, input) => wallets.createWallet(ctx, input),
});

export const getWallet = defineOperation({
  name: 'get_wallet',
  title: 'Get a wallet',
  description:
    'Returns one wallet: its credits and money balance, what invoices consumed, the ongoing balance (the balance less ' +
    'usage not yet invoiced) and its recurring top-up rules.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({ wallet_id: WalletRef }),
  output: z.object({ wallet: Wallet }),
  handler: async (ctx, input) => ({ wallet: await wallets.getWallet(ctx, input.wallet_id) }),
});

export const listWallets = defineOperation({
  name: 'list_wallets',
  title: 'List wallets',
  description:
    'Lists wallets, newest first, with their balances; filter by customer and status (active, terminated).',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    customer_id: CustomerRef.optional(),
    status: z.enum(wallets.WALLET_STATUSES).optional(),
    ...page,
  }),
  output: z.object({ wallets: z.array(Wallet), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, ...f }) => wallets.listWallets(ctx, f, { page: p, per_page }),
});

export const updateWallet = defineOperation({
  name: 'update_wallet',
  title: 'Update a wallet',
  description:
    'Changes a wallet’s name, priority, expiration, invoice_requires_payment, or its recurring top-up rules (replaced as ' +
    'a whole: pass [] to remove them). Balances change only by top-ups and invoices.',
  group,
  scope: 'write',
  annotations: UPDATE,
  input: z.strictObject({
    wallet_id: WalletRef,
    name: text(255).nullable().optional(),
    priority: z.int().optional(),
    expiration_at: Instant.nullable().optional(),
    invoice_requires_payment: z.boolean().optional(),
    recurring_transaction_rules: z.array(RuleInput).max(5).optional(),
  }),
  output: z.object({ wallet: Wallet }),
  handler: async (ctx, { wallet_id, ...rest }) => ({
    wallet: await wallets.updateWallet(ctx, wallet_id, rest),
  }),
});

export const topUpWallet = defineOperation({
  name: 'top_up_wallet',
  title: 'Top up a wallet',
  description:
    'Adds credits to an active wallet. `paid_credits` are billed on an invoice of type credit (credits × rate_amount, ' +
    'no tax) and become usable when it is paid in full — or at once with `invoice_requires_payment: false`; ' +
    '`granted_credits` are usable at once, with no invoice. With `external_id`, a retry returns the same transactions.',
  group,
  scope: 'write',
  annotations: CREATE,
  input: z.strictObject({
    wallet_id: WalletRef,
    paid_credits: Credits.optional(),
    granted_credits: Credits.optional(),
    invoice_requires_payment: z.boolean().optional().describe('Default: the wallet’s setting'),
    external_id: ExternalId.optional().describe('Your key for this top-up, unique per wallet'),
  }),
  output: TopUpOutput,
  handler: (ctx, input) => wallets.topUpWallet(ctx, input),
});

export const terminateWallet = defineOperation({
  name: 'terminate_wallet',
  title: 'Terminate a wallet',
  description:
    'Ends a wallet: its remaining credits can no longer pay invoices, its recurring rules stop, and top-up invoices ' +
    'not yet paid at all are voided. Terminating a terminated wallet changes nothing.',
  group,
  scope: 'write',
  annotations: DELETE,
  input: z.strictObject({ wallet_id: WalletRef }),
  output: z.object({ wallet: Wallet, changed: z.boolean() }),
  handler: (ctx, input) => wallets.terminateWallet(ctx, input.wallet_id),
});

export const listWalletTransactions = defineOperation({
  name: 'list_wallet_transactions',
  title: 'List a wallet’s transactions',
  description:
    'Lists a wallet’s credits in (inbound: purchased, granted) and out (outbound: invoices paid), newest first; ' +
    'filter by transaction_type and status (pending, settled, failed, voided).',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    wallet_id: WalletRef,
    transaction_type: z.enum(TRANSACTION_TYPES).optional(),
    status: z.enum(TRANSACTION_STATUSES).optional(),
    ...page,
  }),
  output: z.object({ wallet_transactions: z.array(WalletTransaction), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, ...f }) =>
    wallets.listWalletTransactions(ctx, f, { page: p, per_page }),
});

export const walletOperations = [
  createWallet,
  getWallet,
  listWallets,
  updateWallet,
  topUpWallet,
  terminateWallet,
  listWalletTransactions,
];
