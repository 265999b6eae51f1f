import { beforeAll, expect, it } from 'vitest';
import { createServiceContext, type ServiceContext } from '../../src/services/context.js';
import { customersWithoutCoupons } from '../../src/services/billing/coupon-ledger.js';
import { customersWithoutWallets } from '../../src/services/wallets/ledger.js';
import { caller, type Caller } from '../harness/billing.js';
import { describeDatabases } from '../harness/suite.js';

/**
 * What a billing run's batch learns once about its customers (customers-without.ts): who has
 * no wallet and no applied coupon, kept for that transaction only.
 */
describeDatabases('customers known to have no wallet or coupon', (t) => {
  let c: Caller;
  let ctx: ServiceContext;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const org = await t.env.newOrganization();
    c = caller(t.env, org.id);
    ctx = createServiceContext(t.env.rt, t.env.rt.db.kysely, c.principal, 'system', 'req_customers_without');
    for (const name of ['bare', 'walleted', 'couponed', 'ended']) {
      ids[name] = (await c.call('create_customer', { external_id: name, name, currency: 'EUR' })).customer.id;
    }
    await c.call('create_wallet', { customer_id: 'walleted', rate_amount: '1', granted_credits: 5 });
    const ended = await c.call('create_wallet', {
      customer_id: 'ended',
      rate_amount: '1',
      granted_credits: 1,
    });
    await c.call('terminate_wallet', { wallet_id: ended.wallet.id });
    await c.call('create_coupon', {
      code: 'TEN',
      name: 'Ten',
      coupon_type: 'percentage',
      percentage_rate: '10',
      frequency: 'forever',
    });
    await c.call('apply_coupon', { customer_id: 'couponed', coupon_code: 'TEN' });
  });

  it('knows, inside one transaction, exactly the customers that hold none; a terminated wallet still counts as one', async () => {
    await ctx.transaction(async (trx) => {
      const all = Object.values(ids);
      await customersWithoutWallets.note(trx, [...all, ids.bare!]);
      await customersWithoutCoupons.note(trx, all);
      const wallets = Object.fromEntries(
        Object.entries(ids).map(([k, id]) => [k, customersWithoutWallets.known(trx, id)]),
      );
      const coupons = Object.fromEntries(
        Object.entries(ids).map(([k, id]) => [k, customersWithoutCoupons.known(trx, id)]),
      );
      expect(wallets).toEqual({ bare: true, walleted: false, couponed: true, ended: false });
      expect(coupons).toEqual({ bare: true, walleted: true, couponed: false, ended: true });
    });
  });

  it('keeps nothing outside a transaction or after it ends', async () => {
    await customersWithoutWallets.note(ctx, [ids.bare!]);
    expect(customersWithoutWallets.known(ctx, ids.bare!)).toBe(false);
    await ctx.transaction(async (trx) => {
      expect(customersWithoutWallets.known(trx, ids.bare!)).toBe(false);
      expect(customersWithoutCoupons.known(trx, ids.bare!)).toBe(false);
    });
  });
});
