import { expect, it } from 'vitest';
import { findDefaultOrganization } from '../../src/services/organizations.js';
import { openDoor, type Door } from '../harness/doors.js';
import { describeDoors } from '../harness/suite.js';

/**
 * The installation's operator (a platform key) creates, reads, lists, disables and enables
 * organizations through the catalogue; an organization's admin reaches none of that, and never
 * another organization through get_organization.
 */
describeDoors(
  'organizations',
  (t) => {
    let platform: Door;
    let n = 0;
    const unique = (s: string) => `${s}-${t.db}-${t.door.name}-${++n}`;

    async function post(path: string, key: string, body: unknown = {}) {
      const res = await fetch(`${t.env.url}${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: JSON.parse(text) };
    }

    it('creates an organization whose first admin key acts for it, read and listed by the operator', async () => {
      const def = await findDefaultOrganization(t.env.rt.db.kysely);
      platform = await openDoor(t.env, t.door.name, await t.env.addKey(def!.id, ['platform'], 'operator'));
      const externalId = unique('org_2abc');
      const made = await platform.ok('create_organization', { name: 'Acme Ltd', external_id: externalId });
      expect(made.organization).toMatchObject({
        name: 'Acme Ltd',
        external_id: externalId,
        status: 'active',
        disabled_at: null,
      });
      expect(made.api_key.scopes).toEqual(['admin']);
      expect(made.key).toMatch(/^bfk_/);
      const verified = await post('/api/v1/verify', made.key);
      expect(verified.body.organization.id).toBe(made.organization.id);

      for (const ref of [made.organization.id, externalId]) {
        const got = await platform.ok('get_organization', { organization_id: ref });
        expect(got.organization.id).toBe(made.organization.id);
      }
      // Without organization_id the operator reads its own, the default organization.
      expect((await platform.ok('get_organization', {})).organization.id).toBe(def!.id);
      const listed = await platform.ok('list_organizations', { search: externalId });
      expect(listed.organizations.map((o: { id: string }) => o.id)).toEqual([made.organization.id]);
      expect(listed.pagination.total_count).toBe(1);
    });

    it('refuses a taken external id and a blank name by field', async () => {
      const externalId = unique('taken');
      await platform.ok('create_organization', { name: 'First', external_id: externalId });
      const taken = await platform.fail(
        'create_organization',
        { name: 'Second', external_id: externalId },
        'CONFLICT',
      );
      expect(taken.message).toContain('external_id');
      const before = (await platform.ok('list_organizations', { search: externalId })).pagination.total_count;
      expect(before).toBe(1);
      const blank = await platform.fail('create_organization', { name: '  ' }, 'VALIDATION_ERROR');
      expect(blank.message).toContain('name');
    });

    it('disables an organization: its keys are refused with why on every door, nothing is deleted', async () => {
      const externalId = unique('disable-me');
      const made = await platform.ok('create_organization', {
        name: 'Soon Disabled',
        external_id: externalId,
      });
      const tenant = await openDoor(t.env, t.door.name, made.key);
      const { customer } = await tenant.ok('create_customer', { external_id: 'kept', name: 'Kept Customer' });
      await tenant.close();

      const off = await platform.ok('disable_organization', { organization_id: externalId });
      expect(off.organization.status).toBe('disabled');
      expect(off.organization.disabled_at).not.toBeNull();
      const api = await post('/api/v1/verify', made.key);
      expect(api.status).toBe(403);
      expect(api.body.error.code).toBe('FORBIDDEN');
      expect(api.body.error.message).toContain(`organization '${made.organization.id}' is disabled`);
      const mcp = await post('/mcp', made.key, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
      expect(mcp.status).toBe(403);
      expect(JSON.stringify(mcp.body)).toContain('is disabled');
      expect(
        (await platform.ok('list_organizations', { status: 'disabled', search: externalId })).pagination
          .total_count,
      ).toBe(1);

      await platform.ok('enable_organization', { organization_id: made.organization.id });
      const back = await openDoor(t.env, t.door.name, made.key);
      try {
        expect((await back.ok('get_customer', { customer_id: 'kept' })).customer.id).toBe(customer.id);
      } finally {
        await back.close();
      }
    });

    it('never disables the default organization, and names an unknown one', async () => {
      const def = await findDefaultOrganization(t.env.rt.db.kysely);
      await platform.fail('disable_organization', { organization_id: def!.id }, 'INVALID_STATUS');
      const missing = await platform.fail(
        'enable_organization',
        { organization_id: 'org_nothing' },
        'NOT_FOUND',
      );
      expect(missing.message).toContain('org_nothing');
    });

    it('renames an organization and sets or clears its external id, the default one included', async () => {
      const def = await findDefaultOrganization(t.env.rt.db.kysely);
      const own = await platform.ok('update_organization_identity', { name: unique('Operator Ltd') });
      expect(own.organization).toMatchObject({ id: def!.id, name: expect.stringMatching(/^Operator Ltd-/) });
      expect((await platform.ok('get_organization', {})).organization.name).toBe(own.organization.name);

      const first = unique('idp-a');
      const made = await platform.ok('create_organization', { name: 'Renamed later', external_id: first });
      const second = unique('idp-b');
      const moved = await platform.ok('update_organization_identity', {
        organization_id: first,
        name: 'Renamed now',
        external_id: second,
      });
      expect(moved.organization).toMatchObject({
        id: made.organization.id,
        name: 'Renamed now',
        external_id: second,
      });
      expect((await platform.ok('get_organization', { organization_id: second })).organization.id).toBe(
        made.organization.id,
      );
      await platform.fail('get_organization', { organization_id: first }, 'NOT_FOUND');
      // Its own admin sees the new name on its invoices' settings.
      const back = await openDoor(t.env, t.door.name, made.key);
      try {
        expect((await back.ok('get_organization', {})).organization.name).toBe('Renamed now');
        const e = await back.fail('update_organization_identity', { external_id: 'mine' }, 'FORBIDDEN');
        expect(e.message).toContain('platform');
      } finally {
        await back.close();
      }
      const cleared = await platform.ok('update_organization_identity', {
        organization_id: made.organization.id,
        external_id: null,
      });
      expect(cleared.organization).toMatchObject({ name: 'Renamed now', external_id: null });

      const other = unique('idp-c');
      await platform.ok('create_organization', { name: 'Holder', external_id: other });
      const conflict = await platform.fail(
        'update_organization_identity',
        { organization_id: made.organization.id, external_id: other },
        'CONFLICT',
      );
      expect(conflict.message).toBe(
        `external_id: an organization with external_id '${other}' already exists`,
      );
      const nothing = await platform.fail(
        'update_organization_identity',
        { organization_id: made.organization.id },
        'VALIDATION_ERROR',
      );
      expect(nothing.message).toContain('give name or external_id (or both) to change');
      const blank = await platform.fail('update_organization_identity', { name: '   ' }, 'VALIDATION_ERROR');
      expect(blank.message).toMatch(/^name/);
      const missing = await platform.fail(
        'update_organization_identity',
        { organization_id: 'org_nothing', name: 'x' },
        'NOT_FOUND',
      );
      expect(missing.message).toContain('org_nothing');
    });

    it("gives an organization's admin no platform operation and no other organization", async () => {
      const other = await platform.ok('create_organization', { name: 'Other', external_id: unique('other') });
      for (const [tool, args] of [
        ['create_organization', { name: 'Mine now' }],
        ['list_organizations', {}],
        ['disable_organization', { organization_id: other.organization.id }],
        ['enable_organization', { organization_id: other.organization.id }],
        ['update_organization_identity', { organization_id: other.organization.id, name: 'Mine' }],
      ] as const) {
        const e = await t.door.fail(tool, args, 'FORBIDDEN');
        expect(e.message).toContain('platform');
      }
      // Another organization by id, by external id, or one that does not exist: the same refusal.
      const refusals = [];
      for (const ref of [other.organization.id, other.organization.external_id, 'org_nothing'])
        refusals.push((await t.door.fail('get_organization', { organization_id: ref }, 'FORBIDDEN')).message);
      expect(new Set(refusals).size).toBe(1);
      expect((await t.door.ok('get_organization', { organization_id: t.org.id })).organization.id).toBe(
        t.org.id,
      );
      expect((await t.door.ok('get_organization', {})).organization.id).toBe(t.org.id);
      expect(
        (await platform.ok('get_organization', { organization_id: other.organization.id })).organization.name,
      ).toBe('Other');
      await platform.close();
    });
  },
  { doors: ['http_api', 'mcp_http'] },
);
