import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpApiDoor, type Door } from '../harness/doors.js';
import { PG_URL, startEnvironment, type TestEnvironment } from '../harness/environment.js';
import { DATABASES, describeDatabases, environmentVariables } from '../harness/suite.js';
import { answer, startReceiver, verified, type Receiver } from '../harness/webhook-receiver.js';
import { pruneDeliveries } from '../../src/services/webhooks/deliveries.js';
import { deliverDue } from '../../src/services/webhooks/dispatcher.js';
import { createServiceContext, type ServiceEnv } from '../../src/services/context.js';
import { upsertCustomer } from '../../src/services/customers.js';

/**
 * Delivery end to end: changes through the HTTP API, the dispatcher, and a real receiver on
 * loopback that verifies every request with the standardwebhooks package.
 */
beforeAll(() => {
  environmentVariables.BILLFOLD_WEBHOOK_ALLOW_PRIVATE = '1';
  environmentVariables.BILLFOLD_WEBHOOK_RETRY_SCHEDULE = '100ms';
  environmentVariables.BILLFOLD_WEBHOOK_TIMEOUT_SECONDS = '1';
});

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the dispatcher until `done` holds (retries fall due every 100 ms here). */
async function deliverUntil(env: ServiceEnv, done: () => boolean | Promise<boolean>, ms = 15_000) {
  const until = Date.now() + ms;
  for (;;) {
    await deliverDue(env);
    if (await done()) return;
    if (Date.now() > until) throw new Error('deliveries did not settle in time');
    await sleep(50);
  }
}

let n = 0;
/** A receiver path of its own and an endpoint pointing at it. */
async function endpoint(door: Door, name: string, extra: Record<string, unknown> = {}) {
  const path = `/hooks/${name}-${++n}`;
  const created = await door.ok('create_webhook_endpoint', {
    url: `${receiver.url.replace('/hooks', '')}${path}`,
    ...extra,
  });
  return { path, secret: created.secret as string, id: created.webhook_endpoint.id as string };
}

describeDatabases('webhook delivery', (t) => {
  let door: Door;
  let org: { id: string; key: string };
  let main: { path: string; secret: string; id: string };

  beforeAll(async () => {
    org = await t.env.newOrganization(['admin']);
    door = httpApiDoor(t.env, org.key);
    main = await endpoint(door, `main-${t.db}`);
  });

  it('delivers a change signed per Standard Webhooks, with the object as get_ returns it', async () => {
    const { customer } = await door.ok('create_customer', { external_id: `wh-${t.db}`, name: 'Hooked Ltd' });
    await deliverUntil(t.env.rt, () => receiver.at(main.path).length >= 1);
    const got = receiver.at(main.path);
    expect(got).toHaveLength(1);
    const r = got[0]!;
    expect(r.method).toBe('POST');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['user-agent']).toMatch(/^Billfold-Webhooks\//);
    expect(r.headers['webhook-id']).toMatch(/^whe_/);
    expect(r.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    const payload = verified(main.secret, r);
    expect(Object.keys(payload)).toEqual(['id', 'type', 'created_at', 'organization_id', 'data']);
    expect(payload).toMatchObject({
      id: r.headers['webhook-id'],
      type: 'customer.created',
      organization_id: org.id,
    });
    expect(new Date(payload.created_at).toISOString()).toBe(payload.created_at);
    expect(payload.data).toEqual(await door.ok('get_customer', { customer_id: customer.id }));
    // A tampered body, or another secret, fails the same verification.
    expect(() => verified(main.secret, { ...r, body: r.body.replace('Hooked', 'Hacked') })).toThrow();
    const other = await endpoint(door, `other-${t.db}`);
    expect(() => verified(other.secret, r)).toThrow();
    await door.ok('delete_webhook_endpoint', { endpoint_id: other.id });
  });

  it('sends an invoice created finalized as invoice.created and invoice.finalized, each with get_invoice’s invoice', async () => {
    const before = receiver.at(main.path).length;
    const { invoice } = await door.ok('create_invoice', {
      customer_id: `wh-${t.db}`,
      currency: 'EUR',
      lines: [{ description: 'Audit', quantity: 3, unit_amount: '0.335' }],
      status: 'finalized',
    });
    await deliverUntil(t.env.rt, () => receiver.at(main.path).length >= before + 2);
    const got = receiver
      .at(main.path)
      .slice(before)
      .map((r) => verified(main.secret, r));
    expect(got.map((p) => p.type).sort()).toEqual(['invoice.created', 'invoice.finalized']);
    const expected = (await door.ok('get_invoice', { invoice_id: invoice.id })).invoice;
    for (const p of got) expect(p.data).toEqual({ invoice: expected });
    expect(got[0].data.invoice.total_amount).toBe('1.01');
    expect(new Set(got.map((p) => p.id)).size).toBe(2);

    // A payment: payment.created with the payment as list_payments shows it, then invoice.paid.
    const paidFrom = receiver.at(main.path).length;
    await door.ok('mark_invoice_paid', { invoice_id: invoice.id, reference: 'wire-1' });
    await deliverUntil(t.env.rt, () => receiver.at(main.path).length >= paidFrom + 2);
    const paid = receiver
      .at(main.path)
      .slice(paidFrom)
      .map((r) => verified(main.secret, r));
    const byType = Object.fromEntries(paid.map((p) => [p.type, p]));
    const { payments } = await door.ok('list_payments', { invoice_id: invoice.id });
    expect(byType['payment.created'].data).toEqual({ payment: payments[0] });
    expect(byType['invoice.paid'].data).toEqual({
      invoice: (await door.ok('get_invoice', { invoice_id: invoice.id })).invoice,
    });
  });

  it('sends an endpoint only the event types it asked for', async () => {
    const paidOnly = await endpoint(door, `paid-only-${t.db}`, { event_types: ['invoice.paid'] });
    const { invoice } = await door.ok('create_invoice', {
      customer_id: `wh-${t.db}`,
      currency: 'EUR',
      amount: '12.50',
      description: 'Filtered',
      status: 'finalized',
    });
    await door.ok('mark_invoice_paid', { invoice_id: invoice.id });
    await deliverUntil(t.env.rt, () => receiver.at(paidOnly.path).length >= 1);
    await deliverDue(t.env.rt);
    const got = receiver.at(paidOnly.path).map((r) => verified(paidOnly.secret, r));
    expect(got.map((p) => p.type)).toEqual(['invoice.paid']);
    const { webhook_deliveries } = await door.ok('list_webhook_deliveries', { endpoint_id: paidOnly.id });
    expect(webhook_deliveries.map((d: any) => d.event_type)).toEqual(['invoice.paid']);
    await door.ok('delete_webhook_endpoint', { endpoint_id: paidOnly.id });
  });

  it('retries after 500, 500 and succeeds on the third attempt with the same webhook-id', async () => {
    const flaky = await endpoint(door, `flaky-${t.db}`);
    receiver.route(flaky.path, (req, res, k) =>
      answer(k <= 2 ? 500 : 200, k <= 2 ? 'boom' : 'ok')(req, res, k),
    );
    await door.ok('update_customer', { customer_id: `wh-${t.db}`, name: 'Hooked Again' });
    await deliverUntil(t.env.rt, () => receiver.at(flaky.path).length >= 3);
    await deliverDue(t.env.rt);
    const got = receiver.at(flaky.path);
    expect(got).toHaveLength(3);
    expect(new Set(got.map((g) => g.headers['webhook-id'])).size).toBe(1);
    for (const g of got) expect(verified(flaky.secret, g).type).toBe('customer.updated');
    const { webhook_deliveries } = await door.ok('list_webhook_deliveries', { endpoint_id: flaky.id });
    expect(webhook_deliveries).toHaveLength(1);
    expect(webhook_deliveries[0]).toMatchObject({
      event_id: got[0]!.headers['webhook-id'],
      status: 'succeeded',
      attempts: 3,
      last_response_status: 200,
      last_error: null,
    });
    const detail = (await door.ok('get_webhook_delivery', { delivery_id: webhook_deliveries[0].id }))
      .webhook_delivery;
    expect(detail.attempt_log.map((a: any) => a.response_status)).toEqual([500, 500, 200]);
    expect(detail.attempt_log[0].error).toBe('answered 500');
    expect(detail.last_response_body).toBe('ok');
    expect(detail.payload).toEqual(JSON.parse(got[0]!.body));
    const ep = (await door.ok('get_webhook_endpoint', { endpoint_id: flaky.id })).webhook_endpoint;
    expect(ep).toMatchObject({ enabled: true, failing_since: null });
    expect(ep.last_success_at).not.toBeNull();
    await door.ok('delete_webhook_endpoint', { endpoint_id: flaky.id });
  });

  it('retries a receiver that does not answer within the timeout', async () => {
    const slow = await endpoint(door, `slow-${t.db}`);
    receiver.route(slow.path, async (req, res, k) => {
      if (k === 1) await sleep(1600);
      if (!res.destroyed) answer(200)(req, res, k);
    });
    await door.ok('update_customer', { customer_id: `wh-${t.db}`, name: 'Slow Reader' });
    await deliverUntil(t.env.rt, () => receiver.at(slow.path).length >= 2);
    await deliverDue(t.env.rt);
    const { webhook_deliveries } = await door.ok('list_webhook_deliveries', { endpoint_id: slow.id });
    const detail = (await door.ok('get_webhook_delivery', { delivery_id: webhook_deliveries[0].id }))
      .webhook_delivery;
    expect(detail.status).toBe('succeeded');
    expect(detail.attempt_log[0]).toMatchObject({
      response_status: null,
      error: 'timed out: no complete answer within 1 s',
    });
    expect(detail.attempt_log[0].duration_ms).toBeGreaterThanOrEqual(950);
    expect(detail.attempt_log[1].response_status).toBe(200);
    const ids = receiver.at(slow.path).map((r) => r.headers['webhook-id']);
    expect(ids[0]).toBe(ids[1]);
    await door.ok('delete_webhook_endpoint', { endpoint_id: slow.id });
  });

  it('disables an endpoint that answers 410 Gone, and says why in the activity log', async () => {
    const gone = await endpoint(door, `gone-${t.db}`);
    receiver.route(gone.path, answer(410, 'gone'));
    await door.ok('update_customer', { customer_id: `wh-${t.db}`, name: 'Gone Away' });
    await deliverUntil(t.env.rt, () => receiver.at(gone.path).length >= 1);
    await deliverDue(t.env.rt);
    const ep = (await door.ok('get_webhook_endpoint', { endpoint_id: gone.id })).webhook_endpoint;
    expect(ep.enabled).toBe(false);
    expect(ep.disabled_reason).toMatch(/answered 410 Gone to delivery whd_/);
    const { activity_logs } = await door.ok('list_activity_logs', {
      activity_types: ['webhook_endpoint.disabled'],
      resource_ids: [gone.id],
    });
    expect(activity_logs).toHaveLength(1);
    expect(activity_logs[0].changes.reason).toBe(ep.disabled_reason);
    expect(activity_logs[0].actor.type).toBe('system');
    // Disabled, it is not given new events, and it cannot be retried until enabled again.
    await door.ok('update_customer', { customer_id: `wh-${t.db}`, name: 'Still Gone' });
    const { webhook_deliveries } = await door.ok('list_webhook_deliveries', { endpoint_id: gone.id });
    expect(webhook_deliveries).toHaveLength(1);
    expect(webhook_deliveries[0]).toMatchObject({ status: 'failed', last_response_status: 410 });
    const refused = await door.fail(
      'retry_webhook_delivery',
      { delivery_id: webhook_deliveries[0].id },
      'INVALID_STATUS',
    );
    expect(refused.message).toMatch(/disabled/);
    expect(refused.hint).toMatch(/enabled: true/);
    // Enabled again and retried, it is delivered.
    receiver.route(gone.path, answer(204));
    await door.ok('update_webhook_endpoint', { endpoint_id: gone.id, enabled: true });
    const retried = (await door.ok('retry_webhook_delivery', { delivery_id: webhook_deliveries[0].id }))
      .webhook_delivery;
    expect(retried.status).toBe('pending');
    await deliverUntil(t.env.rt, () => receiver.at(gone.path).length >= 2);
    await deliverDue(t.env.rt);
    const after = (await door.ok('get_webhook_delivery', { delivery_id: retried.id })).webhook_delivery;
    expect(after).toMatchObject({ status: 'succeeded', attempts: 2, last_response_status: 204 });
    await door.ok('delete_webhook_endpoint', { endpoint_id: gone.id });
  });

  it('signs with both secrets while a rotation overlaps, and with the new one alone after', async () => {
    const rot = await endpoint(door, `rotate-${t.db}`, { event_types: ['customer.updated'] });
    const rotated = await door.ok('rotate_webhook_secret', { endpoint_id: rot.id });
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(rot.secret);
    const expires = Date.parse(rotated.webhook_endpoint.previous_secret_expires_at);
    expect(Math.abs(expires - Date.now() - 24 * 3_600_000)).toBeLessThan(60_000);
    await door.ok('update_customer', { customer_id: `wh-${t.db}`, name: 'Rotating' });
    await deliverUntil(t.env.rt, () => receiver.at(rot.path).length >= 1);
    const during = receiver.at(rot.path)[0]!;
    expect(during.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(verified(rotated.secret, during).type).toBe('customer.updated');
    expect(verified(rot.secret, during).type).toBe('customer.updated');

    const again = await door.ok('rotate_webhook_secret', {
      endpoint_id: rot.id,
      previous_secret_expires_in_hours: 0,
    });
    expect(again.webhook_endpoint.previous_secret_expires_at).toBeNull();
    await door.ok('update_customer', { customer_id: `wh-${t.db}`, name: 'Rotated' });
    await deliverUntil(t.env.rt, () => receiver.at(rot.path).length >= 2);
    const after = receiver.at(rot.path)[1]!;
    expect(after.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(verified(again.secret, after).data.customer.name).toBe('Rotated');
    expect(() => verified(rotated.secret, after)).toThrow();
    await door.ok('delete_webhook_endpoint', { endpoint_id: rot.id });
  });

  it('follows no redirect and reads at most 64 KB of an answer', async () => {
    const moved = await endpoint(door, `moved-${t.db}`, { event_types: ['customer.updated'] });
    const big = await endpoint(door, `big-${t.db}`, { event_types: ['customer.updated'] });
    const target = `/hooks/redirect-target-${t.db}`;
    receiver.route(moved.path, (_req, res) => {
      res.writeHead(302, { location: `${receiver.url.replace('/hooks', '')}${target}` });
      res.end();
    });
    receiver.route(big.path, (_req, res) => {
      // An answer that never ends: reading stops at 64 KB and the 200 counts.
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = 'x'.repeat(16 * 1024);
      const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(chunk)), 1);
    });
    await door.ok('update_customer', { customer_id: `wh-${t.db}`, name: 'Moved' });
    await deliverUntil(
      t.env.rt,
      () => receiver.at(moved.path).length >= 1 && receiver.at(big.path).length >= 1,
    );
    await deliverDue(t.env.rt);
    expect(receiver.at(target)).toHaveLength(0);
    const [m] = (await door.ok('list_webhook_deliveries', { endpoint_id: moved.id })).webhook_deliveries;
    expect(m).toMatchObject({ last_response_status: 302 });
    expect(m.last_error).toMatch(/^answered 302 \(redirects are not followed; Location: http/);
    const [b] = (await door.ok('list_webhook_deliveries', { endpoint_id: big.id })).webhook_deliveries;
    expect(b).toMatchObject({ status: 'succeeded', last_response_status: 200 });
    const detail = (await door.ok('get_webhook_delivery', { delivery_id: b.id })).webhook_delivery;
    expect(detail.last_response_body.length).toBeLessThanOrEqual(2000);
    expect(detail.attempt_log[0].duration_ms).toBeLessThan(1000);
    await door.ok('delete_webhook_endpoint', { endpoint_id: moved.id });
    await door.ok('delete_webhook_endpoint', { endpoint_id: big.id });
  });

  it('refuses, at the attempt, a destination that resolves to a private address', async () => {
    const inside = await endpoint(door, `inside-${t.db}`, { event_types: ['customer.updated'] });
    await door.ok('update_customer', { customer_id: `wh-${t.db}`, name: 'Inside Job' });
    // The same process without BILLFOLD_WEBHOOK_ALLOW_PRIVATE: the name is checked at every attempt.
    const strict: ServiceEnv = { ...t.env.rt, webhooks: { ...t.env.rt.webhooks!, allowPrivate: false } };
    await deliverDue(strict);
    expect(receiver.at(inside.path)).toHaveLength(0);
    const [d] = (await door.ok('list_webhook_deliveries', { endpoint_id: inside.id })).webhook_deliveries;
    expect(d).toMatchObject({ status: 'pending', attempts: 1, last_response_status: null });
    expect(d.last_error).toBe(
      "refused: '127.0.0.1' is a private, loopback, link-local or reserved address; webhooks go only to public addresses unless BILLFOLD_WEBHOOK_ALLOW_PRIVATE=1",
    );
    await door.ok('delete_webhook_endpoint', { endpoint_id: inside.id });
    const after = (await door.ok('get_webhook_delivery', { delivery_id: d.id })).webhook_delivery;
    expect(after).toMatchObject({
      status: 'failed',
      last_error: 'the endpoint was deleted before this delivery was sent',
    });
  });

  it('sends a backlog for one endpoint through few slots, every delivery in one run', async () => {
    const backlog = await endpoint(door, `backlog-${t.db}`, { event_types: ['customer.created'] });
    for (let i = 0; i < 40; i++) await door.ok('create_customer', { external_id: `backlog-${t.db}-${i}` });
    // Four slots, one per endpoint: claimed rows wait for their endpoint's slot.
    const narrow: ServiceEnv = { ...t.env.rt, webhooks: { ...t.env.rt.webhooks!, concurrency: 4 } };
    const r = await deliverDue(narrow);
    expect(r.succeeded).toBeGreaterThanOrEqual(40);
    expect(receiver.at(backlog.path)).toHaveLength(40);
    const names = receiver.at(backlog.path).map((x) => verified(backlog.secret, x).data.customer.external_id);
    expect(new Set(names).size).toBe(40);
    await door.ok('delete_webhook_endpoint', { endpoint_id: backlog.id });
  });

  it('sends portal_session.redeemed when the customer opens a portal link', async () => {
    const portal = await endpoint(door, `portal-${t.db}`, { event_types: ['portal_session.redeemed'] });
    const link = await door.ok('create_portal_session', { customer_id: `wh-${t.db}` });
    const page = await fetch(`${t.env.url}/portal/${link.token}`, { redirect: 'manual' });
    expect(page.status).toBeLessThan(400);
    await deliverUntil(t.env.rt, () => receiver.at(portal.path).length >= 1);
    const [p] = receiver.at(portal.path).map((r) => verified(portal.secret, r));
    expect(p.type).toBe('portal_session.redeemed');
    const now = await door.ok('get_portal_session', { portal_session_id: link.portal_session.id });
    expect(now.portal_session.status).toBe('redeemed');
    expect(p.data).toEqual(now);
    expect(JSON.stringify(p)).not.toContain(link.token);
    await door.ok('delete_webhook_endpoint', { endpoint_id: portal.id });
  });

  it('writes nothing for a change that rolls back', async () => {
    const ctx = createServiceContext(
      t.env.rt,
      t.env.rt.db.kysely,
      {
        organizationId: org.id,
        actor: { type: 'system', id: null, name: 'test' },
        scopes: new Set(['admin']),
      },
      'system',
      'req_rollback',
    );
    let id = '';
    await expect(
      ctx.transaction(async (trx) => {
        id = (await upsertCustomer(trx, { external_id: `rolled-back-${t.db}`, name: 'Never' })).customer.id;
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(id).toMatch(/^cus_/);
    const { webhook_deliveries } = await door.ok('list_webhook_deliveries', { object_id: id });
    expect(webhook_deliveries).toEqual([]);
    // The same change committed has its delivery.
    const kept = (
      await ctx.transaction((trx) => upsertCustomer(trx, { external_id: `kept-${t.db}`, name: 'Kept' }))
    ).customer;
    const listed = await door.ok('list_webhook_deliveries', { object_id: kept.id });
    expect(listed.webhook_deliveries.map((d: any) => d.event_type)).toEqual(['customer.created']);
  });
});

/** Three days of failures, on a clock the test moves: retries stop and the endpoint is disabled. */
describe('an endpoint failing for three days', () => {
  for (const db of DATABASES) {
    describe.skipIf(db === 'postgres' && !PG_URL)(db, () => {
      let env: TestEnvironment;
      let clock = Date.now();
      beforeAll(async () => {
        env = await startEnvironment(db, {
          now: () => clock,
          variables: { BILLFOLD_WEBHOOK_ALLOW_PRIVATE: '1' },
        });
      });
      afterAll(async () => {
        await env?.close();
      });

      it('is retried on the schedule up to the three-day mark, then disabled', async () => {
        const org = await env.newOrganization(['admin']);
        const door = httpApiDoor(env, org.key);
        const down = await endpoint(door, `down-${db}`);
        receiver.route(down.path, answer(503, 'maintenance'));
        const start = clock;
        await door.ok('create_customer', { external_id: 'dead-end', name: 'Dead End' });
        const times: number[] = [];
        for (let i = 0; i < 12; i++) {
          const r = await deliverDue(env.rt);
          if (r.attempted) times.push(clock - start);
          if (r.endpoints_disabled) break;
          clock += 13 * 3_600_000;
        }
        const hours = times.map((ms) => ms / 3_600_000);
        // The default schedule's waits are at most 12 h with jitter, so each 13-hour step finds
        // one due; the last attempt is at the three-day mark itself.
        expect(hours).toEqual([0, 13, 26, 39, 52, 65, 78].slice(0, hours.length));
        const [d] = (await door.ok('list_webhook_deliveries', { endpoint_id: down.id })).webhook_deliveries;
        expect(d.status).toBe('failed');
        expect(d.attempts).toBe(times.length);
        const ep = (await door.ok('get_webhook_endpoint', { endpoint_id: down.id })).webhook_endpoint;
        expect(ep.enabled).toBe(false);
        expect(ep.disabled_reason).toMatch(
          /^every delivery failed for 3 days, since .* \(last: answered 503\)$/,
        );
        expect(Date.parse(ep.failing_since)).toBe(start);
        const { activity_logs } = await door.ok('list_activity_logs', {
          activity_types: ['webhook_endpoint.disabled'],
        });
        expect(activity_logs.map((a: any) => a.resource_id)).toEqual([down.id]);

        // Housekeeping drops deliveries that are over once they are past their retention.
        expect(await pruneDeliveries(env.rt.db.kysely, start - 1)).toBe(0);
        expect(await pruneDeliveries(env.rt.db.kysely, clock + 1)).toBe(1);
        expect(
          (await door.ok('list_webhook_deliveries', { endpoint_id: down.id })).webhook_deliveries,
        ).toEqual([]);
      });
    });
  }
});
