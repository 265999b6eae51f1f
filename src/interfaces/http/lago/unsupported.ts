import { LagoError } from './errors.js';

/**
 * Lago endpoints Billfold does not answer, each named in Lago's 405 error body so a client
 * learns at once what is missing (never a fake success). The order matters: the first
 * description whose pattern matches the path is given.
 */
const MISSING: Array<[RegExp, string]> = [
  [
    /^\/wallet_transactions\/|^\/wallets\/[^/]+\/metadata|^\/customers\/[^/]+\/wallets\//,
    "a wallet transaction by its id (with its consumptions, fundings and payment URL), wallet metadata, and a customer's wallet by its code (GET /wallets/{lago_id}/wallet_transactions lists a wallet's transactions; /wallets/{lago_id} reads, changes and terminates a wallet)",
  ],
  [
    /^\/webhooks\//,
    "an organization's webhook signing key (each endpoint has its own secret: signing_secret in POST /webhook_endpoints' reply, or rotate_webhook_secret)",
  ],
  [/\/alerts(\/|$)/, "Lago's usage alerts"],
  [/entitlements|^\/features/, "Lago's features and entitlements"],
  [/fixed_charges/, "Lago's fixed charges (Billfold's plans have a base fee and usage charges)"],
  [
    /^\/plans\/[^/]+\/charges|^\/subscriptions\/[^/]+\/charges/,
    'charges as their own resource (send them with the plan: PUT /plans/{code})',
  ],
  [/\/metadata(\/|$)/, 'metadata as its own resource (send metadata with the object)'],
  [
    /^\/billing_entities/,
    "Lago's billing entities (Billfold has one issuer per organization: GET /organizations)",
  ],
  [
    /^\/analytics\//,
    "Lago's analytics endpoints (Billfold's get_mrr and get_customer_revenue operations cover revenue)",
  ],
  [/^\/fees/, 'fees as their own resource (an invoice carries its fees)'],
  [/^\/payments\/[^/]+$/, "a payment read by its id (GET /payments?invoice_id= lists an invoice's payments)"],
  [
    /payment_requests|payment_receipts|payment_methods|payment_url|retry_payment|checkout_url/,
    'payment providers, payment requests and receipts',
  ],
  [
    /projected_usage|past_usage|lifetime_usage/,
    'projected, past and lifetime usage (current_usage is available)',
  ],
  [/^\/quotes|^\/quote_versions|^\/order_forms|^\/orders/, "Lago's quotes and orders"],
  [
    /estimate|preview|evaluate_expression/,
    "estimates and previews through the Lago API (Billfold's preview_invoice operation shows the next invoice)",
  ],
  [/lose_dispute|\/retry$|\/refresh$/, 'payment disputes and invoice retries'],
];

export function unsupportedEndpoint(method: string, path: string): LagoError {
  for (const [pattern, what] of MISSING) {
    if (pattern.test(path))
      return new LagoError(
        405,
        'not_supported',
        `${method} ${path}: ${what}: not available in Billfold`,
        undefined,
        "README's Lago API table lists the endpoints Billfold answers.",
      );
  }
  return new LagoError(
    404,
    'route_not_found',
    `there is no Lago endpoint ${method} ${path}`,
    undefined,
    "README's Lago API table lists the endpoints Billfold answers.",
  );
}
