import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { pdfText } from '../harness/pdf.js';
import { attachment, header, startSmtpServer, type TestSmtpServer } from '../harness/smtp.js';
import { describeDoors, environmentVariables } from '../harness/suite.js';

let smtp: TestSmtpServer;
beforeAll(async () => {
  smtp = await startSmtpServer();
  environmentVariables.BILLFOLD_SMTP_URL = smtp.url;
  environmentVariables.BILLFOLD_MAIL_FROM = 'billing@billfold.test';
});
afterAll(async () => {
  await smtp?.close();
});

const MCP_DOORS = ['mcp_http', 'mcp_http_2025', 'mcp_sse', 'mcp_stdio'];

describeDoors('invoices', (t) => {
  const money = (inv: Record<string, unknown>, name: string) => [inv[`${name}_cents`], inv[name]];

  beforeAll(async () => {
    await t.door.ok('update_organization', {
      name: 'Billfold Test Org',
      legal_name: 'Billfold Test Org SAS',
      email: 'ar@org.test',
      address_line1: '1 rue de la Paix',
      city: 'Paris',
      zipcode: '75002',
      country: 'FR',
      tax_identification_number: 'FR40303265045',
      bank_name: 'Crédit Test',
      bank_iban: 'fr76 3000 6000 0112 3456 7890 189',
      bank_bic: 'agrifrpp',
      invoice_footer: 'Late payments bear interest at three times the legal rate.',
      timezone: 'Europe/Paris',
    });
    await t.door.ok('create_customer', {
      external_id: 'acme',
      name: 'Acme Corp',
      email: 'billing@acme.test',
      currency: 'USD',
      net_payment_term: 30,
      address_line1: '123 Business St',
      city: 'San Francisco',
      country: 'US',
    });
    await t.door.ok('create_customer', { external_id: 'tyrell', name: 'Tyrell KK', currency: 'JPY' });
    await t.door.ok('create_customer', { external_id: 'gulf', name: 'Gulf WLL', currency: 'BHD' });
    await t.door.ok('create_customer', { external_id: 'umbrella', name: 'Umbrella GmbH', currency: 'EUR' });
  });

  it('reads and updates the organization settings, checking bank details', async () => {
    const { organization } = await t.door.ok('get_organization', {});
    expect(organization).toMatchObject({
      id: t.org.id,
      legal_name: 'Billfold Test Org SAS',
      bank_iban: 'FR7630006000011234567890189',
      bank_bic: 'AGRIFRPP',
      invoice_prefix: 'INV',
      invoice_numbering: 'per_organization',
      net_payment_term: 30,
      finalize_invoices: true,
    });
    const bad = await t.door.fail(
      'update_organization',
      { bank_iban: 'FR76 3000 6000 0112 3456 7890 188' },
      'VALIDATION_ERROR',
    );
    expect(bad.message).toMatch(/bank_iban must be a valid IBAN/);
    await t.door.fail('update_organization', { invoice_numbering: 'per_month' }, 'VALIDATION_ERROR');
    await t.door.fail('update_organization', { invoice_prefix: 'IN V' }, 'VALIDATION_ERROR');
    const readOnly = await t.env.addKey(t.org.id, ['write']);
    const res = await fetch(`${t.env.url}/api/v1/update_organization`, {
      method: 'POST',
      headers: { authorization: `Bearer ${readOnly}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x' }),
    });
    expect(res.status).toBe(403);
  });

  it('manages products and taxes, and names what is wrong', async () => {
    const vat = await t.door.ok('create_tax', {
      code: 'vat20',
      name: 'VAT',
      rate: '20',
      applied_to_organization: true,
    });
    expect(vat.tax).toMatchObject({ code: 'vat20', rate: '20', applied_to_organization: true });
    await t.door.ok('create_tax', { code: 'vat55', name: 'VAT reduced', rate: 5.5 });
    await t.door.ok('create_tax', {
      code: 'ct10',
      name: 'Consumption tax',
      rate: '10',
      customer_ids: ['tyrell'],
    });
    await t.door.fail('create_tax', { code: 'vat20', name: 'Again', rate: '20' }, 'CONFLICT');
    await t.door.fail('create_tax', { code: 'bad', name: 'Bad', rate: '120' }, 'VALIDATION_ERROR');
    await t.door.fail(
      'create_tax',
      { code: 'x1', name: 'X', rate: '1', customer_ids: ['nobody'] },
      'NOT_FOUND',
    );

    const { product, created } = await t.door.ok('create_product', {
      code: 'consulting_day',
      name: 'Consulting day',
      unit_amount: '0.335',
      currency: 'usd',
      unit_label: 'day',
    });
    expect(created).toBe(true);
    expect(product).toMatchObject({
      code: 'consulting_day',
      unit_amount: '0.335',
      currency: 'USD',
      active: true,
    });
    const again = await t.door.ok('create_product', {
      code: 'consulting_day',
      name: 'Consulting day',
      unit_amount: 0.335,
      currency: 'USD',
    });
    expect(again).toMatchObject({ created: false, product: { id: product.id } });
    await t.door.fail(
      'create_product',
      { code: 'consulting_day', name: 'Other', unit_amount: '1' },
      'CONFLICT',
    );
    await t.door.ok('create_product', {
      code: 'book',
      name: 'Book',
      unit_amount: '12.00',
      currency: 'USD',
      tax_codes: ['vat55'],
    });
    const unknownTax = await t.door.fail(
      'create_product',
      { code: 'p2', name: 'P', unit_amount: '1', tax_codes: ['nope'] },
      'VALIDATION_ERROR',
    );
    expect(unknownTax.message).toContain("'nope'");
    await t.door.fail('create_product', { code: 'p3', name: 'P', unit_amount: '-1' }, 'VALIDATION_ERROR');
    await t.door.ok('create_product', { code: 'old', name: 'Old thing', unit_amount: '5', currency: 'USD' });
    expect((await t.door.ok('archive_product', { product_id: 'old' })).changed).toBe(true);
    expect((await t.door.ok('archive_product', { product_id: 'old' })).changed).toBe(false);
    const active = await t.door.ok('list_products', { active: true, search: 'CONSULTING' });
    expect(active.products.map((p: { code: string }) => p.code)).toEqual(['consulting_day']);
    expect(
      (await t.door.ok('list_products', { active: false })).products.map((p: { code: string }) => p.code),
    ).toEqual(['old']);
    const upd = await t.door.ok('update_product', { product_id: product.id, description: 'One day on site' });
    expect(upd.product.description).toBe('One day on site');
    await t.door.fail('get_product', { product_id: 'missing' }, 'NOT_FOUND');
    const taxes = await t.door.ok('list_taxes', {});
    expect(taxes.taxes.map((x: { code: string }) => x.code)).toEqual(['ct10', 'vat20', 'vat55']);
    await t.door.ok('create_tax', { code: 'tmp', name: 'Temporary', rate: '1' });
    await t.door.ok('update_tax', { tax_id: 'tmp', rate: '2' });
    expect((await t.door.ok('delete_tax', { tax_id: 'tmp' })).deleted).toBe(true);
    await t.door.fail('get_tax', { tax_id: 'tmp' }, 'NOT_FOUND');
  });

  it('computes exact money per currency: lines, taxes once per rate, discounts, totals', async () => {
    const usd = await t.door.ok('create_invoice', {
      customer_id: 'acme',
      lines: [
        { product_code: 'consulting_day', quantity: 3 }, // 3 × 0.335 = 1.005 → 1.01, VAT 20 % (organization)
        { description: 'Books', quantity: '2', unit_amount: '12.00', tax_codes: ['vat55'] },
        { description: 'Untaxed fee', unit_amount: '100', tax_codes: [] },
      ],
      discounts: [{ description: 'Welcome', amount: '10.00' }],
    });
    const inv = usd.invoice;
    expect(inv).toMatchObject({ status: 'draft', number: null, currency: 'USD', payment_status: 'pending' });
    expect(inv.lines.map((l: { amount: string }) => l.amount)).toEqual(['1.01', '24.00', '100.00']);
    expect(inv.lines[0]).toMatchObject({
      description: 'Consulting day',
      unit_amount: '0.335',
      unit_label: 'day',
      taxes: [{ code: 'vat20', rate: '20' }],
    });
    expect(inv.lines.map((l: { discount_amount_cents: number }) => l.discount_amount_cents)).toEqual([
      8, 192, 800,
    ]);
    expect(money(inv, 'sub_total_amount')).toEqual([12501, '125.01']);
    expect(money(inv, 'coupons_amount')).toEqual([1000, '10.00']);
    expect(inv.tax_breakdown).toEqual([
      {
        code: 'vat20',
        name: 'VAT',
        rate: '20',
        taxable_amount_cents: 93,
        taxable_amount: '0.93',
        amount_cents: 19,
        amount: '0.19',
      },
      {
        code: 'vat55',
        name: 'VAT reduced',
        rate: '5.5',
        taxable_amount_cents: 2208,
        taxable_amount: '22.08',
        amount_cents: 121,
        amount: '1.21',
      },
    ]);
    expect(money(inv, 'taxes_amount')).toEqual([140, '1.40']);
    expect(money(inv, 'total_amount')).toEqual([11641, '116.41']);
    expect(money(inv, 'amount_due')).toEqual([11641, '116.41']);

    const jpy = (
      await t.door.ok('create_invoice', {
        customer_id: 'tyrell',
        lines: [{ description: 'Units', quantity: 3, unit_amount: '333.5' }],
      })
    ).invoice;
    // The customer's own tax (ct10) wins over the organization's.
    expect(jpy).toMatchObject({
      currency: 'JPY',
      sub_total_amount: '1001',
      taxes_amount: '100',
      total_amount_cents: 1101,
      total_amount: '1101',
    });
    const bhd = (
      await t.door.ok('create_invoice', {
        customer_id: 'gulf',
        currency: 'BHD',
        lines: [{ description: 'Fee', unit_amount: '1.0005', tax_codes: [] }],
      })
    ).invoice;
    expect(money(bhd, 'total_amount')).toEqual([1001, '1.001']);
    const eur = (
      await t.door.ok('create_invoice', {
        customer_id: 'umbrella',
        lines: [{ description: 'Licence', unit_amount: '0.335', quantity: 3 }],
        discounts: [{ description: 'Half', percentage: 50 }],
      })
    ).invoice;
    expect(eur).toMatchObject({
      sub_total_amount: '1.01',
      coupons_amount: '0.51',
      taxes_amount: '0.10',
      total_amount: '0.60',
    });

    const errors: Array<[Record<string, unknown>, string, RegExp]> = [
      [
        { customer_id: 'acme', lines: [{ product_code: 'ghost', quantity: 1 }] },
        'VALIDATION_ERROR',
        /lines\[0\]\.product_code: no product has the code 'ghost'/,
      ],
      [{ customer_id: 'acme', lines: [{ product_code: 'old' }] }, 'VALIDATION_ERROR', /archived/],
      [
        { customer_id: 'umbrella', lines: [{ product_code: 'consulting_day' }] },
        'VALIDATION_ERROR',
        /priced in USD and the invoice is in EUR/,
      ],
      [
        { customer_id: 'acme', lines: [{ quantity: 1, unit_amount: '5' }] },
        'VALIDATION_ERROR',
        /lines\[0\]\.description: is required/,
      ],
      [
        { customer_id: 'acme', lines: [{ description: 'x', unit_amount: '5', quantity: 0 }] },
        'VALIDATION_ERROR',
        /quantity/,
      ],
      [
        { customer_id: 'acme', lines: [{ description: 'x', unit_amount: '5', tax_codes: ['gst'] }] },
        'VALIDATION_ERROR',
        /'gst'/,
      ],
      [
        { customer_id: 'acme', lines: [{ description: 'x', unit_amount: 'abc' }] },
        'VALIDATION_ERROR',
        /unit_amount/,
      ],
      [
        { customer_id: 'acme', amount: '5', lines: [{ description: 'x', unit_amount: '5' }] },
        'VALIDATION_ERROR',
        /either lines or amount/,
      ],
      [{ customer_id: 'acme' }, 'VALIDATION_ERROR', /lines: is required/],
      [{ lines: [{ description: 'x', unit_amount: '5' }] }, 'VALIDATION_ERROR', /customer_id: is required/],
      [{ customer_id: 'nobody', amount: '5' }, 'NOT_FOUND', /'nobody'/],
      [{ customer_id: 'acme', amount: '5', currency: 'EURO' }, 'VALIDATION_ERROR', /ISO 4217/],
      [{ customer_id: 'acme', amount: '5', status: 'sent' }, 'VALIDATION_ERROR', /one of draft, finalized/],
      [{ customer_id: 'acme', amount: '5', due_at: '2026-02-30' }, 'VALIDATION_ERROR', /due_at/],
    ];
    for (const [args, code, pattern] of errors) {
      const e = await t.door.fail('create_invoice', args, code as 'VALIDATION_ERROR');
      expect(e.message).toMatch(pattern);
    }
  });

  it('creates one-off invoices from a name and email, and is idempotent by external_id', async () => {
    const first = await t.door.ok('create_invoice', {
      customer_name: 'Walk-in Client',
      customer_email: 'walkin@client.test',
      amount: '1250.00',
      description: 'Website audit',
      currency: 'EUR',
      external_id: 'crm-inv-1',
      metadata: { deal: 'D-77' },
    });
    expect(first.created).toBe(true);
    expect(first.invoice).toMatchObject({
      customer: { name: 'Walk-in Client', email: 'walkin@client.test' },
      lines: [{ description: 'Website audit', quantity: '1', amount: '1250.00' }],
      external_id: 'crm-inv-1',
    });
    // Same email finds the same customer.
    const other = await t.door.ok('create_invoice', {
      customer_email: 'WALKIN@client.test',
      amount: '10',
      currency: 'EUR',
    });
    expect(other.invoice.customer_id).toBe(first.invoice.customer_id);
    // Retry with the same external_id: the draft is updated, not duplicated.
    const retry = await t.door.ok('create_invoice', {
      customer_email: 'walkin@client.test',
      amount: '1300.00',
      description: 'Website audit',
      currency: 'EUR',
      external_id: 'crm-inv-1',
    });
    expect(retry).toMatchObject({
      created: false,
      invoice: { id: first.invoice.id, sub_total_amount: '1300.00', total_amount: '1560.00' },
    });
    expect(retry.note).toMatch(/draft; it was updated/);
    const fin = await t.door.ok('create_invoice', {
      customer_email: 'walkin@client.test',
      external_id: 'crm-inv-1',
      status: 'finalized',
    });
    expect(fin.invoice).toMatchObject({ id: first.invoice.id, status: 'finalized', total_amount: '1560.00' });
    const after = await t.door.ok('create_invoice', {
      customer_email: 'walkin@client.test',
      amount: '1.00',
      external_id: 'crm-inv-1',
    });
    expect(after).toMatchObject({
      created: false,
      invoice: { id: first.invoice.id, total_amount: '1560.00', status: 'finalized' },
    });
    expect(after.note).toMatch(/returned unchanged/);
    // Found by external_id and by number.
    expect((await t.door.ok('get_invoice', { invoice_id: 'crm-inv-1' })).invoice.id).toBe(first.invoice.id);
    expect((await t.door.ok('get_invoice', { invoice_id: fin.invoice.number })).invoice.id).toBe(
      first.invoice.id,
    );
    const nf = await t.door.fail('get_invoice', { invoice_id: 'INV-000000-9999' }, 'NOT_FOUND');
    expect(nf.message).toContain("'INV-000000-9999'");
  });

  it('changes drafts freely, finalized invoices only in metadata; deletes drafts, voids finalized', async () => {
    const { invoice: draft } = await t.door.ok('create_invoice', {
      customer_id: 'acme',
      amount: '100',
      description: 'Draft work',
    });
    const updated = await t.door.ok('update_invoice', {
      invoice_id: draft.id,
      lines: [{ description: 'Reworked', quantity: 2, unit_amount: '75', tax_codes: [] }],
      due_at: '2030-01-31',
      memo: 'Thanks for your business',
    });
    expect(updated.invoice).toMatchObject({
      total_amount: '150.00',
      due_date: '2030-01-31',
      memo: 'Thanks for your business',
      lines: [{ description: 'Reworked' }],
    });
    const { invoice: fin, changed } = await t.door.ok('finalize_invoice', { invoice_id: draft.id });
    expect(changed).toBe(true);
    expect(fin.number).toMatch(/^INV-\d{6}-\d{4}$/);
    expect(fin).toMatchObject({
      status: 'finalized',
      due_date: '2030-01-31',
      issuing_date: expect.any(String),
    });
    expect((await t.door.ok('finalize_invoice', { invoice_id: fin.number })).changed).toBe(false);
    const refused = await t.door.fail(
      'update_invoice',
      { invoice_id: fin.id, memo: 'changed' },
      'INVALID_STATUS',
    );
    expect(refused.hint).toMatch(/credit note/);
    const meta = await t.door.ok('update_invoice', { invoice_id: fin.id, metadata: { po: 'PO-1' } });
    expect(meta.invoice.metadata).toEqual({ po: 'PO-1' });
    const del = await t.door.fail('delete_invoice', { invoice_id: fin.id }, 'INVALID_STATUS');
    expect(del.hint).toMatch(/void_invoice/);

    const { invoice: d2 } = await t.door.ok('create_invoice', {
      customer_id: 'acme',
      amount: '5',
      description: 'Scrap',
    });
    const voidDraft = await t.door.fail('void_invoice', { invoice_id: d2.id }, 'INVALID_STATUS');
    expect(voidDraft.hint).toMatch(/delete_invoice/);
    expect((await t.door.ok('delete_invoice', { invoice_id: d2.id })).deleted).toBe(true);
    await t.door.fail('get_invoice', { invoice_id: d2.id }, 'NOT_FOUND');

    const voided = await t.door.ok('void_invoice', { invoice_id: fin.number, reason: 'Issued by mistake' });
    expect(voided.invoice).toMatchObject({
      status: 'voided',
      amount_due_cents: 0,
      void_reason: 'Issued by mistake',
      number: fin.number,
    });
    await t.door.fail('void_invoice', { invoice_id: fin.id }, 'INVALID_STATUS');
    await t.door.fail('finalize_invoice', { invoice_id: fin.id }, 'INVALID_STATUS');
    const types = (await t.door.ok('list_activity_logs', { resource_ids: [fin.id] })).activity_logs.map(
      (a: { activity_type: string }) => a.activity_type,
    );
    expect(types).toEqual([
      'invoice.voided',
      'invoice.updated',
      'invoice.finalized',
      'invoice.updated',
      'invoice.created',
    ]);
  });

  it('records payments: partial, in full, never over; drafts and voided invoices refuse them', async () => {
    const { invoice } = await t.door.ok('create_invoice', {
      customer_id: 'acme',
      amount: '100.00',
      description: 'Pay me',
      status: 'finalized',
    });
    expect(invoice.total_amount).toBe('120.00'); // organization VAT 20 %
    const part = await t.door.ok('mark_invoice_paid', {
      invoice_id: invoice.number,
      amount: '20.50',
      reference: 'wire-1',
      payment_method: 'bank_transfer',
      paid_at: '2026-03-01T10:00:00Z',
    });
    expect(part).toMatchObject({
      created: true,
      payment: {
        amount_cents: 2050,
        amount: '20.50',
        reference: 'wire-1',
        paid_at: '2026-03-01T10:00:00.000Z',
      },
      invoice: { amount_paid: '20.50', amount_due: '99.50', payment_status: 'pending' },
    });
    const retry = await t.door.ok('mark_invoice_paid', {
      invoice_id: invoice.id,
      amount: '20.50',
      reference: 'wire-1',
    });
    expect(retry).toMatchObject({
      created: false,
      payment: { id: part.payment.id },
      invoice: { amount_due: '99.50' },
    });
    const over = await t.door.fail(
      'mark_invoice_paid',
      { invoice_id: invoice.id, amount: '99.51' },
      'VALIDATION_ERROR',
    );
    expect(over.message).toMatch(/more than the 99.50 USD due/);
    await t.door.fail('mark_invoice_paid', { invoice_id: invoice.id, amount: '1.005' }, 'VALIDATION_ERROR');
    await t.door.fail('mark_invoice_paid', { invoice_id: invoice.id, amount: '0' }, 'VALIDATION_ERROR');
    await t.door.fail(
      'mark_invoice_paid',
      { invoice_id: invoice.id, paid_at: '2099-01-01' },
      'VALIDATION_ERROR',
    );
    const rest = await t.door.ok('mark_invoice_paid', { invoice_id: invoice.id });
    expect(rest).toMatchObject({
      payment: { amount: '99.50' },
      invoice: { amount_due_cents: 0, payment_status: 'succeeded', amount_paid: '120.00' },
    });
    expect(rest.invoice.paid_at).toBeTruthy();
    const paid = await t.door.fail('mark_invoice_paid', { invoice_id: invoice.id }, 'INVALID_STATUS');
    expect(paid.message).toMatch(/nothing left to pay/);
    const voidPaid = await t.door.fail('void_invoice', { invoice_id: invoice.id }, 'INVALID_STATUS');
    expect(voidPaid.hint).toMatch(/refund/);

    const { invoice: draft } = await t.door.ok('create_invoice', {
      customer_id: 'acme',
      amount: '10',
      description: 'Not yet',
    });
    const e1 = await t.door.fail('mark_invoice_paid', { invoice_id: draft.id }, 'INVALID_STATUS');
    expect(e1.hint).toMatch(/finalize_invoice/);
    await t.door.ok('finalize_invoice', { invoice_id: draft.id });
    await t.door.ok('void_invoice', { invoice_id: draft.id });
    await t.door.fail('mark_invoice_paid', { invoice_id: draft.id }, 'INVALID_STATUS');

    const list = await t.door.ok('list_payments', { invoice_id: invoice.number });
    expect(list.payments.map((p: { amount: string }) => p.amount)).toEqual(['99.50', '20.50']);
    expect(list.payments[0].invoice_number).toBe(invoice.number);
    expect(
      (await t.door.ok('list_payments', { customer_id: 'acme', payment_method: 'bank_transfer' })).pagination
        .total_count,
    ).toBe(1);
    const full = await t.door.ok('get_invoice', { invoice_id: invoice.id });
    expect(full.payments).toHaveLength(2);
  });

  it('lists by status, payment status, overdue, type, dates, currency and search; batch gets report missing refs', async () => {
    const { invoice: late } = await t.door.ok('create_invoice', {
      customer_id: 'acme',
      amount: '40',
      description: 'Old overdue job',
      issued_at: '2025-01-10',
      status: 'finalized',
      metadata: { project: 'zephyr' },
    });
    expect(late).toMatchObject({ issuing_date: '2025-01-10', due_date: '2025-02-09', overdue: true });
    const overdue = await t.door.ok('list_invoices', { overdue: true });
    expect(overdue.invoices.map((i: { id: string }) => i.id)).toEqual([late.id]);
    const notOverdue = await t.door.ok('list_invoices', { overdue: false, per_page: 100 });
    expect(notOverdue.invoices.some((i: { id: string }) => i.id === late.id)).toBe(false);
    expect(
      (
        await t.door.ok('list_invoices', { issuing_date_from: '2025-01-01', issuing_date_to: '2025-01-31' })
      ).invoices.map((i: { id: string }) => i.id),
    ).toEqual([late.id]);
    const drafts = await t.door.ok('list_invoices', { status: 'draft', customer_id: 'acme', per_page: 100 });
    expect(drafts.invoices.every((i: { status: string }) => i.status === 'draft')).toBe(true);
    expect(drafts.pagination.total_count).toBeGreaterThan(0);
    const pending = await t.door.ok('list_invoices', {
      status: 'finalized',
      payment_status: 'pending',
      currency: 'USD',
      invoice_type: 'one_off',
      per_page: 100,
    });
    expect(
      pending.invoices.every(
        (i: { payment_status: string; currency: string }) =>
          i.payment_status === 'pending' && i.currency === 'USD',
      ),
    ).toBe(true);
    expect(
      (await t.door.ok('search_invoices', { query: 'ZEPHYR' })).invoices.map((i: { id: string }) => i.id),
    ).toEqual([late.id]);
    expect(
      (await t.door.ok('search_invoices', { query: late.number })).invoices.map((i: { id: string }) => i.id),
    ).toEqual([late.id]);
    expect((await t.door.ok('search_invoices', { query: 'old overdue' })).pagination.total_count).toBe(1);
    expect(
      (await t.door.ok('list_invoices', { search: 'acme corp', per_page: 1 })).pagination.next_page,
    ).toBe(2);
    await t.door.fail('list_invoices', { status: 'paid' }, 'VALIDATION_ERROR');
    await t.door.fail('list_invoices', { invoice_type: 'add_on' }, 'VALIDATION_ERROR');
    await t.door.fail(
      'list_invoices',
      { issuing_date_from: '2025-02-01', issuing_date_to: '2025-01-01' },
      'VALIDATION_ERROR',
    );
    await t.door.fail('list_invoices', { customer_id: 'nobody' }, 'NOT_FOUND');
    await t.door.fail('search_invoices', {}, 'VALIDATION_ERROR');
    const batch = await t.door.ok('batch_get_invoices', {
      invoice_ids: [late.number, 'crm-inv-1', 'nope-1', late.id],
    });
    expect(batch.invoices.map((i: { id: string }) => i.id)).toEqual([late.id, expect.any(String)]);
    expect(batch.missing).toEqual(['nope-1']);
    await t.door.fail(
      'batch_get_invoices',
      { invoice_ids: Array.from({ length: 101 }, (_, i) => `x${i}`) },
      'VALIDATION_ERROR',
    );

    const ar = await t.door.ok('get_accounts_receivable', { currency: 'USD' });
    const acme = ar.balances.find(
      (b: { customer: { external_id: string } }) => b.customer.external_id === 'acme',
    );
    expect(acme.overdue_invoices).toContain(late.number);
    expect(acme.aging.days_over_90).toBe('48.00');
    expect(ar.totals[0].currency).toBe('USD');
  });

  it('issues credit notes within what is left, and voids them', async () => {
    const { invoice } = await t.door.ok('create_invoice', {
      customer_id: 'acme',
      lines: [
        { description: 'Seats', quantity: 10, unit_amount: '30' },
        { description: 'Setup', unit_amount: '50', tax_codes: [] },
      ],
      status: 'finalized',
    });
    expect(invoice.total_amount).toBe('410.00'); // 300 + 60 VAT + 50
    const [seats, setup] = invoice.lines;
    const cn1 = await t.door.ok('create_credit_note', {
      invoice_id: invoice.number,
      type: 'credit',
      reason: 'order_change',
      items: [{ invoice_line_id: seats.id, amount: '100' }],
    });
    expect(cn1.credit_note).toMatchObject({
      number: `${invoice.number}-CN001`,
      sub_total_amount: '100.00',
      taxes_amount: '20.00',
      total_amount: '120.00',
      status: 'finalized',
      type: 'credit',
    });
    expect(cn1.invoice).toMatchObject({ credited_amount: '120.00', amount_due: '290.00' });
    const tooMuch = await t.door.fail(
      'create_credit_note',
      {
        invoice_id: invoice.id,
        type: 'credit',
        reason: 'other',
        items: [{ invoice_line_id: seats.id, amount: '200.01' }],
      },
      'VALIDATION_ERROR',
    );
    expect(tooMuch.message).toMatch(/200.00 USD left to credit on line 'Seats'/);
    await t.door.fail(
      'create_credit_note',
      {
        invoice_id: invoice.id,
        type: 'credit',
        reason: 'other',
        items: [{ invoice_line_id: 'il_nope', amount: '1' }],
      },
      'VALIDATION_ERROR',
    );
    await t.door.fail(
      'create_credit_note',
      { invoice_id: invoice.id, type: 'credit', reason: 'bored', amount: '1' },
      'VALIDATION_ERROR',
    );
    await t.door.fail(
      'create_credit_note',
      { invoice_id: invoice.id, type: 'credit', reason: 'other' },
      'VALIDATION_ERROR',
    );
    const refundUnpaid = await t.door.fail(
      'create_credit_note',
      { invoice_id: invoice.id, type: 'refund', reason: 'other', amount: '10' },
      'VALIDATION_ERROR',
    );
    expect(refundUnpaid.message).toMatch(/paid and not yet refunded/);
    await t.door.ok('mark_invoice_paid', { invoice_id: invoice.id, amount: '90' });
    const refund = await t.door.ok('create_credit_note', {
      invoice_id: invoice.id,
      type: 'refund',
      reason: 'product_unsatisfactory',
      items: [{ invoice_line_id: setup.id, amount: '50' }],
    });
    expect(refund.credit_note).toMatchObject({
      number: `${invoice.number}-CN002`,
      total_amount: '50.00',
      taxes_amount: '0.00',
    });
    expect(refund.invoice).toMatchObject({
      refunded_amount: '50.00',
      amount_paid: '90.00',
      amount_due: '200.00',
    });
    const gross = await t.door.ok('create_credit_note', {
      invoice_id: invoice.id,
      type: 'credit',
      reason: 'duplicated_charge',
      amount: '200.00',
    });
    expect(gross.credit_note).toMatchObject({ total_amount: '200.00' });
    expect(gross.invoice).toMatchObject({ amount_due: '0.00', payment_status: 'succeeded' });
    const voided = await t.door.ok('void_credit_note', { credit_note_id: cn1.credit_note.number });
    expect(voided.credit_note.status).toBe('voided');
    expect(voided.invoice).toMatchObject({
      amount_due: '120.00',
      payment_status: 'pending',
      credited_amount: '200.00',
    });
    await t.door.fail('void_credit_note', { credit_note_id: cn1.credit_note.id }, 'INVALID_STATUS');
    const cnRes = await fetch(`${t.env.url}/api/v1/credit-notes/${refund.credit_note.id}.pdf`, {
      headers: { authorization: `Bearer ${t.org.key}` },
    });
    expect(cnRes.status).toBe(200);
    expect(await pdfText(new Uint8Array(await cnRes.arrayBuffer()))).toContain(
      `Corrects invoice: ${invoice.number}`,
    );
    if (t.door.readResource) {
      const r = await t.door.readResource(`billfold://credit-notes/${refund.credit_note.number}/pdf`);
      const text = await pdfText(Buffer.from(r.blob!, 'base64'));
      expect(text).toContain(`${invoice.number}-CN002`);
      expect(text).toContain('Total refunded');
      expect(text).toContain('50.00 USD');
    }
    await t.door.fail('get_credit_note', { credit_note_id: 'cn_nope' }, 'NOT_FOUND');
    const list = await t.door.ok('list_credit_notes', { invoice_id: invoice.id, status: 'finalized' });
    expect(list.credit_notes.map((c: { number: string }) => c.number)).toEqual([
      `${invoice.number}-CN003`,
      `${invoice.number}-CN002`,
    ]);
    expect(
      (await t.door.ok('list_credit_notes', { customer_id: 'acme', type: 'refund' })).pagination.total_count,
    ).toBe(1);
    const { invoice: draft } = await t.door.ok('create_invoice', {
      customer_id: 'acme',
      amount: '10',
      description: 'Draft',
    });
    await t.door.fail(
      'create_credit_note',
      { invoice_id: draft.id, type: 'credit', reason: 'other', amount: '1' },
      'INVALID_STATUS',
    );
  });

  it('refuses to invoice a disabled customer and to delete a customer who owes money', async () => {
    await t.door.ok('create_customer', {
      external_id: 'debtor',
      name: 'Debtor Ltd',
      email: 'pay@debtor.test',
    });
    const { invoice } = await t.door.ok('create_invoice', {
      customer_id: 'debtor',
      amount: '10',
      description: 'Owed',
      status: 'finalized',
    });
    const del = await t.door.fail('delete_customer', { customer_id: 'debtor' }, 'INVALID_STATUS');
    expect(del.message).toContain(invoice.number);
    await t.door.ok('disable_customer', { customer_id: 'debtor' });
    const e = await t.door.fail(
      'create_invoice',
      { customer_id: 'debtor', amount: '5', description: 'More' },
      'INVALID_STATUS',
    );
    expect(e.hint).toMatch(/activate_customer/);
    await t.door.ok('activate_customer', { customer_id: 'debtor' });
    await t.door.ok('mark_invoice_paid', { invoice_id: invoice.id });
    expect((await t.door.ok('delete_customer', { customer_id: 'debtor' })).deleted).toBe(true);
    // Its invoices stay on record and readable.
    expect((await t.door.ok('get_invoice', { invoice_id: invoice.number })).invoice.customer.name).toBe(
      'Debtor Ltd',
    );
  });

  it('renders the PDF (resource and HTTP) and emails it with the PDF attached', async () => {
    const { invoice } = await t.door.ok('create_invoice', {
      customer_id: 'acme',
      lines: [
        { product_code: 'consulting_day', quantity: 3000 },
        { description: 'Travel', unit_amount: '1234.5', tax_codes: [] },
      ],
      memo: 'PO 4711',
    });
    const sent = await t.door.ok('send_invoice', {
      invoice_id: invoice.id,
      subject: `Your invoice ${t.door.name}-${t.db}`,
      message: 'Thank you!',
    });
    expect(sent.finalized).toBe(true);
    expect(sent.invoice).toMatchObject({ status: 'finalized', sent_count: 1 });
    const number = sent.invoice.number as string;
    expect(sent.delivery).toMatchObject({
      transport: 'smtp',
      recipient_email: 'billing@acme.test',
      subject: `Your invoice ${t.door.name}-${t.db}`,
    });
    expect(sent.delivery.message_id).toMatch(/^<.+@billfold\.test>$/);
    const mail = smtp.received.find(
      (m) => header(m.raw, 'Subject') === `Your invoice ${t.door.name}-${t.db}`,
    );
    expect(mail).toBeDefined();
    expect(mail!.to).toEqual(['billing@acme.test']);
    expect(mail!.raw).toContain('Thank you!');
    expect(header(mail!.raw, 'Message-ID')).toBe(sent.delivery.message_id);
    const pdf = attachment(mail!.raw, 'application/pdf');
    expect(pdf!.filename).toBe(`${number}.pdf`);
    const mailed = await pdfText(pdf!.content);
    expect(mailed).toContain(number);
    expect(mailed).toContain('2,440.50 USD'); // 1,005.00 + 201.00 VAT + 1,234.50
    expect(mailed).toContain('FR76 3000 6000 0112 3456 7890 189');

    const other = await t.door.ok('send_invoice', { invoice_id: number, recipient_email: 'cfo@acme.test' });
    expect(other).toMatchObject({
      finalized: false,
      invoice: { sent_count: 2 },
      delivery: { recipient_email: 'cfo@acme.test' },
    });
    expect((await t.door.ok('get_invoice', { invoice_id: number })).deliveries).toHaveLength(2);

    const res = await fetch(`${t.env.url}/api/v1/invoices/${encodeURIComponent(number)}.pdf`, {
      headers: { authorization: `Bearer ${t.org.key}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    const text = await pdfText(new Uint8Array(await res.arrayBuffer()));
    expect(text).toContain(number);
    expect(text).toContain('2,440.50 USD');
    expect(text).toContain('Acme Corp');
    expect(text).toContain('Billfold Test Org SAS');
    expect(text).toContain('VAT 20% on 1,005.00 USD');
    expect((await fetch(`${t.env.url}/api/v1/invoices/${invoice.id}.pdf`)).status).toBe(401);
    expect(
      (
        await fetch(`${t.env.url}/api/v1/invoices/INV-nope.pdf`, {
          headers: { authorization: `Bearer ${t.org.key}` },
        })
      ).status,
    ).toBe(404);

    if (MCP_DOORS.includes(t.door.name)) {
      const r = await t.door.readResource!(`billfold://invoices/${invoice.id}/pdf`);
      expect(r.mimeType).toBe('application/pdf');
      const viaMcp = await pdfText(Buffer.from(r.blob!, 'base64'));
      expect(viaMcp).toContain(number);
      expect(viaMcp).toContain('2,440.50 USD');
      const json = await t.door.readResource!(`billfold://invoices/${number}`);
      expect(JSON.parse(json.text!).invoice.total_amount).toBe('2440.50');
    }
    const { invoice: nomail } = await t.door.ok('create_invoice', {
      customer_id: 'tyrell',
      amount: '100',
      description: 'x',
    });
    const noRecipient = await t.door.fail('send_invoice', { invoice_id: nomail.id }, 'VALIDATION_ERROR');
    expect(noRecipient.hint).toMatch(/recipient_email/);
  });

  it('prints names, addresses and lines in Latin, Greek and Cyrillic scripts exactly as given', async () => {
    await t.door.ok('create_customer', {
      external_id: 'lodz',
      name: 'Łódź Spółka z o.o.',
      legal_name: 'Zakład Usług Ślężańskich',
      currency: 'EUR',
      address_line1: 'ul. Piotrkowska 104',
      city: 'Łódź',
      country: 'PL',
    });
    const { invoice } = await t.door.ok('create_invoice', {
      customer_id: 'lodz',
      lines: [
        { description: 'Перевод документации', unit_amount: '100', tax_codes: [] },
        { description: 'Ελληνική μετάφραση', unit_amount: '50', tax_codes: [] },
        { description: 'İstanbul şubesi — Tiếng Việt', unit_amount: '25.5', tax_codes: [] },
      ],
      memo: 'Zamówienie nr 7/2026 — dziękujemy',
      status: 'finalized',
    });
    const res = await fetch(`${t.env.url}/api/v1/invoices/${invoice.id}.pdf`, {
      headers: { authorization: `Bearer ${t.org.key}` },
    });
    expect(res.status).toBe(200);
    const text = await pdfText(new Uint8Array(await res.arrayBuffer()));
    for (const s of [
      'Łódź Spółka z o.o.',
      'Zakład Usług Ślężańskich',
      'ul. Piotrkowska 104',
      'Перевод документации',
      'Ελληνική μετάφραση',
      'İstanbul şubesi — Tiếng Việt',
      'Zamówienie nr 7/2026 — dziękujemy',
      '175.50 EUR',
      'Crédit Test',
    ])
      expect(text).toContain(s);
    const { credit_note: note } = await t.door.ok('create_credit_note', {
      invoice_id: invoice.id,
      type: 'credit',
      reason: 'other',
      amount: '50',
      description: 'Корректировка — Ελληνική μετάφραση',
    });
    const cn = await fetch(`${t.env.url}/api/v1/credit-notes/${note.id}.pdf`, {
      headers: { authorization: `Bearer ${t.org.key}` },
    });
    const cnText = await pdfText(new Uint8Array(await cn.arrayBuffer()));
    expect(cnText).toContain('Łódź Spółka z o.o.');
    expect(cnText).toContain('Корректировка — Ελληνική μετάφραση');

    // Characters no font has: the document is still made, and the log says what to configure.
    const warn = vi.spyOn(t.env.rt.logger, 'warn');
    try {
      await t.door.ok('create_customer', { external_id: 'tokyo', name: '東京商事', currency: 'JPY' });
      const { invoice: jp } = await t.door.ok('create_invoice', {
        customer_id: 'tokyo',
        amount: '1000',
        description: 'Consulting',
        status: 'finalized',
      });
      const res = await fetch(`${t.env.url}/api/v1/invoices/${jp.id}.pdf`, {
        headers: { authorization: `Bearer ${t.org.key}` },
      });
      expect(res.status).toBe(200);
      expect(await pdfText(new Uint8Array(await res.arrayBuffer()))).toContain('1,000 JPY');
      expect(warn).toHaveBeenCalledWith(
        expect.objectContaining({
          document: `invoice ${jp.number}`,
          characters: '東京商事',
          fonts: ['Noto Sans', 'DejaVu Sans'],
        }),
        expect.stringContaining('add a font that has them to BILLFOLD_PDF_FONT'),
      );
    } finally {
      warn.mockRestore();
    }
  });

  it('numbers finalized invoices gaplessly, per organization or per customer', async () => {
    const all = await t.door.ok('list_invoices', { per_page: 100 });
    const numbered = all.invoices
      .filter((i: { number: string | null }) => i.number)
      .map((i: { number: string }) => Number(i.number.slice(-4)));
    numbered.sort((a: number, b: number) => a - b);
    expect(numbered).toEqual(Array.from({ length: numbered.length }, (_, i) => i + 1));
    expect(
      all.invoices.filter((i: { status: string; number: string | null }) => i.status === 'draft' && i.number),
    ).toEqual([]);

    await t.door.ok('update_organization', { invoice_numbering: 'per_customer', invoice_prefix: 'bf' });
    const a1 = (
      await t.door.ok('create_invoice', {
        customer_id: 'umbrella',
        amount: '1',
        description: 'x',
        status: 'finalized',
      })
    ).invoice.number;
    const b1 = (
      await t.door.ok('create_invoice', {
        customer_id: 'gulf',
        amount: '1',
        description: 'x',
        status: 'finalized',
      })
    ).invoice.number;
    const a2 = (
      await t.door.ok('create_invoice', {
        customer_id: 'umbrella',
        amount: '1',
        description: 'x',
        status: 'finalized',
      })
    ).invoice.number;
    expect(a1).toMatch(/^BF-\d{3}-0001$/);
    expect(b1).toMatch(/^BF-\d{3}-0001$/);
    expect(a2).toBe(a1.replace(/0001$/, '0002'));
    expect(b1).not.toBe(a1);
    await t.door.ok('update_organization', { invoice_numbering: 'per_organization', invoice_prefix: 'INV' });
  });
});
