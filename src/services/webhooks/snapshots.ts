import type { ServiceContext } from '../context.js';
import { subscriptionRecord } from '../billing/records.js';
import { subscriptionView } from '../billing/subscriptions.js';
import { creditNoteView } from '../credit-notes.js';
import { customerView } from '../customers.js';
import { loadLines, viewsOf } from '../invoices.js';
import { paymentView } from '../payments.js';
import { usageAlertViews } from '../metering/alerts.js';
import { getPortalSession } from '../portal-sessions.js';
import { transactionView, walletViews } from '../wallets/wallets.js';

/**
 * The objects events carry, read by id inside the change's transaction and shaped by the view
 * function each get_ operation returns them through (so `data.invoice` is what get_invoice
 * would answer at that moment). Several ids of one kind are read together, as a billing run's
 * batch of invoices is. Deleted rows that are kept (customers) are read too: their deletion is
 * an event.
 */

export type ObjectReader = (ctx: ServiceContext, ids: readonly string[]) => Promise<Map<string, unknown>>;

const readers: Record<string, ObjectReader> = {
  async customer(ctx, ids) {
    const rows = await ctx.db
      .selectFrom('customers')
      .selectAll()
      .where('organization_id', '=', ctx.organizationId)
      .where('id', 'in', ids)
      .execute();
    return new Map(await Promise.all(rows.map(async (r) => [r.id, await customerView(ctx, r)] as const)));
  },
  async invoice(ctx, ids) {
    const rows = await ctx.db
      .selectFrom('invoices')
      .selectAll()
      .where('organization_id', '=', ctx.organizationId)
      .where('id', 'in', ids)
      .execute();
    const lines = await loadLines(
      ctx,
      rows.map((r) => r.id),
    );
    const views = await viewsOf(
      ctx,
      rows.map((row) => ({ row, lines: lines.get(row.id) ?? [] })),
    );
    return new Map(views.map((v) => [v.id, v]));
  },
  async payment(ctx, ids) {
    const rows = await ctx.db
      .selectFrom('payments')
      .leftJoin('invoices', 'invoices.id', 'payments.invoice_id')
      .selectAll('payments')
      .select('invoices.number as invoice_number')
      .where('payments.organization_id', '=', ctx.organizationId)
      .where('payments.id', 'in', ids)
      .execute();
    return new Map(rows.map(({ invoice_number, ...p }) => [p.id, paymentView(p, invoice_number)]));
  },
  async credit_note(ctx, ids) {
    const rows = await ctx.db
      .selectFrom('credit_notes')
      .leftJoin('invoices', 'invoices.id', 'credit_notes.invoice_id')
      .selectAll('credit_notes')
      .select('invoices.number as invoice_number')
      .where('credit_notes.organization_id', '=', ctx.organizationId)
      .where('credit_notes.id', 'in', ids)
      .execute();
    return new Map(rows.map(({ invoice_number, ...c }) => [c.id, creditNoteView(c, invoice_number)]));
  },
  async subscription(ctx, ids) {
    const rows = await ctx.db
      .selectFrom('subscriptions')
      .selectAll()
      .where('organization_id', '=', ctx.organizationId)
      .where('id', 'in', ids)
      .execute();
    const out = new Map<string, unknown>();
    for (const r of rows) out.set(r.id, await subscriptionView(ctx, subscriptionRecord(r)));
    return out;
  },
  async usage_alert(ctx, ids) {
    const views = await usageAlertViews(ctx, ids);
    return new Map(views.map((v) => [v.id, v]));
  },
  async wallet(ctx, ids) {
    const rows = await ctx.db
      .selectFrom('wallets')
      .selectAll()
      .where('organization_id', '=', ctx.organizationId)
      .where('id', 'in', ids)
      .execute();
    const views = await walletViews(ctx, rows);
    return new Map(views.map((v) => [v.id, v]));
  },
  /** As list_wallet_transactions shows it (no get_ operation reads one transaction). */
  async wallet_transaction(ctx, ids) {
    const rows = await ctx.db
      .selectFrom('wallet_transactions')
      .innerJoin('wallets', 'wallets.id', 'wallet_transactions.wallet_id')
      .selectAll('wallet_transactions')
      .select('wallets.currency as wallet_currency')
      .where('wallet_transactions.organization_id', '=', ctx.organizationId)
      .where('wallet_transactions.id', 'in', ids)
      .execute();
    return new Map(rows.map(({ wallet_currency, ...t }) => [t.id, transactionView(t, wallet_currency)]));
  },
  async portal_session(ctx, ids) {
    const out = new Map<string, unknown>();
    for (const id of ids) out.set(id, await getPortalSession(ctx, id));
    return out;
  },
};

/**
 * For objects of resources added later: the reader that shapes them as their get_ operation
 * does (without one, an event's object is only its id).
 */
export function registerObjectReader(object: string, reader: ObjectReader): void {
  readers[object] = reader;
}

export async function readObjects(
  ctx: ServiceContext,
  object: string,
  ids: readonly string[],
): Promise<Map<string, unknown>> {
  const reader = readers[object];
  if (!reader) return new Map(ids.map((id) => [id, { id }]));
  return reader(ctx, ids);
}
