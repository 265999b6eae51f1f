import { prepared } from '../../db/prepared.js';
import type { SubscriptionBillingsTable } from '../../db/schema.js';
import { Decimal } from '../../domain/decimal.js';
import { BillfoldError } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { fromMinor } from '../../domain/money.js';
import { activeDays } from '../../domain/periods.js';
import { computeCreditItems } from '../../domain/invoice-math.js';
import type { ServiceContext } from '../context.js';
import { createCreditNote } from '../credit-notes.js';
import { usageKeys } from '../metering/customer-keys.js';
import {
  createInvoice,
  finalizeInvoice,
  loadLines,
  updateInvoice,
  type InvoiceLineInput,
} from '../invoices.js';
import { holdBillingLock } from './billing-lock.js';
import { agentCodesById, buildLines, metricsForPlan, type BillingSubject } from './build.js';
import { couponDiscounts } from './discounts.js';
import { activeDates, type BillingLine } from './lines.js';
import { plansById } from './load.js';
import { effectivePlan, type PlanRecord, type SubscriptionRecord } from './records.js';
import {
  endOf,
  item,
  itemsAt,
  nextBillingMoment,
  periodAt,
  type BillingItem,
  type ItemKind,
} from './schedule.js';

/**
 * Turning subscriptions into invoices, exactly once. Every invoiced item (a period's advance
 * fee, a period's usage) has a row in subscription_billings, unique on (subscription, kind,
 * period start), written in the transaction that creates its invoice: whichever run, process or
 * request inserts it first invoices the item; the others find it and skip. A row whose invoice
 * is still a draft (generate_invoice, or an organization that keeps drafts) is refreshed instead:
 * its lines are recomputed with the usage known now.
 */

/** Another run or request billed the item first: its transaction is rolled back and skipped. */
export class AlreadyBilled extends Error {
  constructor() {
    super('another billing run invoiced this period first');
  }
}

export type BillingAction = 'created' | 'refreshed' | 'skipped' | 'nothing';

export interface BillingOutcome {
  action: BillingAction;
  invoiceId: string | null;
  finalized: boolean;
}

function stripLine(l: BillingLine): InvoiceLineInput {
  const { amountMinor: _a, plan_code: _p, billable_metric_code: _m, ...rest } = l;
  void _a;
  void _p;
  void _m;
  return rest;
}

/** The ledger rows of one subscription at some period starts, compiled once per number of starts. */
const ledgerQueries = new Map<
  number,
  (db: ServiceContext['db'], p: Record<string, unknown>) => Promise<SubscriptionBillingsTable[]>
>();

function ledgerQuery(starts: number) {
  let q = ledgerQueries.get(starts);
  if (!q) {
    q = prepared((db, p: Record<string, unknown>) =>
      db
        .selectFrom('subscription_billings')
        .selectAll()
        .where('subscription_id', '=', p.sub as string)
        .where(
          'period_from',
          'in',
          Array.from({ length: starts }, (_, i) => p[`from${i}`] as number),
        ),
    );
    ledgerQueries.set(starts, q);
  }
  return q;
}

async function ledgerRows(
  ctx: ServiceContext,
  subId: string,
  items: readonly BillingItem[],
): Promise<SubscriptionBillingsTable[]> {
  if (!items.length) return [];
  const starts = [...new Set(items.map((i) => i.p.from))];
  return ledgerQuery(starts.length)(ctx.db, {
    sub: subId,
    ...Object.fromEntries(starts.map((from, i) => [`from${i}`, from])),
  });
}

/** Claims one item for an invoice: no row when another transaction claimed it first. */
const claimItem = prepared((db, p: Pick<SubscriptionBillingsTable, keyof SubscriptionBillingsTable>) =>
  db
    .insertInto('subscription_billings')
    .values({
      id: p.id,
      organization_id: p.organization_id,
      subscription_id: p.subscription_id,
      kind: p.kind,
      period_from: p.period_from,
      period_to: p.period_to,
      invoice_id: p.invoice_id,
      created_at: p.created_at,
    })
    .onConflict((oc) => oc.columns(['subscription_id', 'kind', 'period_from']).doNothing())
    .returning('id'),
);

async function insertLedger(
  ctx: ServiceContext,
  subId: string,
  items: readonly BillingItem[],
  invoiceId: string | null,
): Promise<string[]> {
  const ids: string[] = [];
  for (const it of items) {
    const [inserted] = await claimItem(ctx.db, {
      id: newId('billing_run'),
      organization_id: ctx.organizationId,
      subscription_id: subId,
      kind: it.kind,
      period_from: it.p.from,
      period_to: it.usageTo,
      invoice_id: invoiceId,
      created_at: ctx.now(),
    });
    if (!inserted) {
      // Inside a caller's transaction nothing rolls back for us: take back what this call wrote.
      if (ids.length) await ctx.db.deleteFrom('subscription_billings').where('id', 'in', ids).execute();
      throw new AlreadyBilled();
    }
    ids.push(inserted.id);
  }
  return ids;
}

const key = (kind: string, from: number) => `${kind}@${from}`;

export interface InvoiceItemsOptions {
  /** Finalize what is created or refreshed (a run, when the organization finalizes). */
  finalize: boolean;
}

/**
 * Invoices `items` for one subscription in the caller's transaction: refreshes the draft that
 * already holds any of them (adding the others to it), or creates one invoice for those not
 * yet billed. Throws AlreadyBilled when another transaction billed one of them meanwhile.
 */
export async function invoiceItems(
  ctx: ServiceContext,
  s: BillingSubject,
  items: readonly BillingItem[],
  options: InvoiceItemsOptions,
): Promise<BillingOutcome> {
  // Before any claim or draft refresh, and before the invoice numbers itself (billing-lock.ts).
  await holdBillingLock(ctx);
  const rows = await ledgerRows(ctx, s.sub.id, items);
  const byKey = new Map(rows.map((r) => [key(r.kind, r.period_from), r]));
  const invoiceIds = [...new Set(rows.map((r) => r.invoice_id).filter((x): x is string => x !== null))];
  const invoices = invoiceIds.length
    ? await ctx.db
        .selectFrom('invoices')
        .select(['id', 'status'])
        .where('organization_id', '=', ctx.organizationId)
        .where('id', 'in', invoiceIds)
        .execute()
    : [];
  const status = new Map(invoices.map((i) => [i.id, i.status]));
  // A draft deleted by hand gives its items back: they are billed again.
  const orphans = rows.filter((r) => r.invoice_id !== null && !status.has(r.invoice_id));
  if (orphans.length) {
    await ctx.db
      .deleteFrom('subscription_billings')
      .where(
        'id',
        'in',
        orphans.map((r) => r.id),
      )
      .execute();
    for (const o of orphans) byKey.delete(key(o.kind, o.period_from));
  }
  const draftRow = [...byKey.values()].find((r) => r.invoice_id && status.get(r.invoice_id) === 'draft');
  const fresh = items.filter((i) => !byKey.has(key(i.kind, i.p.from)));

  if (draftRow) {
    const draftId = draftRow.invoice_id!;
    await insertLedger(ctx, s.sub.id, fresh, draftId);
    const held = await ctx.db
      .selectFrom('subscription_billings')
      .selectAll()
      .where('invoice_id', '=', draftId)
      .where('subscription_id', '=', s.sub.id)
      .execute();
    const heldItems = held.map((r) =>
      item(s.sub, r.kind as ItemKind, periodAt(s.sub, s.plan, r.period_from), s.end),
    );
    const lines = await buildLines(ctx, s, heldItems);
    const coupons = await couponDiscounts(ctx, s, lines, draftId);
    await updateInvoice(ctx, draftId, { lines: lines.map(stripLine), discounts: coupons.discounts });
    await coupons.record(draftId);
    for (const it of heldItems) {
      await ctx.db
        .updateTable('subscription_billings')
        .set({ period_to: it.usageTo })
        .where('subscription_id', '=', s.sub.id)
        .where('kind', '=', it.kind)
        .where('period_from', '=', it.p.from)
        .execute();
    }
    if (options.finalize) await finalizeInvoice(ctx, draftId);
    return { action: 'refreshed', invoiceId: draftId, finalized: options.finalize };
  }
  if (!fresh.length) return { action: 'skipped', invoiceId: rows[0]?.invoice_id ?? null, finalized: false };
  // Claimed before the lines are built: the claim is what waits for a progressive invoice of
  // the period being written meanwhile (progressive.ts), whose usage the lines then deduct. It
  // names the invoice about to be created, so no second write is needed to link them.
  const invoiceId = newId('invoice', ctx.now());
  const ledgerIds = await insertLedger(ctx, s.sub.id, fresh, invoiceId);
  const lines = await buildLines(ctx, s, fresh);
  if (!lines.length) {
    // Nothing to bill: the items stay claimed, on no invoice.
    await ctx.db
      .updateTable('subscription_billings')
      .set({ invoice_id: null })
      .where('id', 'in', ledgerIds)
      .execute();
    return { action: 'nothing', invoiceId: null, finalized: false };
  }
  const coupons = await couponDiscounts(ctx, s, lines, null);
  const created = await createInvoice(ctx, {
    id: invoiceId,
    customer: s.customer,
    currency: s.plan.currency,
    lines: lines.map(stripLine),
    discounts: coupons.discounts,
    invoice_type: 'subscription',
    subscription_id: s.sub.id,
    status: options.finalize ? 'finalized' : 'draft',
  });
  await coupons.record(created.row.id);
  return { action: 'created', invoiceId: created.row.id, finalized: options.finalize };
}

/** Loads what billing a subscription needs. */
export async function billingSubject(
  ctx: ServiceContext,
  sub: SubscriptionRecord,
  end: number | null = endOf(sub),
  plan?: PlanRecord,
): Promise<BillingSubject> {
  const base = plan ?? (await plansById(ctx, [sub.planId])).get(sub.planId);
  if (!base) throw new Error(`plan ${sub.planId} of subscription ${sub.id} is missing`);
  const effective = effectivePlan(base, sub.overrides);
  const customer = await ctx.db
    .selectFrom('customers')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('id', '=', sub.customerId)
    .executeTakeFirstOrThrow();
  return {
    sub,
    plan: effective,
    customer,
    metrics: await metricsForPlan(ctx, effective),
    keys: await usageKeys(ctx, customer),
    end,
    handedOver: end !== null && (await handedOverAt(ctx, sub, end)),
    agentCode: sub.agentId ? ((await agentCodesById(ctx, [sub.agentId])).get(sub.agentId) ?? null) : null,
  };
}

/**
 * Whether a plan change continues `sub` on a new row starting at `end`. Read from the rows
 * rather than passed along, so billing the ended row again later (generate_invoice on its last
 * period) counts its days the same way.
 */
async function handedOverAt(ctx: ServiceContext, sub: SubscriptionRecord, end: number): Promise<boolean> {
  if (sub.terminatedAt === null) return false;
  const next = await ctx.db
    .selectFrom('subscriptions')
    .select('id')
    .where('organization_id', '=', ctx.organizationId)
    .where('customer_id', '=', sub.customerId)
    .where('previous_subscription_id', '=', sub.id)
    .where('started_at', '=', end)
    .executeTakeFirst();
  return next !== undefined;
}

/**
 * Bills every billing moment of `s` from `from` up to `until` (inclusive), each in its own
 * transaction; returns the outcomes and the next moment still to bill (null: none).
 */
export async function billMoments(
  ctx: ServiceContext,
  s: BillingSubject,
  from: number,
  until: number,
  finalize: boolean,
  onOutcome?: (o: BillingOutcome) => void,
): Promise<number | null> {
  let at: number | null = from;
  while (at !== null && at <= until) {
    const items = itemsAt(s.sub, s.plan, at, s.end);
    if (items.length) {
      let outcome: BillingOutcome;
      try {
        outcome = await ctx.transaction((trx) => invoiceItems(trx, s, items, { finalize }));
      } catch (e) {
        if (!(e instanceof AlreadyBilled)) throw e;
        outcome = { action: 'skipped', invoiceId: null, finalized: false };
      }
      onOutcome?.(outcome);
    }
    at = nextBillingMoment(s.sub, s.plan, at + 1, s.end);
  }
  return at;
}

/** The earliest instant at which a billing run has something to invoice for `sub`, or null. */
export function nextBillingAt(sub: SubscriptionRecord, plan: PlanRecord, after: number): number | null {
  return nextBillingMoment(sub, plan, after);
}

/**
 * Invoices what a subscription terminated at `at` still owes: every billing moment not yet
 * billed up to `at` (usage and arrears fee, the last period's fee prorated to `at`). Returns the
 * ids of the invoices created or refreshed (each outcome also goes to `onOutcome`: a billing
 * run counts them). Runs in the caller's transaction when it has one.
 */
export async function billTermination(
  ctx: ServiceContext,
  sub: SubscriptionRecord,
  at: number,
  onOutcome?: (o: BillingOutcome) => void,
): Promise<string[]> {
  const ended: SubscriptionRecord = { ...sub, terminatedAt: sub.terminatedAt ?? at };
  const s = await billingSubject(ctx, ended, at);
  const org = await ctx.organization();
  const ids: string[] = [];
  // The end instant is itself a billing moment, earlier than the pointer when it falls
  // mid-period; moments before the pointer are billed already.
  const pointer = sub.row.next_billing_at ?? nextBillingMoment(ended, s.plan, sub.startedAt, at);
  const start = pointer === null ? null : Math.min(pointer, at);
  if (start === null || at <= sub.startedAt) return ids;
  await billMoments(ctx, s, start, at, org.finalize_invoices === 1, (o) => {
    if (o.invoiceId && o.action !== 'skipped') ids.push(o.invoiceId);
    onOutcome?.(o);
  });
  await ctx.db
    .updateTable('subscriptions')
    .set({ next_billing_at: null })
    .where('id', '=', sub.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  return ids;
}

/**
 * When a subscription that paid its fee in advance ends (or changes plan) at `at` before its
 * period ends: credits the unused days of that fee on the advance invoice (a credit note of type
 * credit while the invoice is unpaid enough, else a refund). A draft is corrected in place
 * instead. Returns the credit note id, or null when nothing is left to credit.
 */
export async function creditUnusedAdvanceFee(
  ctx: ServiceContext,
  sub: SubscriptionRecord,
  at: number,
): Promise<string | null> {
  const s = await billingSubject(ctx, { ...sub, terminatedAt: sub.terminatedAt ?? at }, at);
  if (!s.plan.payInAdvance) return null;
  const p = periodAt(sub, s.plan, at - 1);
  if (p.to <= at) return null;
  const row = await ctx.db
    .selectFrom('subscription_billings')
    .selectAll()
    .where('subscription_id', '=', sub.id)
    .where('kind', '=', 'advance')
    .where('period_from', '=', p.from)
    .executeTakeFirst();
  if (!row?.invoice_id) return null;
  const invoice = await ctx.db
    .selectFrom('invoices')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('id', '=', row.invoice_id)
    .executeTakeFirst();
  if (!invoice || invoice.status === 'voided') return null;
  if (invoice.status === 'draft') {
    // Still a draft: its fee line is recomputed up to the end instead.
    await ctx.transaction((trx) =>
      invoiceItems(trx, s, [item(s.sub, 'advance', p, at)], { finalize: false }),
    );
    return null;
  }
  const lines = (await loadLines(ctx, [invoice.id])).get(invoice.id) ?? [];
  const fee = lines.find(
    (l) =>
      l.details !== null &&
      (JSON.parse(l.details) as { kind?: string; period_from?: string }).kind === 'fee' &&
      l.from_at === p.from,
  );
  if (!fee) return null;
  const d = JSON.parse(fee.details!) as { days: number };
  const dates = activeDates(s.sub, at, s.handedOver);
  const used = activeDays(p.period, dates.paidFrom, dates.to);
  const unused = d.days - used;
  if (unused <= 0 || d.days <= 0) return null;
  const taxable = BigInt(fee.amount_cents - fee.discount_amount_cents);
  const credits = await ctx.db
    .selectFrom('credit_notes')
    .select(['items', 'status'])
    .where('organization_id', '=', ctx.organizationId)
    .where('invoice_id', '=', invoice.id)
    .execute();
  let credited = 0n;
  for (const c of credits) {
    if (c.status !== 'finalized') continue;
    for (const i of JSON.parse(c.items) as Array<{ invoice_line_id: string | null; amount_cents: number }>)
      if (i.invoice_line_id === fee.id) credited += BigInt(i.amount_cents);
  }
  // The unused share of what the line was charged after discounts, rounded half-up once.
  // What was credited on the line already counts toward it, so a second call credits nothing.
  const target = (taxable * BigInt(unused) * 2n + BigInt(d.days)) / (2n * BigInt(d.days));
  const cents = target - credited;
  if (cents <= 0n) return null;
  const amount = fromMinor(cents, invoice.currency);
  const gross = computeCreditItems([
    {
      amount_cents: cents,
      taxes: (JSON.parse(fee.taxes) as Array<{ code: string; name: string; rate: string }>).map((t) => ({
        ...t,
        rate: Decimal.parse(t.rate),
      })),
    },
  ]).total_amount_cents;
  const type = BigInt(invoice.amount_due_cents) >= gross ? 'credit' : 'refund';
  if (type === 'refund' && BigInt(invoice.amount_paid_cents - invoice.refunded_amount_cents) < gross)
    return null;
  const { credit_note } = await createCreditNote(ctx, {
    invoice_id: invoice.id,
    type,
    reason: 'order_change',
    description: `Unused ${unused} of ${d.days} days of ${s.plan.name}`,
    items: [{ invoice_line_id: fee.id, amount }],
  });
  return credit_note.id;
}
