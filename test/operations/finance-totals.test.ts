import { expect, it } from 'vitest';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createRuntime } from '../../src/interfaces/runtime.js';
import { rebuildFinanceTotals } from '../../src/services/finance/totals.js';
import { caller, type Caller } from '../harness/billing.js';
import type { TestEnvironment } from '../harness/environment.js';
import { describeDatabases } from '../harness/suite.js';

/**
 * The financial reports read maintained totals (services/finance/totals.ts) that every writer
 * keeps up to date in its own transaction. After a mixed run of writes — invoices finalized at
 * creation and later, voided, paid in part and in full, credited, refunded, notes voided, on both
 * sides of month boundaries in two time zones (the organization's zone changes in between) —
 * the maintained rows must be exactly what a recomputation from the invoices, credit notes and
 * payments gives, and the reports must agree with the rows they summarise, for windows whose
 * edges fall between buckets as well.
 */
const ms = (iso: string) => Date.parse(iso);

const TABLES = [
  'finance_flows',
  'finance_tax_flows',
  'finance_customer_flows',
  'finance_receivables',
] as const;
const KEYS = new Set([
  'organization_id',
  'span',
  'bucket_start',
  'currency',
  'tax_code',
  'rate',
  'name',
  'customer_id',
  'due_date',
]);

/** Every maintained row of the organization that counts something, in a stable order. */
async function maintained(env: TestEnvironment, organizationId: string) {
  const out: Record<string, unknown[]> = {};
  for (const table of TABLES) {
    const rows = await env.rt.db.kysely
      .selectFrom(table)
      .selectAll()
      .where('organization_id', '=', organizationId)
      .execute();
    out[table] = rows
      .map((r) =>
        Object.fromEntries(
          Object.entries(r).map(([k, v]) => [k, KEYS.has(k) && typeof v === 'string' ? v : Number(v)]),
        ),
      )
      .filter((r) => Object.entries(r).some(([k, v]) => !KEYS.has(k) && v !== 0))
      .sort((a, b) => {
        const ka = JSON.stringify(Object.entries(a).filter(([k]) => KEYS.has(k)));
        const kb = JSON.stringify(Object.entries(b).filter(([k]) => KEYS.has(k)));
        return ka < kb ? -1 : ka > kb ? 1 : 0;
      });
  }
  return out;
}

async function rebuiltEqualsMaintained(env: TestEnvironment, organizationId: string) {
  const before = await maintained(env, organizationId);
  await rebuildFinanceTotals(env.rt.db.kysely, env.rt.db.dialect, organizationId);
  const after = await maintained(env, organizationId);
  expect(before).toEqual(after);
  return after;
}

describeDatabases('maintained financial totals', (t) => {
  it('equal a recomputation from the rows after a mixed run of writes across months and time zones', async () => {
    const org = await t.env.newOrganization();
    const at = (iso: string): Caller => caller(t.env, org.id, () => ms(iso));
    const setup = at('2026-09-01T00:00:00Z');
    // Kolkata is 5:30 from UTC: its months start inside a UTC day, half-way through an hour.
    await setup.call('update_organization', { timezone: 'Asia/Kolkata', default_currency: 'USD' });
    await setup.call('create_tax', { code: 'tot_vat20', name: 'VAT', rate: '20' });
    await setup.call('create_tax', { code: 'tot_red5', name: 'Reduced', rate: '5.5' });
    await setup.call('create_customer', { external_id: 'tot-a', name: 'A', currency: 'USD' });
    await setup.call('create_customer', { external_id: 'tot-b', name: 'B', currency: 'EUR' });
    const invoice = async (c: Caller, args: Record<string, unknown>) =>
      (await c.call('create_invoice', { status: 'finalized', ...args })).invoice;
    const lines = (amount: string) => [
      { description: 'Work', unit_amount: amount, tax_codes: ['tot_vat20'] },
      { description: 'Books', unit_amount: '10', tax_codes: ['tot_red5'] },
    ];

    const oct = at('2026-10-31T20:00:00Z');
    // 18:29 UTC on 31 October is still October in Kolkata; 18:30 is 1 November.
    const lastOfOctober = await invoice(oct, {
      customer_id: 'tot-a',
      issued_at: '2026-10-31T18:29:00Z',
      lines: lines('100'),
    });
    const firstOfNovember = await invoice(oct, {
      customer_id: 'tot-a',
      issued_at: '2026-10-31T18:30:00Z',
      lines: lines('200'),
    });
    const euro = await invoice(oct, {
      customer_id: 'tot-b',
      issued_at: '2026-10-31T19:00:00Z',
      lines: lines('300.5'),
    });
    const draft = (
      await oct.call('create_invoice', {
        customer_id: 'tot-b',
        issued_at: '2026-10-31T19:10:00Z',
        lines: lines('40'),
      })
    ).invoice;
    await oct.call('finalize_invoice', { invoice_id: draft.id });
    const nov = at('2026-11-15T10:00:00Z');
    await nov.call('mark_invoice_paid', {
      invoice_id: lastOfOctober.id,
      amount: '50',
      paid_at: '2026-10-31T18:29:59Z',
    });
    await nov.call('mark_invoice_paid', { invoice_id: lastOfOctober.id, paid_at: '2026-11-02T00:00:00Z' });
    await nov.call('create_credit_note', {
      invoice_id: lastOfOctober.id,
      type: 'refund',
      reason: 'other',
      amount: '30',
    });
    await nov.call('create_credit_note', {
      invoice_id: firstOfNovember.id,
      type: 'credit',
      reason: 'order_change',
      amount: '25',
    });
    const voidedNote = await nov.call('create_credit_note', {
      invoice_id: euro.id,
      type: 'credit',
      reason: 'order_change',
      amount: '12.34',
    });
    await nov.call('mark_invoice_paid', { invoice_id: euro.id, amount: '100' });
    await nov.call('void_credit_note', { credit_note_id: voidedNote.credit_note.id });
    await nov.call('void_invoice', { invoice_id: draft.id });

    // The organization moves to New York: the totals are kept in UTC and need no rebuild.
    await nov.call('update_organization', { timezone: 'America/New_York' });
    const dec = at('2026-12-01T06:00:00Z');
    const decInvoice = await invoice(dec, {
      customer_id: 'tot-a',
      issued_at: '2026-12-01T04:59:00Z',
      lines: lines('70'),
    });
    await invoice(dec, { customer_id: 'tot-a', issued_at: '2026-12-01T05:00:00Z', lines: lines('80') });
    await dec.call('mark_invoice_paid', { invoice_id: decInvoice.id, paid_at: '2026-12-01T05:00:00Z' });
    await dec.call('create_credit_note', {
      invoice_id: decInvoice.id,
      type: 'refund',
      reason: 'other',
      amount: '5',
    });

    const rows = await rebuiltEqualsMaintained(t.env, org.id);
    expect(rows.finance_flows!.length).toBeGreaterThan(0);
    expect(rows.finance_tax_flows!.length).toBeGreaterThan(0);
    expect(rows.finance_receivables!.length).toBeGreaterThan(0);

    // The reports agree with the invoices for windows cut anywhere, to the second.
    const now = at('2026-12-10T00:00:00Z');
    const all = (await now.call('list_invoices', { per_page: 100 })).invoices as any[];
    const finalized = all.filter((i) => i.status === 'finalized');
    for (const [from, to] of [
      ['2026-10-31T18:29:30Z', '2026-12-01T05:00:00Z'],
      ['2026-10-31T18:30:00Z', '2026-10-31T19:05:17Z'],
      ['2026-10-01T00:00:00Z', '2026-12-31T00:00:00Z'],
      ['2026-11-30T23:59:59Z', '2026-12-01T04:59:01Z'],
      // Ten years month by month: 120 months' worth of bucket ranges in one condition.
      ['2017-01-01T05:00:00Z', '2026-12-01T05:00:00Z'],
    ]) {
      const s = await now.call('get_financial_summary', { from, to });
      const inside = finalized.filter((i) => ms(i.issued_at) >= ms(from!) && ms(i.issued_at) < ms(to!));
      for (const currency of ['USD', 'EUR']) {
        const mine = inside.filter((i) => i.currency === currency);
        const row = s.currencies.find((c: any) => c.currency === currency);
        expect(row?.invoice_count ?? 0, `${currency} ${from} → ${to}`).toBe(mine.length);
        expect(row?.invoiced_total_cents ?? 0).toBe(mine.reduce((sum, i) => sum + i.total_amount_cents, 0));
        expect(
          (row?.taxes ?? []).reduce((sum: number, x: any) => sum + x.tax_amount_cents, 0),
          `${currency} ${from} → ${to} taxes`,
        ).toBe(mine.reduce((sum, i) => sum + i.taxes_amount_cents, 0));
      }
      const months = s.by_month.reduce(
        (sum: number, m: any) => sum + m.currencies.reduce((x: number, c: any) => x + c.invoice_count, 0),
        0,
      );
      expect(months).toBe(inside.length);
    }
    // What is owed today is get_accounts_receivable's total.
    const ar = await now.call('get_accounts_receivable', {});
    const d = await now.call('get_dashboard', {});
    expect(d.receivables.length).toBe(ar.totals.length);
    for (const total of ar.totals) {
      const r = d.receivables.find((x: any) => x.currency === total.currency);
      expect(r.outstanding_cents, total.currency).toBe(total.amount_due_cents);
      expect(r.overdue_cents, total.currency).toBe(total.overdue_amount_cents);
    }
  });

  it('lose no increment when two instances on one database record payments at the same time', async () => {
    const org = await t.env.newOrganization();
    const first = caller(t.env, org.id);
    await first.call('create_customer', { external_id: 'tot-c', name: 'C', currency: 'USD' });
    const invoices = [];
    for (let i = 0; i < 8; i++)
      invoices.push(
        (
          await first.call('create_invoice', {
            customer_id: 'tot-c',
            status: 'finalized',
            lines: [{ description: `Job ${i}`, unit_amount: '100' }],
          })
        ).invoice,
      );
    // On PostgreSQL a second runtime is a second instance (its own pool). Two runtimes on one
    // SQLite file in one process would block each other's synchronous lock waits, so there the
    // concurrent payments go through the one instance, interleaved at every await.
    const rt =
      t.db === 'postgres'
        ? await createRuntime(loadConfig({ BILLFOLD_LOG_LEVEL: 'warn' }, { database: t.env.database }))
        : t.env.rt;
    try {
      const second = caller({ ...t.env, rt }, org.id);
      // Each instance pays half the invoices, in two parts each: every payment adds to the
      // same bucket rows (today's) and the same due date's balance.
      await Promise.all(
        invoices.map(async (inv, i) => {
          const c = i % 2 ? second : first;
          await c.call('mark_invoice_paid', { invoice_id: inv.id, amount: '40' });
          await c.call('mark_invoice_paid', { invoice_id: inv.id, amount: '20' });
        }),
      );
    } finally {
      if (rt !== t.env.rt) await rt.close();
    }
    const rows = await rebuiltEqualsMaintained(t.env, org.id);
    const month = rows.finance_flows!.find((r: any) => r.span === 'month') as any;
    expect(month.payment_count).toBe(16);
    expect(month.payments_cents).toBe(8 * 6000);
    const open = rows.finance_receivables!.reduce((s: number, r: any) => s + r.open_cents, 0);
    expect(open).toBe(8 * 4000);
  });

  it('are backfilled by their migration from the invoices, credit notes and payments already there', async () => {
    const org = await t.env.newOrganization();
    const c = caller(t.env, org.id);
    await c.call('create_customer', { external_id: 'tot-m', name: 'M', currency: 'USD' });
    const inv = (
      await c.call('create_invoice', {
        customer_id: 'tot-m',
        status: 'finalized',
        lines: [{ description: 'Job', unit_amount: '100' }],
      })
    ).invoice;
    await c.call('mark_invoice_paid', { invoice_id: inv.id, amount: '30' });
    await c.call('create_credit_note', { invoice_id: inv.id, type: 'credit', reason: 'other', amount: '10' });
    const before = await maintained(t.env, org.id);
    expect(before.finance_flows!.length).toBe(3);
    // The database as the release before the totals left it (the rows are there, the totals not).
    const db = t.env.rt.db;
    for (const table of TABLES) await sql`drop table ${sql.table(table)}`.execute(db.kysely);
    // 019 creates the tables, 022 adds the top-up columns and rebuilds.
    for (const name of ['019_financial_totals', '022_finance_top_ups'])
      await sql`delete from billfold_migrations where name = ${name}`.execute(db.kysely);
    expect(await migrateToLatest(db)).toEqual(['019_financial_totals', '022_finance_top_ups']);
    expect(await maintained(t.env, org.id)).toEqual(before);
  });
  /*
   * A wallet top-up is a balance sold, not revenue (get_customer_revenue's rule): 30 credits at
   * 1.00 invoiced as a credit invoice of 30.00; a 20.00 subscription invoice paid from the wallet.
   * Net revenue is 20.00 in the summary as in
   * get_customer_revenue; the top-up is reported as prepaid credits invoiced; the top customer's
   * figure is 20.00; the maintained totals equal a rebuild.
   */
  it('keep wallet top-ups out of revenue, as get_customer_revenue does', async () => {
    const org = await t.env.newOrganization();
    const c = caller(t.env, org.id, () => ms('2026-09-10T12:00:00Z'));
    await c.call('update_organization', { timezone: 'UTC', default_currency: 'USD' });
    await c.call('create_customer', { external_id: 'tu-a', name: 'Top-up', currency: 'USD' });
    await c.call('create_plan', {
      code: 'tu-plan',
      name: 'TU',
      interval: 'monthly',
      amount: '20',
      tax_codes: [],
    });
    await c.call('create_subscription', {
      customer_id: 'tu-a',
      plan_code: 'tu-plan',
      external_id: 'tu-sub',
      started_at: '2026-09-01',
    });
    await c.call('create_wallet', {
      customer_id: 'tu-a',
      rate_amount: '1',
      paid_credits: '30',
      invoice_requires_payment: false,
    });
    const [topUp] = (await c.call('list_invoices', { customer_id: 'tu-a', invoice_type: 'credit' })).invoices;
    expect(topUp).toMatchObject({ total_amount: '30.00', status: 'finalized' });
    const { invoice: draft } = await c.call('generate_invoice', {
      subscription_id: 'tu-sub',
      period: { from: '2026-09-01', to: '2026-10-01' },
    });
    const { invoice: final } = await c.call('finalize_invoice', { invoice_id: draft.id });
    expect(final).toMatchObject({
      sub_total_amount: '20.00',
      prepaid_credit_amount: '20.00',
      amount_due: '0.00',
    });

    const revenue = await c.call('get_customer_revenue', {
      customer_id: 'tu-a',
      from: '2026-09-01',
      to: '2026-10-01',
    });
    expect(revenue.revenue[0]).toMatchObject({ currency: 'USD', revenue_cents: 2000, invoice_count: 1 });
    const summary = await c.call('get_financial_summary', { period: '2026-09' });
    const [usd] = summary.currencies;
    expect(usd).toMatchObject({
      currency: 'USD',
      invoice_count: 1,
      invoiced_net: '20.00',
      credit_note_count: 0,
      credit_notes_net_cents: 0,
      net_revenue: '20.00',
      net_revenue_cents: revenue.revenue[0].revenue_cents,
      prepaid_credits_invoiced_count: 1,
      prepaid_credits_invoiced: '30.00',
      prepaid_credits_invoiced_cents: 3000,
      margin_cents: 2000,
    });
    expect(summary.by_month[0].currencies[0]).toMatchObject({
      net_revenue_cents: 2000,
      prepaid_credits_invoiced_count: 1,
      prepaid_credits_invoiced_cents: 3000,
    });
    // A window whose edges fall inside buckets reads the rows themselves: the same figures.
    const edges = await c.call('get_financial_summary', {
      from: '2026-09-01T00:00:30Z',
      to: '2026-09-10T12:00:30Z',
    });
    expect(edges.currencies[0]).toMatchObject({
      net_revenue_cents: 2000,
      credit_note_count: 0,
      prepaid_credits_invoiced_count: 1,
      prepaid_credits_invoiced_cents: 3000,
    });
    const rebuilt = await rebuiltEqualsMaintained(t.env, org.id);
    expect(
      rebuilt.finance_customer_flows!.every(
        (r: any) => r.invoiced_net_cents === 2000 || r.invoiced_net_cents === 0,
      ),
    ).toBe(true);
  });
});
