import { sql, type Kysely, type SqlBool } from 'kysely';
import type { Database, OrganizationsTable } from '../db/schema.js';
import { countAll, escapeLike, isUniqueViolation } from '../db/sql.js';
import { pageOffset, type PageRequest } from '../domain/pagination.js';
import { BillfoldError, notFound, validation } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { createApiKey, forgetOrganizationKeys, type ApiKeyView } from './api-keys.js';
import { forgetOrganizationClaims } from './organization-claims.js';
import { createSigningKey } from './signing-keys.js';

export { assertOrganizationEnabled, organizationDisabledError } from './organization-access.js';

/**
 * The organizations of an installation: each one a tenant whose data no other sees. They are
 * made, listed, disabled and enabled by the installation's operator (the CLI on the server's
 * machine, or a `platform` key); an organization's own admin only reads and edits its own.
 */

/** The organization a fresh installation creates and that stdio and the CLI act for. */
export async function findDefaultOrganization(db: Kysely<Database>): Promise<OrganizationsTable | undefined> {
  return db
    .selectFrom('organizations')
    .selectAll()
    .where('is_default', '=', 1)
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
}

const EXTERNAL_ID_MAX = 255;

/**
 * An external id as another system writes it (an identity provider's `org_2abc…`, a UUID, a
 * customer number): compared exactly, so it is only trimmed and checked for what cannot be
 * meant (empty, control characters, absurd length).
 */
export function normalizeExternalId(value: string, field = 'external_id'): string {
  const v = value.trim();
  if (v.length === 0)
    throw validation(field, 'must not be empty', 'Give the id the other system uses, e.g. org_2abc.');
  if (v.length > EXTERNAL_ID_MAX) throw validation(field, `must be at most ${EXTERNAL_ID_MAX} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v)) throw validation(field, 'must not contain control characters');
  return v;
}

function normalizeName(value: string): string {
  const v = value.trim();
  if (v.length === 0)
    throw validation('name', 'must not be empty', 'Give the name printed on invoices, e.g. "Acme Ltd".');
  if (v.length > 200) throw validation('name', 'must be at most 200 characters');
  return v;
}

function externalIdTaken(externalId: string): BillfoldError {
  return new BillfoldError(
    'CONFLICT',
    `external_id: an organization with external_id '${externalId}' already exists`,
    { field: 'external_id', value: externalId },
    'Each external id names one organization; list organizations to find it, or choose another.',
  );
}

export async function createOrganization(
  db: Kysely<Database>,
  input: { name: string; externalId?: string | null; isDefault?: boolean; now: number },
): Promise<OrganizationsTable> {
  const row: OrganizationsTable = {
    id: newId('organization', input.now),
    name: input.isDefault ? input.name : normalizeName(input.name),
    is_default: input.isDefault ? 1 : 0,
    legal_name: null,
    email: null,
    address_line1: null,
    address_line2: null,
    city: null,
    state: null,
    zipcode: null,
    country: null,
    tax_identification_number: null,
    default_currency: 'USD',
    timezone: 'UTC',
    net_payment_term: 30,
    invoice_prefix: 'INV',
    invoice_numbering: 'per_organization',
    invoice_footer: null,
    bank_iban: null,
    bank_bic: null,
    bank_name: null,
    finalize_invoices: 1,
    past_due_grace_period_days: 0,
    logo_url: null,
    accent_color: null,
    external_id: input.externalId == null ? null : normalizeExternalId(input.externalId),
    disabled_at: null,
    created_at: input.now,
    updated_at: input.now,
  };
  try {
    await db.insertInto('organizations').values(row).execute();
  } catch (e) {
    if (row.external_id !== null && isUniqueViolation(e)) throw externalIdTaken(row.external_id);
    throw e;
  }
  await createSigningKey(db, row.id, input.now);
  return row;
}

/**
 * A new organization and its first admin key, in one transaction: an organization nobody can
 * act for is never left behind. The key is returned in full only here.
 */
export async function createOrganizationWithAdminKey(
  db: Kysely<Database>,
  input: { name: string; externalId?: string | null; now: number },
): Promise<{ organization: OrganizationsTable; key: string; apiKey: ApiKeyView }> {
  const run = async (trx: Kysely<Database>) => {
    const organization = await createOrganization(trx, input);
    const { key, apiKey } = await createApiKey(trx, {
      organizationId: organization.id,
      name: 'first admin key',
      scopes: ['admin'],
      now: input.now,
    });
    return { organization, key, apiKey };
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

export interface OrganizationFilter {
  status?: 'active' | 'disabled';
  /** Matches name, legal name, external id or id, ignoring case. */
  search?: string;
}

/** Organizations oldest first, narrowed by `filter`; one page of them when `page` is given. */
export async function listOrganizations(
  db: Kysely<Database>,
  filter: OrganizationFilter = {},
  page?: PageRequest,
): Promise<{ organizations: OrganizationsTable[]; totalCount: number }> {
  let q = db.selectFrom('organizations');
  if (filter.status === 'active') q = q.where('disabled_at', 'is', null);
  if (filter.status === 'disabled') q = q.where('disabled_at', 'is not', null);
  if (filter.search) {
    const pattern = `%${escapeLike(filter.search.toLowerCase())}%`;
    q = q.where(
      sql<SqlBool>`lower(name || ' ' || coalesce(legal_name, '') || ' ' || coalesce(external_id, '') || ' ' || id) like ${pattern} escape '\\'`,
    );
  }
  let rows = q.selectAll().orderBy('id');
  if (page) rows = rows.limit(page.per_page).offset(pageOffset(page));
  const organizations = await rows.execute();
  const totalCount = page
    ? Number((await q.select(countAll()).executeTakeFirstOrThrow()).count)
    : organizations.length;
  return { organizations, totalCount };
}

/** The organization whose Billfold id or external id is `ref`, or undefined. */
export async function findOrganization(
  db: Kysely<Database>,
  ref: string,
): Promise<OrganizationsTable | undefined> {
  const byId = await db.selectFrom('organizations').selectAll().where('id', '=', ref).executeTakeFirst();
  if (byId) return byId;
  return findOrganizationByExternalId(db, ref);
}

/** The organization another system names `externalId` (a token's organization claim), or undefined. */
export async function findOrganizationByExternalId(
  db: Kysely<Database>,
  externalId: string,
): Promise<OrganizationsTable | undefined> {
  return db.selectFrom('organizations').selectAll().where('external_id', '=', externalId).executeTakeFirst();
}

/** Like findOrganization, or a NOT_FOUND that says how to find one. */
export async function getOrganizationByRef(db: Kysely<Database>, ref: string): Promise<OrganizationsTable> {
  const row = await findOrganization(db, ref);
  if (!row)
    throw notFound(
      'organization',
      ref,
      'Give its id (org_…) or its external_id; `billfold orgs list` lists every organization.',
    );
  return row;
}

/**
 * Disables an organization: every key and token of it is refused from now on (on other
 * instances once their short key cache expires), and nothing is deleted. The default
 * organization is the one stdio and the CLI act for, so it is never disabled.
 */
export async function disableOrganization(
  db: Kysely<Database>,
  ref: string,
  now: number,
): Promise<OrganizationsTable> {
  const row = await getOrganizationByRef(db, ref);
  if (row.is_default === 1)
    throw new BillfoldError(
      'INVALID_STATUS',
      `organization '${row.id}' is the default organization of this installation and cannot be disabled`,
      { organization_id: row.id },
      'Revoke its API keys with `billfold keys revoke` instead.',
    );
  if (row.disabled_at === null) {
    await db
      .updateTable('organizations')
      .set({ disabled_at: now, updated_at: now })
      .where('id', '=', row.id)
      .where('disabled_at', 'is', null)
      .execute();
    row.disabled_at = now;
    row.updated_at = now;
  }
  forgetOrganizationKeys(row.id);
  forgetOrganizationClaims(row.id);
  return row;
}

/** Enables a disabled organization again: its keys that are not revoked or expired work again. */
export async function enableOrganization(
  db: Kysely<Database>,
  ref: string,
  now: number,
): Promise<OrganizationsTable> {
  const row = await getOrganizationByRef(db, ref);
  if (row.disabled_at !== null) {
    await db
      .updateTable('organizations')
      .set({ disabled_at: null, updated_at: now })
      .where('id', '=', row.id)
      .execute();
    row.disabled_at = null;
    row.updated_at = now;
  }
  return row;
}

/**
 * Renames an organization or sets its external_id (null clears it) — the default organization
 * too, whose name is the placeholder "Default organization" until set. Only the operator does
 * this (the CLI, or a platform key): an external_id is how identity providers' organization
 * claims find an organization, so its own admin must not be able to point it elsewhere.
 */
export async function updateOrganizationIdentity(
  db: Kysely<Database>,
  ref: string,
  input: { name?: string; externalId?: string | null },
  now: number,
): Promise<OrganizationsTable> {
  if (input.name === undefined && input.externalId === undefined)
    throw validation(
      'name',
      'give name or external_id (or both) to change',
      'e.g. {"organization_id": "org_…", "name": "Acme Ltd", "external_id": "org_2abc"}',
    );
  const row = await getOrganizationByRef(db, ref);
  const next = { ...row };
  if (input.name !== undefined) next.name = normalizeName(input.name);
  if (input.externalId !== undefined)
    next.external_id = input.externalId === null ? null : normalizeExternalId(input.externalId);
  if (next.name === row.name && next.external_id === row.external_id) return row;
  next.updated_at = now;
  try {
    await db
      .updateTable('organizations')
      .set({ name: next.name, external_id: next.external_id, updated_at: now })
      .where('id', '=', row.id)
      .execute();
  } catch (e) {
    if (next.external_id !== null && isUniqueViolation(e)) throw externalIdTaken(next.external_id);
    throw e;
  }
  // Tokens whose organization claim named the old external id must not find it any more.
  if (next.external_id !== row.external_id) forgetOrganizationClaims(row.id);
  return next;
}

/** Returns the default organization, creating it on first run (`created` says which). */
export async function ensureDefaultOrganization(
  db: Kysely<Database>,
  now: number,
): Promise<{ organization: OrganizationsTable; created: boolean }> {
  try {
    return await db.transaction().execute(async (trx) => {
      const existing = await findDefaultOrganization(trx);
      if (existing) return { organization: existing, created: false };
      const organization = await createOrganization(trx, {
        name: 'Default organization',
        isDefault: true,
        now,
      });
      return { organization, created: true };
    });
  } catch (e) {
    // Another process created it between our read and our insert: use theirs.
    if (!isUniqueViolation(e)) throw e;
    const existing = await findDefaultOrganization(db);
    if (!existing) throw e;
    return { organization: existing, created: false };
  }
}
