import { expect, it } from 'vitest';
import { httpApiDoor } from '../harness/doors.js';
import { describeDoors } from '../harness/suite.js';
import { lagoId } from '../../src/interfaces/http/lago/ids.js';

/**
 * Webhook endpoints and deliveries through every door and both databases. This file's Billfold
 * runs without BILLFOLD_WEBHOOK_ALLOW_PRIVATE, so loopback and private URLs are refused; the
 * endpoints here point at a public address literal (no name to resolve) that nothing sends to,
 * as no dispatcher runs.
 */
const PUBLIC = 'https://93.184.215.14';

const REQUIRED_EVENT_TYPES = [
  'customer.created',
  'customer.updated',
  'invoice.created',
  'invoice.finalized',
  'invoice.paid',
  'invoice.payment_overdue',
  'invoice.voided',
  'credit_note.created',
  'payment.created',
  'subscription.started',
  'subscription.terminated',
  'subscription.trial_ended',
  'usage.needs_attention',
  'usage.threshold_reached',
  'portal_session.redeemed',
];

describeDoors('webhook endpoints', (t) => {
  const url = (p: string) => `${PUBLIC}/${t.door.name}/${p}`;

  it('creates an endpoint, shows its secret only then, and returns it again for the same URL', async () => {
    const created = await t.door.ok('create_webhook_endpoint', {
      url: url('a'),
      description: 'CRM sync',
      event_types: ['invoice.finalized', 'invoice.paid', 'invoice.paid'],
    });
    expect(created.created).toBe(true);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const ep = created.webhook_endpoint;
    expect(ep).toMatchObject({
      url: url('a'),
      description: 'CRM sync',
      event_types: ['invoice.finalized', 'invoice.paid'],
      enabled: true,
      disabled_reason: null,
      secret_hint: `${created.secret.slice(0, 10)}…`,
      previous_secret_expires_at: null,
    });
    expect(ep.id).toMatch(/^we_/);
    const got = (await t.door.ok('get_webhook_endpoint', { endpoint_id: ep.id })).webhook_endpoint;
    expect(got).toEqual(ep);
    expect(JSON.stringify(got)).not.toContain(created.secret);
    const again = await t.door.ok('create_webhook_endpoint', { url: url('a') });
    expect(again).toMatchObject({ created: false, secret: null, webhook_endpoint: { id: ep.id } });
    const listed = await t.door.ok('list_webhook_endpoints', {});
    expect(listed.webhook_endpoints.map((e: any) => e.id)).toContain(ep.id);
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    // Every type when none is given.
    const all = await t.door.ok('create_webhook_endpoint', { url: url('all') });
    expect(all.webhook_endpoint.event_types).toBeNull();
  });

  it('refuses bad URLs and event types, naming the field and what would work', async () => {
    const ftp = await t.door.fail(
      'create_webhook_endpoint',
      { url: 'ftp://files.example/x' },
      'VALIDATION_ERROR',
    );
    expect(ftp.message).toMatch(/^url must be an absolute URL like https/);
    const creds = await t.door.fail(
      'create_webhook_endpoint',
      { url: `https://user:pw@93.184.215.14/x` },
      'VALIDATION_ERROR',
    );
    expect(creds.message).toBe(
      'url: must not carry credentials: receivers verify the webhook-signature header instead',
    );
    for (const inside of [
      'http://127.0.0.1:9/x',
      'http://10.1.2.3/x',
      'http://169.254.169.254/latest',
      'http://[::1]/x',
    ]) {
      const e = await t.door.fail('create_webhook_endpoint', { url: inside }, 'VALIDATION_ERROR');
      expect(e.message).toMatch(
        /^url: '.*' is a private, loopback, link-local or reserved address; webhooks go only to public addresses unless BILLFOLD_WEBHOOK_ALLOW_PRIVATE=1$/,
      );
    }
    const named = await t.door.fail(
      'create_webhook_endpoint',
      { url: 'http://localhost:9/x' },
      'VALIDATION_ERROR',
    );
    expect(named.message).toMatch(/^url: 'localhost' resolves to (127\.0\.0\.1|::1), which is a private/);
    const unknown = await t.door.fail(
      'create_webhook_endpoint',
      { url: url('bad-type'), event_types: ['invoice.finalized', 'invoice.exploded'] },
      'VALIDATION_ERROR',
    );
    expect(unknown.message).toBe("event_types: 'invoice.exploded' is not an event type");
    expect(unknown.hint).toMatch(/list_event_types/);
    expect(unknown.details.unknown).toEqual(['invoice.exploded']);
    const empty = await t.door.fail(
      'create_webhook_endpoint',
      { url: url('empty'), event_types: [] },
      'VALIDATION_ERROR',
    );
    expect(empty.message).toMatch(/event_types/);
    await t.door.fail('create_webhook_endpoint', { url: url('x'), secret: 'mine' }, 'VALIDATION_ERROR');
    const missing = await t.door.fail('get_webhook_endpoint', { endpoint_id: 'we_nope' }, 'NOT_FOUND');
    expect(missing.hint).toMatch(/list_webhook_endpoints/);
    const badFilter = await t.door.fail(
      'list_webhook_deliveries',
      { event_type: 'invoice.exploded' },
      'VALIDATION_ERROR',
    );
    expect(badFilter.message).toMatch(/event_type/);
    const { webhook_endpoint } = await t.door.ok('create_webhook_endpoint', { url: url('rotate-bad') });
    const hours = await t.door.fail(
      'rotate_webhook_secret',
      { endpoint_id: webhook_endpoint.id, previous_secret_expires_in_hours: 500 },
      'VALIDATION_ERROR',
    );
    expect(hours.message).toMatch(/previous_secret_expires_in_hours/);
    await t.door.fail('retry_webhook_delivery', { delivery_id: 'whd_nope' }, 'NOT_FOUND');
  });

  it('updates, disables and enables an endpoint, and deletes it', async () => {
    const { webhook_endpoint: ep } = await t.door.ok('create_webhook_endpoint', { url: url('u') });
    const updated = (
      await t.door.ok('update_webhook_endpoint', {
        endpoint_id: ep.id,
        url: url('u2'),
        event_types: ['customer.created'],
        description: 'renamed',
      })
    ).webhook_endpoint;
    expect(updated).toMatchObject({
      url: url('u2'),
      event_types: ['customer.created'],
      description: 'renamed',
    });
    const taken = await t.door.ok('create_webhook_endpoint', { url: url('taken') });
    const clash = await t.door.fail(
      'update_webhook_endpoint',
      { endpoint_id: ep.id, url: url('taken') },
      'CONFLICT',
    );
    expect(clash.details.endpoint_id).toBe(taken.webhook_endpoint.id);
    const off = (await t.door.ok('update_webhook_endpoint', { endpoint_id: ep.id, enabled: false }))
      .webhook_endpoint;
    expect(off.enabled).toBe(false);
    expect(off.disabled_reason).toMatch(/^disabled by /);
    const onlyOff = await t.door.ok('list_webhook_endpoints', { enabled: false });
    expect(onlyOff.webhook_endpoints.map((e: any) => e.id)).toEqual([ep.id]);
    const on = (
      await t.door.ok('update_webhook_endpoint', { endpoint_id: ep.id, enabled: true, event_types: null })
    ).webhook_endpoint;
    expect(on).toMatchObject({ enabled: true, disabled_reason: null, event_types: null });
    const { activity_logs } = await t.door.ok('list_activity_logs', { resource_ids: [ep.id] });
    expect(activity_logs.map((a: any) => a.activity_type)).toEqual([
      'webhook_endpoint.updated',
      'webhook_endpoint.updated',
      'webhook_endpoint.updated',
      'webhook_endpoint.created',
    ]);
    const deleted = await t.door.ok('delete_webhook_endpoint', { endpoint_id: ep.id });
    expect(deleted.deleted).toBe(true);
    await t.door.fail('get_webhook_endpoint', { endpoint_id: ep.id }, 'NOT_FOUND');
    // Its URL is free again.
    expect((await t.door.ok('create_webhook_endpoint', { url: url('u2') })).created).toBe(true);
  });

  it('rotates the secret: a new one shown once, the previous one signing for 24 hours', async () => {
    const created = await t.door.ok('create_webhook_endpoint', { url: url('r') });
    const rotated = await t.door.ok('rotate_webhook_secret', { endpoint_id: created.webhook_endpoint.id });
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);
    expect(rotated.webhook_endpoint.secret_hint).toBe(`${rotated.secret.slice(0, 10)}…`);
    const hours = (Date.parse(rotated.webhook_endpoint.previous_secret_expires_at) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(23.9);
    expect(hours).toBeLessThanOrEqual(24);
    const { activity_logs } = await t.door.ok('list_activity_logs', {
      activity_types: ['webhook_endpoint.secret_rotated'],
      resource_ids: [created.webhook_endpoint.id],
    });
    expect(activity_logs).toHaveLength(1);
    expect(JSON.stringify(activity_logs)).not.toContain(rotated.secret.slice(10));
    expect(JSON.stringify(activity_logs)).not.toContain(created.secret.slice(10));
  });

  it('lists every event type with the object its data carries', async () => {
    const { event_types } = await t.door.ok('list_event_types', {});
    const names = event_types.map((e: any) => e.type);
    for (const type of REQUIRED_EVENT_TYPES) expect(names).toContain(type);
    expect(event_types.find((e: any) => e.type === 'invoice.paid')).toMatchObject({
      object: 'invoice',
      source: 'change',
    });
    expect(event_types.find((e: any) => e.type === 'invoice.payment_overdue').source).toBe('schedule');
  });

  it('records a delivery for each change an endpoint listens to, with the payload it will send', async () => {
    const { webhook_endpoint: ep } = await t.door.ok('create_webhook_endpoint', {
      url: url('deliveries'),
      event_types: ['customer.created', 'customer.updated'],
    });
    const { customer } = await t.door.ok('create_customer', {
      external_id: `hooked-${t.door.name}`,
      name: 'Hooked',
    });
    await t.door.ok('create_product', {
      code: `p-${t.door.name}`,
      name: 'Not listened to',
      unit_amount: '1',
    });
    await t.door.ok('disable_customer', { customer_id: customer.id });
    const { webhook_deliveries } = await t.door.ok('list_webhook_deliveries', { endpoint_id: ep.id });
    expect(webhook_deliveries.map((d: any) => d.event_type)).toEqual([
      'customer.updated',
      'customer.created',
    ]);
    for (const d of webhook_deliveries) {
      expect(d).toMatchObject({
        endpoint_id: ep.id,
        endpoint_url: url('deliveries'),
        object: 'customer',
        object_id: customer.id,
        status: 'pending',
        attempts: 0,
        last_attempt_at: null,
      });
      expect(d.id).toMatch(/^whd_/);
      expect(d.event_id).toMatch(/^whe_/);
    }
    const detail = (await t.door.ok('get_webhook_delivery', { delivery_id: webhook_deliveries[0].id }))
      .webhook_delivery;
    expect(detail.payload).toMatchObject({
      id: detail.event_id,
      type: 'customer.updated',
      organization_id: t.org.id,
      data: await t.door.ok('get_customer', { customer_id: customer.id }),
    });
    expect(detail.payload.data.customer.status).toBe('disabled');
    expect(detail.attempt_log).toEqual([]);
    const filtered = await t.door.ok('list_webhook_deliveries', {
      endpoint_id: ep.id,
      event_type: 'customer.created',
      status: 'pending',
      object_id: customer.id,
      from: '2020-01-01',
    });
    expect(filtered.webhook_deliveries.map((d: any) => d.id)).toEqual([webhook_deliveries[1].id]);
    const none = await t.door.ok('list_webhook_deliveries', { endpoint_id: ep.id, to: '2020-01-01' });
    expect(none.webhook_deliveries).toEqual([]);
    // Deleted, the endpoint's pending deliveries fail, saying why.
    await t.door.ok('delete_webhook_endpoint', { endpoint_id: ep.id });
    const after = await t.door.ok('list_webhook_deliveries', { endpoint_id: ep.id });
    for (const d of after.webhook_deliveries)
      expect(d).toMatchObject({
        status: 'failed',
        last_error: 'the endpoint was deleted before this delivery was sent',
      });
  });

  it("writes Lago's bodies for an endpoint whose payload_format is lago, and Billfold's again when changed back", async () => {
    const made = await t.door.ok('create_webhook_endpoint', {
      url: url('lago-format'),
      event_types: ['customer.created'],
      payload_format: 'lago',
    });
    const ep = made.webhook_endpoint;
    expect(ep.payload_format).toBe('lago');
    expect(
      (await t.door.ok('get_webhook_endpoint', { endpoint_id: ep.id })).webhook_endpoint.payload_format,
    ).toBe('lago');
    await t.door.ok('create_customer', { external_id: `lago-body-${t.door.name}`, name: 'Lago Body' });
    const first = (await t.door.ok('list_webhook_deliveries', { endpoint_id: ep.id })).webhook_deliveries[0];
    const lagoBody = (await t.door.ok('get_webhook_delivery', { delivery_id: first.id })).webhook_delivery
      .payload;
    expect(Object.keys(lagoBody)).toEqual(['webhook_type', 'object_type', 'organization_id', 'customer']);
    expect(lagoBody).toMatchObject({
      webhook_type: 'customer.created',
      object_type: 'customer',
      organization_id: lagoId(t.org.id),
      customer: {
        external_id: `lago-body-${t.door.name}`,
        name: 'Lago Body',
        billing_entity_code: 'default',
      },
    });
    expect(lagoBody.customer.lago_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);

    const back = await t.door.ok('update_webhook_endpoint', {
      endpoint_id: ep.id,
      payload_format: 'billfold',
    });
    expect(back.webhook_endpoint.payload_format).toBe('billfold');
    const { customer } = await t.door.ok('create_customer', { external_id: `billfold-body-${t.door.name}` });
    const latest = (await t.door.ok('list_webhook_deliveries', { endpoint_id: ep.id })).webhook_deliveries[0];
    const billfoldBody = (await t.door.ok('get_webhook_delivery', { delivery_id: latest.id }))
      .webhook_delivery.payload;
    expect(billfoldBody).toMatchObject({ type: 'customer.created', data: { customer: { id: customer.id } } });

    const bad = await t.door.fail(
      'create_webhook_endpoint',
      { url: url('xml'), payload_format: 'xml' },
      'VALIDATION_ERROR',
    );
    expect(bad.message).toMatch(/payload_format/);
    await t.door.ok('delete_webhook_endpoint', { endpoint_id: ep.id });
  });

  it('needs the admin scope for endpoints and the read scope for deliveries', async () => {
    const readKey = await t.env.addKey(t.org.id, ['read']);
    const reader = httpApiDoor(t.env, readKey);
    const e = await reader.fail('create_webhook_endpoint', { url: url('scoped') }, 'FORBIDDEN');
    expect(e.message).toMatch(/needs the admin scope/);
    await reader.fail('list_webhook_endpoints', {}, 'FORBIDDEN');
    expect((await reader.ok('list_webhook_deliveries', {})).pagination).toBeDefined();
    expect((await reader.ok('list_event_types', {})).event_types.length).toBeGreaterThan(0);
    await reader.fail('retry_webhook_delivery', { delivery_id: 'whd_x' }, 'FORBIDDEN');
  });
});
