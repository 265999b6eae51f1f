import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): the secret is `whsec_` and
 * base64 of random bytes; each attempt signs `<webhook-id>.<webhook-timestamp>.<body>` with
 * HMAC-SHA256 under the decoded secret, sent as `v1,<base64>`. During a rotation the header
 * carries one signature per live secret, space-separated, and a receiver accepts any match.
 */

export const SECRET_PREFIX = 'whsec_';

export function newSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/** What get_ and list_ show of a secret: enough to tell two apart. */
export function secretHint(secret: string): string {
  return `${secret.slice(0, SECRET_PREFIX.length + 4)}…`;
}

function key(secret: string): Buffer {
  return Buffer.from(
    secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret,
    'base64',
  );
}

export function signature(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', key(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The three headers of one attempt, signed with every secret given. */
export function signedHeaders(
  secrets: readonly string[],
  id: string,
  timestampSeconds: number,
  body: string,
): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((s) => signature(s, id, timestampSeconds, body)).join(' '),
  };
}

/**
 * Lago's own signature headers, sent beside Standard Webhooks' to an endpoint whose
 * payload_format is lago, so a receiver written against Lago verifies as it does there:
 * X-Lago-Signature is base64 of HMAC-SHA256 of the body under the key as a string (Lago's
 * organization hmac_key; here the endpoint's current secret, the signing_secret its creation
 * answered). X-Lago-Unique-Key is the event's id, the same on every retry.
 */
export function lagoSignedHeaders(secret: string, id: string, body: string): Record<string, string> {
  return {
    'x-lago-signature': createHmac('sha256', secret).update(body).digest('base64'),
    'x-lago-signature-algorithm': 'hmac',
    'x-lago-unique-key': id,
  };
}
