import type { OrganizationsTable } from '../db/schema.js';
import { BillfoldError } from '../domain/errors.js';

/**
 * The one refusal for every credential of a disabled organization (API keys here, tokens
 * wherever they are checked), so a caller always learns why and who can change it.
 */
export function organizationDisabledError(
  org: Pick<OrganizationsTable, 'id' | 'disabled_at'>,
): BillfoldError {
  return new BillfoldError(
    'FORBIDDEN',
    `organization '${org.id}' is disabled: its API keys and tokens are refused until it is enabled again`,
    {
      organization_id: org.id,
      disabled_at: org.disabled_at === null ? null : new Date(org.disabled_at).toISOString(),
    },
    'The operator of this Billfold installation enables it with `billfold orgs enable <organization>`.',
  );
}

/** Throws organizationDisabledError when `org` is disabled. */
export function assertOrganizationEnabled(org: Pick<OrganizationsTable, 'id' | 'disabled_at'>): void {
  if (org.disabled_at !== null) throw organizationDisabledError(org);
}
