import { sql } from 'kysely';
import type { StoredTaxLine } from '../invoice-views.js';
import { Decimal } from '../../domain/decimal.js';
import { formatMinor, moneyFields, roundToCurrency, toMinor } from '../../domain/money.js';
import { dateInZone, toIso } from '../../domain/time.js';
import type { ServiceContext } from '../context.js';
import { getUsageAnalytics } from '../metering/analytics.js';
import { TOP_UP_INVOICE_TYPE, inRevenue } from '../billing/revenue.js';
import { receivablesAt } from './receivables-at.js';
import { cover, inBuckets, inRanges, type Range } from './buckets.js';
import { monthIndex, reportWindow, type ReportWindow } from './window.js';

/**
 * The financial summary of a window, per currency and never adding currencies together:
 * finalized invoices issued in it (net of discounts, tax per rate), credit notes issued in it,
 * net revenue (the first less the second, as get_customer_revenue counts it), payments and
 * refunds, what was owed and overdue at its end, and the usage cost of its events (USD, as
 * get_cost_metrics counts it) with the margin on USD revenue. Each figure is also given month
 * by month. Every sum is taken in SQL over integer minor units.
 */

const n = (v: unknown) => BigInt(String(v ?? 0));

export interface Flows {
  invoiceCount: number;
  net: bigint;
  tax: bigint;
  total: bigint;
  creditCount: number;
  creditNet: bigint;
  creditTax: bigint;
  creditTotal: bigint;
  refundCount: number;
  refunds: bigint;
  paymentCount: number;
  payments: bigint;
  /** Wallet top-up invoices: prepaid credits sold, not revenue (get_customer_revenue's rule). */
  topUpCount: number;
  topUps: bigint;
}

const noFlows = (): Flows => ({
  invoiceCount: 0,
  net: 0n,
  tax: 0n,
  total: 0n,
  creditCount: 0,
  creditNet: 0n,
  creditTax: 0n,
  creditTotal: 0n,
  refundCount: 0,
  refunds: 0n,
  paymentCount: 0,
  payments: 0n,
  topUpCount: 0,
  topUps: 0n,
});

/**
 * Flows per currency and month index of the window: the maintained totals of the buckets that
 * make up its months, and the rows themselves for any piece of an edge shorter than a bucket.
 */
export async function flowsByMonth(
  ctx: ServiceContext,
  w: ReportWindow,
  currency?: string,
): Promise<Map<string, Flows[]>> {
  const out = new Map<string, Flows[]>();
  const at = (c: string, i: number) => {
    let months = out.get(c);
    if (!months) out.set(c, (months = w.months.map(noFlows)));
    return months[Number(i)]!;
  };
  const pieces = cover(w.months);
  let totals = ctx.db
    .selectFrom('finance_flows')
    .select([
      'currency',
      monthIndex('bucket_start', w).as('m'),
      sql<string>`sum(invoice_count)`.as('invoice_count'),
      sql<string>`sum(invoiced_net_cents)`.as('net'),
      sql<string>`sum(invoiced_tax_cents)`.as('tax'),
      sql<string>`sum(invoiced_total_cents)`.as('total'),
      sql<string>`sum(credit_note_count)`.as('credit_count'),
      sql<string>`sum(credit_notes_net_cents)`.as('credit_net'),
      sql<string>`sum(credit_notes_tax_cents)`.as('credit_tax'),
      sql<string>`sum(credit_notes_total_cents)`.as('credit_total'),
      sql<string>`sum(refund_count)`.as('refund_count'),
      sql<string>`sum(refunds_cents)`.as('refunds'),
      sql<string>`sum(payment_count)`.as('payment_count'),
      sql<string>`sum(payments_cents)`.as('payments'),
      sql<string>`sum(top_up_count)`.as('top_up_count'),
      sql<string>`sum(top_up_total_cents)`.as('top_ups'),
    ])
    .where('organization_id', '=', ctx.organizationId)
    .where(inBuckets(pieces));
  if (currency) totals = totals.where('currency', '=', currency);
  for (const r of await totals.groupBy(['currency', 'm']).execute()) {
    // Rows whose every invoice, note and payment was taken back (voided) count for nothing.
    const counted =
      Number(r.invoice_count) +
      Number(r.credit_count) +
      Number(r.refund_count) +
      Number(r.payment_count) +
      Number(r.top_up_count);
    if (counted === 0) continue;
    const f = at(r.currency, r.m);
    f.invoiceCount += Number(r.invoice_count);
    f.net += n(r.net);
    f.tax += n(r.tax);
    f.total += n(r.total);
    f.creditCount += Number(r.credit_count);
    f.creditNet += n(r.credit_net);
    f.creditTax += n(r.credit_tax);
    f.creditTotal += n(r.credit_total);
    f.refundCount += Number(r.refund_count);
    f.refunds += n(r.refunds);
    f.paymentCount += Number(r.payment_count);
    f.payments += n(r.payments);
    f.topUpCount += Number(r.top_up_count);
    f.topUps += n(r.top_ups);
  }
  if (pieces.raw.length) await rawFlows(ctx, w, pieces.raw, at, currency);
  return out;
}

/** The same flows summed from the rows dated in `ranges` (pieces of the window shorter than a bucket). */
async function rawFlows(
  ctx: ServiceContext,
  w: ReportWindow,
  ranges: Range[],
  at: (c: string, i: number) => Flows,
  currency?: string,
): Promise<void> {
  let invoices = ctx.db
    .selectFrom('invoices')
    .select([
      'currency',
      'invoice_type',
      monthIndex('issued_at', w).as('m'),
      sql<string>`count(*)`.as('count'),
      sql<string>`sum(sub_total_amount_cents - coupons_amount_cents)`.as('net'),
      sql<string>`sum(taxes_amount_cents)`.as('tax'),
      sql<string>`sum(total_amount_cents)`.as('total'),
    ])
    .where('organization_id', '=', ctx.organizationId)
    .where('status', '=', 'finalized')
    .where('issued_at', '>=', w.from)
    .where('issued_at', '<', w.to)
    .where(inRanges('issued_at', ranges));
  let notes = ctx.db
    .selectFrom('credit_notes')
    .innerJoin('invoices', 'invoices.id', 'credit_notes.invoice_id')
    .select([
      'credit_notes.currency',
      'credit_notes.credit_note_type',
      'invoices.invoice_type',
      monthIndex('credit_notes.issued_at', w).as('m'),
      sql<string>`count(*)`.as('count'),
      sql<string>`sum(credit_notes.sub_total_amount_cents)`.as('net'),
      sql<string>`sum(credit_notes.taxes_amount_cents)`.as('tax'),
      sql<string>`sum(credit_notes.total_amount_cents)`.as('total'),
    ])
    .where('credit_notes.organization_id', '=', ctx.organizationId)
    .where('credit_notes.status', '=', 'finalized')
    .where('credit_notes.issued_at', '>=', w.from)
    .where('credit_notes.issued_at', '<', w.to)
    .where(inRanges('credit_notes.issued_at', ranges));
  let payments = ctx.db
    .selectFrom('payments')
    .select([
      'currency',
      monthIndex('paid_at', w).as('m'),
      sql<string>`count(*)`.as('count'),
      sql<string>`sum(amount_cents)`.as('amount'),
    ])
    .where('organization_id', '=', ctx.organizationId)
    .where('paid_at', '>=', w.from)
    .where('paid_at', '<', w.to)
    .where(inRanges('paid_at', ranges));
  if (currency) {
    invoices = invoices.where('currency', '=', currency);
    notes = notes.where('credit_notes.currency', '=', currency);
    payments = payments.where('currency', '=', currency);
  }
  for (const r of await invoices.groupBy(['currency', 'invoice_type', 'm']).execute()) {
    const f = at(r.currency, r.m);
    if (!inRevenue(r.invoice_type)) {
      f.topUpCount += Number(r.count);
      f.topUps += n(r.total);
      continue;
    }
    f.invoiceCount += Number(r.count);
    f.net += n(r.net);
    f.tax += n(r.tax);
    f.total += n(r.total);
  }
  const noteGroups = ['credit_notes.currency', 'credit_notes.credit_note_type', 'invoices.invoice_type', 'm'];
  for (const r of await notes.groupBy(noteGroups as any).execute()) {
    const f = at(r.currency, r.m);
    // A note on a top-up takes back no revenue; a refund of it is money paid back all the same.
    if (inRevenue(r.invoice_type)) {
      f.creditCount += Number(r.count);
      f.creditNet += n(r.net);
      f.creditTax += n(r.tax);
      f.creditTotal += n(r.total);
    }
    if (r.credit_note_type === 'refund') {
      f.refundCount += Number(r.count);
      f.refunds += n(r.total);
    }
  }
  for (const r of await payments.groupBy(['currency', 'm']).execute()) {
    const f = at(r.currency, r.m);
    f.paymentCount += Number(r.count);
    f.payments += n(r.amount);
  }
}

interface TaxRate {
  currency: string;
  code: string;
  name: string;
  rate: string;
  taxable: bigint;
  amount: bigint;
  creditedTaxable: bigint;
  credited: bigint;
}

/** Sums of breakdown lines of one currency, code, rate and name: invoices' and credit notes'. */
interface TaxPart {
  currency: string;
  code: string;
  rate: string;
  name: string;
  invoiceLines: number;
  taxable: bigint;
  amount: bigint;
  creditLines: number;
  creditedTaxable: bigint;
  credited: bigint;
}

/**
 * Tax per rate of the invoices and credit notes issued in the window, from the maintained
 * totals of their breakdowns (and the breakdowns themselves for pieces shorter than a bucket).
 * A rate's name is its invoices' (the greatest if they differ), else its credit notes'.
 */
async function taxesByRate(ctx: ServiceContext, w: ReportWindow, currency?: string): Promise<TaxRate[]> {
  const pieces = cover(w.months);
  let totals = ctx.db
    .selectFrom('finance_tax_flows')
    .select([
      'currency',
      'tax_code',
      'rate',
      'name',
      sql<string>`sum(invoice_lines)`.as('invoice_lines'),
      sql<string>`sum(taxable_cents)`.as('taxable'),
      sql<string>`sum(tax_cents)`.as('amount'),
      sql<string>`sum(credit_lines)`.as('credit_lines'),
      sql<string>`sum(credited_taxable_cents)`.as('credited_taxable'),
      sql<string>`sum(credited_tax_cents)`.as('credited'),
    ])
    .where('organization_id', '=', ctx.organizationId)
    .where(inBuckets(pieces));
  if (currency) totals = totals.where('currency', '=', currency);
  const parts: TaxPart[] = (await totals.groupBy(['currency', 'tax_code', 'rate', 'name']).execute()).map(
    (r) => ({
      currency: r.currency,
      code: r.tax_code,
      rate: r.rate,
      name: r.name,
      invoiceLines: Number(r.invoice_lines),
      taxable: n(r.taxable),
      amount: n(r.amount),
      creditLines: Number(r.credit_lines),
      creditedTaxable: n(r.credited_taxable),
      credited: n(r.credited),
    }),
  );
  if (pieces.raw.length) parts.push(...(await rawTaxes(ctx, w, pieces.raw, currency)));
  const byKey = new Map<string, { rate: TaxRate; invoiceName: string | null; creditName: string | null }>();
  for (const p of parts) {
    if (p.invoiceLines + p.creditLines === 0) continue;
    const key = `${p.currency}|${p.code}|${p.rate}`;
    let e = byKey.get(key);
    if (!e)
      byKey.set(
        key,
        (e = {
          rate: {
            currency: p.currency,
            code: p.code,
            name: '',
            rate: p.rate,
            taxable: 0n,
            amount: 0n,
            creditedTaxable: 0n,
            credited: 0n,
          },
          invoiceName: null,
          creditName: null,
        }),
      );
    e.rate.taxable += p.taxable;
    e.rate.amount += p.amount;
    e.rate.creditedTaxable += p.creditedTaxable;
    e.rate.credited += p.credited;
    if (p.invoiceLines > 0 && (e.invoiceName === null || p.name > e.invoiceName)) e.invoiceName = p.name;
    if (p.creditLines > 0 && (e.creditName === null || p.name > e.creditName)) e.creditName = p.name;
  }
  return [...byKey.values()]
    .map((e) => ({ ...e.rate, name: e.invoiceName ?? e.creditName ?? '' }))
    .sort(
      (a, b) =>
        a.currency.localeCompare(b.currency) || a.code.localeCompare(b.code) || a.rate.localeCompare(b.rate),
    );
}

/** Tax lines of the invoices and credit notes issued in `ranges`, read from their breakdowns. */
async function rawTaxes(
  ctx: ServiceContext,
  w: ReportWindow,
  ranges: Range[],
  currency?: string,
): Promise<TaxPart[]> {
  const cur = currency ? sql`and i.currency = ${currency}` : sql``;
  const when = sql`i.issued_at >= ${w.from} and i.issued_at < ${w.to} and ${inRanges('i.issued_at', ranges)}`;
  type Line = {
    currency: string;
    code: string;
    name: string;
    rate: string;
    lines: string;
    taxable: string;
    amount: string;
  };
  // The breakdown is JSON text; each database reads it in SQL so no row crosses to JavaScript.
  const rows =
    ctx.dialect === 'sqlite'
      ? await sql<Line>`
          select i.currency, json_extract(t.value, '$.code') as code, json_extract(t.value, '$.name') as name,
                 cast(json_extract(t.value, '$.rate') as text) as rate, count(*) as lines,
                 sum(json_extract(t.value, '$.taxable_amount_cents')) as taxable,
                 sum(json_extract(t.value, '$.amount_cents')) as amount
          from invoices i, json_each(i.tax_breakdown) t
          where i.organization_id = ${ctx.organizationId} and i.status = 'finalized' and ${when} ${cur}
            and i.invoice_type <> ${TOP_UP_INVOICE_TYPE}
          group by 1, 2, 3, 4`.execute(ctx.db)
      : await sql<Line>`
          select i.currency, t->>'code' as code, t->>'name' as name, t->>'rate' as rate, count(*) as lines,
                 sum((t->>'taxable_amount_cents')::bigint) as taxable, sum((t->>'amount_cents')::bigint) as amount
          from invoices i cross join lateral jsonb_array_elements(i.tax_breakdown::jsonb) t
          where i.organization_id = ${ctx.organizationId} and i.status = 'finalized' and ${when} ${cur}
            and i.invoice_type <> ${TOP_UP_INVOICE_TYPE}
          group by 1, 2, 3, 4`.execute(ctx.db);
  const parts: TaxPart[] = rows.rows.map((r) => ({
    currency: r.currency,
    code: r.code,
    rate: r.rate,
    name: r.name ?? '',
    invoiceLines: Number(r.lines),
    taxable: n(r.taxable),
    amount: n(r.amount),
    creditLines: 0,
    creditedTaxable: 0n,
    credited: 0n,
  }));
  let notes = ctx.db
    .selectFrom('credit_notes')
    .innerJoin('invoices', 'invoices.id', 'credit_notes.invoice_id')
    .select(['credit_notes.currency', 'credit_notes.tax_breakdown'])
    .where('credit_notes.organization_id', '=', ctx.organizationId)
    .where('credit_notes.status', '=', 'finalized')
    .where('credit_notes.issued_at', '>=', w.from)
    .where('credit_notes.issued_at', '<', w.to)
    .where(inRanges('credit_notes.issued_at', ranges))
    .where('invoices.invoice_type', '<>', TOP_UP_INVOICE_TYPE);
  if (currency) notes = notes.where('credit_notes.currency', '=', currency);
  for (const c of await notes.execute())
    for (const line of JSON.parse(c.tax_breakdown) as StoredTaxLine[])
      parts.push({
        currency: c.currency,
        code: line.code,
        rate: String(line.rate),
        name: line.name ?? '',
        invoiceLines: 0,
        taxable: 0n,
        amount: 0n,
        creditLines: 1,
        creditedTaxable: BigInt(line.taxable_amount_cents),
        credited: BigInt(line.amount_cents),
      });
  return parts;
}

export function sumFlows(months: readonly Flows[]): Flows {
  const t = noFlows();
  for (const f of months) for (const k of Object.keys(t) as (keyof Flows)[]) (t as any)[k] += f[k] as never;
  return t;
}

function flowFields(f: Flows, c: string) {
  return {
    invoice_count: f.invoiceCount,
    ...moneyFields('invoiced_net', f.net, c),
    ...moneyFields('invoiced_tax', f.tax, c),
    ...moneyFields('invoiced_total', f.total, c),
    credit_note_count: f.creditCount,
    ...moneyFields('credit_notes_net', f.creditNet, c),
    ...moneyFields('credit_notes_tax', f.creditTax, c),
    ...moneyFields('credit_notes_total', f.creditTotal, c),
    ...moneyFields('net_revenue', f.net - f.creditNet, c),
    payment_count: f.paymentCount,
    ...moneyFields('payments_received', f.payments, c),
    refund_count: f.refundCount,
    ...moneyFields('refunds', f.refunds, c),
    prepaid_credits_invoiced_count: f.topUpCount,
    ...moneyFields('prepaid_credits_invoiced', f.topUps, c),
  };
}

/** Margin on USD revenue (usage cost is known in USD only): revenue − cost rounded to the cent. */
export function marginFields(netRevenueCents: bigint | null, cost: Decimal) {
  if (netRevenueCents === null) return { margin: null, margin_cents: null, margin_percent: null };
  const revenue = Decimal.fromMinor(netRevenueCents, 2);
  const margin = revenue.sub(roundToCurrency(cost, 'USD'));
  const cents = toMinor(margin, 'USD');
  return {
    margin: formatMinor(cents, 'USD'),
    margin_cents: Number(cents),
    margin_percent: revenue.isZero() ? null : margin.mul(100).div(revenue, 2, 'half_up').toFixed(2),
  };
}

export function costFields(cost: Decimal, events: number, unpriced: number) {
  return {
    cost: cost.toString(),
    cost_cents: cost.round(2, 'half_up').toMinorNumber(2),
    cost_currency: 'USD' as const,
    event_count: events,
    unpriced_event_count: unpriced,
  };
}

export async function getFinancialSummary(
  ctx: ServiceContext,
  input: { period?: string; from?: number; to?: number; currency?: string },
) {
  const w = await reportWindow(ctx, input);
  // Balances at the end of the window; for a window not yet ended, today's (never a forecast):
  // invoices issued up to its end, and overdue by today's date.
  const asOf = Math.min(w.to, ctx.now());
  const asOfDate = dateInZone(asOf === w.to ? w.to - 1 : asOf, w.timezone);
  const [flows, taxes, owed, usage] = await Promise.all([
    flowsByMonth(ctx, w, input.currency),
    taxesByRate(ctx, w, input.currency),
    receivablesAt(ctx, w.to, asOfDate, input.currency),
    getUsageAnalytics(ctx, { from: w.from, to: w.to, group_by: 'day', timezone: w.timezone }),
  ]);
  const costByMonth = new Map<string, { cost: Decimal; events: number; unpriced: number }>();
  for (const d of usage.breakdown) {
    const month = String(d.key).slice(0, 7);
    const m = costByMonth.get(month) ?? { cost: Decimal.ZERO, events: 0, unpriced: 0 };
    costByMonth.set(month, {
      cost: m.cost.add(d.cost),
      events: m.events + d.event_count,
      unpriced: m.unpriced + d.unpriced_event_count,
    });
  }
  const totalCost = Decimal.parse(usage.totals.cost);
  const currencies = [...new Set([...flows.keys(), ...owed.keys()])].sort();
  const empty = w.months.map(noFlows);
  return {
    period: w.period,
    from: toIso(w.from),
    to: toIso(w.to),
    timezone: w.timezone,
    as_of: toIso(asOf),
    as_of_date: asOfDate,
    currencies: currencies.map((c) => {
      const total = sumFlows(flows.get(c) ?? empty);
      const ar = owed.get(c) ?? { count: 0, due: 0n, overdueCount: 0, overdue: 0n };
      return {
        currency: c,
        ...flowFields(total, c),
        taxes: taxes
          .filter((t) => t.currency === c)
          .map((t) => ({
            tax_code: t.code,
            name: t.name,
            rate: t.rate,
            ...moneyFields('taxable_amount', t.taxable, c),
            ...moneyFields('tax_amount', t.amount, c),
            ...moneyFields('credited_taxable_amount', t.creditedTaxable, c),
            ...moneyFields('credited_tax_amount', t.credited, c),
            ...moneyFields('net_tax_amount', t.amount - t.credited, c),
          })),
        outstanding_count: ar.count,
        ...moneyFields('outstanding', ar.due, c),
        overdue_count: ar.overdueCount,
        ...moneyFields('overdue', ar.overdue, c),
        ...marginFields(c === 'USD' ? total.net - total.creditNet : null, totalCost),
      };
    }),
    ...costFields(totalCost, usage.totals.event_count, usage.totals.unpriced_event_count),
    by_month: w.months.map((m, i) => {
      const cost = costByMonth.get(m.month) ?? { cost: Decimal.ZERO, events: 0, unpriced: 0 };
      return {
        month: m.month,
        from: toIso(m.from),
        to: toIso(m.to),
        currencies: [...flows.entries()]
          .filter(
            ([, months]) =>
              months[i]!.invoiceCount ||
              months[i]!.creditCount ||
              months[i]!.refundCount ||
              months[i]!.paymentCount ||
              months[i]!.topUpCount,
          )
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([c, months]) => ({
            currency: c,
            ...flowFields(months[i]!, c),
            ...marginFields(c === 'USD' ? months[i]!.net - months[i]!.creditNet : null, cost.cost),
          })),
        ...costFields(cost.cost, cost.events, cost.unpriced),
      };
    }),
  };
}
