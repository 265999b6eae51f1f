import { isUniqueViolation } from '../db/sql.js';
import { createApiKey, hashApiKey } from '../services/api-keys.js';
import type { Principal } from '../services/context.js';
import { ensureDefaultOrganization } from '../services/organizations.js';
import type { Runtime } from './runtime.js';

export interface BootstrapResult {
  organizationId: string;
  organizationName: string;
  /** The admin key, when this run created it from scratch (shown once). */
  newAdminKey?: string;
  /** True when BILLFOLD_BOOTSTRAP_API_KEY was registered by this run. */
  bootstrapKeyRegistered: boolean;
}

/**
 * First-run setup, safe to repeat: the default organization, and its first admin key — either
 * generated (and returned once, to be printed) or the one BILLFOLD_BOOTSTRAP_API_KEY names.
 */
export async function bootstrap(rt: Runtime, options: { createAdminKey: boolean }): Promise<BootstrapResult> {
  const { organization, created } = await ensureDefaultOrganization(rt.db.kysely, rt.now());
  const result: BootstrapResult = {
    organizationId: organization.id,
    organizationName: organization.name,
    bootstrapKeyRegistered: false,
  };
  const wanted = rt.config.bootstrapApiKey;
  if (wanted) {
    const existing = await rt.db.kysely
      .selectFrom('api_keys')
      .select('id')
      .where('hash', '=', hashApiKey(wanted))
      .executeTakeFirst();
    if (!existing) {
      try {
        await createApiKey(rt.db.kysely, {
          organizationId: organization.id,
          name: 'bootstrap',
          scopes: ['admin'],
          now: rt.now(),
          key: wanted,
        });
        result.bootstrapKeyRegistered = true;
      } catch (e) {
        // Another instance starting at the same moment registered the same key first.
        if (!isUniqueViolation(e)) throw e;
      }
    }
  } else if (created && options.createAdminKey) {
    const { key } = await createApiKey(rt.db.kysely, {
      organizationId: organization.id,
      name: 'admin',
      scopes: ['admin'],
      now: rt.now(),
    });
    result.newAdminKey = key;
  }
  return result;
}

/** The operator at the keyboard: stdio and the CLI act as the default organization's admin. */
export function localPrincipal(organizationId: string, name = 'local'): Principal {
  return {
    organizationId,
    actor: { type: 'local', id: null, name },
    // Whoever runs Billfold on its machine holds its database: the installation's operator.
    scopes: new Set(['read', 'write', 'admin', 'platform']),
  };
}
