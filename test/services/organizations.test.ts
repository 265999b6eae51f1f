import { expect, it } from 'vitest';
import { BillfoldError } from '../../src/domain/errors.js';
import { authenticateApiKey, createApiKey } from '../../src/services/api-keys.js';
import {
  createOrganization,
  createOrganizationWithAdminKey,
  disableOrganization,
  enableOrganization,
  findDefaultOrganization,
  findOrganizationByExternalId,
  getOrganizationByRef,
  listOrganizations,
} from '../../src/services/organizations.js';
import { describeDatabases } from '../harness/suite.js';

async function refusal(p: Promise<unknown>): Promise<BillfoldError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(BillfoldError);
  return e as BillfoldError;
}

describeDatabases('organizations', (t) => {
  const db = () => t.env.rt.db.kysely;
  let n = 0;
  const unique = (s: string) => `${s}-${t.db}-${Date.now().toString(36)}-${++n}`;

  it('creates an organization with its first admin key, found by id or external id', async () => {
    const externalId = unique('org_2abc');
    const now = Date.now();
    const { organization, key, apiKey } = await createOrganizationWithAdminKey(db(), {
      name: '  Acme Ltd ',
      externalId: ` ${externalId} `,
      now,
    });
    expect(organization.name).toBe('Acme Ltd');
    expect(organization.external_id).toBe(externalId);
    expect(organization.disabled_at).toBeNull();
    expect(apiKey.scopes).toEqual(['admin']);
    const principal = await authenticateApiKey(db(), key, now);
    expect(principal?.organizationId).toBe(organization.id);
    expect((await getOrganizationByRef(db(), organization.id)).id).toBe(organization.id);
    expect((await getOrganizationByRef(db(), externalId)).id).toBe(organization.id);
    expect((await findOrganizationByExternalId(db(), externalId))?.id).toBe(organization.id);
    expect((await listOrganizations(db())).organizations.map((o) => o.id)).toContain(organization.id);
  });

  it('refuses a second organization with the same external id, and leaves no organization behind', async () => {
    const externalId = unique('dup');
    await createOrganization(db(), { name: 'First', externalId, now: Date.now() });
    const before = (await listOrganizations(db())).totalCount;
    const e = await refusal(
      createOrganizationWithAdminKey(db(), { name: 'Second', externalId, now: Date.now() }),
    );
    expect(e.code).toBe('CONFLICT');
    expect(e.message).toContain('external_id');
    expect((await listOrganizations(db())).totalCount).toBe(before);
  });

  it('allows any number of organizations without an external id', async () => {
    await createOrganization(db(), { name: 'No external id 1', now: Date.now() });
    await createOrganization(db(), { name: 'No external id 2', now: Date.now() });
  });

  it('names the field of a bad name or external id', async () => {
    const empty = await refusal(createOrganization(db(), { name: ' ', now: Date.now() }));
    expect(empty.code).toBe('VALIDATION_ERROR');
    expect(empty.message).toMatch(/^name:/);
    const blank = await refusal(createOrganization(db(), { name: 'X', externalId: '  ', now: Date.now() }));
    expect(blank.message).toMatch(/^external_id:/);
    const control = await refusal(
      createOrganization(db(), { name: 'X', externalId: 'a\nb', now: Date.now() }),
    );
    expect(control.message).toMatch(/^external_id: must not contain control characters/);
    const missing = await refusal(getOrganizationByRef(db(), 'org_nothing'));
    expect(missing.code).toBe('NOT_FOUND');
  });

  it('refuses every key of a disabled organization with why, deletes nothing, and enables it again', async () => {
    const now = Date.now();
    const { organization, key } = await createOrganizationWithAdminKey(db(), { name: 'Disabled Co', now });
    const { key: readKey } = await createApiKey(db(), {
      organizationId: organization.id,
      name: 'reader',
      scopes: ['read'],
      now,
    });
    // Cached before the organization is disabled: the cache must not keep it working.
    expect(await authenticateApiKey(db(), key, now, 60_000)).not.toBeNull();
    const disabled = await disableOrganization(db(), organization.id, now + 1);
    expect(disabled.disabled_at).toBe(now + 1);
    for (const k of [key, readKey]) {
      const e = await refusal(authenticateApiKey(db(), k, now + 2, 60_000));
      expect(e.code).toBe('FORBIDDEN');
      expect(e.message).toContain(`organization '${organization.id}' is disabled`);
    }
    // Disabling twice keeps the first time; nothing was deleted.
    expect((await disableOrganization(db(), organization.id, now + 5)).disabled_at).toBe(now + 1);
    const keys = await db()
      .selectFrom('api_keys')
      .select('id')
      .where('organization_id', '=', organization.id)
      .execute();
    expect(keys).toHaveLength(2);
    expect((await listOrganizations(db(), { status: 'disabled' })).organizations.map((o) => o.id)).toContain(
      organization.id,
    );
    expect(
      (await listOrganizations(db(), { status: 'active' })).organizations.map((o) => o.id),
    ).not.toContain(organization.id);

    await enableOrganization(db(), organization.id, now + 10);
    expect((await authenticateApiKey(db(), key, now + 11))?.organizationId).toBe(organization.id);
  });

  it('never disables the default organization', async () => {
    const def = await findDefaultOrganization(db());
    const e = await refusal(disableOrganization(db(), def!.id, Date.now()));
    expect(e.code).toBe('INVALID_STATUS');
    expect(e.message).toContain('default organization');
  });
});
