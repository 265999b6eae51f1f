import type { ChildProcess } from 'node:child_process';
import { afterEach, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../harness/servers.js';
import { describeDatabases } from '../harness/suite.js';
import { answer, startReceiver, verified, type Receiver } from '../harness/webhook-receiver.js';

/**
 * The dispatcher across processes: two `billfold serve` on one database deliver each event
 * once between them, and a server killed with SIGKILL while the receiver is down loses
 * nothing — the next start delivers it, with the same webhook-id.
 */
const children: ChildProcess[] = [];
const receivers: Receiver[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const r of receivers.splice(0)) await r.close();
});

/** A `billfold serve` whose dispatcher polls often and retries quickly; killed after each case. */
async function serve(database: string, key: string): Promise<ServerProcess> {
  const server = await startServer(database, key, {
    BILLFOLD_BOOTSTRAP_API_KEY: key,
    BILLFOLD_WEBHOOK_ALLOW_PRIVATE: '1',
    BILLFOLD_WEBHOOK_POLL_MS: '100',
    BILLFOLD_WEBHOOK_RETRY_SCHEDULE: '200ms',
    BILLFOLD_WEBHOOK_TIMEOUT_SECONDS: '2',
    BILLFOLD_WEBHOOK_CONCURRENCY: '8',
  });
  children.push(server.child);
  return server;
}

const keyFor = (name: string) => `bfk_webhooks_${name}_${Date.now().toString(36)}_0123456789`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function gone(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((r) => child.once('exit', r));
}

describeDatabases('webhook dispatchers across processes', (t) => {
  it(
    'delivers each event once with two servers dispatching from one database',
    { timeout: 120_000 },
    async () => {
      const receiver = await startReceiver();
      receivers.push(receiver);
      // A receiver that takes a moment: both dispatchers have requests in flight at once.
      receiver.respond(async (req, res, n) => {
        await sleep(15);
        answer(200)(req, res, n);
      });
      const key = keyFor(t.db);
      const [a, b] = await Promise.all([serve(t.env.database, key), serve(t.env.database, key)]);
      const callA = a.call;
      const callB = b.call;
      const { secret } = await callA('create_webhook_endpoint', {
        url: `${receiver.url}/pair-${t.db}`,
        event_types: ['customer.created'],
      });
      const count = 60;
      await Promise.all(
        Array.from({ length: count }, (_, i) =>
          (i % 2 ? callA : callB)('create_customer', { external_id: `pair-${i}`, name: `Pair ${i}` }),
        ),
      );
      await receiver.waitFor(count, 60_000);
      // Long enough for a second delivery of anything to show up.
      await sleep(1000);
      const got = receiver.at(`/hooks/pair-${t.db}`);
      const ids = got.map((r) => r.headers['webhook-id']);
      expect(new Set(ids).size).toBe(count);
      expect(ids).toHaveLength(count);
      const names = got.map((r) => verified(secret, r).data.customer.external_id).sort();
      expect(names).toEqual(Array.from({ length: count }, (_, i) => `pair-${i}`).sort());
      const { webhook_deliveries, pagination } = await callB('list_webhook_deliveries', {
        status: 'succeeded',
        per_page: 100,
      });
      expect(pagination.total_count).toBe(count);
      expect(webhook_deliveries.every((d: any) => d.attempts === 1)).toBe(true);
    },
  );

  it(
    'loses nothing when the server is killed while the receiver is down: the next start delivers it',
    { timeout: 120_000 },
    async () => {
      // A port that nothing listens on yet: the receiver is down.
      const probe = await startReceiver();
      const port = probe.port;
      await probe.close();
      const key = keyFor(`${t.db}_kill`);
      const first = await serve(t.env.database, key);
      const call = first.call;
      const { secret, webhook_endpoint } = await call('create_webhook_endpoint', {
        url: `http://127.0.0.1:${port}/hooks/kill-${t.db}`,
        event_types: ['invoice.finalized'],
      });
      await call('create_customer', { external_id: 'kill-cust', name: 'Kill', currency: 'EUR' });
      const { invoice } = await call('create_invoice', {
        customer_id: 'kill-cust',
        amount: '42',
        description: 'Survives',
        status: 'finalized',
      });
      // Wait for the first attempt to fail against the closed port, then kill the server.
      let delivery: any;
      for (let i = 0; i < 100; i++) {
        [delivery] = (
          await call('list_webhook_deliveries', { endpoint_id: webhook_endpoint.id })
        ).webhook_deliveries;
        if (delivery?.attempts >= 1) break;
        await sleep(50);
      }
      expect(delivery).toMatchObject({ status: 'pending', last_response_status: null });
      expect(delivery.last_error).toMatch(/ECONNREFUSED/);
      first.child.kill('SIGKILL');
      await gone(first.child);

      const receiver = await startReceiver(port);
      receivers.push(receiver);
      const second = await serve(t.env.database, key);
      const [r] = await receiver.waitFor(1, 30_000);
      const payload = verified(secret, r!);
      expect(payload).toMatchObject({ type: 'invoice.finalized', data: { invoice: { id: invoice.id } } });
      expect(r!.headers['webhook-id']).toBe(delivery.event_id);
      let after: any;
      for (let i = 0; i < 100; i++) {
        after = (await second.call('get_webhook_delivery', { delivery_id: delivery.id })).webhook_delivery;
        if (after.status === 'succeeded') break;
        await sleep(50);
      }
      expect(after.status).toBe('succeeded');
      expect(after.attempts).toBeGreaterThanOrEqual(2);
    },
  );
});
