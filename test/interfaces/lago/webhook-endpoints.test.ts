import { beforeAll, expect, it } from 'vitest';
import { caller, type Caller } from '../../harness/billing.js';
import type { TestOrganization } from '../../harness/environment.js';
import { describeDatabases } from '../../harness/suite.js';
import { lagoClient, lagoFailure, UUID, type LagoClient } from './client.js';

/**
 * Lago's webhook endpoints through Lago's own client: the endpoint made is Billfold's
 * (create_webhook_endpoint reads it back the same), its secret is shown once, and what Billfold
 * cannot honour (JWT signatures, an event type it does not send) is refused by Lago's name.
 * A public address literal that nothing is sent to: no dispatcher runs here.
 */
const PUBLIC = 'https://93.184.215.14';

describeDatabases("Lago's webhook endpoints", (t) => {
  let org: TestOrganization;
  let lago: LagoClient;
  let billfold: Caller;
  beforeAll(async () => {
    org = await t.env.newOrganization(['admin']);
    lago = lagoClient(t.env, org.key);
    billfold = caller(t.env, org.id);
  });

  it('creates, reads, lists, changes and deletes an endpoint as Lago writes them', async () => {
    const { data: created } = await lago.webhookEndpoints.createWebhookEndpoint({
      webhook_endpoint: {
        webhook_url: `${PUBLIC}/lago/a`,
        signature_algo: 'hmac',
        name: 'EC2-production',
        event_types: ['invoice.voided', 'customer.created'],
      },
    });
    const ep = created.webhook_endpoint as typeof created.webhook_endpoint & { signing_secret: string };
    expect(ep).toMatchObject({
      webhook_url: `${PUBLIC}/lago/a`,
      signature_algo: 'hmac',
      name: 'EC2-production',
      event_types: ['invoice.voided', 'customer.created'],
    });
    expect(ep.lago_id).toMatch(UUID);
    expect(ep.lago_organization_id).toMatch(UUID);
    expect(ep.signing_secret).toMatch(/^whsec_/);
    expect(ep.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    // The same endpoint in Billfold's own terms.
    const { webhook_endpoints } = await billfold.call('list_webhook_endpoints', {});
    expect(webhook_endpoints).toHaveLength(1);
    expect(webhook_endpoints[0]).toMatchObject({
      url: `${PUBLIC}/lago/a`,
      description: 'EC2-production',
      event_types: ['invoice.voided', 'customer.created'],
      secret_hint: `${ep.signing_secret.slice(0, 10)}…`,
    });

    const { data: read } = await lago.webhookEndpoints.findWebhookEndpoint(ep.lago_id);
    expect(read.webhook_endpoint).toEqual({
      lago_id: ep.lago_id,
      lago_organization_id: ep.lago_organization_id,
      webhook_url: ep.webhook_url,
      signature_algo: 'hmac',
      name: 'EC2-production',
      event_types: ['invoice.voided', 'customer.created'],
      created_at: ep.created_at,
    });
    expect(read.webhook_endpoint).not.toHaveProperty('signing_secret');

    const { data: updated } = await lago.webhookEndpoints.updateWebhookEndpoint(ep.lago_id, {
      webhook_endpoint: { webhook_url: `${PUBLIC}/lago/b`, event_types: null },
    });
    expect(updated.webhook_endpoint).toMatchObject({ webhook_url: `${PUBLIC}/lago/b`, event_types: null });

    const { data: list } = await lago.webhookEndpoints.findAllWebhookEndpoints({ page: 1, per_page: 10 });
    expect(list.webhook_endpoints.map((e) => e.lago_id)).toEqual([ep.lago_id]);
    expect(list.meta).toMatchObject({ current_page: 1, total_count: 1 });

    const { data: deleted } = await lago.webhookEndpoints.destroyWebhookEndpoint(ep.lago_id);
    expect(deleted.webhook_endpoint.lago_id).toBe(ep.lago_id);
    const gone = await lagoFailure(lago.webhookEndpoints.findWebhookEndpoint(ep.lago_id));
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe('webhook_endpoint_not_found');
  });

  it('refuses what Billfold cannot honour, by Lago field name', async () => {
    const jwt = await lagoFailure(
      lago.webhookEndpoints.createWebhookEndpoint({
        webhook_endpoint: { webhook_url: `${PUBLIC}/lago/jwt`, signature_algo: 'jwt' },
      }),
    );
    expect(jwt.status).toBe(422);
    expect(JSON.stringify(jwt.body)).toContain('signature_algo');
    expect(JSON.stringify(jwt.body)).toContain('HMAC-SHA256 per Standard Webhooks');

    const type = await lagoFailure(
      lago.webhookEndpoints.createWebhookEndpoint({
        webhook_endpoint: {
          webhook_url: `${PUBLIC}/lago/type`,
          event_types: ['wallet.depleted_ongoing_balance'],
        },
      }),
    );
    expect(type.status).toBe(422);
    expect(JSON.stringify(type.body)).toContain('event_types');

    const url = await lagoFailure(
      lago.webhookEndpoints.createWebhookEndpoint({ webhook_endpoint: { webhook_url: 'not a url' } }),
    );
    expect(url.status).toBe(422);
    expect(JSON.stringify(url.body)).toContain('webhook_url');

    const key = await lagoFailure(lago.webhooks.fetchPublicKey());
    expect(key.status).toBe(405);
    expect(key.body.message).toContain('each endpoint has its own secret');
    // Nothing was made by the refusals.
    expect((await billfold.call('list_webhook_endpoints', {})).webhook_endpoints).toEqual([]);
  });
});
