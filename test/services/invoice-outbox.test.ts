import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpApiDoor } from '../harness/doors.js';
import { startEnvironment, type TestEnvironment } from '../harness/environment.js';
import { pdfText } from '../harness/pdf.js';
import { attachment, header } from '../harness/smtp.js';
import { describeDoors, environmentVariables } from '../harness/suite.js';

/** Without a mail server, send_invoice writes the message to the outbox folder — never drops it. */
const outbox = mkdtempSync(join(tmpdir(), 'billfold-outbox-'));
beforeAll(() => {
  environmentVariables.BILLFOLD_OUTBOX_DIR = outbox;
});

describeDoors(
  'send_invoice without SMTP',
  (t) => {
    it('writes an .eml with the PDF attached and says where it went', async () => {
      await t.door.ok('create_customer', {
        external_id: 'o1',
        name: 'Outbox Client',
        email: 'ap@outbox.test',
        currency: 'EUR',
      });
      const { invoice } = await t.door.ok('create_invoice', {
        customer_id: 'o1',
        amount: '99.99',
        description: 'Audit',
        status: 'finalized',
      });
      const sent = await t.door.ok('send_invoice', {
        invoice_id: invoice.number,
        subject: `Outbox ${t.door.name} ${t.db}`,
      });
      expect(sent.delivery).toMatchObject({ transport: 'outbox', recipient_email: 'ap@outbox.test' });
      expect(sent.delivery.location).toMatch(/\.eml$/);
      expect(readdirSync(outbox)).toContain(sent.delivery.location.split('/').pop());
      const raw = readFileSync(sent.delivery.location, 'utf8');
      expect(header(raw, 'Subject')).toBe(`Outbox ${t.door.name} ${t.db}`);
      expect(header(raw, 'To')).toBe('ap@outbox.test');
      const pdf = attachment(raw, 'application/pdf');
      expect(await pdfText(pdf!.content)).toContain(invoice.number);
    });
  },
  { doors: ['http_api', 'mcp_stdio'] },
);

describe('send_invoice when the mail server refuses', () => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await startEnvironment('sqlite', { variables: { BILLFOLD_SMTP_URL: 'smtp://127.0.0.1:9' } });
  });
  afterAll(async () => {
    await env?.close();
    rmSync(outbox, { recursive: true, force: true });
  });

  it('reports the failure; a draft it finalized stays finalized and unsent, and a retry is possible', async () => {
    const org = await env.newOrganization();
    const door = httpApiDoor(env, org.key);
    await door.ok('create_customer', { external_id: 'm1', name: 'Mail Fail', email: 'x@fail.test' });
    const { invoice } = await door.ok('create_invoice', {
      customer_id: 'm1',
      amount: '10',
      description: 'x',
    });
    const e = await door.fail('send_invoice', { invoice_id: invoice.id }, 'INTERNAL_ERROR');
    expect(e.message).toMatch(/did not accept the message to x@fail.test/);
    expect(e.message).toMatch(/was finalized before sending and stays finalized/);
    expect(e.hint).toBe('Call send_invoice again to retry the email.');
    const after = (await door.ok('get_invoice', { invoice_id: invoice.id })).invoice;
    expect(after).toMatchObject({ status: 'finalized', sent_count: 0 });
    expect(after.number).toBe(e.details.number);
    // A second failure does not claim to have finalized anything.
    const again = await door.fail('send_invoice', { invoice_id: invoice.id }, 'INTERNAL_ERROR');
    expect(again.message).not.toMatch(/finalized/);
    expect((await door.ok('get_invoice', { invoice_id: invoice.id })).invoice.number).toBe(after.number);
  });
});
