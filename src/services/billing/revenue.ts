import { rowsByAnyKey } from '../../db/sql.js';
import { Decimal } from '../../domain/decimal.js';
import { validation } from '../../domain/errors.js';
import {
  formatMinor,
  fromMinor,
  moneyFields,
  roundParts,
  roundToCurrency,
  toMinor,
} from '../../domain/money.js';
import { addMonthsToDate, dateInZone, startOfDayInZone, toIso } from '../../domain/time.js';
import type { ServiceContext } from '../context.js';
import { resolveCustomer } from '../customers.js';
import { INVOICE_TYPES, type InvoiceType } from '../invoice-views.js';
import { getUsageAnalytics } from '../metering/analytics.js';
import { plansById } from './load.js';
import { effectivePlan, subscriptionRecord } from './records.js';

/**
 * Revenue analytics: what was invoiced (net of discounts, before tax, less credit notes), split
 * by the kind of revenue each invoice line is, and three readings of monthly recurring revenue.
 *
 * Revenue types, decided per invoice line:
 * - `usage`: a line priced by a plan charge;
 * - `seat`: a charge on a recurring unique-count metric (seats, licences);
 * - `recurring`: the other lines of subscription invoices (base fee, minimum-commitment true-up);
 * - `one_off`: lines of invoices not generated from a subscription;
 * - `prepaid_credits`: lines of wallet top-ups (below).
 * Amounts stay in their invoice's currency; nothing is converted.
 */

export const REVENUE_TYPES = ['recurring', 'usage', 'seat', 'one_off'] as const;
/**
 * `prepaid_credits`: lines of wallet top-up invoices (type credit). Shown beside the others but
 * never in a revenue total: credits bought are paid in advance and become revenue as the
 * subscription invoices they pay, which are counted already.
 */
export type RevenueType = (typeof REVENUE_TYPES)[number] | 'prepaid_credits';

/**
 * Whether an invoice of this type counts in revenue. Wallet top-ups (type credit) do not: as in
 * Lago's revenue recognition, credits bought are a balance the customer holds, and revenue is
 * earned as they are consumed — by the subscription invoices they pay, which count in full
 * (before tax, whatever pays them). Progressive invoices count: the period's later invoices
 * deduct, line by line, what they billed, so a period's invoices add up to its usage once.
 */
export function inRevenue(type: string): boolean {
  return type !== TOP_UP_INVOICE_TYPE;
}

/** The invoice type of wallet top-ups, for queries that leave them out of revenue in SQL. */
export const TOP_UP_INVOICE_TYPE = 'credit';

interface InvoiceTypeTotals {
  invoices: Set<string>;
  net: bigint;
  credited: bigint;
}

interface CurrencyTotals {
  gross: Record<RevenueType, bigint>;
  byInvoiceType: Map<string, InvoiceTypeTotals>;
}

export interface RevenueByType {
  recurring_cents: number;
  recurring: string;
  usage_cents: number;
  usage: string;
  seat_cents: number;
  seat: string;
  one_off_cents: number;
  one_off: string;
  prepaid_credits_cents: number;
  prepaid_credits: string;
}

export interface InvoiceTypeRevenue {
  invoice_type: string;
  invoice_count: number;
  amount_cents: number;
  amount: string;
  credited_cents: number;
  credited: string;
  in_revenue: boolean;
}

export interface CurrencyRevenue {
  currency: string;
  /** Invoices counted in revenue (top-ups are in by_invoice_type only). */
  invoice_count: number;
  /** Net of coupons, before tax, less credit notes issued in the window. */
  revenue_cents: number;
  revenue: string;
  credited_cents: number;
  credited: string;
  by_type: RevenueByType;
  by_invoice_type: InvoiceTypeRevenue[];
}

interface Filter {
  from: number;
  to: number;
  customerId?: string;
}

function emptyTotals(): CurrencyTotals {
  return {
    gross: { recurring: 0n, usage: 0n, seat: 0n, one_off: 0n, prepaid_credits: 0n },
    byInvoiceType: new Map(),
  };
}

/** Charges on recurring unique-count metrics: their lines are seat revenue. */
async function seatCharges(ctx: ServiceContext, chargeIds: readonly string[]): Promise<Set<string>> {
  if (!chargeIds.length) return new Set();
  const rows = await ctx.db
    .selectFrom('plan_charges')
    .innerJoin('billable_metrics', 'billable_metrics.id', 'plan_charges.billable_metric_id')
    .select('plan_charges.id')
    .where('plan_charges.organization_id', '=', ctx.organizationId)
    .where('plan_charges.id', 'in', [...new Set(chargeIds)])
    .where('billable_metrics.aggregation_type', '=', 'unique_count_agg')
    .where('billable_metrics.recurring', '=', 1)
    .execute();
  return new Set(rows.map((r) => r.id));
}

interface RevenueLine {
  invoiceId: string;
  invoiceType: string;
  currency: string;
  type: RevenueType;
  /** After the line's share of coupons and discounts, in minor units. */
  net: bigint;
  from: number | null;
  to: number | null;
}

/**
 * Lines of finalized invoices with their revenue type: those issued in `issued`, or those of
 * subscription invoices whose period overlaps `period`.
 */
async function revenueLines(
  ctx: ServiceContext,
  f: {
    issued?: { from: number; to: number };
    period?: { from: number; to: number };
    customerId?: string;
    subscriptionIds?: string[];
  },
): Promise<RevenueLine[]> {
  let q = ctx.db
    .selectFrom('invoices')
    .innerJoin('invoice_lines', 'invoice_lines.invoice_id', 'invoices.id')
    .select([
      'invoices.id as invoice_id',
      'invoices.currency',
      'invoices.subscription_id',
      'invoices.invoice_type',
      'invoice_lines.charge_id',
      'invoice_lines.amount_cents',
      'invoice_lines.discount_amount_cents',
      'invoice_lines.from_at',
      'invoice_lines.to_at',
    ])
    .where('invoices.organization_id', '=', ctx.organizationId)
    .where('invoices.status', '=', 'finalized');
  if (f.issued)
    q = q.where('invoices.issued_at', '>=', f.issued.from).where('invoices.issued_at', '<', f.issued.to);
  if (f.period)
    q = q
      .where('invoices.subscription_id', 'is not', null)
      .where('invoice_lines.from_at', '<', f.period.to)
      .where('invoice_lines.to_at', '>', f.period.from);
  if (f.customerId) q = q.where('invoices.customer_id', '=', f.customerId);
  if (f.subscriptionIds) q = q.where('invoices.subscription_id', 'in', f.subscriptionIds);
  const rows = await q.execute();
  const seats = await seatCharges(
    ctx,
    rows.map((l) => l.charge_id).filter((c): c is string => c !== null),
  );
  return rows.map((l) => ({
    invoiceId: l.invoice_id,
    invoiceType: l.invoice_type,
    currency: l.currency,
    type:
      l.invoice_type === 'credit'
        ? 'prepaid_credits'
        : l.charge_id !== null
          ? seats.has(l.charge_id)
            ? 'seat'
            : 'usage'
          : l.subscription_id !== null
            ? 'recurring'
            : 'one_off',
    net: BigInt(l.amount_cents) - BigInt(l.discount_amount_cents),
    from: l.from_at === null ? null : Number(l.from_at),
    to: l.to_at === null ? null : Number(l.to_at),
  }));
}

interface CreditFilter {
  from: number;
  to: number;
  customerId?: string;
  subscriptionIds?: string[];
  subscriptionsOnly?: boolean;
}

/** Credit notes issued in the window, before tax, each with its invoice's type. */
async function creditNotes(ctx: ServiceContext, f: CreditFilter) {
  let q = ctx.db
    .selectFrom('credit_notes')
    .innerJoin('invoices', 'invoices.id', 'credit_notes.invoice_id')
    .select(['credit_notes.currency', 'credit_notes.sub_total_amount_cents', 'invoices.invoice_type'])
    .where('credit_notes.organization_id', '=', ctx.organizationId)
    .where('credit_notes.status', '=', 'finalized')
    .where('credit_notes.issued_at', '>=', f.from)
    .where('credit_notes.issued_at', '<', f.to);
  if (f.customerId) q = q.where('credit_notes.customer_id', '=', f.customerId);
  if (f.subscriptionIds) q = q.where('invoices.subscription_id', 'in', f.subscriptionIds);
  if (f.subscriptionsOnly) q = q.where('invoices.subscription_id', 'is not', null);
  return q.execute();
}

/** Credit notes issued in the window on invoices counted in revenue, before tax, per currency. */
async function creditedByCurrency(ctx: ServiceContext, f: CreditFilter): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const c of await creditNotes(ctx, f))
    if (inRevenue(c.invoice_type))
      out.set(c.currency, (out.get(c.currency) ?? 0n) + BigInt(c.sub_total_amount_cents));
  return out;
}

/**
 * Finalized (not voided) invoices issued in the window, line by line, by revenue type and by
 * invoice type, and the credit notes issued in it by the type of the invoice they credit.
 */
async function invoicedRevenue(ctx: ServiceContext, f: Filter): Promise<Map<string, CurrencyTotals>> {
  const byCurrency = new Map<string, CurrencyTotals>();
  const ofType = (currency: string, invoiceType: string) => {
    const t = byCurrency.get(currency) ?? emptyTotals();
    byCurrency.set(currency, t);
    let k = t.byInvoiceType.get(invoiceType);
    if (!k) {
      k = { invoices: new Set(), net: 0n, credited: 0n };
      t.byInvoiceType.set(invoiceType, k);
    }
    return { t, k };
  };
  for (const l of await revenueLines(ctx, { issued: f, customerId: f.customerId })) {
    const { t, k } = ofType(l.currency, l.invoiceType);
    t.gross[l.type] += l.net;
    k.invoices.add(l.invoiceId);
    k.net += l.net;
  }
  for (const c of await creditNotes(ctx, f))
    ofType(c.currency, c.invoice_type).k.credited += BigInt(c.sub_total_amount_cents);
  return byCurrency;
}

function byTypeView(gross: Record<RevenueType, bigint>, currency: string): RevenueByType {
  return {
    ...moneyFields('recurring', gross.recurring, currency),
    ...moneyFields('usage', gross.usage, currency),
    ...moneyFields('seat', gross.seat, currency),
    ...moneyFields('one_off', gross.one_off, currency),
    ...moneyFields('prepaid_credits', gross.prepaid_credits, currency),
  };
}

/** Known types in their usual order, then any other, by name. */
function invoiceTypeOrder(a: string, b: string): number {
  const rank = (x: string) => {
    const i = INVOICE_TYPES.indexOf(x as InvoiceType);
    return i < 0 ? INVOICE_TYPES.length : i;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}

/**
 * Revenue is the sum of the revenue types' lines (prepaid credits are outside it) less credit
 * notes; by invoice type it is the same sum: Σ (amount − credited) of the types in revenue.
 */
function currencyView(currency: string, t: CurrencyTotals): CurrencyRevenue {
  const gross = REVENUE_TYPES.reduce((s, k) => s + t.gross[k], 0n);
  const types = [...t.byInvoiceType.entries()].sort(([a], [b]) => invoiceTypeOrder(a, b));
  const counted = types.filter(([type]) => inRevenue(type)).map(([, k]) => k);
  const credited = counted.reduce((s, k) => s + k.credited, 0n);
  return {
    currency,
    invoice_count: counted.reduce((s, k) => s + k.invoices.size, 0),
    ...moneyFields('revenue', gross - credited, currency),
    ...moneyFields('credited', credited, currency),
    by_type: byTypeView(t.gross, currency),
    by_invoice_type: types.map(([type, k]) => ({
      invoice_type: type,
      invoice_count: k.invoices.size,
      ...moneyFields('amount', k.net, currency),
      ...moneyFields('credited', k.credited, currency),
      in_revenue: inRevenue(type),
    })),
  };
}

function sortedViews(m: Map<string, CurrencyTotals>): CurrencyRevenue[] {
  return [...m.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, t]) => currencyView(currency, t));
}

function checkWindow(from: number, to: number): void {
  if (from >= to) throw validation('to', `must be after from (${toIso(from)})`);
}

export async function getCustomerRevenue(
  ctx: ServiceContext,
  input: { customer_id: string; from: number; to: number },
) {
  checkWindow(input.from, input.to);
  const customer = await resolveCustomer(ctx, input.customer_id);
  const revenue = sortedViews(
    await invoicedRevenue(ctx, { from: input.from, to: input.to, customerId: customer.id }),
  );
  const usage = await getUsageAnalytics(ctx, { from: input.from, to: input.to, customer_id: customer.id });
  const cost = Decimal.parse(usage.totals.cost);
  // Usage cost is known in USD only, so margin is stated for USD revenue and nowhere else.
  const usd = revenue.find((r) => r.currency === 'USD');
  const margin = usd ? Decimal.parse(usd.revenue).sub(roundToCurrency(cost, 'USD')) : null;
  return {
    customer_id: customer.id,
    external_customer_id: customer.external_id,
    from: toIso(input.from),
    to: toIso(input.to),
    revenue,
    cost: usage.totals.cost,
    cost_cents: usage.totals.cost_cents,
    cost_currency: 'USD' as const,
    unpriced_event_count: usage.totals.unpriced_event_count,
    margin: margin ? formatMinor(toMinor(margin, 'USD'), 'USD') : null,
    margin_cents: margin ? Number(toMinor(margin, 'USD')) : null,
    margin_percent:
      usd && margin && !Decimal.parse(usd.revenue).isZero()
        ? margin.mul(100).div(Decimal.parse(usd.revenue), 2, 'half_up').toFixed(2)
        : null,
  };
}

export const MRR_VARIANTS = ['canonical', 'run_rate', 'committed'] as const;
export type MrrVariant = (typeof MRR_VARIANTS)[number];

/** Months per billing interval, to bring a plan's fee to a monthly amount. */
const MONTHS_PER_INTERVAL: Record<string, Decimal> = {
  monthly: Decimal.ONE,
  quarterly: Decimal.parse('3'),
  yearly: Decimal.parse('12'),
};

/** The fee of one interval as a monthly amount, exactly where it can be (weekly: × 52 / 12). */
function monthly(amount: Decimal, interval: string): Decimal {
  if (interval === 'weekly') return amount.mul(52).div(12, 12, 'half_up');
  return amount.div(MONTHS_PER_INTERVAL[interval] ?? Decimal.ONE, 12, 'half_up');
}

/** Contractual monthly floor of live subscriptions: max(base fee, minimum commitment) per month. */
async function committedMrr(ctx: ServiceContext, f: { customerId?: string; subscriptionIds?: string[] }) {
  let q = ctx.db
    .selectFrom('subscriptions')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('status', '=', 'active');
  if (f.customerId) q = q.where('customer_id', '=', f.customerId);
  if (f.subscriptionIds) q = q.where('id', 'in', f.subscriptionIds);
  const subs = (await q.execute()).map(subscriptionRecord);
  const plans = await plansById(
    ctx,
    subs.map((s) => s.planId),
  );
  const exact = new Map<string, { amount: Decimal; count: number }>();
  for (const s of subs) {
    const plan = plans.get(s.planId);
    if (!plan) continue;
    const p = effectivePlan(plan, s.overrides);
    const floor = p.minimumCommitment && p.minimumCommitment.gt(p.amount) ? p.minimumCommitment : p.amount;
    const t = exact.get(p.currency) ?? { amount: Decimal.ZERO, count: 0 };
    exact.set(p.currency, { amount: t.amount.add(monthly(floor, p.interval)), count: t.count + 1 });
  }
  return [...exact.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, t]) => ({
      currency,
      subscription_count: t.count,
      ...moneyFields('mrr', toMinor(roundToCurrency(t.amount, currency), currency), currency),
    }));
}

/**
 * Recurring revenue earned in [from, to): every line of a finalized subscription invoice covers
 * a period (its from/to), and counts for the share of that period inside the window — so a fee
 * paid in advance counts for the month it pays for, and usage for the month it was used, not the
 * month they were invoiced. Less credit notes issued in the window on subscription invoices.
 * Exact; rounded once per currency and type.
 */
async function earnedRevenue(
  ctx: ServiceContext,
  f: { from: number; to: number; customerId?: string; subscriptionIds?: string[] },
): Promise<Map<string, { exact: Record<RevenueType, Decimal>; credited: bigint }>> {
  const out = new Map<string, { exact: Record<RevenueType, Decimal>; credited: bigint }>();
  const entry = (currency: string) => {
    let e = out.get(currency);
    if (!e) {
      const zero = Decimal.ZERO;
      e = {
        exact: { recurring: zero, usage: zero, seat: zero, one_off: zero, prepaid_credits: zero },
        credited: 0n,
      };
      out.set(currency, e);
    }
    return e;
  };
  const lines = await revenueLines(ctx, {
    period: f,
    customerId: f.customerId,
    subscriptionIds: f.subscriptionIds,
  });
  for (const l of lines) {
    const from = l.from!;
    const to = l.to!;
    const overlap = Math.min(to, f.to) - Math.max(from, f.from);
    const net = fromMinor(l.net, l.currency);
    const share = overlap >= to - from ? net : net.mul(overlap).div(to - from, 12, 'half_up');
    const e = entry(l.currency);
    e.exact[l.type] = e.exact[l.type].add(share);
  }
  for (const [currency, credited] of await creditedByCurrency(ctx, { ...f, subscriptionsOnly: true }))
    entry(currency).credited += credited;
  return out;
}

/**
 * MRR per currency from what subscriptions earned in [from, to): the canonical reading for a
 * calendar month, the run rate (scaled from 30 days to an average month) otherwise.
 */
export async function earnedMrr(
  ctx: ServiceContext,
  variant: 'canonical' | 'run_rate',
  f: { from: number; to: number; customerId?: string; subscriptionIds?: string[] },
) {
  const earned = await earnedRevenue(ctx, f);
  return [...earned.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, e]) => {
      // Every part is scaled alike (run rate: × 365.25 / 360) and rounded so that
      // recurring + usage + seat − credited is the MRR to the cent.
      const scale = (d: Decimal) => (variant === 'run_rate' ? d.mul('365.25').div(360, 12, 'half_up') : d);
      const [recurring, usage, seat, credited] = roundParts(
        [e.exact.recurring, e.exact.usage, e.exact.seat, fromMinor(e.credited, currency).neg()].map(scale),
        currency,
      ) as [bigint, bigint, bigint, bigint];
      const byType: Record<RevenueType, bigint> = {
        recurring,
        usage,
        seat,
        one_off: 0n,
        prepaid_credits: 0n,
      };
      return {
        currency,
        subscription_count: null,
        ...moneyFields('mrr', recurring + usage + seat + credited, currency),
        ...moneyFields('credited', -credited, currency),
        by_type: byTypeView(byType, currency),
      };
    });
}

/** The canonical MRR window: the calendar month before the one `now` falls in (org time zone). */
export function canonicalMrrWindow(now: number, tz: string, monthsBack = 1): { from: number; to: number } {
  const thisMonth = `${dateInZone(now, tz).slice(0, 7)}-01`;
  return {
    from: startOfDayInZone(addMonthsToDate(thisMonth, -monthsBack), tz),
    to: startOfDayInZone(addMonthsToDate(thisMonth, 1 - monthsBack), tz),
  };
}

/**
 * Monthly recurring revenue three ways: `canonical` — recurring, usage and seat revenue earned in
 * the last completed calendar month (organization's time zone); `run_rate` — the same over the
 * last 30 days, scaled to an average month (× 365.25 / 12 / 30); `committed` — the contractual
 * floor of active subscriptions (base fee or minimum commitment, whichever is higher, per month).
 */
export async function getMrr(
  ctx: ServiceContext,
  input: { variant?: MrrVariant; customer_id?: string; subscription_id?: string },
) {
  const variant = input.variant ?? 'canonical';
  const customer = input.customer_id ? await resolveCustomer(ctx, input.customer_id) : undefined;
  let subscriptionIds: string[] | undefined;
  if (input.subscription_id) {
    // An external_id names every row of the subscription: a plan change continues it on a new one.
    const rows = await rowsByAnyKey(['id', 'external_id'] as const, (column) =>
      ctx.db
        .selectFrom('subscriptions')
        .select('id')
        .where('organization_id', '=', ctx.organizationId)
        .where(column, '=', input.subscription_id!)
        .execute(),
    );
    if (!rows.length)
      throw validation(
        'subscription_id',
        `no subscription has the id or external_id '${input.subscription_id}'`,
        'list_subscriptions shows them.',
      );
    subscriptionIds = rows.map((r) => r.id);
  }
  const base = {
    variant,
    customer_id: customer?.id ?? null,
    subscription_id: input.subscription_id ?? null,
  };
  if (variant === 'committed') {
    const rows = await committedMrr(ctx, { customerId: customer?.id, subscriptionIds });
    return {
      ...base,
      from: null,
      to: null,
      currencies: rows.map((r) => ({ ...r, credited: null, credited_cents: null, by_type: null })),
    };
  }
  const now = ctx.now();
  let from: number;
  let to: number;
  if (variant === 'canonical') {
    ({ from, to } = canonicalMrrWindow(now, (await ctx.organization()).timezone));
  } else {
    to = now;
    from = now - 30 * 86_400_000;
  }
  const currencies = await earnedMrr(ctx, variant, { from, to, customerId: customer?.id, subscriptionIds });
  return { ...base, from: toIso(from), to: toIso(to), currencies };
}
