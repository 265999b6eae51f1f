import type { DemoStep } from './demo.js';

/**
 * Demo products, taxes and invoices for the demo customers: paid, partly paid, overdue, a
 * draft, and a credit note. Safe to run again: invoices are keyed by external_id, payments by
 * reference, and what exists is left alone.
 */
const DAY = 86_400_000;
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export const invoicingDemoStep: DemoStep = async (call) => {
  const { organization } = (await call('get_organization', {})) as { organization: Record<string, unknown> };
  const missing = (field: string, value: unknown) => (organization[field] == null ? { [field]: value } : {});
  await call('update_organization', {
    ...missing('legal_name', 'Billfold Demo Ltd'),
    ...missing('email', 'billing@billfold-demo.example'),
    ...missing('address_line1', '10 Downing Lane'),
    ...missing('city', 'London'),
    ...missing('zipcode', 'EC1A 1BB'),
    ...missing('country', 'GB'),
    ...missing('tax_identification_number', 'GB123456789'),
    ...missing('bank_name', 'Demo Bank'),
    ...missing('bank_iban', 'GB82WEST12345698765432'),
    ...missing('bank_bic', 'WESTGB2L'),
    ...missing('invoice_footer', 'Payment within the agreed term. Thank you for your business.'),
  });

  const taxes = [
    { code: 'us_sales_ca', name: 'CA sales tax', rate: '7.25', customer_ids: ['acme-001', 'hooli-011'] },
    { code: 'vat_de_19', name: 'MwSt', rate: '19', customer_ids: ['umbrella-004'] },
    { code: 'vat_fr_20', name: 'TVA', rate: '20', customer_ids: ['soylent-005'] },
    { code: 'ct_jp_10', name: 'Consumption tax', rate: '10', customer_ids: ['tyrell-006'] },
    { code: 'vat_bh_10', name: 'VAT', rate: '10', customer_ids: ['gulf-009'] },
  ];
  for (const t of taxes) {
    const exists = await call('get_tax', { tax_id: t.code }).then(
      () => true,
      () => false,
    );
    if (!exists) await call('create_tax', t);
  }
  const products = [
    {
      code: 'consulting_day',
      name: 'Consulting day',
      unit_amount: '1200.00',
      currency: 'USD',
      unit_label: 'day',
    },
    {
      code: 'platform_seat',
      name: 'Platform seat (monthly)',
      unit_amount: '49.00',
      currency: 'USD',
      unit_label: 'seat',
    },
    {
      code: 'llm_tokens',
      name: 'LLM tokens',
      unit_amount: '0.0000025',
      currency: 'USD',
      unit_label: 'token',
    },
    { code: 'beratung_tag', name: 'Beratungstag', unit_amount: '950.00', currency: 'EUR', unit_label: 'Tag' },
    { code: 'support_jp', name: 'Support plan', unit_amount: '150000', currency: 'JPY' },
  ];
  for (const p of products) await call('create_product', p);

  const now = Date.now();
  const invoice = async (external_id: string, args: Record<string, unknown>) =>
    (
      (await call('create_invoice', { external_id, ...args })) as {
        invoice: { id: string; number: string | null };
      }
    ).invoice;
  const paid = await invoice('demo-acme-1', {
    customer_id: 'acme-001',
    lines: [
      { product_code: 'consulting_day', quantity: 3 },
      { product_code: 'llm_tokens', quantity: '12500000' },
    ],
    issued_at: isoDate(now - 40 * DAY),
    status: 'finalized',
    memo: 'Discovery workshop and prototype usage.',
  });
  await call('mark_invoice_paid', {
    invoice_id: paid.id,
    reference: 'demo-wire-acme-1',
    payment_method: 'bank_transfer',
  });
  const partial = await invoice('demo-globex-1', {
    customer_id: 'globex-002',
    lines: [{ product_code: 'platform_seat', quantity: 25 }],
    discounts: [{ description: 'Annual commitment', percentage: '10' }],
    issued_at: isoDate(now - 20 * DAY),
    status: 'finalized',
  });
  await call('mark_invoice_paid', {
    invoice_id: partial.id,
    amount: '500.00',
    reference: 'demo-wire-globex-1',
  });
  await invoice('demo-initech-1', {
    customer_id: 'initech-003',
    lines: [{ product_code: 'consulting_day', quantity: 2 }],
    issued_at: isoDate(now - 75 * DAY),
    status: 'finalized',
  });
  const umbrella = await invoice('demo-umbrella-1', {
    customer_id: 'umbrella-004',
    lines: [{ product_code: 'beratung_tag', quantity: 4 }],
    issued_at: isoDate(now - 10 * DAY),
    status: 'finalized',
  });
  const notes = (await call('list_credit_notes', { invoice_id: umbrella.id })) as { credit_notes: unknown[] };
  if (notes.credit_notes.length === 0) {
    const full = (await call('get_invoice', { invoice_id: umbrella.id })) as {
      invoice: { lines: Array<{ id: string }> };
    };
    await call('create_credit_note', {
      invoice_id: umbrella.id,
      type: 'credit',
      reason: 'order_change',
      description: 'One day cancelled',
      items: [{ invoice_line_id: full.invoice.lines[0]!.id, amount: '950.00' }],
    });
  }
  await invoice('demo-tyrell-1', {
    customer_id: 'tyrell-006',
    lines: [{ product_code: 'support_jp', quantity: 1 }],
  });
  const gulf = await invoice('demo-gulf-1', {
    customer_id: 'gulf-009',
    amount: '1250.125',
    description: 'Integration services',
    status: 'finalized',
  });
  await call('mark_invoice_paid', { invoice_id: gulf.id, reference: 'demo-wire-gulf-1' });
  return '5 taxes, 5 products, 6 invoices (2 paid, 1 partly paid, 1 overdue, 1 draft) and 1 credit note';
};
