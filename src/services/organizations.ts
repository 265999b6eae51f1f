import type { Kysely } from 'kysely';
import type { Database, OrganizationsTable } from '../db/schema.js';
import { isUniqueViolation } from '../db/sql.js';
import { newId } from '../domain/ids.js';

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

export async function createOrganization(
  db: Kysely<Database>,
  input: { name: string; isDefault?: boolean; now: number },
): Promise<OrganizationsTable> {
  const row: OrganizationsTable = {
    id: newId('organization', input.now),
    name: input.name,
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
    created_at: input.now,
    updated_at: input.now,
  };
  await db.insertInto('organizations').values(row).execute();
  return row;
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
