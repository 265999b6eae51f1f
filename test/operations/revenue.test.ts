import { expect, it } from 'vitest';
import { describeDoors } from '../harness/suite.js';

/** The first day of the month `offset` months from now, UTC (the test organization's zone). */
function monthStart(offset: number): string {
  const d = new Date();
  const m = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1));
  return m.toISOString().slice(0, 10);
}

describeDoors('revenue analytics', (t) => {
  it('reports a customer’s invoiced revenue by type, less credit notes, with usage cost and margin', async () => {
    await t.door.ok('create_customer', { external_id: 'rev-1', name: 'Revenue One', currency: 'USD' });
    await t.door.ok('create_billable_metric', {
      code: 'rev_calls',
      name: 'Calls',
      aggregation_type: 'count_agg',
    });
    const from = monthStart(-1);
    const to = monthStart(0);
    const { invoice } = await t.door.ok('create_invoice', {
      customer_id: 'rev-1',
      issued_at: from,
      lines: [
        { description: 'Onboarding', quantity: 2, unit_amount: '150.005', tax_codes: [] },
        { description: 'Report', unit_amount: '99.99', tax_codes: [] },
      ],
      status: 'finalized',
    });
    expect(invoice.sub_total_amount).toBe('400.00'); // 300.01 + 99.99
    // A draft and a voided invoice are not revenue.
    await t.door.ok('create_invoice', {
      customer_id: 'rev-1',
      issued_at: from,
      amount: '1000',
      description: 'Draft',
    });
    const voided = await t.door.ok('create_invoice', {
      customer_id: 'rev-1',
      issued_at: from,
      amount: '500',
      description: 'Voided',
      status: 'finalized',
    });
    await t.door.ok('void_invoice', { invoice_id: voided.invoice.id });
    await t.door.ok('create_credit_note', {
      invoice_id: invoice.id,
      type: 'credit',
      reason: 'order_change',
      items: [{ invoice_line_id: invoice.lines[1].id, amount: '40' }],
    });
    await t.door.ok('record_usage', {
      transaction_id: 'rev-llm-1',
      customer_id: 'rev-1',
      code: 'rev_calls',
      timestamp: `${from}T10:00:00Z`,
      model: 'claude-sonnet-4-5',
      provider: 'anthropic',
      input_tokens: 1_000_000,
      output_tokens: 100_000,
    });
    // The credit note is issued now: a window from last month to tomorrow holds both.
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
    const r = await t.door.ok('get_customer_revenue', { customer_id: 'rev-1', from, to: tomorrow });
    expect(r.revenue).toEqual([
      expect.objectContaining({
        currency: 'USD',
        invoice_count: 1,
        revenue: '360.00',
        revenue_cents: 36000,
        credited: '40.00',
        by_type: expect.objectContaining({
          one_off: '400.00',
          recurring: '0.00',
          usage: '0.00',
          seat: '0.00',
        }),
      }),
    ]);
    // 1,000,000 × 3.00 / 10^6 + 100,000 × 15.00 / 10^6 = 3.00 + 1.50
    expect(r.cost).toBe('4.5');
    expect(r.margin).toBe('355.50');
    expect(r.margin_percent).toBe('98.75');

    // Last month's window alone: the credit note (issued now) is outside it.
    const last = await t.door.ok('get_customer_revenue', { customer_id: 'rev-1', from, to });
    expect(last.revenue[0]).toMatchObject({ revenue: '400.00', credited: '0.00' });

    // One-off invoices are never recurring revenue.
    const mrr = await t.door.ok('get_mrr', { customer_id: 'rev-1' });
    expect(mrr).toMatchObject({
      variant: 'canonical',
      from: `${from}T00:00:00.000Z`,
      to: `${to}T00:00:00.000Z`,
    });
    expect(mrr.currencies).toEqual([
      expect.objectContaining({
        currency: 'USD',
        mrr: '0.00',
        by_type: expect.objectContaining({ one_off: '400.00' }),
      }),
    ]);
  });

  it('names the field when a window or reference is wrong', async () => {
    await t.door.ok('create_customer', { external_id: 'rev-2', name: 'Revenue Two' });
    const e = await t.door.fail(
      'get_customer_revenue',
      { customer_id: 'rev-2', from: '2026-05-01T00:00:00Z', to: '2026-04-01T00:00:00Z' },
      'VALIDATION_ERROR',
    );
    expect(e.message).toMatch(/^to: must be after from/);
    await t.door.fail(
      'get_customer_revenue',
      { customer_id: 'nobody', from: '2026-04-01', to: '2026-05-01' },
      'NOT_FOUND',
    );
    const s = await t.door.fail('get_mrr', { subscription_id: 'no-such-sub' }, 'VALIDATION_ERROR');
    expect(s.message).toMatch(/^subscription_id:/);
    await t.door.fail('get_mrr', { variant: 'yearly' }, 'VALIDATION_ERROR');
  });
});
