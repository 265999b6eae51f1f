import type {
  CustomersTable,
  WalletRecurringRulesTable,
  WalletTransactionsTable,
  WalletsTable,
} from '../../db/schema.js';
import { countAll } from '../../db/sql.js';
import { minorUnits } from '../../domain/currencies.js';
import { Decimal } from '../../domain/decimal.js';
import { BillfoldError, invalidStatus, validation } from '../../domain/errors.js';
import { looksLikeId, newId } from '../../domain/ids.js';
import { fromMinor, moneyFields } from '../../domain/money.js';
import { pageOffset, pagination, type PageRequest, type Pagination } from '../../domain/pagination.js';
import type { Interval } from '../../domain/periods.js';
import { toIso } from '../../domain/time.js';
import { CREDIT_SCALE, creditsValueMinor, nextScheduleRun } from '../../domain/wallet-credits.js';
import { recordActivity } from '../activity.js';
import type { ServiceContext } from '../context.js';
import { resolveCustomer } from '../customers.js';
import { createInvoice, findInvoice, voidInvoice } from '../invoices.js';
import {
  creditWallet,
  lockWallet,
  type TransactionReason,
  type TransactionSource,
  type TransactionStatus,
  type TransactionType,
} from './ledger.js';
import { ongoingUsage } from './ongoing.js';

/**
 * Wallets of prepaid credits: created for a customer in a currency at a price per credit,
 * topped up with purchased credits (billed by an invoice of type credit, usable once it is paid
 * unless invoice_requires_payment is false) and granted ones (usable at once), drawn on by the
 * customer's subscription invoices at finalization (ledger.ts), topped up again by recurring
 * rules (recurring.ts), and terminated by hand or at their expiration.
 */

export const WALLET_STATUSES = ['active', 'terminated'] as const;
export type WalletStatus = (typeof WALLET_STATUSES)[number];
export const RULE_TRIGGERS = ['interval', 'threshold'] as const;
export type RuleTrigger = (typeof RULE_TRIGGERS)[number];
export const RULE_METHODS = ['fixed', 'target'] as const;
export type RuleMethod = (typeof RULE_METHODS)[number];

/** Lago's limit, and enough to order any real set of wallets. */
export const MAX_PRIORITY = 50;

export interface RecurringRuleInput {
  trigger: RuleTrigger;
  method?: RuleMethod;
  interval?: Interval;
  started_at?: number;
  threshold_credits?: Decimal;
  paid_credits?: Decimal;
  granted_credits?: Decimal;
  target_ongoing_balance?: Decimal;
  invoice_requires_payment?: boolean;
}

export interface RecurringRuleView {
  id: string;
  trigger: RuleTrigger;
  method: RuleMethod;
  interval: Interval | null;
  started_at: string | null;
  next_run_at: string | null;
  threshold_credits: string | null;
  paid_credits: string;
  granted_credits: string;
  target_ongoing_balance: string | null;
  invoice_requires_payment: boolean;
}

export interface WalletView {
  id: string;
  external_id: string | null;
  name: string | null;
  customer_id: string;
  external_customer_id: string | null;
  status: WalletStatus;
  currency: string;
  rate_amount: string;
  priority: number;
  credits_balance: string;
  balance_cents: number;
  balance: string;
  consumed_credits: string;
  consumed_amount_cents: number;
  consumed_amount: string;
  ongoing_usage_balance_cents: number;
  ongoing_usage_balance: string;
  credits_ongoing_usage_balance: string;
  ongoing_balance_cents: number;
  ongoing_balance: string;
  credits_ongoing_balance: string;
  invoice_requires_payment: boolean;
  expiration_at: string | null;
  terminated_at: string | null;
  last_consumed_credit_at: string | null;
  recurring_transaction_rules: RecurringRuleView[];
  created_at: string;
  updated_at: string;
}

export interface WalletTransactionView {
  id: string;
  wallet_id: string;
  customer_id: string;
  transaction_type: TransactionType;
  status: TransactionStatus;
  reason: TransactionReason;
  source: TransactionSource;
  credits: string;
  amount_cents: number;
  amount: string;
  currency: string;
  invoice_id: string | null;
  external_id: string | null;
  settled_at: string | null;
  failed_at: string | null;
  voided_at: string | null;
  created_at: string;
}

const credits = (d: Decimal) => d.normalize().toString();

function ruleView(r: WalletRecurringRulesTable): RecurringRuleView {
  return {
    id: r.id,
    trigger: r.trigger as RuleTrigger,
    method: r.method as RuleMethod,
    interval: r.interval as Interval | null,
    started_at: toIso(r.started_at),
    next_run_at: toIso(r.next_run_at),
    threshold_credits: r.threshold_credits,
    paid_credits: r.paid_credits,
    granted_credits: r.granted_credits,
    target_ongoing_balance: r.target_ongoing_balance,
    invoice_requires_payment: r.invoice_requires_payment === 1,
  };
}

export function transactionView(t: WalletTransactionsTable, currency: string): WalletTransactionView {
  return {
    id: t.id,
    wallet_id: t.wallet_id,
    customer_id: t.customer_id,
    transaction_type: t.transaction_type as TransactionType,
    status: t.status as TransactionStatus,
    reason: t.reason as TransactionReason,
    source: t.source as TransactionSource,
    credits: t.credits,
    ...moneyFields('amount', t.amount_cents, currency),
    currency,
    invoice_id: t.invoice_id,
    external_id: t.external_id,
    settled_at: toIso(t.settled_at),
    failed_at: toIso(t.failed_at),
    voided_at: toIso(t.voided_at),
    created_at: toIso(t.created_at),
  };
}

/** Credits worth `minor` at the wallet's rate, for the ongoing figures (rounded like a draw). */
function creditsOf(w: WalletsTable, minor: bigint): Decimal {
  return fromMinor(minor, w.currency).div(Decimal.parse(w.rate_amount), CREDIT_SCALE, 'half_up');
}

/** Views of wallets, with their rules and ongoing balances (one usage reading per customer). */
export async function walletViews(ctx: ServiceContext, rows: readonly WalletsTable[]): Promise<WalletView[]> {
  if (!rows.length) return [];
  const customerIds = [...new Set(rows.map((r) => r.customer_id))];
  const [customers, rules] = await Promise.all([
    ctx.db
      .selectFrom('customers')
      .selectAll()
      .where('organization_id', '=', ctx.organizationId)
      .where('id', 'in', customerIds)
      .execute(),
    ctx.db
      .selectFrom('wallet_recurring_rules')
      .selectAll()
      .where('organization_id', '=', ctx.organizationId)
      .where(
        'wallet_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('wallet_id')
      .orderBy('position')
      .execute(),
  ]);
  const usage = new Map<string, bigint>();
  for (const c of customers) {
    // Ongoing usage is spread over all of the customer's active wallets, listed or not.
    const all = await ctx.db
      .selectFrom('wallets')
      .selectAll()
      .where('organization_id', '=', ctx.organizationId)
      .where('customer_id', '=', c.id)
      .where('status', '=', 'active')
      .execute();
    for (const [id, v] of await ongoingUsage(ctx, c, all)) usage.set(id, v);
  }
  const byCustomer = new Map(customers.map((c) => [c.id, c]));
  return rows.map((w) => {
    const u = usage.get(w.id) ?? 0n;
    const ongoing = BigInt(w.balance_cents) - u;
    const creditsOngoing = Decimal.parse(w.credits_balance).sub(creditsOf(w, u));
    return {
      id: w.id,
      external_id: w.external_id,
      name: w.name,
      customer_id: w.customer_id,
      external_customer_id: byCustomer.get(w.customer_id)?.external_id ?? null,
      status: w.status as WalletStatus,
      currency: w.currency,
      rate_amount: w.rate_amount,
      priority: w.priority,
      credits_balance: w.credits_balance,
      ...moneyFields('balance', w.balance_cents, w.currency),
      consumed_credits: w.consumed_credits,
      ...moneyFields('consumed_amount', w.consumed_cents, w.currency),
      ...moneyFields('ongoing_usage_balance', u, w.currency),
      credits_ongoing_usage_balance: credits(creditsOf(w, u)),
      ...moneyFields('ongoing_balance', ongoing, w.currency),
      credits_ongoing_balance: credits(creditsOngoing),
      invoice_requires_payment: w.invoice_requires_payment === 1,
      expiration_at: toIso(w.expiration_at),
      terminated_at: toIso(w.terminated_at),
      last_consumed_credit_at: toIso(w.last_consumed_credit_at),
      recurring_transaction_rules: rules.filter((r) => r.wallet_id === w.id).map(ruleView),
      created_at: toIso(w.created_at),
      updated_at: toIso(w.updated_at),
    };
  });
}

async function walletView(ctx: ServiceContext, row: WalletsTable): Promise<WalletView> {
  return (await walletViews(ctx, [row]))[0]!;
}

/** Finds a wallet by id (wal_…) or external_id. */
export async function resolveWallet(
  ctx: ServiceContext,
  ref: string,
  field = 'wallet_id',
): Promise<WalletsTable> {
  const row = await ctx.db
    .selectFrom('wallets')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where((eb) => (looksLikeId('wallet', ref) ? eb('id', '=', ref) : eb('external_id', '=', ref)))
    .executeTakeFirst();
  if (!row) {
    throw new BillfoldError(
      'NOT_FOUND',
      `${field}: no wallet has the id or external_id '${ref}'`,
      { resource: 'wallet', field, ref },
      'Pass the wallet id (wal_…) or your external_id; list_wallets with customer_id finds a customer’s wallets.',
    );
  }
  return row;
}

// ---------------------------------------------------------------------------------------------
// Checks

function checkCredits(field: string, value: Decimal | undefined): Decimal {
  if (value === undefined) return Decimal.ZERO;
  if (value.isNegative()) throw validation(field, `must not be negative (got ${value.toString()})`);
  if (value.normalize().scale > CREDIT_SCALE)
    throw validation(
      field,
      `at most ${CREDIT_SCALE} decimals of credits (got ${value.toString()})`,
      `Round it, e.g. ${value.round(CREDIT_SCALE).normalize().toString()}.`,
    );
  return value.normalize();
}

function checkPriority(priority: number | undefined): number {
  const p = priority ?? MAX_PRIORITY;
  if (!Number.isInteger(p) || p < 1 || p > MAX_PRIORITY)
    throw validation('priority', `must be a whole number from 1 (drawn first) to ${MAX_PRIORITY} (got ${p})`);
  return p;
}

function checkExpiration(at: number | null | undefined, now: number): number | null {
  if (at === undefined || at === null) return null;
  if (at <= now)
    throw validation(
      'expiration_at',
      `${toIso(at)} is not in the future`,
      'Give a later date, or leave expiration_at out for a wallet that does not expire.',
    );
  return at;
}

function ruleRows(
  ctx: ServiceContext,
  walletId: string,
  rules: readonly RecurringRuleInput[],
  requiresPayment: boolean,
): WalletRecurringRulesTable[] {
  const now = ctx.now();
  return rules.map((r, i) => {
    const at = `recurring_transaction_rules[${i}]`;
    const method = r.method ?? 'fixed';
    const paid = checkCredits(`${at}.paid_credits`, r.paid_credits);
    const granted = checkCredits(`${at}.granted_credits`, r.granted_credits);
    if (r.trigger === 'interval') {
      if (!r.interval)
        throw validation(
          `${at}.interval`,
          'is required for trigger "interval"',
          'One of weekly, monthly, quarterly, yearly.',
        );
      if (r.threshold_credits !== undefined)
        throw validation(
          `${at}.threshold_credits`,
          'applies to trigger "threshold" only',
          'Leave it out, or use trigger "threshold".',
        );
    } else {
      if (r.threshold_credits === undefined)
        throw validation(
          `${at}.threshold_credits`,
          'is required for trigger "threshold": the ongoing balance in credits at or under which it tops up',
        );
      checkCredits(`${at}.threshold_credits`, r.threshold_credits);
      if (r.interval !== undefined || r.started_at !== undefined)
        throw validation(
          `${at}.interval`,
          'applies to trigger "interval" only',
          'Leave interval and started_at out, or use trigger "interval".',
        );
    }
    let target: Decimal | null = null;
    if (method === 'target') {
      if (r.target_ongoing_balance === undefined || !r.target_ongoing_balance.isPositive())
        throw validation(
          `${at}.target_ongoing_balance`,
          'is required for method "target": the ongoing balance in credits each top-up brings the wallet back to',
        );
      target = checkCredits(`${at}.target_ongoing_balance`, r.target_ongoing_balance);
      if (r.paid_credits !== undefined || r.granted_credits !== undefined)
        throw validation(
          `${at}.paid_credits`,
          'method "target" buys what is missing to the target; it takes no paid_credits or granted_credits',
          'Use method "fixed" for a fixed top-up.',
        );
      if (r.trigger === 'threshold' && !target.gt(r.threshold_credits!))
        throw validation(
          `${at}.target_ongoing_balance`,
          `must be above threshold_credits (${r.threshold_credits!.toString()}), or a top-up would leave the wallet at its threshold`,
        );
    } else {
      if (r.target_ongoing_balance !== undefined)
        throw validation(`${at}.target_ongoing_balance`, 'applies to method "target" only');
      if (paid.isZero() && granted.isZero())
        throw validation(
          `${at}.paid_credits`,
          'a fixed top-up needs paid_credits or granted_credits above 0',
        );
    }
    const started = r.trigger === 'interval' ? (r.started_at ?? now) : null;
    return {
      id: newId('wallet_rule', now),
      organization_id: ctx.organizationId,
      wallet_id: walletId,
      position: i,
      trigger: r.trigger,
      method,
      interval: r.interval ?? null,
      threshold_credits: r.threshold_credits === undefined ? null : credits(r.threshold_credits),
      target_ongoing_balance: target === null ? null : credits(target),
      paid_credits: credits(paid),
      granted_credits: credits(granted),
      invoice_requires_payment: (r.invoice_requires_payment ?? requiresPayment) ? 1 : 0,
      started_at: started,
      // The start itself is the first run when it is still ahead; otherwise the next one after now.
      next_run_at:
        started === null ? null : started > now ? started : nextScheduleRun(started, r.interval!, now),
      created_at: now,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Creating, changing, ending

export interface CreateWalletInput {
  customer_id: string;
  currency?: string;
  rate_amount: Decimal;
  name?: string | null;
  external_id?: string;
  priority?: number;
  paid_credits?: Decimal;
  granted_credits?: Decimal;
  invoice_requires_payment?: boolean;
  expiration_at?: number | null;
  recurring_transaction_rules?: RecurringRuleInput[];
}

export interface TopUpResult {
  wallet: WalletView;
  wallet_transactions: WalletTransactionView[];
  invoice_id: string | null;
}

export async function createWallet(
  ctx: ServiceContext,
  input: CreateWalletInput,
): Promise<TopUpResult & { created: boolean }> {
  const customer = await resolveCustomer(ctx, input.customer_id);
  if (input.external_id) {
    const existing = await ctx.db
      .selectFrom('wallets')
      .selectAll()
      .where('organization_id', '=', ctx.organizationId)
      .where('external_id', '=', input.external_id)
      .executeTakeFirst();
    if (existing) {
      if (existing.customer_id !== customer.id)
        throw new BillfoldError(
          'CONFLICT',
          `external_id: wallet '${input.external_id}' belongs to another customer`,
          { field: 'external_id', value: input.external_id, wallet_id: existing.id },
          'Use another external_id for this customer’s wallet.',
        );
      const txs = await transactionsOfWallet(ctx, existing.id, { created_with_wallet: true });
      return {
        wallet: await walletView(ctx, existing),
        wallet_transactions: txs.map((t) => transactionView(t, existing.currency)),
        invoice_id: txs.find((t) => t.invoice_id)?.invoice_id ?? null,
        created: false,
      };
    }
  }
  const org = await ctx.organization();
  const currency = input.currency ?? customer.currency ?? org.default_currency;
  if (customer.currency && customer.currency !== currency)
    throw validation(
      'currency',
      `the customer '${customer.external_id ?? customer.id}' is billed in ${customer.currency}, not ${currency}`,
      `Leave currency out, or give ${customer.currency}: a wallet pays the customer’s invoices in their currency.`,
    );
  if (!input.rate_amount.isPositive())
    throw validation(
      'rate_amount',
      `the price of one credit must be above 0 (got ${input.rate_amount.toString()})`,
    );
  const now = ctx.now();
  const row: WalletsTable = {
    id: newId('wallet', now),
    organization_id: ctx.organizationId,
    customer_id: customer.id,
    external_id: input.external_id ?? null,
    name: input.name ?? null,
    currency,
    rate_amount: input.rate_amount.normalize().toString(),
    priority: checkPriority(input.priority),
    status: 'active',
    balance_cents: 0,
    credits_balance: '0',
    consumed_cents: 0,
    consumed_credits: '0',
    invoice_requires_payment: input.invoice_requires_payment === false ? 0 : 1,
    expiration_at: checkExpiration(input.expiration_at, now),
    terminated_at: null,
    last_consumed_credit_at: null,
    created_at: now,
    updated_at: now,
  };
  const rules = ruleRows(
    ctx,
    row.id,
    input.recurring_transaction_rules ?? [],
    row.invoice_requires_payment === 1,
  );
  const inserted = await ctx.db
    .insertInto('wallets')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['organization_id', 'external_id']).where('external_id', 'is not', null).doNothing(),
    )
    .returning('id')
    .executeTakeFirst();
  if (!inserted)
    throw new BillfoldError(
      'CONFLICT',
      `external_id: another request created wallet '${row.external_id}' at the same moment`,
      { field: 'external_id', value: row.external_id },
      'Retry: the retry returns that wallet.',
    );
  if (rules.length) await ctx.db.insertInto('wallet_recurring_rules').values(rules).execute();
  await recordActivity(ctx, {
    type: 'wallet.created',
    resourceType: 'wallet',
    resourceId: row.id,
    customerId: customer.id,
    externalCustomerId: customer.external_id,
    changes: { currency, rate_amount: row.rate_amount, priority: row.priority, rules: rules.length },
  });
  const topped = await topUp(ctx, row, customer, {
    paid_credits: input.paid_credits,
    granted_credits: input.granted_credits,
    invoice_requires_payment: input.invoice_requires_payment,
    source: 'manual',
  });
  return { ...topped, created: true };
}

export interface UpdateWalletInput {
  name?: string | null;
  priority?: number;
  expiration_at?: number | null;
  invoice_requires_payment?: boolean;
  recurring_transaction_rules?: RecurringRuleInput[];
}

export async function updateWallet(
  ctx: ServiceContext,
  ref: string,
  input: UpdateWalletInput,
): Promise<WalletView> {
  const found = await resolveWallet(ctx, ref);
  const w = (await lockWallet(ctx, found.id))!;
  if (w.status !== 'active') throw terminated(w);
  const now = ctx.now();
  const set: Partial<WalletsTable> = {};
  const changes: Record<string, unknown> = {};
  if (input.name !== undefined && input.name !== w.name) {
    set.name = input.name;
    changes.name = [w.name, input.name];
  }
  if (input.priority !== undefined && input.priority !== w.priority) {
    set.priority = checkPriority(input.priority);
    changes.priority = [w.priority, set.priority];
  }
  if (input.expiration_at !== undefined && input.expiration_at !== w.expiration_at) {
    set.expiration_at = checkExpiration(input.expiration_at, now);
    changes.expiration_at = [toIso(w.expiration_at), toIso(set.expiration_at)];
  }
  if (input.invoice_requires_payment !== undefined) {
    const v = input.invoice_requires_payment ? 1 : 0;
    if (v !== w.invoice_requires_payment) {
      set.invoice_requires_payment = v;
      changes.invoice_requires_payment = [w.invoice_requires_payment === 1, input.invoice_requires_payment];
    }
  }
  if (input.recurring_transaction_rules !== undefined) {
    // The rules are replaced as a whole, as Lago's API does.
    const rules = ruleRows(
      ctx,
      w.id,
      input.recurring_transaction_rules,
      (set.invoice_requires_payment ?? w.invoice_requires_payment) === 1,
    );
    await ctx.db
      .deleteFrom('wallet_recurring_rules')
      .where('organization_id', '=', ctx.organizationId)
      .where('wallet_id', '=', w.id)
      .execute();
    if (rules.length) await ctx.db.insertInto('wallet_recurring_rules').values(rules).execute();
    changes.recurring_transaction_rules = rules.length;
  }
  if (!Object.keys(changes).length) return walletView(ctx, w);
  const next = { ...w, ...set, updated_at: now };
  if (Object.keys(set).length)
    await ctx.db
      .updateTable('wallets')
      .set({ ...set, updated_at: now })
      .where('id', '=', w.id)
      .where('organization_id', '=', ctx.organizationId)
      .execute();
  await recordActivity(ctx, {
    type: 'wallet.updated',
    resourceType: 'wallet',
    resourceId: w.id,
    customerId: w.customer_id,
    changes,
  });
  return walletView(ctx, next);
}

function terminated(w: WalletsTable): BillfoldError {
  return invalidStatus(
    `wallet ${w.external_id ?? w.id} is terminated${w.terminated_at ? ` since ${toIso(w.terminated_at)}` : ''}`,
    { wallet_id: w.id, status: w.status },
    'Create a new wallet with create_wallet.',
  );
}

/**
 * Ends a wallet: its credits can no longer be used or topped up, its rules stop, and top-ups
 * still waiting for a payment that has not started are voided (their invoices with them, so
 * nobody pays for credits that could not be used). Terminating it again changes nothing.
 */
export async function terminateWallet(
  ctx: ServiceContext,
  ref: string,
  reason: 'terminated' | 'expired' = 'terminated',
): Promise<{ wallet: WalletView; changed: boolean }> {
  const found = await resolveWallet(ctx, ref);
  const w = (await lockWallet(ctx, found.id))!;
  if (w.status === 'terminated') return { wallet: await walletView(ctx, w), changed: false };
  const now = ctx.now();
  await ctx.db
    .updateTable('wallets')
    .set({ status: 'terminated', terminated_at: now, updated_at: now })
    .where('id', '=', w.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  await ctx.db
    .deleteFrom('wallet_recurring_rules')
    .where('organization_id', '=', ctx.organizationId)
    .where('wallet_id', '=', w.id)
    .execute();
  const pending = await ctx.db
    .selectFrom('wallet_transactions')
    .select('invoice_id')
    .where('organization_id', '=', ctx.organizationId)
    .where('wallet_id', '=', w.id)
    .where('status', '=', 'pending')
    .where('invoice_id', 'is not', null)
    .execute();
  for (const p of pending) {
    const inv = await findInvoice(ctx, p.invoice_id!, true);
    if (inv && inv.status === 'finalized' && inv.amount_paid_cents === 0)
      await voidInvoice(ctx, inv.id, `wallet ${w.external_id ?? w.id} ${reason}`);
  }
  await recordActivity(ctx, {
    type: 'wallet.terminated',
    resourceType: 'wallet',
    resourceId: w.id,
    customerId: w.customer_id,
    changes: {
      status: ['active', 'terminated'],
      reason,
      credits_balance: w.credits_balance,
      balance_cents: w.balance_cents,
    },
  });
  return {
    wallet: await walletView(ctx, { ...w, status: 'terminated', terminated_at: now, updated_at: now }),
    changed: true,
  };
}

// ---------------------------------------------------------------------------------------------
// Top-ups

export interface TopUpInput {
  paid_credits?: Decimal;
  granted_credits?: Decimal;
  invoice_requires_payment?: boolean;
  external_id?: string;
  source: TransactionSource;
  rule_id?: string | null;
}

/**
 * Adds credits to an active wallet (locked by the caller or here): granted ones settle at once;
 * purchased ones are billed on an invoice of type credit — quantity the credits, unit price the
 * rate, no tax (credits are paid in advance; the invoices they pay carry the tax) — and settle
 * when it is paid in full, or at once when the purchase does not require payment.
 */
export async function topUp(
  ctx: ServiceContext,
  wallet: WalletsTable,
  customer: CustomersTable,
  input: TopUpInput,
): Promise<TopUpResult> {
  const paid = checkCredits('paid_credits', input.paid_credits);
  const granted = checkCredits('granted_credits', input.granted_credits);
  const units = minorUnits(wallet.currency);
  const rate = Decimal.parse(wallet.rate_amount);
  const paidMinor = creditsValueMinor(paid, rate, units);
  const grantedMinor = creditsValueMinor(granted, rate, units);
  if (paid.isPositive() && paidMinor === 0n)
    throw validation(
      'paid_credits',
      `${paid.toString()} credits at ${wallet.rate_amount} ${wallet.currency} come to less than the ${wallet.currency} minor unit; nothing could be invoiced`,
      'Buy more credits at once.',
    );
  if (granted.isPositive() && grantedMinor === 0n)
    throw validation(
      'granted_credits',
      `${granted.toString()} credits at ${wallet.rate_amount} ${wallet.currency} are worth less than the ${wallet.currency} minor unit`,
      'Grant more credits at once.',
    );
  let w = (await lockWallet(ctx, wallet.id))!;
  if (w.status !== 'active') throw terminated(w);
  const requiresPayment = input.invoice_requires_payment ?? w.invoice_requires_payment === 1;
  const now = ctx.now();
  const made: WalletTransactionsTable[] = [];
  const base = {
    organization_id: ctx.organizationId,
    wallet_id: w.id,
    customer_id: w.customer_id,
    transaction_type: 'inbound',
    source: input.source,
    rule_id: input.rule_id ?? null,
    external_id: input.external_id ?? null,
    failed_at: null,
    voided_at: null,
    created_at: now,
    updated_at: now,
  } as const;
  let invoiceId: string | null = null;
  if (paid.isPositive()) {
    const invoice = await createInvoice(ctx, {
      customer,
      currency: w.currency,
      invoice_type: 'credit',
      status: 'finalized',
      lines: [
        {
          description: `Prepaid credits${w.name ? ` — ${w.name}` : ''}`,
          quantity: paid,
          unit_amount: rate,
          unit_label: 'credits',
          tax_codes: [],
          details: { kind: 'prepaid_credits', wallet_id: w.id, credits: paid.toString() },
        },
      ],
    });
    invoiceId = invoice.row.id;
    const tx: WalletTransactionsTable = {
      ...base,
      id: newId('wallet_transaction', now),
      status: requiresPayment ? 'pending' : 'settled',
      reason: 'purchased',
      credits: credits(paid),
      amount_cents: Number(paidMinor),
      invoice_id: invoice.row.id,
      settled_at: requiresPayment ? null : now,
    };
    await ctx.db.insertInto('wallet_transactions').values(tx).execute();
    if (!requiresPayment) w = await creditWallet(ctx, w, tx);
    made.push(tx);
  }
  if (granted.isPositive()) {
    const tx: WalletTransactionsTable = {
      ...base,
      id: newId('wallet_transaction', now),
      status: 'settled',
      reason: 'granted',
      credits: credits(granted),
      amount_cents: Number(grantedMinor),
      invoice_id: null,
      settled_at: now,
    };
    await ctx.db.insertInto('wallet_transactions').values(tx).execute();
    w = await creditWallet(ctx, w, tx);
    made.push(tx);
  }
  if (made.length)
    await recordActivity(ctx, {
      type: 'wallet.topped_up',
      resourceType: 'wallet',
      resourceId: w.id,
      customerId: w.customer_id,
      externalCustomerId: customer.external_id,
      changes: {
        source: input.source,
        paid_credits: credits(paid),
        granted_credits: credits(granted),
        invoice_id: invoiceId,
        wallet_transactions: made.map((t) => `${t.id} ${t.status}`),
      },
    });
  return {
    wallet: await walletView(ctx, w),
    wallet_transactions: made.map((t) => transactionView(t, w.currency)),
    invoice_id: invoiceId,
  };
}

export async function topUpWallet(
  ctx: ServiceContext,
  input: {
    wallet_id: string;
    paid_credits?: Decimal;
    granted_credits?: Decimal;
    invoice_requires_payment?: boolean;
    external_id?: string;
  },
): Promise<TopUpResult & { created: boolean }> {
  const w = await resolveWallet(ctx, input.wallet_id);
  if (input.external_id) {
    const same = await ctx.db
      .selectFrom('wallet_transactions')
      .selectAll()
      .where('organization_id', '=', ctx.organizationId)
      .where('wallet_id', '=', w.id)
      .where('external_id', '=', input.external_id)
      .orderBy('id')
      .execute();
    if (same.length)
      return {
        wallet: await walletView(ctx, w),
        wallet_transactions: same.map((t) => transactionView(t, w.currency)),
        invoice_id: same.find((t) => t.invoice_id)?.invoice_id ?? null,
        created: false,
      };
  }
  // A negative amount is named as such before the call is refused for adding nothing.
  checkCredits('paid_credits', input.paid_credits);
  checkCredits('granted_credits', input.granted_credits);
  if (!(input.paid_credits?.isPositive() || input.granted_credits?.isPositive()))
    throw validation(
      'paid_credits',
      'give paid_credits or granted_credits above 0',
      'e.g. paid_credits: "100"',
    );
  const customer = await resolveCustomer(ctx, w.customer_id);
  return { ...(await topUp(ctx, w, customer, { ...input, source: 'manual' })), created: true };
}

// ---------------------------------------------------------------------------------------------
// Reading

export async function getWallet(ctx: ServiceContext, ref: string): Promise<WalletView> {
  return walletView(ctx, await resolveWallet(ctx, ref));
}

export async function listWallets(
  ctx: ServiceContext,
  f: { customer_id?: string; status?: WalletStatus },
  page: PageRequest,
): Promise<{ wallets: WalletView[]; pagination: Pagination }> {
  let q = ctx.db.selectFrom('wallets').where('organization_id', '=', ctx.organizationId);
  if (f.customer_id) q = q.where('customer_id', '=', (await resolveCustomer(ctx, f.customer_id)).id);
  if (f.status) q = q.where('status', '=', f.status);
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll()
    .orderBy('id', 'desc')
    .limit(page.per_page)
    .offset(pageOffset(page))
    .execute();
  return { wallets: await walletViews(ctx, rows), pagination: pagination(page, Number(count)) };
}

async function transactionsOfWallet(
  ctx: ServiceContext,
  walletId: string,
  o: { created_with_wallet?: boolean } = {},
): Promise<WalletTransactionsTable[]> {
  let q = ctx.db
    .selectFrom('wallet_transactions')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('wallet_id', '=', walletId)
    .where('transaction_type', '=', 'inbound');
  if (o.created_with_wallet) q = q.where('source', '=', 'manual').orderBy('id').limit(2);
  const rows = await q.execute();
  if (!o.created_with_wallet) return rows;
  // The wallet's own first top-up: the transactions made in its first instant.
  const first = rows[0]?.created_at;
  return rows.filter((r) => r.created_at === first);
}

export interface TransactionFilter {
  wallet_id: string;
  transaction_type?: TransactionType;
  status?: TransactionStatus;
}

export async function listWalletTransactions(
  ctx: ServiceContext,
  f: TransactionFilter,
  page: PageRequest,
): Promise<{ wallet_transactions: WalletTransactionView[]; pagination: Pagination }> {
  const w = await resolveWallet(ctx, f.wallet_id);
  let q = ctx.db
    .selectFrom('wallet_transactions')
    .where('organization_id', '=', ctx.organizationId)
    .where('wallet_id', '=', w.id);
  if (f.transaction_type) q = q.where('transaction_type', '=', f.transaction_type);
  if (f.status) q = q.where('status', '=', f.status);
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll()
    .orderBy('id', 'desc')
    .limit(page.per_page)
    .offset(pageOffset(page))
    .execute();
  return {
    wallet_transactions: rows.map((t) => transactionView(t, w.currency)),
    pagination: pagination(page, Number(count)),
  };
}
