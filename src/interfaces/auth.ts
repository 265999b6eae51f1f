import type { IncomingHttpHeaders } from 'node:http';
import { BillfoldError } from '../domain/errors.js';
import { authenticateApiKey } from '../services/api-keys.js';
import type { Principal } from '../services/context.js';
import type { Runtime } from './runtime.js';

/** The key a request presents: `Authorization: Bearer <key>`, or `X-API-Key: <key>`. */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1] : undefined;
  }
  const x = headers['x-api-key'];
  return typeof x === 'string' && x.trim() ? x.trim() : undefined;
}

/** Resolves the request's key to a principal, or a 401 error that says what is wrong. */
export async function authenticate(rt: Runtime, headers: IncomingHttpHeaders): Promise<Principal> {
  const key = presentedKey(headers);
  if (!key) {
    const malformed = headers.authorization !== undefined;
    throw new BillfoldError(
      'UNAUTHORIZED',
      malformed
        ? 'the Authorization header must read "Bearer <api key>"'
        : 'this endpoint needs an API key: send "Authorization: Bearer <api key>"',
      {},
      'Create a key with `billfold keys create --name <name>`; the first one is printed when the server starts.',
    );
  }
  let principal;
  try {
    principal = await authenticateApiKey(rt.db.kysely, key, rt.now(), rt.config.authCacheMs);
  } catch (e) {
    // A refusal that names its reason (a disabled organization) reaches the caller as it is.
    if (e instanceof BillfoldError) throw e;
    rt.logger.error({ err: (e as Error).message }, 'API key check failed');
    throw new BillfoldError(
      'INTERNAL_ERROR',
      'the API key cannot be checked because the database is unavailable',
      { retryable: true },
      'Retry in a moment; GET /health shows when the database is back.',
    );
  }
  if (!principal) {
    throw new BillfoldError(
      'UNAUTHORIZED',
      'the API key is not valid: it is unknown, revoked or expired',
      {},
      'Check the key, or create a new one with `billfold keys create`.',
    );
  }
  return principal;
}
