import type { CustomersTable, WalletsTable } from '../../db/schema.js';
import { minorUnits } from '../../domain/currencies.js';
import { Decimal } from '../../domain/decimal.js';
import { chargeAmountsSoFar } from '../billing/usage-amounts.js';
import type { ServiceContext } from '../context.js';

/**
 * The ongoing balance: a wallet's balance minus the usage its customer has run up in the
 * current periods and not yet been invoiced for — what the wallet will have left once those
 * invoices draw from it. Usage is what the charges of the customer's active subscriptions in
 * the wallet's currency come to so far (get_customer_usage's amounts), before taxes, summed
 * exactly and rounded half-up once to the minor unit. Spread over the customer's active wallets
 * in the order finalization draws from them, each taking up to its balance; what is left over
 * stays with the last, whose ongoing balance then goes below zero: the usage outruns the credits.
 */

export interface OngoingBalance {
  usageMinor: bigint;
  balanceMinor: bigint;
}

/** The ongoing usage per wallet id, for one customer's wallets (any status; inactive ones get 0). */
export async function ongoingUsage(
  ctx: ServiceContext,
  customer: CustomersTable,
  wallets: readonly WalletsTable[],
): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>(wallets.map((w) => [w.id, 0n]));
  const active = wallets
    .filter((w) => w.status === 'active')
    .sort((a, b) => a.priority - b.priority || (a.id < b.id ? -1 : 1));
  if (!active.length) return out;
  const amounts = await chargeAmountsSoFar(ctx, customer);
  const byCurrency = new Map<string, Decimal>();
  for (const list of amounts.values())
    for (const a of list)
      byCurrency.set(a.currency, (byCurrency.get(a.currency) ?? Decimal.ZERO).add(a.amount));
  const currencies = new Set(active.map((w) => w.currency));
  for (const currency of currencies) {
    const units = minorUnits(currency);
    let left = (byCurrency.get(currency) ?? Decimal.ZERO).round(units, 'half_up').toMinor(units);
    const inCurrency = active.filter((w) => w.currency === currency);
    inCurrency.forEach((w, i) => {
      const last = i === inCurrency.length - 1;
      const balance = BigInt(w.balance_cents);
      const share = last ? left : left < balance ? left : balance;
      out.set(w.id, share);
      left -= share;
    });
  }
  return out;
}
