import { sql } from 'kysely';
import { Decimal } from '../../domain/decimal.js';
import { moneyFields } from '../../domain/money.js';
import { addMonthsToDate, dateInZone, startOfDayInZone, toIso } from '../../domain/time.js';
import { TOP_UP_INVOICE_TYPE, canonicalMrrWindow, earnedMrr } from '../billing/revenue.js';
import type { ServiceContext } from '../context.js';
import { displayName } from '../customers.js';
import { getUsageAnalytics } from '../metering/analytics.js';
import { cover, inBuckets, inRanges } from './buckets.js';
import { receivablesAt } from './receivables-at.js';
import { costFields, flowsByMonth, marginFields } from './summary.js';
import type { ReportWindow } from './window.js';

/**
 * The figures an owner looks at first, each computed the way the operation that details it
 * computes it: MRR as get_mrr (canonical) with the month before it, revenue this month and last
 * as get_financial_summary, what is owed now as get_accounts_receivable, the top customers as
 * get_customer_revenue over the last twelve months, AI cost as get_cost_metrics.
 */

const n = (v: unknown) => BigInt(String(v ?? 0));

function change(now: bigint, before: bigint, c: string) {
  return {
    ...moneyFields('change', now - before, c),
    change_percent:
      before === 0n
        ? null
        : Decimal.fromInt(now - before)
            .mul(100)
            .div(Decimal.fromInt(before < 0n ? -before : before), 2, 'half_up')
            .toFixed(2),
  };
}

const TOP = 5;

/**
 * Net revenue per customer and currency over [from, to): invoiced net less credit notes, from
 * the maintained totals (and the rows for pieces of the edges shorter than a bucket).
 */
async function topCustomers(ctx: ServiceContext, from: number, to: number) {
  const byKey = new Map<string, { customerId: string; currency: string; count: number; net: bigint }>();
  const at = (customerId: string, currency: string) => {
    const key = `${customerId}|${currency}`;
    let e = byKey.get(key);
    if (!e) byKey.set(key, (e = { customerId, currency, count: 0, net: 0n }));
    return e;
  };
  const pieces = cover([{ from, to }]);
  const totals = await ctx.db
    .selectFrom('finance_customer_flows')
    .select([
      'customer_id',
      'currency',
      sql<string>`sum(invoice_count)`.as('count'),
      sql<string>`sum(invoiced_net_cents)`.as('net'),
      sql<string>`sum(credit_note_count)`.as('credit_count'),
      sql<string>`sum(credit_notes_net_cents)`.as('credit_net'),
    ])
    .where('organization_id', '=', ctx.organizationId)
    .where(inBuckets(pieces))
    .groupBy(['customer_id', 'currency'])
    .execute();
  for (const r of totals) {
    if (Number(r.count) + Number(r.credit_count) === 0) continue;
    const e = at(r.customer_id, r.currency);
    e.count += Number(r.count);
    e.net += n(r.net) - n(r.credit_net);
  }
  if (pieces.raw.length) {
    const invoiced = await ctx.db
      .selectFrom('invoices')
      .select([
        'customer_id',
        'currency',
        sql<string>`count(*)`.as('count'),
        sql<string>`sum(sub_total_amount_cents - coupons_amount_cents)`.as('net'),
      ])
      .where('organization_id', '=', ctx.organizationId)
      .where('status', '=', 'finalized')
      .where('issued_at', '>=', from)
      .where('issued_at', '<', to)
      .where(inRanges('issued_at', pieces.raw))
      .where('invoice_type', '<>', TOP_UP_INVOICE_TYPE)
      .groupBy(['customer_id', 'currency'])
      .execute();
    const credited = await ctx.db
      .selectFrom('credit_notes')
      .innerJoin('invoices', 'invoices.id', 'credit_notes.invoice_id')
      .select([
        'credit_notes.customer_id',
        'credit_notes.currency',
        sql<string>`sum(credit_notes.sub_total_amount_cents)`.as('net'),
      ])
      .where('credit_notes.organization_id', '=', ctx.organizationId)
      .where('credit_notes.status', '=', 'finalized')
      .where('credit_notes.issued_at', '>=', from)
      .where('credit_notes.issued_at', '<', to)
      .where(inRanges('credit_notes.issued_at', pieces.raw))
      .where('invoices.invoice_type', '<>', TOP_UP_INVOICE_TYPE)
      .groupBy(['credit_notes.customer_id', 'credit_notes.currency'])
      .execute();
    for (const r of invoiced) {
      const e = at(r.customer_id, r.currency);
      e.count += Number(r.count);
      e.net += n(r.net);
    }
    for (const r of credited) at(r.customer_id, r.currency).net -= n(r.net);
  }
  const perCurrency = new Map<string, Array<{ customerId: string; count: number; net: bigint }>>();
  for (const e of byKey.values()) {
    const list = perCurrency.get(e.currency) ?? [];
    list.push(e);
    perCurrency.set(e.currency, list);
  }
  const tops = [...perCurrency.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, list]) => ({
      currency,
      list: list
        .sort((a, b) => (b.net > a.net ? 1 : b.net < a.net ? -1 : a.customerId.localeCompare(b.customerId)))
        .slice(0, TOP),
    }));
  const ids = [...new Set(tops.flatMap((t) => t.list.map((e) => e.customerId)))];
  const customers = ids.length
    ? await ctx.db
        .selectFrom('customers')
        .select(['id', 'external_id', 'name', 'legal_name', 'firstname', 'lastname', 'email'])
        .where('organization_id', '=', ctx.organizationId)
        .where('id', 'in', ids)
        .execute()
    : [];
  const byId = new Map(customers.map((c) => [c.id, c]));
  return tops.map((t) => ({
    currency: t.currency,
    customers: t.list.map((e) => {
      const c = byId.get(e.customerId);
      return {
        customer_id: e.customerId,
        external_customer_id: c?.external_id ?? null,
        name: c ? displayName(c) : e.customerId,
        invoice_count: e.count,
        ...moneyFields('revenue', e.net, t.currency),
      };
    }),
  }));
}

/** Customers created in [from, to), and subscriptions that ended there (not those a plan change continued). */
async function movements(ctx: ServiceContext, from: number, to: number) {
  const created = await ctx.db
    .selectFrom('customers')
    .select(sql<string>`count(*)`.as('count'))
    .where('organization_id', '=', ctx.organizationId)
    .where('created_at', '>=', from)
    .where('created_at', '<', to)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  const ended = await ctx.db
    .selectFrom('subscriptions as s')
    .select(sql<string>`count(*)`.as('count'))
    .where('s.organization_id', '=', ctx.organizationId)
    .where((eb) =>
      eb.or([
        eb.and([eb('s.terminated_at', '>=', from), eb('s.terminated_at', '<', to)]),
        eb.and([eb('s.canceled_at', '>=', from), eb('s.canceled_at', '<', to)]),
      ]),
    )
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('subscriptions as next')
            .select('next.id')
            .where('next.organization_id', '=', ctx.organizationId)
            .whereRef('next.previous_subscription_id', '=', 's.id'),
        ),
      ),
    )
    .executeTakeFirst();
  return { newCustomers: Number(created?.count ?? 0), ended: Number(ended?.count ?? 0) };
}

export async function getDashboard(ctx: ServiceContext) {
  const tz = (await ctx.organization()).timezone;
  const now = ctx.now();
  const today = dateInZone(now, tz);
  const thisMonth = `${today.slice(0, 7)}-01`;
  const lastMonth = addMonthsToDate(thisMonth, -1);
  const bounds = [lastMonth, thisMonth, addMonthsToDate(thisMonth, 1)].map((d) => startOfDayInZone(d, tz));
  const window: ReportWindow = {
    period: null,
    from: bounds[0]!,
    to: bounds[2]!,
    timezone: tz,
    months: [
      { month: lastMonth.slice(0, 7), from: bounds[0]!, to: bounds[1]! },
      { month: thisMonth.slice(0, 7), from: bounds[1]!, to: bounds[2]! },
    ],
  };
  const mrrNow = canonicalMrrWindow(now, tz, 1);
  const mrrBefore = canonicalMrrWindow(now, tz, 2);
  const topFrom = startOfDayInZone(addMonthsToDate(thisMonth, -11), tz);
  const [mrr, mrrPrior, flows, owed, top, usage, moves, movesBefore] = await Promise.all([
    earnedMrr(ctx, 'canonical', mrrNow),
    earnedMrr(ctx, 'canonical', mrrBefore),
    flowsByMonth(ctx, window),
    // Everything owed today, whenever it was issued: get_accounts_receivable's totals.
    receivablesAt(ctx, Number.MAX_SAFE_INTEGER, today),
    topCustomers(ctx, topFrom, bounds[2]!),
    getUsageAnalytics(ctx, { from: bounds[1]!, to: bounds[2]!, timezone: tz }),
    movements(ctx, bounds[1]!, bounds[2]!),
    movements(ctx, bounds[0]!, bounds[1]!),
  ]);
  const mrrCurrencies = [
    ...new Set([...mrr.map((m) => m.currency), ...mrrPrior.map((m) => m.currency)]),
  ].sort();
  const revenueCurrencies = [...flows.keys()].sort();
  const net = (c: string, i: number) => {
    const f = flows.get(c)?.[i];
    return f ? f.net - f.creditNet : 0n;
  };
  const cost = Decimal.parse(usage.totals.cost);
  return {
    as_of: toIso(now),
    today,
    timezone: tz,
    this_month: { month: thisMonth.slice(0, 7), from: toIso(bounds[1]!), to: toIso(bounds[2]!) },
    last_month: { month: lastMonth.slice(0, 7), from: toIso(bounds[0]!), to: toIso(bounds[1]!) },
    mrr: {
      from: toIso(mrrNow.from),
      to: toIso(mrrNow.to),
      currencies: mrrCurrencies.map((c) => {
        const m = BigInt(mrr.find((r) => r.currency === c)?.mrr_cents ?? 0);
        const p = BigInt(mrrPrior.find((r) => r.currency === c)?.mrr_cents ?? 0);
        return {
          currency: c,
          ...moneyFields('mrr', m, c),
          ...moneyFields('prior_mrr', p, c),
          ...change(m, p, c),
        };
      }),
    },
    revenue: revenueCurrencies.map((c) => ({
      currency: c,
      ...moneyFields('this_month', net(c, 1), c),
      ...moneyFields('last_month', net(c, 0), c),
      ...change(net(c, 1), net(c, 0), c),
      invoice_count_this_month: flows.get(c)?.[1]?.invoiceCount ?? 0,
    })),
    receivables: [...owed.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([c, r]) => ({
        currency: c,
        outstanding_count: r.count,
        ...moneyFields('outstanding', r.due, c),
        overdue_count: r.overdueCount,
        ...moneyFields('overdue', r.overdue, c),
      })),
    top_customers: { from: toIso(topFrom), to: toIso(bounds[2]!), currencies: top },
    ai: {
      ...costFields(cost, usage.totals.event_count, usage.totals.unpriced_event_count),
      ...marginFields(flows.has('USD') ? net('USD', 1) : null, cost),
    },
    new_customers: { this_month: moves.newCustomers, last_month: movesBefore.newCustomers },
    ended_subscriptions: { this_month: moves.ended, last_month: movesBefore.ended },
  };
}
