import type { Kysely } from 'kysely';
import { prepared } from '../db/prepared.js';
import type { Database } from '../db/schema.js';
import { organizationDisabledError } from './organization-access.js';

/**
 * The organization a bearer token's organization claim names: its Billfold id (`org_…`) or its
 * external_id (an identity provider's organization or tenant id). Kept for `cacheMs`, as
 * verified API keys are: a new organization or external id is found at once (misses are not
 * kept), a disabled one is refused at once on this instance (disableOrganization forgets it) and
 * elsewhere within the cache time.
 */
const organizationsByClaim = prepared((db, p: { ref: string }) =>
  db
    .selectFrom('organizations')
    .select(['id', 'disabled_at'])
    .where((eb) => eb.or([eb('id', '=', p.ref), eb('external_id', '=', p.ref)])),
);

const CACHE_MAX = 10_000;
const byClaim = new Map<string, { id: string; disabledAt: number | null; until: number }>();

/** The organization's id, null when the claim names none; throws when it is disabled. */
export async function organizationForClaim(
  db: Kysely<Database>,
  ref: string,
  now: number,
  cacheMs: number,
): Promise<string | null> {
  let hit = byClaim.get(ref);
  if (!hit || hit.until <= now) {
    const rows = await organizationsByClaim(db, { ref });
    // An id names its organization even if another one took the same text as external_id.
    const row = rows.find((r) => r.id === ref) ?? rows[0];
    if (!row) {
      byClaim.delete(ref);
      return null;
    }
    hit = { id: row.id, disabledAt: row.disabled_at, until: now + cacheMs };
    if (cacheMs > 0) {
      if (byClaim.size >= CACHE_MAX) byClaim.delete(byClaim.keys().next().value as string);
      byClaim.set(ref, hit);
    }
  }
  if (hit.disabledAt !== null) throw organizationDisabledError({ id: hit.id, disabled_at: hit.disabledAt });
  return hit.id;
}

/** Drops this instance's cached claims of an organization (it was just disabled or renamed). */
export function forgetOrganizationClaims(organizationId: string): void {
  for (const [ref, entry] of byClaim) if (entry.id === organizationId) byClaim.delete(ref);
}
