import { sql, type Expression, type SqlBool } from 'kysely';
import { escapeLike } from '../db/sql.js';
import { dateInZone } from '../domain/time.js';
import type { ServiceContext } from './context.js';

/**
 * Completion of prompt and resource-template arguments from the organization's own data: the
 * values that start with what was typed, matched on id, external id, number, code or name
 * (case-insensitive), most recent first, at most 100. A match on a name offers the reference a
 * tool takes (the external id when there is one, else the id).
 */
export const COMPLETION_LIMIT = 100;

/** `lower(column) LIKE 'prefix%'`, the prefix taken literally, on both databases. */
function startsWith(column: string, prefix: string): Expression<SqlBool> {
  return sql<SqlBool>`lower(${sql.ref(column)}) like ${`${escapeLike(prefix.toLowerCase())}%`} escape '\\'`;
}

interface Source {
  table:
    | 'customers'
    | 'invoices'
    | 'orders'
    | 'plans'
    | 'billable_metrics'
    | 'coupons'
    | 'products'
    | 'subscriptions'
    | 'credit_notes';
  /** Columns a typed prefix is matched on, in the order their value is offered. */
  keys: string[];
  /** Matched too, but the offered value is the first present key. */
  names?: string[];
  live?: (column: (c: string) => Expression<SqlBool>) => Expression<SqlBool>[];
}

const SOURCES: Record<string, Source> = {
  customer_id: { table: 'customers', keys: ['external_id', 'id'], names: ['name', 'legal_name', 'email'] },
  invoice_id: { table: 'invoices', keys: ['number', 'external_id', 'id'] },
  order_id: { table: 'orders', keys: ['number', 'external_id', 'id'] },
  plan_code: { table: 'plans', keys: ['code'], names: ['name'] },
  metric_code: { table: 'billable_metrics', keys: ['code'], names: ['name'] },
  billable_metric_code: { table: 'billable_metrics', keys: ['code'], names: ['name'] },
  coupon_code: { table: 'coupons', keys: ['code'], names: ['name'] },
  product_id: { table: 'products', keys: ['code', 'id'], names: ['name'] },
  product_code: { table: 'products', keys: ['code'], names: ['name'] },
  subscription_id: { table: 'subscriptions', keys: ['external_id', 'id'], names: ['name'] },
  credit_note_id: { table: 'credit_notes', keys: ['number', 'id'] },
};

/** Tables whose removed rows keep a deleted_at: never offered. */
const SOFT_DELETED = new Set(['customers', 'plans', 'billable_metrics', 'coupons']);

export function completes(argument: string): boolean {
  return argument in SOURCES || argument === 'period';
}

export async function completeArgument(
  ctx: ServiceContext,
  argument: string,
  typed: string,
): Promise<string[]> {
  const prefix = typed.trim();
  if (argument === 'period') return completePeriod(ctx, prefix);
  const source = SOURCES[argument];
  if (!source) return [];
  const columns = [...source.keys, ...(source.names ?? [])];
  let q = ctx.db
    .selectFrom(source.table)
    .select(source.keys.map((k) => sql.ref(k).as(k)) as never)
    .where('organization_id', '=', ctx.organizationId)
    .where((eb) => eb.or(columns.map((c) => startsWith(c, prefix))));
  if (SOFT_DELETED.has(source.table)) q = q.where('deleted_at' as never, 'is', null);
  const rows = (await q
    .orderBy('created_at' as never, 'desc')
    .limit(COMPLETION_LIMIT * 2)
    .execute()) as unknown as Array<Record<string, string | null>>;
  const lower = prefix.toLowerCase();
  const out = new Set<string>();
  for (const r of rows) {
    const key =
      source.keys.find((k) => r[k]?.toLowerCase().startsWith(lower)) ?? source.keys.find((k) => r[k]);
    if (key) out.add(r[key]!);
    if (out.size >= COMPLETION_LIMIT) break;
  }
  return [...out];
}

/**
 * Reporting periods the organization has data for: from the month of its first invoice to this
 * month, newest first, each month with its quarter and year.
 */
async function completePeriod(ctx: ServiceContext, prefix: string): Promise<string[]> {
  const tz = (await ctx.organization()).timezone;
  const first = await ctx.db
    .selectFrom('invoices')
    .select(sql<number | string | null>`min(issued_at)`.as('first'))
    .where('organization_id', '=', ctx.organizationId)
    .where('status', '=', 'finalized')
    .executeTakeFirst();
  const today = dateInZone(ctx.now(), tz);
  const start = first?.first != null ? dateInZone(Number(first.first), tz) : today;
  const index = (date: string) => Number(date.slice(0, 4)) * 12 + Number(date.slice(5, 7)) - 1;
  const out: string[] = [];
  // Ten years at the most: beyond that a prefix narrows the list anyway.
  const last = Math.max(index(start), index(today) - 119);
  for (let i = index(today); i >= last; i--) {
    const year = Math.floor(i / 12);
    const month = (i % 12) + 1;
    out.push(`${year}-${String(month).padStart(2, '0')}`);
    if (month % 3 === 0 || i === index(today)) out.push(`${year}-Q${Math.ceil(month / 3)}`);
    if (month === 12 || i === index(today)) out.push(String(year));
  }
  const p = prefix.toUpperCase();
  return out.filter((v) => v.toUpperCase().startsWith(p)).slice(0, COMPLETION_LIMIT);
}
