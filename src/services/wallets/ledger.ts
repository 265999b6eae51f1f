import { prepared, preparedInsert, preparedWrite } from '../../db/prepared.js';
import type { InvoicesTable, WalletTransactionsTable, WalletsTable } from '../../db/schema.js';
import { minorUnits } from '../../domain/currencies.js';
import { Decimal } from '../../domain/decimal.js';
import { BillfoldError } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { creditsForDraw } from '../../domain/wallet-credits.js';
import { recordActivity } from '../activity.js';
import type { ServiceContext } from '../context.js';
import { customersWithout } from '../customers-without.js';

/**
 * The wallet ledger: every change to a wallet's balances goes through here, under the wallet
 * row's lock (FOR UPDATE on PostgreSQL; SQLite's single writer already serializes), and is
 * written by an update conditional on the balances read under that lock, so two finalizations
 * at the same moment — on one instance or several — never spend the same credits and a balance
 * never goes below zero. Invoices call in at three moments: finalization (drawFromWallets),
 * payment in full of a top-up invoice (settlePurchases) and voiding (releaseForInvoice).
 */

export const TRANSACTION_TYPES = ['inbound', 'outbound'] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];
export const TRANSACTION_STATUSES = ['pending', 'settled', 'failed', 'voided'] as const;
export type TransactionStatus = (typeof TRANSACTION_STATUSES)[number];
/** Why credits moved: bought, given, or spent on an invoice. */
export const TRANSACTION_REASONS = ['purchased', 'granted', 'invoice'] as const;
export type TransactionReason = (typeof TRANSACTION_REASONS)[number];
/** What made the transaction: a call, or a recurring rule (on a schedule, or at a threshold). */
export const TRANSACTION_SOURCES = ['manual', 'interval', 'threshold'] as const;
export type TransactionSource = (typeof TRANSACTION_SOURCES)[number];

/** The invoices a wallet pays at finalization: what a subscription bills (not one-offs, not top-ups). */
const PAID_FROM_WALLETS = new Set(['subscription', 'usage', 'progressive_billing']);

export async function lockWallet(ctx: ServiceContext, id: string): Promise<WalletsTable | undefined> {
  let q = ctx.db
    .selectFrom('wallets')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('id', '=', id);
  if (ctx.dialect === 'postgres') q = q.forUpdate();
  return q.executeTakeFirst();
}

/** The balances a wallet was read with become the new ones (none changed: the write loses). */
const setBalances = preparedWrite(
  (
    db,
    p: {
      balance: number;
      credits: string;
      consumed: number;
      consumedCredits: string;
      lastConsumed: number | null;
      now: number;
      id: string;
      org: string;
      readBalance: number;
      readCredits: string;
    },
  ) =>
    db
      .updateTable('wallets')
      .set({
        balance_cents: p.balance,
        credits_balance: p.credits,
        consumed_cents: p.consumed,
        consumed_credits: p.consumedCredits,
        last_consumed_credit_at: p.lastConsumed,
        updated_at: p.now,
      })
      .where('id', '=', p.id)
      .where('organization_id', '=', p.org)
      .where('balance_cents', '=', p.readBalance)
      .where('credits_balance', '=', p.readCredits),
);

/**
 * A customer's active wallets in a currency that still hold something; locked on PostgreSQL,
 * in the order they pay so that two finalizations lock them in the same order. SQLite's writer
 * lock already serializes, and sorting the few rows here costs less than its temporary sort
 * b-tree did on every finalization (byPayingOrder). Compiled once.
 */
const walletsToDraw = prepared((db, p: { org: string; customer: string; currency: string }) =>
  db
    .selectFrom('wallets')
    .selectAll()
    .where('organization_id', '=', p.org)
    .where('customer_id', '=', p.customer)
    .where('status', '=', 'active')
    .where('currency', '=', p.currency)
    .where('balance_cents', '>', 0),
);
const walletsToDrawLocked = prepared((db, p: { org: string; customer: string; currency: string }) =>
  db
    .selectFrom('wallets')
    .selectAll()
    .where('organization_id', '=', p.org)
    .where('customer_id', '=', p.customer)
    .where('status', '=', 'active')
    .where('currency', '=', p.currency)
    .where('balance_cents', '>', 0)
    .orderBy('priority')
    .orderBy('id')
    .forUpdate(),
);

/** The order wallets pay in: priority (1 first), then age (ids grow with time; ASCII, compared bytewise). */
function byPayingOrder(a: WalletsTable, b: WalletsTable): number {
  return a.priority - b.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

const insertTransaction = preparedInsert('wallet_transactions', {
  id: true,
  organization_id: true,
  wallet_id: true,
  customer_id: true,
  transaction_type: true,
  status: true,
  reason: true,
  source: true,
  credits: true,
  amount_cents: true,
  invoice_id: true,
  rule_id: true,
  external_id: true,
  settled_at: true,
  failed_at: true,
  voided_at: true,
  created_at: true,
  updated_at: true,
});

interface BalanceChange {
  minor: bigint;
  credits: Decimal;
  /** Moves consumption along with the balance (a draw, or a draw given back). */
  consumed?: boolean;
}

/**
 * Adds `change` (negative to take) to a locked wallet's balance, conditional on the balances it
 * was read with. Refuses to take it below zero.
 */
async function applyBalance(
  ctx: ServiceContext,
  w: WalletsTable,
  change: BalanceChange,
): Promise<WalletsTable> {
  const balance = BigInt(w.balance_cents) + change.minor;
  const credits = Decimal.parse(w.credits_balance).add(change.credits);
  if (balance < 0n || credits.isNegative()) {
    throw new BillfoldError(
      'INVALID_STATUS',
      `wallet ${w.id} holds ${w.credits_balance} credits; taking ${change.credits.neg().toString()} would leave it negative`,
      { wallet_id: w.id, balance_cents: w.balance_cents, credits_balance: w.credits_balance },
      'The credits were spent already: nothing can take them back.',
    );
  }
  const consumedMinor = change.consumed ? BigInt(w.consumed_cents) - change.minor : BigInt(w.consumed_cents);
  const consumedCredits = change.consumed
    ? Decimal.parse(w.consumed_credits).sub(change.credits)
    : Decimal.parse(w.consumed_credits);
  const now = ctx.now();
  const next: WalletsTable = {
    ...w,
    balance_cents: Number(balance),
    credits_balance: credits.normalize().toString(),
    consumed_cents: Number(consumedMinor),
    consumed_credits: consumedCredits.normalize().toString(),
    last_consumed_credit_at: change.consumed && change.minor < 0n ? now : w.last_consumed_credit_at,
    updated_at: now,
  };
  const updated = await setBalances(ctx.db, {
    balance: next.balance_cents,
    credits: next.credits_balance,
    consumed: next.consumed_cents,
    consumedCredits: next.consumed_credits,
    lastConsumed: next.last_consumed_credit_at,
    now,
    id: w.id,
    org: ctx.organizationId,
    readBalance: w.balance_cents,
    readCredits: w.credits_balance,
  });
  if (updated !== 1) {
    // Only reachable if a writer bypassed the lock; the caller's transaction rolls back.
    throw new BillfoldError(
      'CONFLICT',
      `wallet ${w.id} changed while its balance was updated`,
      { wallet_id: w.id },
      'Retry.',
    );
  }
  return next;
}

/** Adds settled credits (a grant, or a purchase that needs no payment or was paid). */
export async function creditWallet(
  ctx: ServiceContext,
  w: WalletsTable,
  tx: Pick<WalletTransactionsTable, 'amount_cents' | 'credits'>,
): Promise<WalletsTable> {
  return applyBalance(ctx, w, { minor: BigInt(tx.amount_cents), credits: Decimal.parse(tx.credits) });
}

/** Customers with no wallet, known for a billing run's batch (customers-without.ts). */
export const customersWithoutWallets = customersWithout('wallets');

/**
 * At finalization of a subscription invoice: pays what is due from the customer's active
 * wallets in its currency, by priority (1 first) then age, each as far as its balance goes.
 * Sets prepaid_credit_amount_cents, amount_due_cents and payment_status on `row` (the caller
 * writes them) and writes one settled outbound transaction per wallet that paid.
 */
export async function drawFromWallets(ctx: ServiceContext, row: InvoicesTable): Promise<void> {
  if (!PAID_FROM_WALLETS.has(row.invoice_type) || row.amount_due_cents <= 0) return;
  if (customersWithoutWallets.known(ctx, row.customer_id)) return;
  const now = ctx.now();
  const read = ctx.dialect === 'postgres' ? walletsToDrawLocked : walletsToDraw;
  const wallets = (
    await read(ctx.db, { org: ctx.organizationId, customer: row.customer_id, currency: row.currency })
  )
    .filter((w) => w.expiration_at === null || w.expiration_at > now)
    .sort(byPayingOrder);
  if (!wallets.length) return;
  const units = minorUnits(row.currency);
  let due = BigInt(row.amount_due_cents);
  let paid = 0n;
  for (const w of wallets) {
    if (due === 0n) break;
    const balance = BigInt(w.balance_cents);
    const take = balance < due ? balance : due;
    const credits = creditsForDraw(take, Decimal.parse(w.rate_amount), units, {
      minor: balance,
      credits: Decimal.parse(w.credits_balance),
    });
    await applyBalance(ctx, w, { minor: -take, credits: credits.neg(), consumed: true });
    const tx: WalletTransactionsTable = {
      id: newId('wallet_transaction', now),
      organization_id: ctx.organizationId,
      wallet_id: w.id,
      customer_id: w.customer_id,
      transaction_type: 'outbound',
      status: 'settled',
      reason: 'invoice',
      source: 'manual',
      credits: credits.normalize().toString(),
      amount_cents: Number(take),
      invoice_id: row.id,
      rule_id: null,
      external_id: null,
      settled_at: now,
      failed_at: null,
      voided_at: null,
      created_at: now,
      updated_at: now,
    };
    await insertTransaction(ctx.db, tx);
    await recordActivity(ctx, {
      type: 'wallet_transaction.created',
      resourceType: 'wallet',
      resourceId: w.id,
      customerId: w.customer_id,
      changes: {
        wallet_transaction_id: tx.id,
        transaction_type: 'outbound',
        invoice_id: row.id,
        amount_cents: tx.amount_cents,
        credits: tx.credits,
        balance_cents: [w.balance_cents, Number(balance - take)],
      },
    });
    due -= take;
    paid += take;
  }
  row.prepaid_credit_amount_cents = Number(paid);
  row.amount_due_cents = Number(due);
  if (due === 0n) {
    row.payment_status = 'succeeded';
    row.paid_at = now;
  }
}

async function transactionsOf(ctx: ServiceContext, invoiceId: string): Promise<WalletTransactionsTable[]> {
  return ctx.db
    .selectFrom('wallet_transactions')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('invoice_id', '=', invoiceId)
    .orderBy('id')
    .execute();
}

async function setStatus(
  ctx: ServiceContext,
  tx: WalletTransactionsTable,
  status: TransactionStatus,
): Promise<void> {
  const now = ctx.now();
  const at = status === 'settled' ? 'settled_at' : status === 'failed' ? 'failed_at' : 'voided_at';
  await ctx.db
    .updateTable('wallet_transactions')
    .set({ status, [at]: now, updated_at: now })
    .where('id', '=', tx.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  await recordActivity(ctx, {
    type: 'wallet_transaction.updated',
    resourceType: 'wallet',
    resourceId: tx.wallet_id,
    customerId: tx.customer_id,
    changes: {
      wallet_transaction_id: tx.id,
      status: [tx.status, status],
      amount_cents: tx.amount_cents,
      credits: tx.credits,
    },
  });
}

/** A top-up invoice is paid in full: its pending purchase settles and the credits can be used. */
export async function settlePurchases(ctx: ServiceContext, invoice: InvoicesTable): Promise<void> {
  if (invoice.invoice_type !== 'credit') return;
  for (const tx of await transactionsOf(ctx, invoice.id)) {
    if (tx.status !== 'pending') continue;
    const w = await lockWallet(ctx, tx.wallet_id);
    if (!w) continue;
    await creditWallet(ctx, w, tx);
    await setStatus(ctx, tx, 'settled');
  }
}

/**
 * An invoice is voided: the credits it drew go back to their wallets (the draws become voided);
 * a top-up not yet paid fails; credits a top-up already gave (one that needed no payment) are
 * taken back, which is refused when they were spent.
 */
export async function releaseForInvoice(ctx: ServiceContext, invoice: InvoicesTable): Promise<void> {
  for (const tx of await transactionsOf(ctx, invoice.id)) {
    if (tx.status === 'pending') {
      await setStatus(ctx, tx, 'failed');
      continue;
    }
    if (tx.status !== 'settled') continue;
    const w = await lockWallet(ctx, tx.wallet_id);
    if (!w) continue;
    const minor = BigInt(tx.amount_cents);
    const credits = Decimal.parse(tx.credits);
    if (tx.transaction_type === 'outbound') await applyBalance(ctx, w, { minor, credits, consumed: true });
    else {
      try {
        await applyBalance(ctx, w, { minor: -minor, credits: credits.neg() });
      } catch (e) {
        if (!(e instanceof BillfoldError)) throw e;
        throw new BillfoldError(
          'INVALID_STATUS',
          `invoice ${invoice.number ?? invoice.id} bought ${tx.credits} credits of wallet ${w.id} that were spent already (${w.credits_balance} left); it cannot be voided`,
          {
            invoice_id: invoice.id,
            wallet_id: w.id,
            credits: tx.credits,
            credits_balance: w.credits_balance,
          },
          'Record its payment with mark_invoice_paid instead.',
        );
      }
    }
    await setStatus(ctx, tx, 'voided');
  }
}
