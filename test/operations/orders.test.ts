import { beforeAll, expect, it } from 'vitest';
import { describeDoors } from '../harness/suite.js';

const yyyymm = (date: string) => date.slice(0, 7).replace('-', '');

describeDoors('sales orders', (t) => {
  beforeAll(async () => {
    await t.door.ok('create_customer', { external_id: 'so-acme', name: 'Acme Orders', currency: 'EUR' });
    await t.door.ok('create_customer', { external_id: 'so-other', name: 'Other Buyer', currency: 'EUR' });
    await t.door.ok('create_tax', { code: 'so_vat20', name: 'VAT', rate: '20' });
    await t.door.ok('create_tax', { code: 'so_vat55', name: 'VAT', rate: '5.5' });
    await t.door.ok('create_product', {
      code: 'so_day',
      name: 'Consulting day',
      unit_amount: '800.005',
      currency: 'EUR',
      unit_label: 'day',
      tax_codes: ['so_vat20'],
    });
  });

  it('prices a draft as an invoice would, changes it, and numbers it gaplessly on confirmation', async () => {
    const { order, created } = await t.door.ok('create_order', {
      customer_id: 'so-acme',
      external_id: 'po-1001',
      order_date: '2026-11-03',
      lines: [
        { product_code: 'so_day', quantity: 3 },
        { description: 'Books', quantity: '2', unit_amount: '19.99', tax_codes: ['so_vat55'] },
      ],
    });
    expect(created).toBe(true);
    expect(order).toMatchObject({
      status: 'draft',
      number: null,
      currency: 'EUR',
      order_date: '2026-11-03',
      customer: { external_id: 'so-acme', name: 'Acme Orders' },
      // 3 × 800.005 = 2400.015 → 2400.02; 2 × 19.99 = 39.98
      sub_total_amount: '2440.00',
      // 20 % of 2400.02 = 480.004 → 480.00; 5.5 % of 39.98 = 2.1989 → 2.20
      taxes_amount: '482.20',
      total_amount: '2922.20',
      invoices: [],
    });
    expect(order.lines.map((l: any) => [l.description, l.quantity, l.amount, l.remaining_quantity])).toEqual([
      ['Consulting day', '3', '2400.02', '3'],
      ['Books', '2', '39.98', '2'],
    ]);
    expect(order.tax_breakdown.map((x: any) => [x.code, x.taxable_amount, x.amount])).toEqual([
      ['so_vat20', '2400.02', '480.00'],
      ['so_vat55', '39.98', '2.20'],
    ]);
    // The same external_id updates the draft instead of making a second order.
    const again = await t.door.ok('create_order', {
      customer_id: 'so-acme',
      external_id: 'po-1001',
      lines: [{ product_code: 'so_day', quantity: 4 }],
    });
    expect(again).toMatchObject({ created: false, order: { id: order.id, sub_total_amount: '3200.02' } });
    expect(again.note).toMatch(/already existed as a draft/);
    const { order: changed } = await t.door.ok('update_order', {
      order_id: 'po-1001',
      lines: [
        { product_code: 'so_day', quantity: 3 },
        { description: 'Books', quantity: '2', unit_amount: '19.99', tax_codes: ['so_vat55'] },
      ],
      memo: 'Deliver to Lyon',
    });
    expect(changed).toMatchObject({ total_amount: '2922.20', memo: 'Deliver to Lyon' });

    const first = await t.door.ok('confirm_order', { order_id: order.id });
    expect(first.changed).toBe(true);
    expect(first.order).toMatchObject({ status: 'confirmed', number: 'SO-202611-0001' });
    expect(first.order.confirmed_at).not.toBeNull();
    const retry = await t.door.ok('confirm_order', { order_id: 'SO-202611-0001' });
    expect(retry).toMatchObject({ changed: false, order: { number: 'SO-202611-0001' } });
    // A second order, confirmed at creation, takes the next number; a draft takes none.
    await t.door.ok('create_order', {
      customer_id: 'so-acme',
      order_date: '2026-11-20',
      lines: [{ description: 'x', unit_amount: 1 }],
    });
    const second = await t.door.ok('create_order', {
      customer_id: 'so-other',
      order_date: '2026-12-01',
      status: 'confirmed',
      lines: [{ description: 'Setup', unit_amount: '100' }],
    });
    expect(second.order).toMatchObject({ status: 'confirmed', number: 'SO-202612-0002' });

    // A confirmed order's lines do not change; its metadata does.
    const e = await t.door.fail(
      'update_order',
      { order_id: order.id, memo: 'late change' },
      'INVALID_STATUS',
    );
    expect(e.message).toMatch(/is confirmed: only metadata can change \(got memo\)/);
    const tagged = await t.door.ok('update_order', { order_id: order.id, metadata: { po: 'A-17' } });
    expect(tagged.order.metadata).toEqual({ po: 'A-17' });
    // The retry of a confirmed order's creation returns it unchanged.
    const replay = await t.door.ok('create_order', {
      customer_id: 'so-acme',
      external_id: 'po-1001',
      lines: [{ description: 'other', unit_amount: 5 }],
    });
    expect(replay).toMatchObject({ created: false, order: { id: order.id, total_amount: '2922.20' } });
    expect(replay.note).toMatch(/is confirmed \(SO-202611-0001\); it was returned unchanged/);
    // Found by id, number and external id; listed by status, customer, date and search.
    for (const ref of [order.id, 'SO-202611-0001', 'po-1001'])
      expect((await t.door.ok('get_order', { order_id: ref })).order.id).toBe(order.id);
    const listed = await t.door.ok('list_orders', { status: 'confirmed', customer_id: 'so-acme' });
    expect(listed.orders.map((o: any) => o.id)).toEqual([order.id]);
    const byDate = await t.door.ok('list_orders', {
      order_date_from: '2026-12-01',
      order_date_to: '2026-12-31',
    });
    expect(byDate.orders.map((o: any) => o.number)).toEqual(['SO-202612-0002']);
    const bySearch = await t.door.ok('list_orders', { search: 'lyon' });
    expect(bySearch.orders.map((o: any) => o.id)).toEqual([order.id]);
    expect(bySearch.pagination).toMatchObject({ total_count: 1, current_page: 1 });
  });

  it('invoices an order in parts through the invoice service, never a unit twice, and gives units back on void', async () => {
    const { order } = await t.door.ok('create_order', {
      customer_id: 'so-acme',
      status: 'confirmed',
      lines: [
        { product_code: 'so_day', quantity: 5 },
        { description: 'Licence', quantity: '1.5', unit_amount: '333.33', tax_codes: [] },
      ],
    });
    expect(order.number).toMatch(new RegExp(`^SO-${yyyymm(order.order_date)}-\\d{4}$`));
    const part = await t.door.ok('invoice_order', {
      order_id: order.number,
      lines: [{ position: 1, quantity: '2' }],
      status: 'finalized',
    });
    expect(part.created).toBe(true);
    expect(part.invoice).toMatchObject({
      status: 'finalized',
      order_id: order.id,
      memo: `Order ${order.number}`,
      // 2 × 800.005 = 1600.01, VAT 20 % = 320.00
      sub_total_amount: '1600.01',
      taxes_amount: '320.00',
      total_amount: '1920.01',
    });
    expect(part.invoice.lines).toHaveLength(1);
    expect(part.invoice.lines[0]).toMatchObject({
      description: 'Consulting day',
      quantity: '2',
      unit_amount: '800.005',
      product_code: 'so_day',
      details: { order_id: order.id, order_number: order.number, order_line_id: order.lines[0].id },
    });
    expect(part.order.status).toBe('partially_invoiced');
    expect(part.order.lines.map((l: any) => [l.invoiced_quantity, l.remaining_quantity])).toEqual([
      ['2', '3'],
      ['0', '1.5'],
    ]);

    // More than is left on a line is refused, naming the line and what is left.
    const over = await t.door.fail(
      'invoice_order',
      { order_id: order.id, lines: [{ order_line_id: order.lines[0].id, quantity: 4 }] },
      'VALIDATION_ERROR',
    );
    expect(over.message).toMatch(/^lines\[0\]\.quantity: 4 is more than the 3 left to invoice on line 1/);
    expect(over.details).toMatchObject({ remaining_quantity: '3' });

    // The rest: every unit left, by default.
    const rest = await t.door.ok('invoice_order', { order_id: order.id, external_id: `rest-${order.id}` });
    expect(rest.invoice.lines.map((l: any) => [l.description, l.quantity, l.amount])).toEqual([
      ['Consulting day', '3', '2400.02'],
      ['Licence', '1.5', '500.00'],
    ]);
    expect(rest.invoice.status).toBe('draft');
    expect(rest.order.status).toBe('invoiced');
    expect(rest.order.invoices.map((i: any) => i.id)).toEqual([part.invoice.id, rest.invoice.id]);
    // A retry with the same external_id returns the same invoice.
    const replay = await t.door.ok('invoice_order', { order_id: order.id, external_id: `rest-${order.id}` });
    expect(replay).toMatchObject({ created: false, invoice: { id: rest.invoice.id } });
    // Fully invoiced: nothing more, and it cannot be canceled.
    const done = await t.door.fail('invoice_order', { order_id: order.id }, 'INVALID_STATUS');
    expect(done.message).toMatch(/is invoiced; only confirmed or partially invoiced orders can be invoiced/);
    await t.door.fail('cancel_order', { order_id: order.id }, 'INVALID_STATUS');

    // The draft it made cannot change what it bills, only around it.
    const locked = await t.door.fail(
      'update_invoice',
      { invoice_id: rest.invoice.id, lines: [{ description: 'more', unit_amount: 1 }] },
      'INVALID_STATUS',
    );
    expect(locked.message).toMatch(/bills a sales order: its lines follow the order/);
    await t.door.ok('update_invoice', { invoice_id: rest.invoice.id, memo: 'Thanks' });

    // Deleting the draft gives its units back; voiding the first invoice does too.
    await t.door.ok('delete_invoice', { invoice_id: rest.invoice.id });
    let now = (await t.door.ok('get_order', { order_id: order.id })).order;
    expect(now.status).toBe('partially_invoiced');
    expect(now.lines.map((l: any) => l.remaining_quantity)).toEqual(['3', '1.5']);
    expect(now.invoices.map((i: any) => i.id)).toEqual([part.invoice.id]);
    await t.door.ok('void_invoice', { invoice_id: part.invoice.id, reason: 'wrong quantity' });
    now = (await t.door.ok('get_order', { order_id: order.id })).order;
    expect(now.status).toBe('confirmed');
    expect(now.lines.map((l: any) => l.remaining_quantity)).toEqual(['5', '1.5']);
    expect(now.invoices).toEqual([expect.objectContaining({ id: part.invoice.id, status: 'voided' })]);

    // Canceled, the rest is never invoiced.
    const { order: canceled } = await t.door.ok('cancel_order', {
      order_id: order.id,
      reason: 'customer left',
    });
    expect(canceled).toMatchObject({ status: 'canceled', cancel_reason: 'customer left' });
    await t.door.fail('invoice_order', { order_id: order.id }, 'INVALID_STATUS');
    await t.door.fail('cancel_order', { order_id: order.id }, 'INVALID_STATUS');
    await t.door.fail('confirm_order', { order_id: order.id }, 'INVALID_STATUS');
    const activity = await t.door.ok('list_activity_logs', { resource_ids: [order.id] });
    expect(activity.activity_logs.map((a: any) => a.activity_type)).toEqual(
      expect.arrayContaining(['order.created', 'order.invoiced', 'order.invoice_released', 'order.canceled']),
    );
  });

  it('keeps billing an agreed line after its product is archived', async () => {
    await t.door.ok('create_product', {
      code: 'so_old',
      name: 'Old kit',
      unit_amount: '10',
      currency: 'EUR',
    });
    const { order } = await t.door.ok('create_order', {
      customer_id: 'so-other',
      status: 'confirmed',
      lines: [{ product_code: 'so_old', quantity: 2, tax_codes: [] }],
    });
    await t.door.ok('archive_product', { product_id: 'so_old' });
    const r = await t.door.ok('invoice_order', { order_id: order.id });
    expect(r.invoice).toMatchObject({ total_amount: '20.00', order_id: order.id });
    expect(r.order.status).toBe('invoiced');
    // A new order cannot name it.
    await t.door.fail(
      'create_order',
      { customer_id: 'so-other', lines: [{ product_code: 'so_old' }] },
      'VALIDATION_ERROR',
    );
  });

  it('answers each status rule and bad input with an error that names the field', async () => {
    const { order: draft } = await t.door.ok('create_order', {
      customer_id: 'so-acme',
      lines: [{ description: 'Widget', quantity: 2, unit_amount: '5' }],
    });
    const e1 = await t.door.fail('invoice_order', { order_id: draft.id }, 'INVALID_STATUS');
    expect(e1.message).toMatch(/is draft; only confirmed or partially invoiced/);
    expect(e1.hint).toMatch(/confirm_order/);
    await t.door.ok('confirm_order', { order_id: draft.id });
    const bad = [
      [{ lines: [{ position: 3 }] }, /^lines\[0\]\.position: order .* has no line 3/],
      [{ lines: [{ position: 1, order_line_id: draft.lines[0].id }] }, /^lines\[0\]: name the order line by/],
      [{ lines: [{ position: 1 }, { position: 1 }] }, /^lines\[1\]: line 1 is named twice/],
      [{ lines: [{ position: 1, quantity: 0 }] }, /^lines\[0\]\.quantity must be greater than 0 \(got 0\)/],
      [
        { status: 'sent' },
        /^status must be one of draft, finalized \(got 'sent'; Billfold calls a sent invoice 'finalized'\)/,
      ],
    ] as const;
    for (const [args, message] of bad) {
      const e = await t.door.fail('invoice_order', { order_id: draft.id, ...args }, 'VALIDATION_ERROR');
      expect(e.message).toMatch(message);
    }
    await t.door.fail('get_order', { order_id: 'SO-209901-9999' }, 'NOT_FOUND');
    await t.door.fail(
      'create_order',
      { customer_id: 'nobody', lines: [{ description: 'x', unit_amount: 1 }] },
      'NOT_FOUND',
    );
    const noLines = await t.door.fail(
      'create_order',
      { customer_id: 'so-acme', lines: [] },
      'VALIDATION_ERROR',
    );
    expect(noLines.message).toBe('lines must have at least 1 item');
    const noPrice = await t.door.fail(
      'create_order',
      { customer_id: 'so-acme', lines: [{ description: 'x' }] },
      'VALIDATION_ERROR',
    );
    expect(noPrice.message).toMatch(/^lines\[0\]\.unit_amount: is required/);
    const status = await t.door.fail('list_orders', { status: 'open' }, 'VALIDATION_ERROR');
    expect(status.message).toMatch(
      /^status must be one of draft.*confirmed.*partially_invoiced.*invoiced.*canceled/,
    );
    await t.door.fail(
      'list_orders',
      { order_date_from: '2026-12-02', order_date_to: '2026-12-01' },
      'VALIDATION_ERROR',
    );
    const other = await t.door.fail(
      'create_order',
      { customer_id: 'so-other', external_id: 'po-1001', lines: [{ description: 'x', unit_amount: 1 }] },
      'CONFLICT',
    );
    expect(other.message).toMatch(/^external_id: 'po-1001' already belongs to order/);
    // A disabled customer's order is not confirmed or invoiced.
    await t.door.ok('create_customer', { external_id: 'so-off', name: 'Off', currency: 'EUR' });
    const { order: later } = await t.door.ok('create_order', {
      customer_id: 'so-off',
      lines: [{ description: 'x', unit_amount: 1 }],
    });
    await t.door.ok('disable_customer', { customer_id: 'so-off' });
    const off = await t.door.fail('confirm_order', { order_id: later.id }, 'INVALID_STATUS');
    expect(off.message).toMatch(/is disabled/);
  });
});
