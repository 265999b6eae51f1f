import { moneyFields } from '../domain/money.js';
import { dateInZone, daysBetween } from '../domain/time.js';
import type { ServiceContext } from './context.js';
import { resolveCustomer } from './customers.js';
import type { BillingSnapshot } from './invoice-views.js';

/**
 * Accounts receivable: what each customer still owes on finalized invoices, per currency, aged
 * by days past the due date (not yet due, 1-30, 31-60, 61-90, over 90).
 */
const BUCKETS = ['current', 'days_1_30', 'days_31_60', 'days_61_90', 'days_over_90'] as const;
type Bucket = (typeof BUCKETS)[number];

function bucketOf(daysLate: number): Bucket {
  if (daysLate <= 0) return 'current';
  if (daysLate <= 30) return 'days_1_30';
  if (daysLate <= 60) return 'days_31_60';
  if (daysLate <= 90) return 'days_61_90';
  return 'days_over_90';
}

export async function accountsReceivable(
  ctx: ServiceContext,
  filter: { currency?: string; customer_id?: string },
) {
  const org = await ctx.organization();
  let q = ctx.db
    .selectFrom('invoices')
    .select(['id', 'number', 'customer_id', 'currency', 'amount_due_cents', 'due_date', 'billing_snapshot'])
    .where('organization_id', '=', ctx.organizationId)
    .where('status', '=', 'finalized')
    .where('amount_due_cents', '>', 0);
  if (filter.currency) q = q.where('currency', '=', filter.currency);
  if (filter.customer_id)
    q = q.where('customer_id', '=', (await resolveCustomer(ctx, filter.customer_id)).id);
  const rows = await q.orderBy('due_date').execute();
  const today = dateInZone(ctx.now(), org.timezone);
  type Acc = {
    customer: { id: string; external_id: string | null; name: string };
    currency: string;
    invoices: number;
    due: number;
    overdue: number;
    overdueInvoices: string[];
    oldest: string | null;
    buckets: Record<Bucket, number>;
  };
  const groups = new Map<string, Acc>();
  const totals = new Map<string, { due: number; overdue: number; buckets: Record<Bucket, number> }>();
  const emptyBuckets = () => Object.fromEntries(BUCKETS.map((b) => [b, 0])) as Record<Bucket, number>;
  for (const r of rows) {
    const key = `${r.customer_id}|${r.currency}`;
    let g = groups.get(key);
    if (!g) {
      // The name the customer was invoiced under; read once per customer, not per invoice.
      const snap = (JSON.parse(r.billing_snapshot!) as BillingSnapshot).customer;
      g = {
        customer: { id: r.customer_id, external_id: snap.external_id, name: snap.name },
        currency: r.currency,
        invoices: 0,
        due: 0,
        overdue: 0,
        overdueInvoices: [],
        oldest: null,
        buckets: emptyBuckets(),
      };
      groups.set(key, g);
    }
    const late = r.due_date ? daysBetween(r.due_date, today) : 0;
    const bucket = bucketOf(late);
    g.invoices++;
    g.due += r.amount_due_cents;
    g.buckets[bucket] += r.amount_due_cents;
    if (bucket !== 'current') {
      g.overdue += r.amount_due_cents;
      g.overdueInvoices.push(r.number!);
    }
    if (r.due_date && (!g.oldest || r.due_date < g.oldest)) g.oldest = r.due_date;
    let t = totals.get(r.currency);
    if (!t) totals.set(r.currency, (t = { due: 0, overdue: 0, buckets: emptyBuckets() }));
    t.due += r.amount_due_cents;
    t.buckets[bucket] += r.amount_due_cents;
    if (bucket !== 'current') t.overdue += r.amount_due_cents;
  }
  const aging = (b: Record<Bucket, number>, c: string) => ({
    ...moneyFields('current', b.current, c),
    ...moneyFields('days_1_30', b.days_1_30, c),
    ...moneyFields('days_31_60', b.days_31_60, c),
    ...moneyFields('days_61_90', b.days_61_90, c),
    ...moneyFields('days_over_90', b.days_over_90, c),
  });
  return {
    as_of: today,
    balances: [...groups.values()]
      .sort((a, b) => b.overdue - a.overdue || b.due - a.due)
      .map((g) => ({
        customer: g.customer,
        currency: g.currency,
        invoices_count: g.invoices,
        ...moneyFields('amount_due', g.due, g.currency),
        ...moneyFields('overdue_amount', g.overdue, g.currency),
        overdue_invoices: g.overdueInvoices,
        oldest_due_date: g.oldest,
        aging: aging(g.buckets, g.currency),
      })),
    totals: [...totals.entries()].map(([currency, t]) => ({
      currency,
      ...moneyFields('amount_due', t.due, currency),
      ...moneyFields('overdue_amount', t.overdue, currency),
      aging: aging(t.buckets, currency),
    })),
  };
}
