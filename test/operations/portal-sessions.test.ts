import { beforeAll, expect, it } from 'vitest';
import { describeDoors, environmentVariables } from '../harness/suite.js';

/** Links are made on this base, by every door (stdio runs in a child process with the same variables). */
const PUBLIC_URL = 'https://billing.example.test';
beforeAll(() => {
  environmentVariables.BILLFOLD_PUBLIC_URL = `${PUBLIC_URL}/`;
});

describeDoors('portal sessions', (t) => {
  beforeAll(async () => {
    await t.door.ok('create_customer', {
      external_id: 'ps-acme',
      name: 'Acme Portal',
      email: 'ap@acme.example',
    });
    await t.door.ok('create_customer', { external_id: 'ps-other', name: 'Other Co' });
  });

  it('makes a one-time link for a customer by external_id: a 256-bit token on BILLFOLD_PUBLIC_URL, all pages, an hour', async () => {
    const before = Date.now();
    const out = await t.door.ok('create_portal_session', { customer_id: 'ps-acme' });
    const s = out.portal_session;
    expect(s.id).toMatch(/^pses_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(out.token).toMatch(/^bfp_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(out.token.slice(4), 'base64url')).toHaveLength(32);
    expect(out.url).toBe(`${PUBLIC_URL}/portal/${out.token}`);
    expect(s).toMatchObject({
      customer: { external_id: 'ps-acme', name: 'Acme Portal', email: 'ap@acme.example' },
      features: ['invoices', 'subscriptions', 'usage', 'profile'],
      return_url: null,
      status: 'active',
      redeemed_at: null,
      revoked_at: null,
    });
    expect(s.customer_id).toBe(s.customer.id);
    const lifetime = Date.parse(s.expires_at) - Date.parse(s.created_at);
    expect(lifetime).toBe(60 * 60_000);
    expect(Date.parse(s.created_at)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);

    const again = await t.door.ok('create_portal_session', { customer_id: 'ps-acme' });
    expect(again.token).not.toBe(out.token);
    expect(again.portal_session.id).not.toBe(s.id);
  });

  it('keeps the chosen pages in a fixed order, the return URL and a lifetime of up to a day', async () => {
    const { portal_session: s } = await t.door.ok('create_portal_session', {
      customer_id: 'ps-acme',
      features: ['profile', 'invoices', 'profile'],
      return_url: 'https://app.acme.example/billing',
      expires_in_minutes: 1440,
    });
    expect(s.features).toEqual(['invoices', 'profile']);
    expect(s.return_url).toBe('https://app.acme.example/billing');
    expect(Date.parse(s.expires_at) - Date.parse(s.created_at)).toBe(1440 * 60_000);
  });

  it('refuses what it cannot make, naming the field and what would work', async () => {
    const tooLong = await t.door.fail(
      'create_portal_session',
      { customer_id: 'ps-acme', expires_in_minutes: 1441 },
      'VALIDATION_ERROR',
    );
    expect(tooLong.message).toContain('expires_in_minutes must be at most 1440');
    const zero = await t.door.fail(
      'create_portal_session',
      { customer_id: 'ps-acme', expires_in_minutes: 0 },
      'VALIDATION_ERROR',
    );
    expect(zero.message).toContain('expires_in_minutes must be at least 1');
    const feature = await t.door.fail(
      'create_portal_session',
      { customer_id: 'ps-acme', features: ['billing'] },
      'VALIDATION_ERROR',
    );
    expect(feature.message).toContain('features[0] must be one of invoices, subscriptions, usage, profile');
    const none = await t.door.fail(
      'create_portal_session',
      { customer_id: 'ps-acme', features: [] },
      'VALIDATION_ERROR',
    );
    expect(none.message).toContain('features must have at least 1 item');
    const script = await t.door.fail(
      'create_portal_session',
      { customer_id: 'ps-acme', return_url: 'javascript:alert(1)' },
      'VALIDATION_ERROR',
    );
    expect(script.message).toContain('return_url');
    const unknown = await t.door.fail('create_portal_session', { customer_id: 'nobody' }, 'NOT_FOUND');
    expect(unknown.message).toContain("customer_id: no customer has the id or external_id 'nobody'");
  });

  it('shows a session by id without its token or url', async () => {
    const created = await t.door.ok('create_portal_session', { customer_id: 'ps-acme' });
    const { portal_session } = await t.door.ok('get_portal_session', {
      portal_session_id: created.portal_session.id,
    });
    expect(portal_session).toEqual(created.portal_session);
    const text = JSON.stringify(portal_session);
    expect(text).not.toContain(created.token);
    expect(text).not.toContain('/portal/');
    const missing = await t.door.fail(
      'get_portal_session',
      { portal_session_id: 'pses_01J00000000000000000000000' },
      'NOT_FOUND',
    );
    expect(missing.message).toContain(
      "portal_session_id: no portal session has the id 'pses_01J00000000000000000000000'",
    );
    await t.door.fail('get_portal_session', { portal_session_id: 'not-an-id' }, 'NOT_FOUND');
  });

  it('revokes a link once: status revoked, then changed false; lists show live links unless include_expired', async () => {
    await t.door.ok('create_customer', { external_id: 'ps-list', name: 'Lister' });
    const a = await t.door.ok('create_portal_session', { customer_id: 'ps-list' });
    const b = await t.door.ok('create_portal_session', { customer_id: 'ps-list', features: ['usage'] });
    const first = await t.door.ok('revoke_portal_session', { portal_session_id: a.portal_session.id });
    expect(first.changed).toBe(true);
    expect(first.portal_session.status).toBe('revoked');
    expect(first.portal_session.revoked_at).not.toBeNull();
    const second = await t.door.ok('revoke_portal_session', { portal_session_id: a.portal_session.id });
    expect(second.changed).toBe(false);
    expect(second.portal_session.revoked_at).toBe(first.portal_session.revoked_at);

    const live = await t.door.ok('list_portal_sessions', { customer_id: 'ps-list' });
    expect(live.portal_sessions.map((s: { id: string }) => s.id)).toEqual([b.portal_session.id]);
    expect(live.pagination).toMatchObject({ total_count: 1, current_page: 1, total_pages: 1 });
    const all = await t.door.ok('list_portal_sessions', { customer_id: 'ps-list', include_expired: true });
    expect(all.portal_sessions.map((s: { id: string }) => s.id)).toEqual([
      b.portal_session.id,
      a.portal_session.id,
    ]);
    for (const s of all.portal_sessions) expect(JSON.stringify(s)).not.toMatch(/bfp_/);
    const paged = await t.door.ok('list_portal_sessions', {
      customer_id: 'ps-list',
      include_expired: true,
      per_page: 1,
      page: 2,
    });
    expect(paged.portal_sessions.map((s: { id: string }) => s.id)).toEqual([a.portal_session.id]);
    expect(paged.pagination).toMatchObject({ total_count: 2, total_pages: 2, prev_page: 1, next_page: null });

    const everyone = await t.door.ok('list_portal_sessions', { per_page: 100 });
    expect(
      everyone.portal_sessions.some(
        (s: { customer: { external_id: string } }) => s.customer.external_id === 'ps-acme',
      ),
    ).toBe(true);
    await t.door.fail('list_portal_sessions', { customer_id: 'nobody' }, 'NOT_FOUND');
    await t.door.fail(
      'revoke_portal_session',
      { portal_session_id: 'pses_01J00000000000000000000000' },
      'NOT_FOUND',
    );
  });

  it('records creation and revocation in the activity log, and never the token in the API log', async () => {
    const created = await t.door.ok('create_portal_session', {
      customer_id: 'ps-other',
      expires_in_minutes: 5,
    });
    const id = created.portal_session.id;
    await t.door.ok('revoke_portal_session', { portal_session_id: id });
    const { activity_logs } = await t.door.ok('list_activity_logs', { resource_ids: [id] });
    expect(activity_logs.map((a: { activity_type: string }) => a.activity_type)).toEqual([
      'portal_session.revoked',
      'portal_session.created',
    ]);
    expect(activity_logs[1]).toMatchObject({
      resource_type: 'portal_session',
      customer_id: created.portal_session.customer_id,
      changes: {
        features: ['invoices', 'subscriptions', 'usage', 'profile'],
        expires_at: created.portal_session.expires_at,
      },
    });
    expect(activity_logs[0].changes).toMatchObject({ status: ['active', 'revoked'] });
    expect(JSON.stringify(activity_logs)).not.toContain(created.token);

    const { api_logs } = await t.door.ok('list_api_logs', {
      operations: ['create_portal_session'],
      per_page: 100,
    });
    const entry = api_logs.find(
      (l: { request_response: { portal_session?: { id: string } } }) =>
        l.request_response?.portal_session?.id === id,
    );
    expect(entry, 'the API log entry of the create').toBeDefined();
    expect(entry.request_response).toMatchObject({ url: '(secret)', token: '(secret)' });
    expect(JSON.stringify(api_logs)).not.toContain(created.token);
  });
});
