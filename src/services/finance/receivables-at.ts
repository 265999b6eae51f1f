import { sql } from 'kysely';
import type { ServiceContext } from '../context.js';

/**
 * What customers owed at a moment, per currency: invoices issued before it, less what was paid
 * and credited before it, and how much of that was past its due date on that day.
 *
 * The invoice rows hold today's balance, so the moment is reached from today: today's balances
 * of invoices issued before it — the maintained open balances per due date (totals.ts) less
 * those of invoices issued since — corrected for the few invoices something happened to since
 * (a payment, a credit note issued or voided, the invoice voided). At today the corrections are
 * empty and the figures are exactly get_accounts_receivable's totals. A moment long past costs
 * what happened since it; the end of a period not yet over costs a few dozen rows.
 */
export interface ReceivablesAt {
  count: number;
  due: bigint;
  overdueCount: number;
  overdue: bigint;
}

const n = (v: unknown) => BigInt(String(v ?? 0));

export async function receivablesAt(
  ctx: ServiceContext,
  at: number,
  /** The day the balance is read on (org time zone): due dates before it are overdue. */
  asOfDate: string,
  currency?: string,
): Promise<Map<string, ReceivablesAt>> {
  const out = new Map<string, ReceivablesAt>();
  const entry = (c: string) => {
    let e = out.get(c);
    if (!e) out.set(c, (e = { count: 0, due: 0n, overdueCount: 0, overdue: 0n }));
    return e;
  };
  const add = (c: string, due: bigint, overdue: boolean, count: number) => {
    const e = entry(c);
    e.count += count;
    e.due += due;
    if (overdue) {
      e.overdueCount += count;
      e.overdue += due;
    }
  };
  const isOverdue = (dueDate: string | null) => dueDate !== null && dueDate < asOfDate;

  // Today's open balances (maintained per due date), less those of invoices issued at or after
  // the moment: none for a moment not yet come.
  let open = ctx.db
    .selectFrom('finance_receivables')
    .select([
      'currency',
      sql<number>`case when due_date <> '' and due_date < ${asOfDate} then 1 else 0 end`.as('late'),
      sql<string>`sum(open_count)`.as('count'),
      sql<string>`sum(open_cents)`.as('due'),
    ])
    .where('organization_id', '=', ctx.organizationId);
  let since = ctx.db
    .selectFrom('invoices')
    .select([
      'currency',
      sql<number>`case when due_date is not null and due_date < ${asOfDate} then 1 else 0 end`.as('late'),
      sql<string>`count(*)`.as('count'),
      sql<string>`sum(amount_due_cents)`.as('due'),
    ])
    .where('organization_id', '=', ctx.organizationId)
    .where('status', '=', 'finalized')
    .where('issued_at', '>=', at)
    .where('amount_due_cents', '>', 0);
  if (currency) {
    open = open.where('currency', '=', currency);
    since = since.where('currency', '=', currency);
  }
  for (const r of await open.groupBy(['currency', 'late']).execute())
    if (Number(r.count) !== 0) add(r.currency, n(r.due), Number(r.late) === 1, Number(r.count));
  for (const r of await since.groupBy(['currency', 'late']).execute())
    add(r.currency, -n(r.due), Number(r.late) === 1, -Number(r.count));

  // Invoices issued before the moment whose balance changed after it.
  const changed = new Set<string>();
  const later = await Promise.all([
    ctx.db
      .selectFrom('payments')
      .select('invoice_id')
      .where('organization_id', '=', ctx.organizationId)
      .where('paid_at', '>=', at)
      .execute(),
    ctx.db
      .selectFrom('credit_notes')
      .select('invoice_id')
      .where('organization_id', '=', ctx.organizationId)
      .where((eb) => eb.or([eb('issued_at', '>=', at), eb('voided_at', '>=', at)]))
      .execute(),
    ctx.db
      .selectFrom('invoices')
      .select('id as invoice_id')
      .where('organization_id', '=', ctx.organizationId)
      .where('status', '=', 'voided')
      .where('voided_at', '>=', at)
      .where('issued_at', '<', at)
      .execute(),
  ]);
  for (const rows of later) for (const r of rows) changed.add(r.invoice_id);
  if (!changed.size) return out;

  const ids = [...changed];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    let q = ctx.db
      .selectFrom('invoices')
      .select(['id', 'currency', 'status', 'due_date', 'total_amount_cents', 'amount_due_cents', 'voided_at'])
      .where('organization_id', '=', ctx.organizationId)
      .where('id', 'in', chunk)
      .where('status', 'in', ['finalized', 'voided'])
      .where('issued_at', '<', at);
    if (currency) q = q.where('currency', '=', currency);
    const invoices = await q.execute();
    if (!invoices.length) continue;
    const found = invoices.map((r) => r.id);
    const [payments, notes] = await Promise.all([
      ctx.db
        .selectFrom('payments')
        .select(['invoice_id', 'amount_cents'])
        .where('organization_id', '=', ctx.organizationId)
        .where('invoice_id', 'in', found)
        .where('paid_at', '<', at)
        .execute(),
      ctx.db
        .selectFrom('credit_notes')
        .select(['invoice_id', 'total_amount_cents', 'status', 'voided_at'])
        .where('organization_id', '=', ctx.organizationId)
        .where('invoice_id', 'in', found)
        .where('credit_note_type', '=', 'credit')
        .where('issued_at', '<', at)
        .execute(),
    ]);
    const settled = new Map<string, bigint>();
    for (const p of payments)
      settled.set(p.invoice_id, (settled.get(p.invoice_id) ?? 0n) + n(p.amount_cents));
    for (const c of notes)
      // A note voided after the moment still reduced what was owed at it.
      if (c.status === 'finalized' || (c.voided_at !== null && Number(c.voided_at) >= at))
        settled.set(c.invoice_id, (settled.get(c.invoice_id) ?? 0n) + n(c.total_amount_cents));
    for (const inv of invoices) {
      const late = isOverdue(inv.due_date);
      // Take back what the aggregate counted from today's balance...
      if (inv.status === 'finalized' && Number(inv.amount_due_cents) > 0)
        add(inv.currency, -n(inv.amount_due_cents), late, -1);
      // ...and count the balance at the moment instead.
      const voidedBefore = inv.voided_at !== null && Number(inv.voided_at) < at;
      const due = voidedBefore ? 0n : n(inv.total_amount_cents) - (settled.get(inv.id) ?? 0n);
      if (due > 0n) add(inv.currency, due, late, 1);
    }
  }
  for (const [c, e] of out) if (e.count === 0 && e.due === 0n) out.delete(c);
  return out;
}
