import { beforeAll, expect, it } from 'vitest';
import { billfoldRef } from '../../../src/interfaces/http/lago/ids.js';
import { caller, type Caller } from '../../harness/billing.js';
import type { TestOrganization } from '../../harness/environment.js';
import { describeDatabases } from '../../harness/suite.js';
import { lagoClient, lagoFailure, UUID, type LagoClient } from './client.js';

/**
 * Lago's wallets and wallet transactions through Lago's own client, each checked against
 * Billfold's own operations: what the Lago API made is the wallet get_wallet reads, its
 * top-ups are list_wallet_transactions', and what Billfold cannot honour is refused by Lago's
 * field name.
 */
describeDatabases("Lago's wallets", (t) => {
  let org: TestOrganization;
  let lago: LagoClient;
  let billfold: Caller;
  const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
  const nextYear = `${new Date().getUTCFullYear() + 1}-06-30T23:59:59Z`;

  beforeAll(async () => {
    org = await t.env.newOrganization(['admin']);
    lago = lagoClient(t.env, org.key);
    billfold = caller(t.env, org.id);
    await lago.customers.createCustomer({
      customer: { external_id: 'w-acme', name: 'Acme', currency: 'USD' },
    });
  });

  let walletId: string;

  it('creates a wallet as Lago writes it: paid credits wait for their invoice, granted ones count at once', async () => {
    const { data } = await lago.wallets.createWallet({
      wallet: {
        external_customer_id: 'w-acme',
        name: 'Prepaid',
        code: 'prepaid',
        rate_amount: '1.5',
        currency: 'USD',
        paid_credits: '20.0',
        granted_credits: '10.0',
        expiration_at: nextYear,
        invoice_requires_successful_payment: false,
        recurring_transaction_rules: [
          { trigger: 'threshold', method: 'fixed', threshold_credits: '5.0', paid_credits: '10.0' },
        ],
      },
    });
    const w = data.wallet;
    walletId = w.lago_id;
    expect(w.lago_id).toMatch(UUID);
    expect(w.lago_customer_id).toBe((await lago.customers.findCustomer('w-acme')).data.customer.lago_id);
    expect(w).toMatchObject({
      external_customer_id: 'w-acme',
      status: 'active',
      currency: 'USD',
      name: 'Prepaid',
      code: 'prepaid',
      rate_amount: '1.5',
      credits_balance: '10',
      balance_cents: 1500,
      consumed_credits: '0',
      ongoing_balance_cents: 1500,
      ongoing_usage_balance_cents: 0,
      credits_ongoing_balance: '10',
      credits_ongoing_usage_balance: '0',
      priority: 50,
      expiration_at: nextYear,
      terminated_at: null,
      invoice_requires_successful_payment: false,
    });
    expect(w.created_at).toMatch(ISO);
    expect(w.recurring_transaction_rules).toHaveLength(1);
    expect(w.recurring_transaction_rules![0]).toMatchObject({
      trigger: 'threshold',
      method: 'fixed',
      threshold_credits: '5',
      paid_credits: '10',
      granted_credits: '0',
      status: 'active',
      invoice_requires_successful_payment: false,
    });
    expect(w.recurring_transaction_rules![0]!.lago_id).toMatch(UUID);
    expect(w.recurring_transaction_rules![0]!.created_at).toMatch(ISO);

    // The same wallet in Billfold's own terms: 20 credits at 1.5 USD billed on a credit invoice.
    const { wallet } = await billfold.call('get_wallet', { wallet_id: 'prepaid' });
    expect(wallet).toMatchObject({
      external_id: 'prepaid',
      credits_balance: '10',
      balance_cents: 1500,
      invoice_requires_payment: true,
    });
    const { wallet_transactions } = await billfold.call('list_wallet_transactions', { wallet_id: wallet.id });
    const purchase = wallet_transactions.find((x: any) => x.reason === 'purchased');
    expect(purchase).toMatchObject({ status: 'pending', credits: '20', amount_cents: 3000 });
    const { invoice } = await billfold.call('get_invoice', { invoice_id: purchase.invoice_id });
    expect(invoice).toMatchObject({ invoice_type: 'credit', total_amount_cents: 3000 });
  });

  it('reads, lists and changes the wallet', async () => {
    const { data: read } = await lago.wallets.findWallet(walletId);
    expect(read.wallet).toMatchObject({ lago_id: walletId, code: 'prepaid', credits_balance: '10' });

    const { data: updated } = await lago.wallets.updateWallet(walletId, {
      wallet: {
        name: 'Renamed',
        priority: 3,
        recurring_transaction_rules: [
          {
            lago_id: read.wallet.recurring_transaction_rules![0]!.lago_id,
            trigger: 'interval',
            interval: 'monthly',
            granted_credits: '2.5',
          },
        ],
      },
    });
    expect(updated.wallet).toMatchObject({ name: 'Renamed', priority: 3, code: 'prepaid' });
    expect(updated.wallet.recurring_transaction_rules).toHaveLength(1);
    expect(updated.wallet.recurring_transaction_rules![0]).toMatchObject({
      trigger: 'interval',
      interval: 'monthly',
      method: 'fixed',
      granted_credits: '2.5',
      paid_credits: '0',
      threshold_credits: null,
    });
    expect(updated.wallet.recurring_transaction_rules![0]!.started_at).toMatch(ISO);
    const { wallet } = await billfold.call('get_wallet', { wallet_id: 'prepaid' });
    expect(wallet).toMatchObject({ name: 'Renamed', priority: 3 });
    expect(wallet.recurring_transaction_rules.map((r: any) => r.trigger)).toEqual(['interval']);

    // A second wallet, then the lists: every wallet, a customer's, and page by page.
    await lago.wallets.createWallet({
      wallet: { external_customer_id: 'w-acme', rate_amount: '1', currency: 'USD', granted_credits: '1' },
    });
    const { data: all } = await lago.wallets.findAllWallets({ external_customer_id: 'w-acme' });
    expect(all.wallets).toHaveLength(2);
    expect(all.meta).toEqual({
      current_page: 1,
      next_page: null,
      prev_page: null,
      total_pages: 1,
      total_count: 2,
    });
    const { data: page2 } = await lago.wallets.findAllWallets({ page: 2, per_page: 1 });
    expect(page2.wallets).toHaveLength(1);
    expect(page2.meta).toMatchObject({ current_page: 2, prev_page: 1, total_pages: 2, total_count: 2 });
    expect(page2.wallets[0]!.lago_id).toBe(walletId); // newest first: the first wallet is last
    const { data: own } = await lago.customers.findAllCustomerWallets('w-acme');
    expect(own.wallets.map((x) => x.lago_id).sort()).toEqual(all.wallets.map((x) => x.lago_id).sort());
  });

  it('tops the wallet up and lists its transactions, by status and type', async () => {
    const { data } = await lago.walletTransactions.createWalletTransaction({
      wallet_transaction: { wallet_id: walletId, paid_credits: '4', granted_credits: '6.5' },
    });
    expect(data.wallet_transactions).toHaveLength(2);
    const [paid, granted] = data.wallet_transactions;
    expect(paid).toMatchObject({
      lago_wallet_id: walletId,
      status: 'pending',
      source: 'manual',
      transaction_status: 'purchased',
      transaction_type: 'inbound',
      amount: '6.00',
      credit_amount: '4',
      settled_at: null,
    });
    expect(paid!.lago_invoice_id).toMatch(UUID);
    expect(granted).toMatchObject({
      status: 'settled',
      transaction_status: 'granted',
      amount: '9.75',
      credit_amount: '6.5',
      lago_invoice_id: null,
    });
    expect(granted!.settled_at).toMatch(ISO);
    const { data: w } = await lago.wallets.findWallet(walletId);
    expect(w.wallet).toMatchObject({ credits_balance: '16.5', balance_cents: 2475 });

    const { data: list } = await lago.wallets.findAllWalletTransactions(walletId);
    expect(list.wallet_transactions).toHaveLength(4);
    expect(list.meta).toMatchObject({ current_page: 1, total_count: 4 });
    const { data: pending } = await lago.wallets.findAllWalletTransactions(walletId, { status: 'pending' });
    expect(pending.wallet_transactions.map((x) => x.credit_amount).sort()).toEqual(['20', '4']);
    const { data: inbound } = await lago.wallets.findAllWalletTransactions(walletId, {
      transaction_type: 'inbound',
      per_page: 3,
    });
    expect(inbound.wallet_transactions).toHaveLength(3);
    expect(inbound.meta).toMatchObject({ total_count: 4, total_pages: 2, next_page: 2 });

    // The purchase's invoice paid (in Billfold), its credits settle.
    await billfold.call('mark_invoice_paid', { invoice_id: billfoldRef('invoice', paid!.lago_invoice_id!) });
    const { data: after } = await lago.wallets.findAllWalletTransactions(walletId, { status: 'settled' });
    expect(after.wallet_transactions.map((x) => x.credit_amount).sort()).toEqual(['10', '4', '6.5']);
  });

  it('terminates the wallet; a terminated wallet takes no top-up and no change', async () => {
    const { data } = await lago.wallets.destroyWallet(walletId);
    expect(data.wallet).toMatchObject({
      lago_id: walletId,
      status: 'terminated',
      recurring_transaction_rules: [],
    });
    expect(data.wallet.terminated_at).toMatch(ISO);
    expect((await billfold.call('get_wallet', { wallet_id: 'prepaid' })).wallet.status).toBe('terminated');

    const topUp = await lagoFailure(
      lago.walletTransactions.createWalletTransaction({
        wallet_transaction: { wallet_id: walletId, granted_credits: '1' },
      }),
    );
    expect(topUp.status).toBe(422);
    expect(topUp.body).toMatchObject({
      code: 'validation_errors',
      error_details: { wallet_id: ['wallet_is_terminated'] },
    });
    expect(topUp.body.message).toContain('is terminated');
    const change = await lagoFailure(lago.wallets.updateWallet(walletId, { wallet: { name: 'Late' } }));
    expect(change).toMatchObject({ status: 405, body: { code: 'not_allowed' } });
    // Terminating it again changes nothing and answers the wallet.
    const { data: again } = await lago.wallets.destroyWallet(walletId);
    expect(again.wallet.terminated_at).toBe(data.wallet.terminated_at);
  });

  it("refuses what is wrong or what Billfold cannot honour, in Lago's error shape", async () => {
    const wallet = (extra: Record<string, unknown>) =>
      lago.wallets.createWallet({
        wallet: { external_customer_id: 'w-acme', rate_amount: '1', currency: 'USD', ...extra } as any,
      });
    const nobody = await lagoFailure(wallet({ external_customer_id: 'nobody' }));
    expect(nobody).toMatchObject({
      status: 422,
      body: { code: 'validation_errors', error_details: { customer: ['customer_not_found'] } },
    });
    expect(nobody.body.message).toContain('nobody');

    const otherCurrency = await lagoFailure(wallet({ currency: 'EUR' }));
    expect(otherCurrency.status).toBe(422);
    expect(Object.keys(otherCurrency.body.error_details)).toEqual(['currency']);
    expect(otherCurrency.body.message).toContain('billed in USD');
    const noCurrency = await lagoFailure(wallet({ currency: 'XX1' }));
    expect(noCurrency.status).toBe(422);
    expect(Object.keys(noCurrency.body.error_details)).toEqual(['currency']);

    const negative = await lagoFailure(wallet({ paid_credits: '-5' }));
    expect(negative.status).toBe(422);
    expect(negative.body.error_details.paid_credits[0]).toContain('must not be negative');

    const held = await lagoFailure(wallet({ invoice_requires_successful_payment: true }));
    expect(held.status).toBe(422);
    expect(Object.keys(held.body.error_details)).toEqual(['wallet.invoice_requires_successful_payment']);
    const limited = await lagoFailure(wallet({ applies_to: { fee_types: ['charge'] } }));
    expect(Object.keys(limited.body.error_details)).toEqual(['wallet.applies_to.fee_types']);
    const semiannual = await lagoFailure(
      wallet({
        recurring_transaction_rules: [{ trigger: 'interval', interval: 'semiannual', paid_credits: '1' }],
      }),
    );
    expect(semiannual.status).toBe(422);
    expect(JSON.stringify(semiannual.body.error_details)).toContain(
      'recurring_transaction_rules[0].interval',
    );

    const { data: open } = await wallet({ code: 'second' });
    const voided = await lagoFailure(
      lago.walletTransactions.createWalletTransaction({
        wallet_transaction: { wallet_id: open.wallet.lago_id, voided_credits: '5' },
      }),
    );
    expect(voided.status).toBe(422);
    expect(Object.keys(voided.body.error_details)).toEqual(['wallet_transaction.voided_credits']);
    expect(voided.body.message).toContain('does not void credits by hand');
    const negativeTopUp = await lagoFailure(
      lago.walletTransactions.createWalletTransaction({
        wallet_transaction: { wallet_id: open.wallet.lago_id, granted_credits: '-1' },
      }),
    );
    expect(negativeTopUp.status).toBe(422);
    expect(Object.keys(negativeTopUp.body.error_details)).toEqual(['granted_credits']);
    const byStatus = await lagoFailure(
      lago.wallets.findAllWalletTransactions(open.wallet.lago_id, { transaction_status: 'voided' }),
    );
    expect(Object.keys(byStatus.body.error_details)).toEqual(['transaction_status']);
    const byCurrency = await lagoFailure(lago.wallets.findAllWallets({ currency: 'USD' }));
    expect(byCurrency.status).toBe(422);
    expect(Object.keys(byCurrency.body.error_details)).toEqual(['currency']);
    const nobodysWallets = await lagoFailure(lago.customers.findAllCustomerWallets('nobody'));
    expect(nobodysWallets).toMatchObject({ status: 404, body: { code: 'customer_not_found' } });
    const code = await lagoFailure(
      lago.wallets.updateWallet(open.wallet.lago_id, { wallet: { code: 'renamed' } }),
    );
    expect(code.body.error_details['wallet.code'][0]).toContain("it is 'second'");

    const missing = await lagoFailure(lago.wallets.findWallet('00000000-0000-4000-8000-000000000000'));
    expect(missing).toMatchObject({ status: 404, body: { code: 'wallet_not_found' } });
    const byId = await lagoFailure(lago.walletTransactions.findWalletTransaction(open.wallet.lago_id));
    expect(byId.status).toBe(405);
    expect(byId.body.message).toContain('a wallet transaction by its id');
    // None of the refusals made a wallet or a transaction.
    const { wallets } = await billfold.call('list_wallets', { customer_id: 'w-acme' });
    expect(wallets).toHaveLength(3);
    const { wallet_transactions } = await billfold.call('list_wallet_transactions', { wallet_id: 'second' });
    expect(wallet_transactions).toEqual([]);
  });
});
