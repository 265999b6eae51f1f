import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpApiDoor, type Door } from '../harness/doors.js';
import { PG_URL, startEnvironment, type TestEnvironment } from '../harness/environment.js';
import { DATABASES } from '../harness/suite.js';
import { startReceiver, verified, type Receiver } from '../harness/webhook-receiver.js';
import { deliverDue } from '../../src/services/webhooks/dispatcher.js';
import { raiseNotices } from '../../src/services/webhooks/notices.js';
import { runBilling } from '../../src/services/billing/run.js';

/**
 * Events no request makes: an invoice's due date passing, a trial ending, usage crossing an
 * alert's threshold — raised by the scheduler once each — and usage.needs_attention, once per
 * batch. On a clock the test moves, delivered to a real receiver and verified with the
 * standardwebhooks package.
 */
const DAY = 86_400_000;
let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

for (const db of DATABASES) {
  describe.skipIf(db === 'postgres' && !PG_URL)(`scheduled and usage events [${db}]`, () => {
    let env: TestEnvironment;
    let door: Door;
    let secret: string;
    const path = `/hooks/notices-${db}`;
    // 10 March 2031, 09:00 UTC.
    let clock = Date.parse('2031-03-10T09:00:00Z');
    let seen = 0;

    /** Delivers what is due and returns the payloads that arrived since the last call. */
    async function arrived(): Promise<any[]> {
      await deliverDue(env.rt);
      const got = receiver.at(path).slice(seen);
      seen += got.length;
      return got.map((r) => verified(secret, r));
    }

    beforeAll(async () => {
      env = await startEnvironment(db, {
        now: () => clock,
        variables: { BILLFOLD_WEBHOOK_ALLOW_PRIVATE: '1' },
      });
      const org = await env.newOrganization(['admin']);
      door = httpApiDoor(env, org.key);
      await door.ok('update_organization', { timezone: 'UTC', default_currency: 'EUR' });
      const created = await door.ok('create_webhook_endpoint', {
        url: `${receiver.url.replace('/hooks', '')}${path}`,
        event_types: [
          'invoice.payment_overdue',
          'subscription.trial_ended',
          'subscription.started',
          'usage.threshold_reached',
          'usage.needs_attention',
        ],
      });
      secret = created.secret;
      await door.ok('create_customer', { external_id: 'late', name: 'Late Payer', currency: 'EUR' });
    });
    afterAll(async () => {
      await env?.close();
    });

    it('raises invoice.payment_overdue once, when the due date has passed with money due', async () => {
      const { invoice } = await door.ok('create_invoice', {
        customer_id: 'late',
        amount: '120',
        description: 'Consulting',
        due_at: '2031-03-12',
        status: 'finalized',
      });
      const { invoice: paid } = await door.ok('create_invoice', {
        customer_id: 'late',
        amount: '10',
        description: 'Paid on time',
        due_at: '2031-03-12',
        status: 'finalized',
      });
      await door.ok('mark_invoice_paid', { invoice_id: paid.id });
      expect((await raiseNotices(env.rt)).invoices_overdue).toBe(0);
      clock = Date.parse('2031-03-13T00:00:01Z');
      expect((await raiseNotices(env.rt)).invoices_overdue).toBe(1);
      expect((await raiseNotices(env.rt)).invoices_overdue).toBe(0);
      const got = await arrived();
      expect(got.map((p) => p.type)).toEqual(['invoice.payment_overdue']);
      const now = (await door.ok('get_invoice', { invoice_id: invoice.id })).invoice;
      expect(now.overdue).toBe(true);
      expect(got[0].data).toEqual({ invoice: now });
      const { activity_logs } = await door.ok('list_activity_logs', {
        activity_types: ['invoice.payment_overdue'],
      });
      expect(activity_logs.map((a: any) => a.resource_id)).toEqual([invoice.id]);
      expect(activity_logs[0].actor).toMatchObject({ type: 'system' });
    });

    it('raises subscription.trial_ended once, when the trial is over', async () => {
      await door.ok('create_plan', {
        code: 'trial',
        name: 'With a trial',
        interval: 'monthly',
        currency: 'EUR',
        amount: '30',
        trial_period_days: 3,
      });
      const { subscription } = await door.ok('create_subscription', {
        customer_id: 'late',
        plan_code: 'trial',
        external_id: 'late-trial',
      });
      const started = await arrived();
      expect(started.map((p) => p.type)).toEqual(['subscription.started']);
      clock += 2 * DAY;
      expect((await raiseNotices(env.rt)).trials_ended).toBe(0);
      clock += 1 * DAY + 1000;
      expect((await raiseNotices(env.rt)).trials_ended).toBe(1);
      expect((await raiseNotices(env.rt)).trials_ended).toBe(0);
      const got = await arrived();
      expect(got.map((p) => p.type)).toEqual(['subscription.trial_ended']);
      expect(got[0].data).toEqual(await door.ok('get_subscription', { subscription_id: subscription.id }));
      await door.ok('terminate_subscription', { subscription_id: 'late-trial' });
    });

    it('raises usage.threshold_reached once per alert and period', async () => {
      await door.ok('create_billable_metric', {
        code: 'api_calls',
        name: 'API calls',
        aggregation_type: 'count_agg',
      });
      await door.ok('create_plan', {
        code: 'metered',
        name: 'Metered',
        interval: 'monthly',
        currency: 'EUR',
        amount: '0',
        charges: [
          { billable_metric_code: 'api_calls', charge_model: 'standard', properties: { amount: '0.5' } },
        ],
      });
      await door.ok('create_customer', { external_id: 'heavy', name: 'Heavy User', currency: 'EUR' });
      await door.ok('create_subscription', {
        customer_id: 'heavy',
        plan_code: 'metered',
        external_id: 'heavy-sub',
      });
      expect((await arrived()).map((p) => p.type)).toEqual(['subscription.started']);
      const units = (
        await door.ok('create_usage_alert', {
          subscription_id: 'heavy-sub',
          billable_metric_code: 'api_calls',
          threshold_type: 'units',
          threshold: 10,
          code: 'heavy-10-calls',
        })
      ).usage_alert;
      const amount = (
        await door.ok('create_usage_alert', {
          customer_id: 'heavy',
          billable_metric_code: 'api_calls',
          threshold_type: 'amount',
          threshold: '7.50',
        })
      ).usage_alert;
      expect(amount).toMatchObject({ currency: 'EUR', threshold: '7.50', last_triggered: null });
      let k = 0;
      const calls = async (count: number) =>
        door.ok('record_usage_batch', {
          events: Array.from({ length: count }, () => ({
            transaction_id: `call-${db}-${k++}`,
            customer_id: 'heavy',
            code: 'api_calls',
          })),
        });
      await calls(9);
      expect(await raiseNotices(env.rt)).toMatchObject({
        usage_alerts_examined: 2,
        usage_alerts_triggered: 0,
      });
      await calls(2);
      // 11 calls: the units alert fires; 5.50 EUR is still under the amount alert's 7.50.
      expect((await raiseNotices(env.rt)).usage_alerts_triggered).toBe(1);
      expect((await raiseNotices(env.rt)).usage_alerts_triggered).toBe(0);
      let got = await arrived();
      expect(got.map((p) => p.type)).toEqual(['usage.threshold_reached']);
      expect(got[0].data.usage_alert).toMatchObject({
        id: units.id,
        code: 'heavy-10-calls',
        subscription_external_id: 'heavy-sub',
        last_triggered: { value: '11', period_from: '2031-03-01T00:00:00.000Z' },
      });
      const listed = await door.ok('list_usage_alerts', { subscription_id: 'heavy-sub' });
      expect(got[0].data.usage_alert).toEqual(listed.usage_alerts[0]);
      await calls(5);
      expect((await raiseNotices(env.rt)).usage_alerts_triggered).toBe(1);
      got = await arrived();
      expect(got[0].data.usage_alert).toMatchObject({ id: amount.id, last_triggered: { value: '8.00' } });
      // A new period: each fires again once its threshold is reached again.
      clock = Date.parse('2031-04-02T10:00:00Z');
      expect((await raiseNotices(env.rt)).usage_alerts_triggered).toBe(0);
      await calls(16);
      expect((await raiseNotices(env.rt)).usage_alerts_triggered).toBe(2);
      got = await arrived();
      expect(got.map((p) => p.data.usage_alert.last_triggered.period_from)).toEqual([
        '2031-04-01T00:00:00.000Z',
        '2031-04-01T00:00:00.000Z',
      ]);
      // Deleted, an alert fires no more.
      await door.ok('delete_usage_alert', { usage_alert_id: 'heavy-10-calls' });
      clock = Date.parse('2031-05-02T10:00:00Z');
      await calls(20);
      expect(await raiseNotices(env.rt)).toMatchObject({
        usage_alerts_examined: 1,
        usage_alerts_triggered: 1,
      });
      got = await arrived();
      // (The invoice the trial's termination issued is overdue by now too.)
      const alerts = got.filter((p) => p.type === 'usage.threshold_reached');
      expect(alerts.map((p) => p.data.usage_alert.id)).toEqual([amount.id]);
    });

    it('sends the invoices a billing run makes, read as get_invoice returns them', async () => {
      const billing = await door.ok('create_webhook_endpoint', {
        url: `${receiver.url.replace('/hooks', '')}${path}-billing`,
        event_types: ['invoice.created', 'invoice.finalized'],
      });
      // heavy-sub has billed nothing yet: the run catches up on March, April and May.
      clock = Date.parse('2031-06-01T00:10:00Z');
      const summary = await runBilling(env.rt, clock);
      expect(summary).toMatchObject({ invoices_created: 3, invoices_finalized: 3 });
      await deliverDue(env.rt);
      const got = receiver.at(`${path}-billing`).map((r) => verified(billing.secret, r));
      expect(got.filter((p) => p.type === 'invoice.created')).toHaveLength(3);
      expect(got.filter((p) => p.type === 'invoice.finalized')).toHaveLength(3);
      for (const p of got) {
        expect(p.data).toEqual({
          invoice: (await door.ok('get_invoice', { invoice_id: p.data.invoice.id })).invoice,
        });
        expect(p.data.invoice).toMatchObject({ status: 'finalized', customer: { external_id: 'heavy' } });
      }
      // May's 20 calls at 0.50 EUR (no fee), its invoice's number given at finalization.
      const may = got.find((p) => p.data.invoice.lines[0]?.from === '2031-05-01T00:00:00.000Z')!;
      expect(may.data.invoice.sub_total_amount).toBe('10.00');
      await door.ok('delete_webhook_endpoint', { endpoint_id: billing.webhook_endpoint.id });
    });

    it('sends usage.needs_attention once per batch with its count, and nothing for a batch all priced', async () => {
      const batch = (events: Array<Record<string, unknown>>) =>
        door.ok('record_usage_batch', {
          events: events.map((e, i) => ({
            transaction_id: `llm-${db}-${seen}-${i}-${Math.random()}`,
            customer_id: 'heavy',
            code: 'api_calls',
            ...e,
          })),
        });
      await batch([
        { provider: 'openai', model: 'gpt-4o', input_tokens: 100, output_tokens: 20 },
        { provider: 'openai', model: 'gpt-4o', input_tokens: 5, output_tokens: 5 },
      ]);
      expect(await arrived()).toEqual([]);
      const r = await batch([
        { provider: 'openai', model: 'gpt-4o', input_tokens: 10, output_tokens: 1 },
        { provider: 'acme-ai', model: 'mystery-1', input_tokens: 10, output_tokens: 1 },
        { provider: 'acme-ai', model: 'mystery-1', input_tokens: 20, output_tokens: 2 },
        { provider: 'openai', model: 'gpt-4o' },
      ]);
      const got = await arrived();
      expect(got).toHaveLength(1);
      expect(got[0].type).toBe('usage.needs_attention');
      const attention = got[0].data.needs_attention;
      expect(attention).toMatchObject({
        event_count: 3,
        unknown_models: [{ provider: 'acme-ai', model: 'mystery-1', event_count: 2 }],
        missing_volume: { event_count: 1 },
      });
      const stored = r.results.filter((x: any) => x.cost_status !== 'PROCESSED').map((x: any) => x.event_id);
      expect([...attention.event_ids].sort()).toEqual([...stored].sort());
    });
  });
}
