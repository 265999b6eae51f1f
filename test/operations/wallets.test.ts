import { beforeAll, expect, it } from 'vitest';
import { describeDoors } from '../harness/suite.js';

/**
 * Wallet operations through every door and both databases. How finalization draws from a
 * wallet, recurring top-ups and concurrency: test/services/wallet-*.test.ts.
 */
describeDoors('wallets', (t) => {
  beforeAll(async () => {
    await t.door.ok('update_organization', { timezone: 'UTC', default_currency: 'EUR' });
    await t.door.ok('create_customer', { external_id: 'acme', name: 'Acme', currency: 'EUR' });
    await t.door.ok('create_customer', { external_id: 'usd', name: 'Dollar', currency: 'USD' });
  });

  it('creates a wallet whose purchased credits wait for their invoice, granted ones usable at once', async () => {
    // 100 credits at 0.50 EUR: an invoice of 50.00 EUR; 20 credits granted: worth 10.00 at once.
    const made = await t.door.ok('create_wallet', {
      customer_id: 'acme',
      rate_amount: '0.50',
      paid_credits: '100',
      granted_credits: 20,
      external_id: 'acme-main',
      name: 'Main',
    });
    expect(made.created).toBe(true);
    expect(made.wallet).toMatchObject({
      external_id: 'acme-main',
      external_customer_id: 'acme',
      status: 'active',
      currency: 'EUR',
      rate_amount: '0.5',
      priority: 50,
      credits_balance: '20',
      balance_cents: 1000,
      balance: '10.00',
      consumed_credits: '0',
      ongoing_balance_cents: 1000,
      invoice_requires_payment: true,
    });
    expect(made.wallet.id).toMatch(/^wal_/);
    const [purchase, grant] = made.wallet_transactions;
    expect(purchase).toMatchObject({
      transaction_type: 'inbound',
      status: 'pending',
      reason: 'purchased',
      credits: '100',
      amount_cents: 5000,
      invoice_id: made.invoice_id,
    });
    expect(grant).toMatchObject({ status: 'settled', reason: 'granted', credits: '20', amount_cents: 1000 });
    const { invoice } = await t.door.ok('get_invoice', { invoice_id: made.invoice_id });
    expect(invoice).toMatchObject({
      invoice_type: 'credit',
      status: 'finalized',
      total_amount_cents: 5000,
      taxes_amount_cents: 0,
      amount_due_cents: 5000,
    });
    expect(invoice.lines[0]).toMatchObject({ quantity: '100', unit_amount: '0.5', unit_label: 'credits' });
    // A retry with the same external_id returns the wallet and its first top-up, not a second one.
    const again = await t.door.ok('create_wallet', {
      customer_id: 'acme',
      rate_amount: '0.50',
      paid_credits: '100',
      external_id: 'acme-main',
    });
    expect(again).toMatchObject({
      created: false,
      invoice_id: made.invoice_id,
      wallet: { id: made.wallet.id },
    });
    expect(again.wallet_transactions).toHaveLength(2);
    // Paid in full, the purchase settles: 120 credits, 60.00 EUR.
    await t.door.ok('mark_invoice_paid', { invoice_id: made.invoice_id });
    const { wallet } = await t.door.ok('get_wallet', { wallet_id: 'acme-main' });
    expect(wallet).toMatchObject({ credits_balance: '120', balance_cents: 6000 });
    const settled = await t.door.ok('list_wallet_transactions', { wallet_id: wallet.id, status: 'settled' });
    expect(settled.wallet_transactions.map((x: any) => x.reason).sort()).toEqual(['granted', 'purchased']);
    expect(settled.wallet_transactions.find((x: any) => x.reason === 'purchased').settled_at).not.toBeNull();
  });

  it('tops up without waiting when invoice_requires_payment is false, once per external_id', async () => {
    const { wallet } = await t.door.ok('create_wallet', {
      customer_id: 'usd',
      rate_amount: 1,
      invoice_requires_payment: false,
    });
    expect(wallet).toMatchObject({ currency: 'USD', credits_balance: '0', balance_cents: 0 });
    const up = await t.door.ok('top_up_wallet', {
      wallet_id: wallet.id,
      paid_credits: '12.345',
      external_id: 'order-7',
    });
    // 12.345 credits × 1 USD = 12.345, billed as 12.35 (half-up, once) and usable at once.
    expect(up.wallet_transactions).toEqual([
      expect.objectContaining({ status: 'settled', credits: '12.345', amount_cents: 1235 }),
    ]);
    expect(up.wallet).toMatchObject({ credits_balance: '12.345', balance_cents: 1235 });
    const { invoice } = await t.door.ok('get_invoice', { invoice_id: up.invoice_id });
    expect(invoice).toMatchObject({ total_amount_cents: 1235, amount_due_cents: 1235 });
    const again = await t.door.ok('top_up_wallet', {
      wallet_id: wallet.id,
      paid_credits: '12.345',
      external_id: 'order-7',
    });
    expect(again).toMatchObject({ created: false, invoice_id: up.invoice_id });
    expect((await t.door.ok('get_wallet', { wallet_id: wallet.id })).wallet.credits_balance).toBe('12.345');
    // Voiding an invoice whose credits are still there takes them back.
    await t.door.ok('void_invoice', { invoice_id: up.invoice_id });
    const after = await t.door.ok('get_wallet', { wallet_id: wallet.id });
    expect(after.wallet).toMatchObject({ credits_balance: '0', balance_cents: 0 });
    const voided = await t.door.ok('list_wallet_transactions', { wallet_id: wallet.id, status: 'voided' });
    expect(voided.wallet_transactions).toHaveLength(1);
  });

  it('fails a purchase whose invoice is voided unpaid, and refuses credit notes on top-ups', async () => {
    const { wallet, invoice_id } = await t.door.ok('create_wallet', {
      customer_id: 'acme',
      rate_amount: '2',
      paid_credits: 5,
      priority: 3,
    });
    const note = await t.door.fail(
      'create_credit_note',
      { invoice_id, type: 'credit', reason: 'other', amount: '1.00' },
      'INVALID_STATUS',
    );
    expect(note.message).toMatch(/bills prepaid credits/);
    await t.door.ok('void_invoice', { invoice_id });
    const failed = await t.door.ok('list_wallet_transactions', { wallet_id: wallet.id, status: 'failed' });
    expect(failed.wallet_transactions).toEqual([
      expect.objectContaining({ reason: 'purchased', credits: '5' }),
    ]);
    expect((await t.door.ok('get_wallet', { wallet_id: wallet.id })).wallet.credits_balance).toBe('0');
  });

  it('lists, updates and terminates wallets; a terminated wallet takes no top-up', async () => {
    const { wallet, invoice_id } = await t.door.ok('create_wallet', {
      customer_id: 'acme',
      rate_amount: '1',
      paid_credits: 10,
      external_id: 'acme-ending',
    });
    const updated = await t.door.ok('update_wallet', {
      wallet_id: 'acme-ending',
      name: 'Ending',
      priority: 1,
      recurring_transaction_rules: [{ trigger: 'threshold', threshold_credits: '2', granted_credits: '5' }],
    });
    expect(updated.wallet).toMatchObject({ name: 'Ending', priority: 1 });
    expect(updated.wallet.recurring_transaction_rules).toEqual([
      expect.objectContaining({
        trigger: 'threshold',
        method: 'fixed',
        threshold_credits: '2',
        granted_credits: '5',
      }),
    ]);
    const active = await t.door.ok('list_wallets', { customer_id: 'acme', status: 'active' });
    expect(active.wallets.map((w: any) => w.id)).toContain(wallet.id);
    const ended = await t.door.ok('terminate_wallet', { wallet_id: wallet.id });
    expect(ended).toMatchObject({
      changed: true,
      wallet: { status: 'terminated', recurring_transaction_rules: [] },
    });
    expect(ended.wallet.terminated_at).not.toBeNull();
    // Its unpaid top-up invoice is voided with it, and the purchase failed.
    expect((await t.door.ok('get_invoice', { invoice_id })).invoice.status).toBe('voided');
    expect((await t.door.ok('terminate_wallet', { wallet_id: wallet.id })).changed).toBe(false);
    const refused = await t.door.fail(
      'top_up_wallet',
      { wallet_id: wallet.id, granted_credits: 1 },
      'INVALID_STATUS',
    );
    expect(refused.message).toMatch(/is terminated/);
    const terminated = await t.door.ok('list_wallets', { status: 'terminated' });
    expect(terminated.wallets.map((w: any) => w.id)).toEqual([wallet.id]);
  });

  it('refuses bad input, naming the field and what would work', async () => {
    const currency = await t.door.fail(
      'create_wallet',
      { customer_id: 'acme', rate_amount: 1, currency: 'USD' },
      'VALIDATION_ERROR',
    );
    expect(currency.message).toMatch(/^currency: the customer 'acme' is billed in EUR, not USD/);
    await t.door.fail('create_wallet', { customer_id: 'acme', rate_amount: 0 }, 'VALIDATION_ERROR');
    await t.door.fail('create_wallet', { customer_id: 'nobody', rate_amount: 1 }, 'NOT_FOUND');
    const tiny = await t.door.fail(
      'create_wallet',
      { customer_id: 'acme', rate_amount: '0.001', paid_credits: 1 },
      'VALIDATION_ERROR',
    );
    expect(tiny.message).toMatch(
      /^paid_credits: 1 credits at 0.001 EUR come to less than the EUR minor unit/,
    );
    const precise = await t.door.fail(
      'create_wallet',
      { customer_id: 'acme', rate_amount: 1, granted_credits: '1.123456' },
      'VALIDATION_ERROR',
    );
    expect(precise.message).toMatch(/^granted_credits: at most 5 decimals/);
    const past = await t.door.fail(
      'create_wallet',
      { customer_id: 'acme', rate_amount: 1, expiration_at: '2020-01-01' },
      'VALIDATION_ERROR',
    );
    expect(past.message).toMatch(/^expiration_at: 2020-01-01T00:00:00.000Z is not in the future/);
    const priority = await t.door.fail(
      'create_wallet',
      { customer_id: 'acme', rate_amount: 1, priority: 51 },
      'VALIDATION_ERROR',
    );
    expect(priority.message).toMatch(/^priority: must be a whole number from 1/);
    const noInterval = await t.door.fail(
      'create_wallet',
      {
        customer_id: 'acme',
        rate_amount: 1,
        recurring_transaction_rules: [{ trigger: 'interval', paid_credits: 1 }],
      },
      'VALIDATION_ERROR',
    );
    expect(noInterval.message).toMatch(/^recurring_transaction_rules\[0\]\.interval: is required/);
    const noThreshold = await t.door.fail(
      'create_wallet',
      {
        customer_id: 'acme',
        rate_amount: 1,
        recurring_transaction_rules: [{ trigger: 'threshold', paid_credits: 1 }],
      },
      'VALIDATION_ERROR',
    );
    expect(noThreshold.message).toMatch(/^recurring_transaction_rules\[0\]\.threshold_credits: is required/);
    const lowTarget = await t.door.fail(
      'create_wallet',
      {
        customer_id: 'acme',
        rate_amount: 1,
        recurring_transaction_rules: [
          { trigger: 'threshold', method: 'target', threshold_credits: 10, target_ongoing_balance: 5 },
        ],
      },
      'VALIDATION_ERROR',
    );
    expect(lowTarget.message).toMatch(/target_ongoing_balance: must be above threshold_credits/);
    const empty = await t.door.fail(
      'create_wallet',
      {
        customer_id: 'acme',
        rate_amount: 1,
        recurring_transaction_rules: [{ trigger: 'interval', interval: 'monthly' }],
      },
      'VALIDATION_ERROR',
    );
    expect(empty.message).toMatch(/paid_credits: a fixed top-up needs paid_credits or granted_credits/);
    const { wallet } = await t.door.ok('create_wallet', { customer_id: 'acme', rate_amount: 1 });
    const nothing = await t.door.fail('top_up_wallet', { wallet_id: wallet.id }, 'VALIDATION_ERROR');
    expect(nothing.message).toMatch(/^paid_credits: give paid_credits or granted_credits above 0/);
    // A negative amount is named, not reported as "nothing to add".
    const negative = await t.door.fail(
      'top_up_wallet',
      { wallet_id: wallet.id, granted_credits: -1 },
      'VALIDATION_ERROR',
    );
    expect(negative.message).toMatch(/^granted_credits: must not be negative \(got -1\)/);
    await t.door.fail('get_wallet', { wallet_id: 'wal_nothing' }, 'NOT_FOUND');
    await t.door.fail(
      'list_wallet_transactions',
      { wallet_id: wallet.id, status: 'done' },
      'VALIDATION_ERROR',
    );
  });
});
