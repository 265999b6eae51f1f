import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { caller, type Caller } from '../harness/billing.js';
import { describeDatabases } from '../harness/suite.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** Another Billfold process, `billfold serve`, on the same database. */
function secondServer(
  database: string,
  variables: Record<string, string>,
): Promise<{ url: string; stop(): void }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/interfaces/cli/main.ts'), 'serve', '--port', '0'],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          ...variables,
          BILLFOLD_DATABASE: database,
          BILLFOLD_LOG_LEVEL: 'warn',
          BILLFOLD_BILLING_INTERVAL_SECONDS: '0',
          BILLFOLD_WEBHOOK_POLL_MS: '0',
        },
      },
    );
    let out = '';
    const timer = setTimeout(() => reject(new Error(`second server did not start: ${out}`)), 120_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /HTTP API\s+(http:\/\/127\.0\.0\.1:\d+)\/api\/v1/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, stop: () => child.kill() });
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  });
}

/**
 * Finalizations at the same moment never spend the same credits. One customer, eight draft
 * subscription invoices of T each (10.00 EUR a month prorated from today, no tax) and a wallet
 * worth 2 T + 5.00 (credits at 1.00). All eight are finalized at once — eight HTTP requests in
 * parallel, half to this process and half to a second `billfold serve` on the same database.
 * The wallet pays 2 T + 5.00 in all, spread over the invoices in whatever order they commit: two
 * paid in full, one 5.00, five nothing; the balance ends at exactly 0 and never below, and the
 * draws add up to what the invoices show as prepaid.
 */
describeDatabases('wallets under concurrent finalizations', (t) => {
  let c: Caller;
  let key: string;
  const drafts: string[] = [];
  let other: { url: string; stop(): void };

  beforeAll(async () => {
    const org = await t.env.newOrganization();
    key = org.key;
    c = caller(t.env, org.id);
    await c.call('update_organization', { timezone: 'UTC', default_currency: 'EUR' });
    await c.call('create_plan', {
      code: 'fee',
      name: 'Fee',
      interval: 'monthly',
      currency: 'EUR',
      amount: '10',
    });
    await c.call('create_customer', { external_id: 'race', name: 'Race', currency: 'EUR' });
    other = await secondServer(t.env.database, t.env.variables);
    for (let i = 0; i < 8; i++) {
      await c.call('create_subscription', {
        customer_id: 'race',
        plan_code: 'fee',
        external_id: `race-${i}`,
      });
      const { invoice } = await c.call('generate_invoice', { subscription_id: `race-${i}` });
      drafts.push(invoice.id);
    }
  });

  it(
    'pays exactly what the wallet holds, whatever the order, and never goes below zero',
    { timeout: 180_000 },
    async () => {
      const totals = await Promise.all(
        drafts.map(
          async (id) => (await c.call('get_invoice', { invoice_id: id })).invoice.total_amount_cents,
        ),
      );
      // The first period is prorated from today: T each, the same for all eight.
      const T = totals[0];
      expect(totals).toEqual(Array(8).fill(T));
      const worth = 2 * T + 500;
      await c.call('create_wallet', {
        customer_id: 'race',
        rate_amount: '1',
        granted_credits: (worth / 100).toFixed(2),
        external_id: 'w-race',
      });
      const viaHttp = (base: string, id: string) =>
        fetch(`${base}/api/v1/finalize_invoice`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ invoice_id: id }),
        }).then(async (r) => ({ status: r.status, body: await r.text() }));
      const results = await Promise.all(drafts.map((id, i) => viaHttp(i % 2 ? other.url : t.env.url, id)));
      for (const r of results) expect(r.status, r.body).toBe(200);
      const invoices = await Promise.all(
        drafts.map(async (id) => (await c.call('get_invoice', { invoice_id: id })).invoice),
      );
      const prepaid = invoices
        .map((i: any) => i.prepaid_credit_amount_cents)
        .sort((a: number, b: number) => b - a);
      expect(prepaid).toEqual([T, T, 500, 0, 0, 0, 0, 0]);
      for (const i of invoices)
        expect(i.amount_due_cents).toBe(i.total_amount_cents - i.prepaid_credit_amount_cents);
      const { wallet } = await c.call('get_wallet', { wallet_id: 'w-race' });
      expect(wallet).toMatchObject({
        balance_cents: 0,
        credits_balance: '0',
        consumed_credits: String(worth / 100),
        consumed_amount_cents: worth,
      });
      const out = await c.call('list_wallet_transactions', {
        wallet_id: 'w-race',
        transaction_type: 'outbound',
      });
      expect(out.wallet_transactions.reduce((s: number, x: any) => s + x.amount_cents, 0)).toBe(worth);
      expect(out.wallet_transactions).toHaveLength(3);
    },
  );
});
