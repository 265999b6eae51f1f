import { meta, type LagoCall } from '../call.js';
import { invalidFields } from '../errors.js';
import { billfoldRef, lagoId } from '../ids.js';
import { Fields } from '../request.js';
import type { LagoRoute } from '../router.js';
import { lagoTime } from '../shapes.js';

/**
 * Lago's webhook endpoints over Billfold's (create_webhook_endpoint and the rest). Lago's
 * `name` is Billfold's description, `event_types` the same type names (invoice.voided,
 * customer.created). Billfold signs every delivery one way, HMAC-SHA256 per Standard Webhooks
 * with a secret per endpoint, so `signature_algo` is `hmac` or absent, and the secret, which
 * Lago keeps per organization (GET /webhooks/hmac_key), comes back once in the create reply
 * as `signing_secret`.
 */
const NAMES = { url: 'webhook_url', description: 'name', event_types: 'event_types' };

export function webhookEndpointObject(e: Record<string, any>, organizationId: string) {
  return {
    lago_id: lagoId(e.id),
    lago_organization_id: lagoId(organizationId),
    webhook_url: e.url,
    signature_algo: 'hmac',
    name: e.description,
    event_types: e.event_types,
    created_at: lagoTime(e.created_at),
  };
}

function endpointInput(f: Fields): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  f.copy(args, 'webhook_url', 'url');
  f.copy(args, 'name', 'description');
  f.copy(args, 'event_types');
  const algo = f.get('signature_algo');
  if (algo !== undefined && algo !== null && algo !== 'hmac') {
    throw invalidFields({
      'webhook_endpoint.signature_algo':
        `Billfold signs every delivery with HMAC-SHA256 per Standard Webhooks (got '${String(algo)}'); ` +
        'send hmac or leave it out',
    });
  }
  f.done();
  return args;
}

const endpointRef = (id: string) => billfoldRef('webhook_endpoint', id);
const object = (call: LagoCall, e: Record<string, any>) =>
  webhookEndpointObject(e, call.principal.organizationId);

export const webhookEndpointRoutes: LagoRoute[] = [
  {
    method: 'POST',
    path: '/webhook_endpoints',
    async handle(call) {
      // Registered through Lago's API, an endpoint receives Lago's bodies (webhooks.ts).
      const args = { ...endpointInput(Fields.root(call.body, 'webhook_endpoint')), payload_format: 'lago' };
      const out = await call.op('create_webhook_endpoint', args, 'webhook_endpoint', NAMES);
      // Only a new endpoint has a secret to show; for a URL already registered it is null.
      return { webhook_endpoint: { ...object(call, out.webhook_endpoint), signing_secret: out.secret } };
    },
  },
  {
    method: 'GET',
    path: '/webhook_endpoints',
    async handle(call) {
      const args = { ...call.query.page() };
      call.query.done();
      const out = await call.op('list_webhook_endpoints', args, 'webhook_endpoint');
      return {
        webhook_endpoints: out.webhook_endpoints.map((e: Record<string, any>) => object(call, e)),
        meta: meta(out.pagination),
      };
    },
  },
  {
    method: 'GET',
    path: '/webhook_endpoints/{lago_id}',
    async handle(call, [id]) {
      call.query.done();
      const out = await call.op(
        'get_webhook_endpoint',
        { endpoint_id: endpointRef(id!) },
        'webhook_endpoint',
      );
      return { webhook_endpoint: object(call, out.webhook_endpoint) };
    },
  },
  {
    method: 'PUT',
    path: '/webhook_endpoints/{lago_id}',
    async handle(call, [id]) {
      const args = {
        endpoint_id: endpointRef(id!),
        ...endpointInput(Fields.root(call.body, 'webhook_endpoint')),
      };
      const out = await call.op('update_webhook_endpoint', args, 'webhook_endpoint', NAMES);
      return { webhook_endpoint: object(call, out.webhook_endpoint) };
    },
  },
  {
    method: 'DELETE',
    path: '/webhook_endpoints/{lago_id}',
    async handle(call, [id]) {
      call.query.done();
      const out = await call.op(
        'delete_webhook_endpoint',
        { endpoint_id: endpointRef(id!) },
        'webhook_endpoint',
      );
      return { webhook_endpoint: object(call, out.webhook_endpoint) };
    },
  },
];
