import { randomUUID } from 'node:crypto';
import { Decimal } from '../../domain/decimal.js';
import type { Interval } from '../../domain/periods.js';
import { creditsToTarget, nextScheduleRun } from '../../domain/wallet-credits.js';
import { systemContext, type ServiceContext, type ServiceEnv } from '../context.js';
import { resolveCustomer } from '../customers.js';
import { lockWallet } from './ledger.js';
import { terminateWallet, topUp, walletViews } from './wallets.js';
import type { WalletRecurringRulesTable } from '../../db/schema.js';

/**
 * The wallet scheduler, run after each billing run: ends wallets whose expiration_at has come,
 * and applies recurring top-up rules. An interval rule runs when its next_run_at has come; the
 * run is claimed by moving next_run_at on with a compare-and-set, so of several instances one
 * tops up, and runs missed while nothing ran make one top-up. A threshold rule tops up when the
 * wallet's ongoing balance in credits is at or under its threshold and the rule's previous
 * top-up is not still waiting for its payment; it is decided under the wallet's lock, so two
 * instances never both top up for the same fall.
 */

export interface WalletScheduleRun {
  expired: number;
  topped_up: number;
  errors: Array<{ organization_id: string; wallet_id: string; message: string }>;
}

/** The credits a rule buys and grants now, given the wallet's ongoing balance in credits. */
function amounts(
  rule: WalletRecurringRulesTable,
  ongoingCredits: Decimal,
): { paid: Decimal; granted: Decimal } {
  if (rule.method === 'target')
    return {
      paid: creditsToTarget(Decimal.parse(rule.target_ongoing_balance!), ongoingCredits),
      granted: Decimal.ZERO,
    };
  return { paid: Decimal.parse(rule.paid_credits), granted: Decimal.parse(rule.granted_credits) };
}

async function applyRule(ctx: ServiceContext, rule: WalletRecurringRulesTable, at: number): Promise<boolean> {
  const w = await lockWallet(ctx, rule.wallet_id);
  if (!w || w.status !== 'active') return false;
  if (rule.trigger === 'interval') {
    const next = nextScheduleRun(rule.started_at!, rule.interval as Interval, at);
    const claimed = await ctx.db
      .updateTable('wallet_recurring_rules')
      .set({ next_run_at: next })
      .where('id', '=', rule.id)
      .where('next_run_at', '=', rule.next_run_at)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return false;
  } else {
    const pending = await ctx.db
      .selectFrom('wallet_transactions')
      .select('id')
      .where('organization_id', '=', ctx.organizationId)
      .where('wallet_id', '=', w.id)
      .where('rule_id', '=', rule.id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    if (pending) return false;
  }
  const [view] = await walletViews(ctx, [w]);
  const ongoing = Decimal.parse(view!.credits_ongoing_balance);
  if (rule.trigger === 'threshold' && ongoing.gt(rule.threshold_credits!)) return false;
  const { paid, granted } = amounts(rule, ongoing);
  if (!paid.isPositive() && !granted.isPositive()) return false;
  const customer = await resolveCustomer(ctx, w.customer_id);
  await topUp(ctx, w, customer, {
    paid_credits: paid,
    granted_credits: granted,
    invoice_requires_payment: rule.invoice_requires_payment === 1,
    source: rule.trigger as 'interval' | 'threshold',
    rule_id: rule.id,
  });
  return true;
}

export async function runWalletSchedule(env: ServiceEnv, at: number): Promise<WalletScheduleRun> {
  const requestId = `wallets_${randomUUID()}`;
  const out: WalletScheduleRun = { expired: 0, topped_up: 0, errors: [] };
  const db = env.db.kysely;
  const expiring = await db
    .selectFrom('wallets')
    .select(['id', 'organization_id'])
    .where('status', '=', 'active')
    .where('expiration_at', 'is not', null)
    .where('expiration_at', '<=', at)
    .execute();
  for (const w of expiring) {
    const ctx = systemContext(env, w.organization_id, requestId, 'wallet scheduler');
    try {
      const r = await ctx.transaction((trx) => terminateWallet(trx, w.id, 'expired'));
      if (r.changed) out.expired++;
    } catch (e) {
      out.errors.push({ organization_id: w.organization_id, wallet_id: w.id, message: String(e) });
    }
  }
  const rules = await db
    .selectFrom('wallet_recurring_rules as r')
    .innerJoin('wallets as w', 'w.id', 'r.wallet_id')
    .selectAll('r')
    .where('w.status', '=', 'active')
    .where((eb) =>
      eb.or([
        eb('r.trigger', '=', 'threshold'),
        eb.and([eb('r.trigger', '=', 'interval'), eb('r.next_run_at', '<=', at)]),
      ]),
    )
    .orderBy('r.wallet_id')
    .orderBy('r.position')
    .execute();
  for (const rule of rules) {
    const ctx = systemContext(env, rule.organization_id, requestId, 'wallet scheduler');
    try {
      if (await ctx.transaction((trx) => applyRule(trx, rule, at))) out.topped_up++;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      out.errors.push({ organization_id: rule.organization_id, wallet_id: rule.wallet_id, message });
      env.logger.error({ err: e, wallet_id: rule.wallet_id, rule_id: rule.id }, 'wallet top-up failed');
    }
  }
  return out;
}
