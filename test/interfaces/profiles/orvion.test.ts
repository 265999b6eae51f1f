import { beforeAll, expect, it } from 'vitest';
import { describeProfile } from '../../harness/profiles.js';
import { SEED_TOOLS } from './seed-tools.js';

/**
 * Seed 001 (Orvion invoice MCP): each JSON example of the document, verbatim, and the
 * `{ok, data, error}` envelope around every result. The examples date from January 2025
 * (a payment on the 15th, an invoice due on 31 December), so the server's clock starts then.
 */
const SEED_TIME = Date.parse('2025-01-15T09:00:00Z');

describeProfile(
  'orvion',
  (t) => {
    beforeAll(async () => {
      // The invoice the get_invoice and mark_invoice_paid examples name, as a sent invoice.
      await t.api.ok('create_invoice', {
        customer_name: 'Globex',
        customer_email: 'ap@globex.example',
        amount: '480.00',
        currency: 'EUR',
        status: 'finalized',
        external_id: 'inv_01HXYZ123ABC',
      });
    });

    it('lists the four tools of the seed', async () => {
      const { tools } = await t.door.client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(SEED_TOOLS.orvion!.tools);
      const create = tools.find((tool) => tool.name === 'create_invoice')!;
      expect(create.inputSchema.required).toEqual(['customer_name', 'amount', 'currency']);
      expect((create.inputSchema.properties as any).status).toMatchObject({
        enum: ['draft', 'sent'],
        default: 'sent',
      });
    });

    it('create_invoice example: a sent invoice for Acme Corporation, due 31 December', async () => {
      const r = await t.door.ok('create_invoice', {
        customer_name: 'Acme Corporation',
        amount: 1250.0,
        currency: 'USD',
        status: 'sent',
        due_at: '2025-12-31T23:59:59Z',
      });
      expect(r.ok).toBe(true);
      expect(r.error).toBeNull();
      expect(r.data.invoice).toMatchObject({
        status: 'sent',
        customer_name: 'Acme Corporation',
        amount: '1250.00',
        amount_cents: 125000,
        currency: 'USD',
        due_at: '2025-12-31T23:59:59.000Z',
        amount_paid: '0.00',
        amount_due: '1250.00',
      });
      expect(r.data.invoice.number).toMatch(/^INV-202501-\d{4}$/);
      expect(r.data.invoice.issued_at.startsWith('2025-01-15')).toBe(true);
      expect(r.data.created).toBe(true);
      // Asking again for Acme Corporation invoices the same customer, and says so.
      const again = await t.door.ok('create_invoice', {
        customer_name: 'Acme Corporation',
        amount: '10',
        currency: 'USD',
      });
      expect(again.data.invoice.customer_id).toBe(r.data.invoice.customer_id);
      expect(again.data.note).toContain('found by its exact name');
    });

    it('get_invoice example: {"id": "inv_01HXYZ123ABC"}', async () => {
      const r = await t.door.ok('get_invoice', { id: 'inv_01HXYZ123ABC' });
      expect(r).toMatchObject({ ok: true, error: null });
      expect(r.data.invoice).toMatchObject({
        external_id: 'inv_01HXYZ123ABC',
        status: 'sent',
        amount: '480.00',
        currency: 'EUR',
        customer_name: 'Globex',
        customer_email: 'ap@globex.example',
        payment_reference: null,
      });
    });

    it('list_invoices example: {"status": "sent", "limit": 50}', async () => {
      const r = await t.door.ok('list_invoices', { status: 'sent', limit: 50 });
      expect(r.ok).toBe(true);
      expect(r.data.invoices.length).toBeGreaterThanOrEqual(2);
      expect(r.data.invoices.every((i: { status: string }) => i.status === 'sent')).toBe(true);
      const drafts = await t.door.ok('list_invoices', { status: 'draft' });
      expect(drafts.data.invoices).toEqual([]);
      const byEmail = await t.door.ok('list_invoices', { customer_email: 'AP@globex.example' });
      expect(byEmail.data.invoices.map((i: { external_id: string }) => i.external_id)).toEqual([
        'inv_01HXYZ123ABC',
      ]);
    });

    it('mark_invoice_paid example: paid on 15 January 2025 with reference tx_abc123, once', async () => {
      const r = await t.door.ok('mark_invoice_paid', {
        id: 'inv_01HXYZ123ABC',
        paid_at: '2025-01-15T10:30:00Z',
        payment_reference: 'tx_abc123',
      });
      expect(r.ok).toBe(true);
      expect(r.data.invoice).toMatchObject({
        status: 'paid',
        amount_paid: '480.00',
        amount_due: '0.00',
        paid_at: '2025-01-15T10:30:00.000Z',
        payment_reference: 'tx_abc123',
      });
      expect(r.data.payment).toMatchObject({
        amount: '480.00',
        currency: 'EUR',
        payment_reference: 'tx_abc123',
      });
      const retry = await t.door.ok('mark_invoice_paid', {
        id: 'inv_01HXYZ123ABC',
        paid_at: '2025-01-15T10:30:00Z',
        payment_reference: 'tx_abc123',
      });
      expect(retry.data.created).toBe(false);
      expect(retry.data.payment.id).toBe(r.data.payment.id);
      const paid = await t.door.ok('list_invoices', { status: 'paid' });
      expect(paid.data.invoices.map((i: { external_id: string }) => i.external_id)).toEqual([
        'inv_01HXYZ123ABC',
      ]);
      const got = await t.door.ok('get_invoice', { id: 'inv_01HXYZ123ABC' });
      expect(got.data.invoice.payment_reference).toBe('tx_abc123');
    });

    it('idempotency example: the same external_id twice makes one invoice', async () => {
      const args = {
        customer_name: 'Acme Corp',
        amount: 100.0,
        currency: 'USD',
        external_id: 'crm-invoice-12345',
      };
      const first = await t.door.ok('create_invoice', args);
      const second = await t.door.ok('create_invoice', args);
      expect(first.data.created).toBe(true);
      expect(second.data.created).toBe(false);
      expect(second.data.invoice.id).toBe(first.data.invoice.id);
      expect(second.data.note).toContain('crm-invoice-12345');
      const all = await t.api.ok('search_invoices', { query: 'crm-invoice-12345' });
      expect(all.pagination.total_count).toBe(1);
    });

    it('error example: get_invoice of inv_123 is the NOT_FOUND envelope with its HTTP status', async () => {
      const r = await t.door.fail('get_invoice', { id: 'inv_123' });
      expect(r).toMatchObject({
        ok: false,
        data: null,
        error: { code: 'NOT_FOUND', details: { http_status: 404 } },
      });
      expect(r.error.message).toContain("id: no invoice has the id, number or external_id 'inv_123'");
      expect(Object.keys(r.error).sort()).toEqual(['code', 'details', 'message']);
    });

    it('bad input: Orvion codes and parameter names', async () => {
      const missing = await t.door.fail('create_invoice', { amount: 5, currency: 'USD' });
      expect(missing.error.code).toBe('VALIDATION_ERROR');
      expect(missing.error.details.http_status).toBe(422);
      expect(missing.error.message).toContain('customer_name is required');
      const status = await t.door.fail('list_invoices', { status: 'finalized' });
      expect(status.error.message).toBe(
        "status must be one of draft, sent, paid, overdue, canceled (got 'finalized')",
      );
      const limit = await t.door.fail('list_invoices', { limit: 500 });
      expect(limit.error.message).toBe('limit must be at most 100 (got 500)');
      const negative = await t.door.fail('create_invoice', {
        customer_name: 'A',
        amount: -5,
        currency: 'USD',
      });
      expect(negative.error.message).toContain('amount');
      const draft = await t.door.ok('create_invoice', {
        customer_name: 'Draft Co',
        amount: '9.99',
        currency: 'USD',
        status: 'draft',
      });
      expect(draft.data.invoice.status).toBe('draft');
      const sent = await t.door.ok('create_invoice', {
        customer_name: 'Sent Co',
        amount: '9.99',
        currency: 'USD',
      });
      const over = await t.door.fail('mark_invoice_paid', { id: sent.data.invoice.id, amount_paid: '50' });
      expect(over.error.code).toBe('VALIDATION_ERROR');
      expect(over.error.message.startsWith('amount_paid')).toBe(true);
      expect(over.error.message).not.toMatch(/\bamount:/);
      const notYet = await t.door.fail('mark_invoice_paid', { id: draft.data.invoice.id });
      expect(notYet.error.code).toBe('INVALID_STATUS');
      expect(notYet.error.details.http_status).toBe(409);
    });
  },
  { clock: SEED_TIME },
);
