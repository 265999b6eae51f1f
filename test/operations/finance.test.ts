import { beforeAll, expect, it } from 'vitest';
import { runBilling } from '../../src/services/billing/run.js';
import { caller, type Caller } from '../harness/billing.js';
import { describeDatabases, describeDoors } from '../harness/suite.js';

const ms = (iso: string) => Date.parse(iso);
const cents = (xs: Array<{ [k: string]: any }>, field: string) => xs.reduce((s, x) => s + x[field], 0);

/**
 * A seeded November 2026 in Paris, read at 10 December: the summaries must agree to the cent
 * with the operations they summarise, and the balances at the end of November with what
 * get_accounts_receivable said at that moment, before December's payments, voids and notes.
 */
describeDatabases('financial summary and dashboard on a seeded month', (t) => {
  let at: (iso: string) => Caller;
  let now: Caller;
  let arAtNovemberEnd: any;
  const novemberInvoices: any[] = [];

  beforeAll(async () => {
    const org = await t.env.newOrganization();
    at = (iso: string) => caller({ ...t.env, rt: { ...t.env.rt, now: () => ms(iso) } }, org.id);
    const sep = at('2026-09-20T00:00:00Z');
    const nov = at('2026-11-29T12:00:00Z');
    await sep.call('update_organization', { timezone: 'Europe/Paris', default_currency: 'USD' });
    await sep.call('create_tax', { code: 'fin_vat20', name: 'VAT', rate: '20' });
    await sep.call('create_tax', { code: 'fin_red10', name: 'Reduced VAT', rate: '10' });
    for (const [id, currency] of [
      ['fin-a', 'USD'],
      ['fin-b', 'USD'],
      ['fin-c', 'EUR'],
    ])
      // fin-c is November's one new customer.
      await (id === 'fin-c' ? nov : sep).call('create_customer', {
        external_id: id,
        name: `Customer ${id}`,
        currency,
      });
    await sep.call('create_billable_metric', {
      code: 'fin_llm',
      name: 'LLM calls',
      aggregation_type: 'count_agg',
    });
    await sep.call('create_plan', {
      code: 'fin-team',
      name: 'Team',
      interval: 'monthly',
      amount: '30',
      pay_in_advance: true,
    });
    await sep.call('create_subscription', {
      customer_id: 'fin-b',
      plan_code: 'fin-team',
      external_id: 'fin-b-team',
      started_at: '2026-10-01',
    });
    for (const when of ['2026-10-01T12:00:00Z', '2026-11-01T12:00:00Z'])
      expect((await runBilling({ ...t.env.rt, now: () => ms(when) }, ms(when))).errors).toEqual([]);

    const invoice = async (c: Caller, args: Record<string, unknown>) =>
      (await c.call('create_invoice', { status: 'finalized', ...args })).invoice;
    const a1 = await invoice(nov, {
      customer_id: 'fin-a',
      issued_at: '2026-11-03T09:00:00Z',
      lines: [
        { description: 'Onboarding', quantity: 2, unit_amount: '150.005', tax_codes: ['fin_vat20'] },
        { description: 'Books', unit_amount: '99.99', tax_codes: ['fin_red10'] },
      ],
      discounts: [{ description: 'Welcome', amount: '10' }],
    });
    const b2 = await invoice(nov, {
      customer_id: 'fin-b',
      issued_at: '2026-11-15T09:00:00Z',
      net_payment_term: 10,
      lines: [{ description: 'Audit', unit_amount: '1000', tax_codes: ['fin_vat20'] }],
    });
    const c3 = await invoice(nov, {
      customer_id: 'fin-c',
      issued_at: '2026-11-20T09:00:00Z',
      lines: [{ description: 'Beratung', unit_amount: '500', tax_codes: ['fin_vat20'] }],
    });
    // October's, due 19 November: overdue at the end of November.
    await invoice(nov, {
      customer_id: 'fin-a',
      issued_at: '2026-10-20T09:00:00Z',
      net_payment_term: 30,
      lines: [{ description: 'Setup', unit_amount: '200', tax_codes: [] }],
    });
    // 31 October 23:30 UTC is 1 November in Paris.
    const b7 = await invoice(nov, {
      customer_id: 'fin-b',
      issued_at: '2026-10-31T23:30:00Z',
      lines: [{ description: 'Night work', unit_amount: '50', tax_codes: [] }],
    });
    const voided = await invoice(nov, {
      customer_id: 'fin-b',
      issued_at: '2026-11-10T09:00:00Z',
      lines: [{ description: 'Mistake', unit_amount: '999', tax_codes: [] }],
    });
    await nov.call('void_invoice', { invoice_id: voided.id });
    // Open at the end of November, voided in December.
    const lateVoid = await invoice(nov, {
      customer_id: 'fin-a',
      issued_at: '2026-11-21T09:00:00Z',
      lines: [{ description: 'Disputed', unit_amount: '75', tax_codes: [] }],
    });
    novemberInvoices.push(a1, b2, c3, b7, lateVoid);
    await nov.call('mark_invoice_paid', { invoice_id: a1.id, paid_at: '2026-11-10T10:00:00Z' });
    await nov.call('mark_invoice_paid', {
      invoice_id: b2.id,
      amount: '300',
      paid_at: '2026-11-28T10:00:00Z',
    });
    await nov.call('create_credit_note', {
      invoice_id: c3.id,
      type: 'credit',
      reason: 'order_change',
      items: [{ invoice_line_id: c3.lines[0].id, amount: '100' }],
    });
    // Issued in November, voided in December: it reduced what was owed at the end of November.
    const laterVoidedNote = await nov.call('create_credit_note', {
      invoice_id: b7.id,
      type: 'credit',
      reason: 'order_change',
      amount: '20',
    });
    for (const [i, ts] of ['2026-11-05T10:00:00Z', '2026-11-29T10:00:00Z', '2026-12-03T10:00:00Z'].entries())
      await at(i === 2 ? '2026-12-05T10:00:00Z' : '2026-11-29T12:00:00Z').call('record_usage', {
        transaction_id: `fin-llm-${i}`,
        customer_id: 'fin-a',
        code: 'fin_llm',
        timestamp: ts,
        model: 'claude-sonnet-4-5',
        provider: 'anthropic',
        input_tokens: 1_000_000 * (i + 1),
        output_tokens: 100_000,
      });
    arAtNovemberEnd = await at('2026-11-30T22:59:00Z').call('get_accounts_receivable', {});

    // December: a payment, a void, a voided note, a December invoice (1 December in Paris),
    // a new customer, a billing run and an ended subscription.
    const dec = at('2026-12-05T10:00:00Z');
    await dec.call('mark_invoice_paid', { invoice_id: b2.id, paid_at: '2026-12-05T10:00:00Z' });
    await dec.call('void_invoice', { invoice_id: lateVoid.id });
    await dec.call('void_credit_note', { credit_note_id: laterVoidedNote.credit_note.id });
    await invoice(dec, {
      customer_id: 'fin-a',
      issued_at: '2026-11-30T23:30:00Z',
      lines: [{ description: 'December work', unit_amount: '40', tax_codes: ['fin_vat20'] }],
    });
    await dec.call('create_customer', { external_id: 'fin-d', name: 'December Co', currency: 'USD' });
    expect(
      (await runBilling({ ...t.env.rt, now: () => ms('2026-12-01T12:00:00Z') }, ms('2026-12-01T12:00:00Z')))
        .errors,
    ).toEqual([]);
    await dec.call('create_subscription', {
      customer_id: 'fin-a',
      plan_code: 'fin-team',
      external_id: 'fin-a-team',
    });
    await dec.call('terminate_subscription', { subscription_id: 'fin-a-team' });
    now = at('2026-12-10T10:00:00Z');
  });

  it('sums November as get_customer_revenue and get_cost_metrics count it, tax per rate as the invoices do', async () => {
    const s = await now.call('get_financial_summary', { period: '2026-11' });
    expect(s).toMatchObject({
      period: '2026-11',
      from: '2026-10-31T23:00:00.000Z',
      to: '2026-11-30T23:00:00.000Z',
      timezone: 'Europe/Paris',
      as_of_date: '2026-11-30',
    });
    expect(s.currencies.map((c: any) => c.currency)).toEqual(['EUR', 'USD']);
    for (const cur of s.currencies) {
      let revenue = 0;
      let count = 0;
      for (const id of ['fin-a', 'fin-b', 'fin-c', 'fin-d']) {
        const r = await now.call('get_customer_revenue', { customer_id: id, from: s.from, to: s.to });
        const row = r.revenue.find((x: any) => x.currency === cur.currency);
        revenue += row?.revenue_cents ?? 0;
        count += row?.invoice_count ?? 0;
      }
      expect(cur.net_revenue_cents, cur.currency).toBe(revenue);
      expect(cur.invoice_count, cur.currency).toBe(count);
      expect(cur.net_revenue_cents).toBe(cur.invoiced_net_cents - cur.credit_notes_net_cents);
    }
    const usd = s.currencies.find((c: any) => c.currency === 'USD');
    // a1, b2 and b7 (1 November in Paris); the invoice voided in December is not revenue today.
    const invoicedInvoices = novemberInvoices.filter(
      (i) => i.currency === 'USD' && i.id !== novemberInvoices[4].id,
    );
    const expectTax = new Map<string, number>();
    for (const inv of invoicedInvoices)
      for (const tax of inv.tax_breakdown)
        expectTax.set(tax.code, (expectTax.get(tax.code) ?? 0) + tax.amount_cents);
    expect(Object.fromEntries(usd.taxes.map((x: any) => [x.tax_code, x.tax_amount_cents]))).toEqual(
      Object.fromEntries(expectTax),
    );
    expect(usd.taxes.map((x: any) => x.rate).sort()).toEqual(['10', '20']);
    expect(usd.payments_received).toBe(
      (Number(novemberInvoices[0].total_amount) + 300).toFixed(2), // a1 in full, 300 of b2
    );
    expect(usd.payment_count).toBe(2);
    const eur = s.currencies.find((c: any) => c.currency === 'EUR');
    expect(eur).toMatchObject({
      invoiced_net: '500.00',
      invoiced_tax: '100.00',
      credit_notes_net: '100.00',
      credit_notes_tax: '20.00',
      net_revenue: '400.00',
      margin: null,
    });
    expect(eur.taxes).toEqual([
      expect.objectContaining({
        tax_code: 'fin_vat20',
        tax_amount: '100.00',
        credited_tax_amount: '20.00',
        net_tax_amount: '80.00',
      }),
    ]);

    const costs = await now.call('get_cost_metrics', { from: s.from, to: s.to });
    expect(s.cost).toBe(costs.totals.cost);
    expect(s.cost_cents).toBe(costs.totals.cost_cents);
    expect(s.event_count).toBe(2);
    expect(usd.margin_cents).toBe(usd.net_revenue_cents - costs.totals.cost_cents);
  });

  it('reads what was owed at the end of November as get_accounts_receivable said it then', async () => {
    const s = await now.call('get_financial_summary', { period: '2026-11' });
    for (const total of arAtNovemberEnd.totals) {
      const cur = s.currencies.find((c: any) => c.currency === total.currency);
      expect(cur.outstanding_cents, total.currency).toBe(total.amount_due_cents);
      expect(cur.overdue_cents, total.currency).toBe(total.overdue_amount_cents);
      const balances = arAtNovemberEnd.balances.filter((b: any) => b.currency === total.currency);
      expect(cur.outstanding_count).toBe(cents(balances, 'invoices_count'));
      expect(cur.overdue_count).toBe(
        balances.reduce((n: number, b: any) => n + b.overdue_invoices.length, 0),
      );
    }
    // b2's rest (1,200 − 300) and October's 200 were overdue then.
    const usd = s.currencies.find((c: any) => c.currency === 'USD');
    expect(usd.overdue_cents).toBeGreaterThanOrEqual(90_000 + 20_000);

    // This month's summary reads today's balances: exactly get_accounts_receivable's totals.
    const dec = await now.call('get_financial_summary', { period: '2026-12' });
    const ar = await now.call('get_accounts_receivable', {});
    expect(dec.as_of).toBe('2026-12-10T10:00:00.000Z');
    expect(dec.as_of_date).toBe('2026-12-10');
    for (const total of ar.totals) {
      const cur = dec.currencies.find((c: any) => c.currency === total.currency);
      expect(cur).toMatchObject({
        outstanding_cents: total.amount_due_cents,
        overdue_cents: total.overdue_amount_cents,
      });
    }
    expect(dec.currencies.map((c: any) => c.currency).sort()).toEqual(
      ar.totals.map((x: any) => x.currency).sort(),
    );
  });

  it('splits a quarter into its months, and a from/to window into clipped months', async () => {
    const q = await now.call('get_financial_summary', { period: '2026-Q4' });
    expect(q.by_month.map((m: any) => m.month)).toEqual(['2026-10', '2026-11', '2026-12']);
    const nov = await now.call('get_financial_summary', { period: '2026-11' });
    const qNov = q.by_month[1];
    expect(qNov.currencies).toEqual(
      nov.currencies.map((c: any) => {
        const out: Record<string, unknown> = { currency: c.currency };
        for (const k of Object.keys(qNov.currencies[0]!)) if (k !== 'currency') out[k] = c[k];
        return out;
      }),
    );
    expect(qNov.cost).toBe(nov.cost);
    for (const cur of q.currencies) {
      const months = q.by_month.flatMap((m: any) =>
        m.currencies.filter((c: any) => c.currency === cur.currency),
      );
      expect(cents(months, 'net_revenue_cents')).toBe(cur.net_revenue_cents);
      expect(cents(months, 'invoice_count')).toBe(cur.invoice_count);
      expect(cents(months, 'payments_received_cents')).toBe(cur.payments_received_cents);
    }
    const year = await now.call('get_financial_summary', { period: '2026' });
    expect(year.by_month).toHaveLength(12);
    expect(year.currencies.find((c: any) => c.currency === 'USD').net_revenue_cents).toBe(
      q.currencies.find((c: any) => c.currency === 'USD').net_revenue_cents,
    );

    const w = await now.call('get_financial_summary', {
      from: '2026-11-15T00:00:00Z',
      to: '2026-12-02T00:00:00Z',
    });
    expect(w.period).toBeNull();
    expect(w.by_month.map((m: any) => [m.month, m.from, m.to])).toEqual([
      ['2026-11', '2026-11-15T00:00:00.000Z', '2026-11-30T23:00:00.000Z'],
      ['2026-12', '2026-11-30T23:00:00.000Z', '2026-12-02T00:00:00.000Z'],
    ]);
    const eurOnly = await now.call('get_financial_summary', { period: '2026-11', currency: 'eur' });
    expect(eurOnly.currencies.map((c: any) => c.currency)).toEqual(['EUR']);
  });

  it('shows on the dashboard the figures of get_mrr, get_accounts_receivable, get_customer_revenue and get_cost_metrics', async () => {
    const d = await now.call('get_dashboard', {});
    expect(d.this_month.month).toBe('2026-12');
    const mrr = await now.call('get_mrr', {});
    expect(d.mrr.from).toBe(mrr.from);
    expect(d.mrr.currencies.map((c: any) => [c.currency, c.mrr_cents])).toEqual(
      mrr.currencies.map((c: any) => [c.currency, c.mrr_cents]),
    );
    const before = await at('2026-11-15T00:00:00Z').call('get_mrr', {});
    const usdMrr = d.mrr.currencies.find((c: any) => c.currency === 'USD');
    expect(usdMrr.prior_mrr_cents).toBe(before.currencies.find((c: any) => c.currency === 'USD').mrr_cents);
    expect(usdMrr.change_cents).toBe(usdMrr.mrr_cents - usdMrr.prior_mrr_cents);
    expect(usdMrr.mrr).toBe('30.00');

    const ar = await now.call('get_accounts_receivable', {});
    expect(d.receivables.map((r: any) => [r.currency, r.outstanding_cents, r.overdue_cents])).toEqual(
      ar.totals
        .map((x: any) => [x.currency, x.amount_due_cents, x.overdue_amount_cents])
        .sort((a: any, b: any) => a[0].localeCompare(b[0])),
    );
    const nov = await now.call('get_financial_summary', { period: '2026-11' });
    const dec = await now.call('get_financial_summary', { period: '2026-12' });
    for (const r of d.revenue) {
      expect(r.last_month_cents).toBe(
        nov.currencies.find((c: any) => c.currency === r.currency)?.net_revenue_cents ?? 0,
      );
      expect(r.this_month_cents).toBe(
        dec.currencies.find((c: any) => c.currency === r.currency)?.net_revenue_cents ?? 0,
      );
    }
    for (const cur of d.top_customers.currencies)
      for (const row of cur.customers) {
        const r = await now.call('get_customer_revenue', {
          customer_id: row.customer_id,
          from: d.top_customers.from,
          to: d.top_customers.to,
        });
        expect(row.revenue_cents).toBe(r.revenue.find((x: any) => x.currency === cur.currency).revenue_cents);
      }
    expect(
      d.top_customers.currencies.find((c: any) => c.currency === 'USD').customers.map((c: any) => c.name),
    ).toEqual(['Customer fin-b', 'Customer fin-a']);
    const cost = await now.call('get_cost_metrics', { from: d.this_month.from, to: d.this_month.to });
    expect(d.ai.cost).toBe(cost.totals.cost);
    expect(d.ai.margin_cents).toBe(
      d.revenue.find((r: any) => r.currency === 'USD').this_month_cents - cost.totals.cost_cents,
    );
    expect(d.new_customers).toEqual({ this_month: 1, last_month: 1 });
    // fin-a's team ended in December; fin-b's goes on.
    expect(d.ended_subscriptions).toEqual({ this_month: 1, last_month: 0 });
  });
});

describeDoors('financial summary and dashboard at every door', (t) => {
  it('answers both and names the field of a wrong period', async () => {
    await t.door.ok('create_customer', { external_id: 'fd-1', name: 'Door One', currency: 'USD' });
    await t.door.ok('create_invoice', {
      customer_id: 'fd-1',
      status: 'finalized',
      lines: [{ description: 'Work', unit_amount: '12.34', tax_codes: [] }],
    });
    const s = await t.door.ok('get_financial_summary', {});
    expect(s.currencies).toEqual([
      expect.objectContaining({ currency: 'USD', invoiced_net: '12.34', outstanding: '12.34' }),
    ]);
    const d = await t.door.ok('get_dashboard', {});
    expect(d.receivables).toEqual([
      expect.objectContaining({ currency: 'USD', outstanding: '12.34', outstanding_count: 1 }),
    ]);
    expect(d.top_customers.currencies[0].customers[0]).toMatchObject({ name: 'Door One', revenue: '12.34' });

    const bad = await t.door.fail('get_financial_summary', { period: '2026-13' }, 'VALIDATION_ERROR');
    expect(bad.message).toMatch(
      /^period: must be a month \(2026-11\), a quarter \(2026-Q4\) or a year \(2026\)/,
    );
    const both = await t.door.fail(
      'get_financial_summary',
      { period: '2026-11', from: '2026-11-01', to: '2026-12-01' },
      'VALIDATION_ERROR',
    );
    expect(both.message).toMatch(/^period: give either period or from\/to/);
    expect(
      (await t.door.fail('get_financial_summary', { from: '2026-11-01' }, 'VALIDATION_ERROR')).message,
    ).toMatch(/^to: is required with from/);
    expect(
      (
        await t.door.fail(
          'get_financial_summary',
          { from: '2026-11-02', to: '2026-11-01' },
          'VALIDATION_ERROR',
        )
      ).message,
    ).toMatch(/^to: must be after from/);
    expect(
      (
        await t.door.fail(
          'get_financial_summary',
          { from: '2000-01-01', to: '2020-01-01' },
          'VALIDATION_ERROR',
        )
      ).message,
    ).toMatch(/^to: the window spans more than 120 months/);
    await t.door.fail('get_financial_summary', { currency: 'XYZ' }, 'VALIDATION_ERROR');
    await t.door.fail('get_dashboard', { period: '2026-11' }, 'VALIDATION_ERROR');
    const anomalies = await t.door.ok('detect_anomalies', {});
    expect(anomalies.findings).toEqual([]);
    await t.door.fail('detect_anomalies', { threshold: -1 }, 'VALIDATION_ERROR');
  });
});
