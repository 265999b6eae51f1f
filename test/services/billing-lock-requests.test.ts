import { afterAll, expect, it } from 'vitest';
import { runBilling } from '../../src/services/billing/run.js';
import { caller } from '../harness/billing.js';
import { deadlocksDetected, separateRuntime, startServer, type ServerProcess } from '../harness/servers.js';
import { describeDatabases } from '../harness/suite.js';

/**
 * Request-driven billing (terminate now, an upgrade) at the same time as a billing run over the
 * same subscriptions. Plan `lk`, monthly in USD, a 30.00 fee in arrears, no tax; `lk-up` 60.00.
 */
const servers: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

const MONTHS = ['2026-09-01', '2026-10-01', '2026-11-01'].map((d) => Date.parse(`${d}T00:00:00Z`));

describeDatabases('billing requests during a billing run', (t) => {
  it(
    'terminations and upgrades while a run bills the same subscriptions neither deadlock nor bill a period twice or never',
    { timeout: 300_000 },
    async () => {
      const org = await t.env.newOrganization();
      const c = caller(t.env, org.id);
      await c.call('update_organization', { timezone: 'UTC' });
      for (const [code, amount] of [
        ['lk', '30'],
        ['lk-up', '60'],
      ])
        await c.call('create_plan', {
          code,
          name: code,
          interval: 'monthly',
          currency: 'USD',
          amount,
          tax_codes: [],
        });
      const customers = Array.from({ length: 30 }, (_, i) => `lk-${i}`);
      for (const customer of customers) {
        await c.call('create_customer', { external_id: customer, name: customer, currency: 'USD' });
        await c.call('create_subscription', {
          customer_id: customer,
          plan_code: 'lk',
          external_id: `${customer}-sub`,
          started_at: '2026-09-01',
        });
      }
      const pair = await Promise.all([
        startServer(t.env.database, org.key, t.env.variables),
        startServer(t.env.database, org.key, t.env.variables),
      ]);
      servers.push(...pair);
      const rt = await separateRuntime(t.env);
      const deadlocks = () => deadlocksDetected(t.env);
      const before = await deadlocks();
      // The run bills its batch in the order the subscriptions were made: the requests end the
      // later ones, whose rows the run's transaction reaches after it has claimed periods.
      const terminated = customers.filter((_, i) => i >= 10 && i % 2 === 0);
      const upgraded = customers.filter((_, i) => i >= 10 && i % 2 === 1);
      let run: Awaited<ReturnType<typeof runBilling>>;
      try {
        [run] = await Promise.all([
          runBilling(rt, MONTHS[1]!),
          ...terminated.map((x, i) =>
            pair[i % 2]!.call('terminate_subscription', { subscription_id: `${x}-sub` }),
          ),
          ...upgraded.map((x, i) =>
            pair[(i + 1) % 2]!.call('update_subscription', {
              subscription_id: `${x}-sub`,
              plan_code: 'lk-up',
            }),
          ),
        ]);
      } finally {
        await rt.close();
      }
      await Promise.all(pair.map((x) => x.stop()));
      expect(run.errors).toEqual([]);
      expect(await deadlocks()).toBe(before);
      const now = new Date();
      const thisMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
      for (const customer of customers) {
        const fees = (
          await t.env.rt.db.kysely
            .selectFrom('invoice_lines as l')
            .innerJoin('invoices as i', 'i.id', 'l.invoice_id')
            .innerJoin('customers as cu', 'cu.id', 'i.customer_id')
            .select(['l.from_at', 'l.details'])
            .where('i.organization_id', '=', org.id)
            .where('cu.external_id', '=', customer)
            .where('i.status', '!=', 'voided')
            .execute()
        )
          .filter((l) => (JSON.parse(l.details ?? '{}') as { kind?: string }).kind === 'fee')
          .map((l) => Number(l.from_at))
          .sort((a, b) => a - b);
        // Untouched: September, billed by the run. Ended now: every month up to this one, once each.
        const ended = terminated.includes(customer) || upgraded.includes(customer);
        const expected = ended
          ? [...MONTHS, ...Array.from({ length: 24 }, (_, k) => Date.UTC(2026, 11 + k, 1))].filter(
              (m) => m <= thisMonth && !(m === thisMonth && now.getTime() - m < 1000),
            )
          : [MONTHS[0]!];
        expect(fees, customer).toEqual([...new Set(expected)].sort((a, b) => a - b));
      }
    },
  );
});
