import { afterAll, describe, expect, it } from 'vitest';
import { httpApiDoor } from '../harness/doors.js';
import { startEnvironment, type TestEnvironment } from '../harness/environment.js';
import { describeDoors } from '../harness/suite.js';

/** Secrets a client sends never stay readable in the API log, whichever door they came through. */
describeDoors('API log redaction', (t) => {
  const logged = async (operation: string, status = '200') =>
    (await t.door.ok('list_api_logs', { operations: [operation], http_statuses: [status] })).api_logs[0];

  it('stores the values of secret-looking keys as (redacted), at any depth, on success and failure', async () => {
    await t.door.ok('create_customer', {
      external_id: 'redact-1',
      name: 'Redact Ltd',
      metadata: {
        password: 'hunter2',
        api_key: 'sk_live_abc',
        card_number: '4242424242424242',
        note: 'kept',
      },
    });
    const entry = await logged('create_customer');
    expect(entry.request_body).toEqual({
      external_id: 'redact-1',
      name: 'Redact Ltd',
      metadata: { password: '(redacted)', api_key: '(redacted)', card_number: '(redacted)', note: 'kept' },
    });
    expect(JSON.stringify(entry)).not.toMatch(/hunter2|sk_live_abc|4242424242424242/);

    await t.door.ok('update_organization', {
      bank_iban: 'DE89 3704 0044 0532 0130 00',
      bank_name: 'Kept Bank',
    });
    const org = await logged('update_organization');
    expect(org.request_body).toEqual({ bank_iban: '(redacted)', bank_name: 'Kept Bank' });
    expect(JSON.stringify(org)).not.toContain('3704');

    const events = Array.from({ length: 3 }, (_, i) => ({
      transaction_id: `redact-ev-${i}`,
      customer_id: 'redact-1',
      code: 'calls',
      properties: { session: { access_token: `tok-${i}`, region: 'eu' }, input_tokens_seen: 5 },
    }));
    await t.door.ok('record_usage_batch', { events });
    const batch = await logged('record_usage_batch');
    expect(batch.request_body.events[2].properties).toEqual({
      session: { access_token: '(redacted)', region: 'eu' },
      input_tokens_seen: 5,
    });

    await t.door.fail(
      'create_customer',
      { name: 'Fails', metadata: { secret: 'shh' }, currency: 'XXQ' },
      'VALIDATION_ERROR',
    );
    const failed = await logged('create_customer', '422');
    expect(failed.request_body.metadata).toEqual({ secret: '(redacted)' });
  });
});

describe('BILLFOLD_API_LOG_REDACT', () => {
  const envs: TestEnvironment[] = [];
  afterAll(async () => {
    for (const env of envs) await env.close();
  });
  async function bodyLoggedWith(value: string) {
    const env = await startEnvironment('sqlite', { variables: { BILLFOLD_API_LOG_REDACT: value } });
    envs.push(env);
    const door = httpApiDoor(env, (await env.newOrganization(['admin'])).key);
    await door.ok('create_customer', {
      name: 'Configured',
      tax_identification_number: 'FR123',
      metadata: { password: 'p', ssn: '078-05-1120', customer_tax_id: 'T-1' },
    });
    return (await door.ok('list_api_logs', { operations: ['create_customer'] })).api_logs[0].request_body;
  }

  it('replaces the default list with its own patterns', async () => {
    expect(await bodyLoggedWith('ssn, tax_id')).toEqual({
      name: 'Configured',
      tax_identification_number: 'FR123',
      metadata: { password: 'p', ssn: '(redacted)', customer_tax_id: '(redacted)' },
    });
  });

  it('turns redaction off with none', async () => {
    expect((await bodyLoggedWith('none')).metadata).toEqual({
      password: 'p',
      ssn: '078-05-1120',
      customer_tax_id: 'T-1',
    });
  });
});
