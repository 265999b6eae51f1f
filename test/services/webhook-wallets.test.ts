import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { httpApiDoor, type Door } from '../harness/doors.js';
import { describeDatabases, environmentVariables } from '../harness/suite.js';
import { startReceiver, verified, type Receiver } from '../harness/webhook-receiver.js';
import { runBilling } from '../../src/services/billing/run.js';
import { deliverDue } from '../../src/services/webhooks/dispatcher.js';
import type { ServiceEnv } from '../../src/services/context.js';
import { billfoldRef, lagoId } from '../../src/interfaces/http/lago/ids.js';
import { lagoClient } from '../interfaces/lago/client.js';

/**
 * Wallet events end to end: wallet changes through the HTTP API and Lago's API, the
 * dispatcher, and a real receiver on loopback that verifies every request with the
 * standardwebhooks package. Each payload's object is what Billfold's own reads return.
 */
beforeAll(() => {
  environmentVariables.BILLFOLD_WEBHOOK_ALLOW_PRIVATE = '1';
});

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeDatabases('wallet webhook events', (t) => {
  let door: Door;
  let org: { id: string; key: string };
  let hook: { path: string; secret: string; id: string };
  let seen = 0;

  /** The `count` requests to `path` after its first `from`, once delivered. */
  async function arrived(path: string, from: number, count: number) {
    const until = Date.now() + 15_000;
    while (receiver.at(path).length < from + count) {
      if (Date.now() > until) throw new Error(`expected ${count} more deliveries at ${path}`);
      await deliverDue(t.env.rt as ServiceEnv);
      await sleep(30);
    }
    await deliverDue(t.env.rt as ServiceEnv);
    const got = receiver.at(path).slice(from);
    expect(got).toHaveLength(count);
    return got;
  }
  /** The events delivered since the last call, verified and in the order they were made. */
  async function next(count: number): Promise<any[]> {
    const got = (await arrived(hook.path, seen, count)).map((r) => verified(hook.secret, r));
    seen += got.length;
    return got.sort((a, b) => (a.id < b.id ? -1 : 1));
  }
  const transactions = async (wallet_id: string) =>
    (await door.ok('list_wallet_transactions', { wallet_id })).wallet_transactions as any[];

  beforeAll(async () => {
    org = await t.env.newOrganization(['admin']);
    door = httpApiDoor(t.env, org.key);
    await door.ok('create_customer', { external_id: 'hooked', name: 'Hooked', currency: 'EUR' });
    const path = `/hooks/wallets-${t.db}`;
    const created = await door.ok('create_webhook_endpoint', {
      url: `${receiver.url.replace('/hooks', '')}${path}`,
      event_types: [
        'wallet.created',
        'wallet.updated',
        'wallet.terminated',
        'wallet_transaction.created',
        'wallet_transaction.updated',
      ],
    });
    hook = { path, secret: created.secret, id: created.webhook_endpoint.id };
  });

  it('lists the wallet events in the event catalogue', async () => {
    const { event_types } = await door.ok('list_event_types', {});
    const wallet = event_types.filter((e: any) => e.type.startsWith('wallet'));
    expect(wallet.map((e: any) => [e.type, e.object, e.source])).toEqual([
      ['wallet.created', 'wallet', 'change'],
      ['wallet.updated', 'wallet', 'change'],
      ['wallet.terminated', 'wallet', 'change'],
      ['wallet_transaction.created', 'wallet_transaction', 'change'],
      ['wallet_transaction.updated', 'wallet_transaction', 'change'],
    ]);
  });

  it('sends wallet.created and a wallet_transaction.created per credit top-up, signed', async () => {
    const made = await door.ok('create_wallet', {
      customer_id: 'hooked',
      rate_amount: '0.5',
      paid_credits: '40',
      granted_credits: '10',
      external_id: 'hooked-main',
    });
    const got = await next(3);
    expect(got.map((p) => p.type)).toEqual([
      'wallet.created',
      'wallet_transaction.created',
      'wallet_transaction.created',
    ]);
    for (const p of got)
      expect(Object.keys(p)).toEqual(['id', 'type', 'created_at', 'organization_id', 'data']);
    expect(got[0].organization_id).toBe(org.id);
    // The wallet as get_wallet reads it after the whole change: the grant counted, the purchase not yet.
    expect(got[0].data).toEqual(await door.ok('get_wallet', { wallet_id: made.wallet.id }));
    expect(got[0].data.wallet).toMatchObject({ credits_balance: '10', balance_cents: 500 });
    const listed = await transactions(made.wallet.id);
    const byId = new Map(listed.map((x) => [x.id, x]));
    const sent = got.slice(1).map((p) => p.data.wallet_transaction);
    for (const x of sent) expect(x).toEqual(byId.get(x.id));
    expect(sent.map((x) => [x.reason, x.status, x.credits]).sort()).toEqual([
      ['granted', 'settled', '10'],
      ['purchased', 'pending', '40'],
    ]);
    // Another secret does not verify it.
    expect(() =>
      verified(`whsec_${Buffer.alloc(32).toString('base64')}`, receiver.at(hook.path)[0]!),
    ).toThrow();

    // The purchase's invoice paid: the purchase settles (wallet_transaction.updated).
    await door.ok('mark_invoice_paid', { invoice_id: made.invoice_id });
    const [settled] = await next(1);
    expect(settled.type).toBe('wallet_transaction.updated');
    expect(settled.data.wallet_transaction).toMatchObject({
      reason: 'purchased',
      status: 'settled',
      credits: '40',
    });
    expect(settled.data.wallet_transaction.settled_at).not.toBeNull();
  });

  it('sends wallet.updated for a change, nothing for a call that changes nothing', async () => {
    await door.ok('update_wallet', { wallet_id: 'hooked-main', name: 'Main', priority: 2 });
    const [updated] = await next(1);
    expect(updated.type).toBe('wallet.updated');
    expect(updated.data).toEqual(await door.ok('get_wallet', { wallet_id: 'hooked-main' }));
    expect(updated.data.wallet).toMatchObject({ name: 'Main', priority: 2 });
    await door.ok('update_wallet', { wallet_id: 'hooked-main', name: 'Main' });
    await deliverDue(t.env.rt as ServiceEnv);
    expect(receiver.at(hook.path)).toHaveLength(seen);
  });

  it('sends wallet_transaction.created when an invoice is paid from the wallet', async () => {
    await door.ok('create_plan', {
      code: 'hooked-plan',
      name: 'Hooked',
      interval: 'monthly',
      currency: 'EUR',
      amount: '3',
      pay_in_advance: true,
    });
    await door.ok('create_subscription', {
      customer_id: 'hooked',
      plan_code: 'hooked-plan',
      external_id: 'hooked-sub',
    });
    // The billing run bills the period in advance; finalized, the invoice is paid from the wallet.
    await runBilling(t.env.rt as ServiceEnv, Date.now());
    const got = await next(1);
    expect(got[0].type).toBe('wallet_transaction.created');
    const draw = got[0].data.wallet_transaction;
    expect(draw).toMatchObject({ transaction_type: 'outbound', reason: 'invoice', status: 'settled' });
    const { invoice } = await door.ok('get_invoice', { invoice_id: draw.invoice_id });
    expect(draw.amount_cents).toBe(invoice.prepaid_credit_amount_cents);
    expect(draw.amount_cents).toBeGreaterThan(0);
    const { wallet } = await door.ok('get_wallet', { wallet_id: 'hooked-main' });
    expect(draw).toEqual((await transactions(wallet.id)).find((x) => x.id === draw.id));
  });

  it('sends wallet.terminated, and nothing for a refused top-up', async () => {
    await door.ok('terminate_wallet', { wallet_id: 'hooked-main' });
    const [ended] = await next(1);
    expect(ended.type).toBe('wallet.terminated');
    expect(ended.data.wallet).toMatchObject({ external_id: 'hooked-main', status: 'terminated' });
    expect(ended.data).toEqual(await door.ok('get_wallet', { wallet_id: 'hooked-main' }));
    // Refused (the wallet is terminated): rolled back, so no event was written.
    await door.fail('top_up_wallet', { wallet_id: 'hooked-main', granted_credits: 1 }, 'INVALID_STATUS');
    const { webhook_deliveries } = await door.ok('list_webhook_deliveries', {
      endpoint_id: hook.id,
      per_page: 100,
    });
    expect(webhook_deliveries).toHaveLength(seen);
  });

  it("sends the events of changes made through Lago's API", async () => {
    const lago = lagoClient(t.env, org.key);
    const { data } = await lago.wallets.createWallet({
      wallet: { external_customer_id: 'hooked', rate_amount: '1', currency: 'EUR', granted_credits: '2' },
    });
    const got = await next(2);
    expect(got.map((p) => p.type)).toEqual(['wallet.created', 'wallet_transaction.created']);
    const { wallet } = await door.ok('get_wallet', { wallet_id: got[0].data.wallet.id });
    expect(data.wallet.balance_cents).toBe(wallet.balance_cents);
    expect(got[1].data.wallet_transaction).toMatchObject({
      wallet_id: wallet.id,
      reason: 'granted',
      credits: '2',
    });
  });

  it("sends an endpoint registered through Lago's API Lago's bodies, signed the same way", async () => {
    const lago = lagoClient(t.env, org.key);
    const path = `/hooks/lago-${t.db}`;
    const { data: ep } = await lago.webhookEndpoints.createWebhookEndpoint({
      webhook_endpoint: {
        webhook_url: `${receiver.url.replace('/hooks', '')}${path}`,
        event_types: ['wallet.created', 'wallet_transaction.created', 'customer.created', 'invoice.created'],
      },
    });
    const secret = (ep.webhook_endpoint as any).signing_secret as string;
    const { webhook_endpoint } = await door.ok('get_webhook_endpoint', {
      endpoint_id: billfoldRef('webhook_endpoint', ep.webhook_endpoint.lago_id),
    });
    expect(webhook_endpoint.payload_format).toBe('lago');

    const { data } = await lago.wallets.createWallet({
      wallet: {
        external_customer_id: 'hooked',
        code: 'lago-shaped',
        rate_amount: '2',
        currency: 'EUR',
        paid_credits: '3',
      },
    });
    // wallet.created, the purchase's wallet_transaction.created and its credit invoice's invoice.created.
    const requests = await arrived(path, 0, 3);
    // Lago's own signature too, as a Lago receiver checks it: HMAC-SHA256 of the body, key as a string.
    for (const r of requests) {
      expect(r.headers['x-lago-signature']).toBe(
        createHmac('sha256', secret).update(r.body).digest('base64'),
      );
      expect(r.headers['x-lago-signature-algorithm']).toBe('hmac');
      expect(r.headers['x-lago-unique-key']).toBe(r.headers['webhook-id']);
    }
    const got = requests.map((r) => verified(secret, r));
    const byType = Object.fromEntries(got.map((p) => [p.webhook_type, p]));
    expect(Object.keys(byType).sort()).toEqual([
      'invoice.created',
      'wallet.created',
      'wallet_transaction.created',
    ]);
    const created = byType['wallet.created'];
    expect(Object.keys(created)).toEqual(['webhook_type', 'object_type', 'organization_id', 'wallet']);
    expect(created).toMatchObject({ object_type: 'wallet', organization_id: lagoId(org.id) });
    // The wallet exactly as Lago's API writes it.
    expect(created.wallet).toEqual((await lago.wallets.findWallet(data.wallet.lago_id)).data.wallet);
    const tx = byType['wallet_transaction.created'];
    expect(tx.object_type).toBe('wallet_transaction');
    const { data: listed } = await lago.wallets.findAllWalletTransactions(data.wallet.lago_id);
    expect(tx.wallet_transaction).toEqual(listed.wallet_transactions[0]);
    expect(tx.wallet_transaction).toMatchObject({
      status: 'pending',
      transaction_status: 'purchased',
      credit_amount: '3',
    });
    // An object the Lago API cannot write from the event alone keeps Billfold's shape, under Lago's envelope.
    const invoiceId = billfoldRef('invoice', tx.wallet_transaction.lago_invoice_id);
    expect(byType['invoice.created'].invoice).toEqual(
      (await door.ok('get_invoice', { invoice_id: invoiceId })).invoice,
    );

    await lago.customers.createCustomer({ customer: { external_id: 'lago-hooked', name: 'Lago Hooked' } });
    const [customer] = (await arrived(path, 3, 1)).map((r) => verified(secret, r));
    expect(customer).toMatchObject({ webhook_type: 'customer.created', object_type: 'customer' });
    expect(customer.customer).toEqual((await lago.customers.findCustomer('lago-hooked')).data.customer);
    // The Billfold-format endpoint gets Billfold's bodies for the same wallet, without Lago's headers.
    const billfold = await next(2);
    for (const r of receiver.at(hook.path).slice(-2)) expect(r.headers['x-lago-signature']).toBeUndefined();
    expect(billfold.map((p) => p.type)).toEqual(['wallet.created', 'wallet_transaction.created']);
    expect(billfold[0].data.wallet.external_id).toBe('lago-shaped');
  });
});
