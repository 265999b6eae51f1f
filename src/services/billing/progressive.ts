import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { minorUnits } from '../../domain/currencies.js';
import { Decimal } from '../../domain/decimal.js';
import { newId } from '../../domain/ids.js';
import { fromMinor } from '../../domain/money.js';
import { crossedLevel, thresholdOfLevel } from '../../domain/thresholds.js';
import { toIso } from '../../domain/time.js';
import { recordActivity } from '../activity.js';
import { systemContext, type ServiceContext, type ServiceEnv } from '../context.js';
import { createInvoice } from '../invoices.js';
import { holdBillingLock } from './billing-lock.js';
import type { BillingSubject } from './build.js';
import { chargeUsage } from './charge-usage.js';
import { billingSubject } from './engine.js';
import { chargeLines, type BillingLine } from './lines.js';
import { deductBilled, progressiveBilled } from './progressive-credit.js';
import { subscriptionRecord, type SubscriptionRecord } from './records.js';
import { item, periodAt, type BillingItem } from './schedule.js';

/**
 * Progressive billing (Lago's usage thresholds). When a subscription's usage amount in its
 * current period — what its charges amount to so far, before tax, minimums and commitments —
 * reaches one of its plan's threshold levels (domain/thresholds.ts), a finalized
 * progressive_billing invoice bills that usage at once. Every later invoice of the period
 * (another progressive one, then the period's own) prices the period's whole usage again and
 * deducts, charge line by charge line, what progressive invoices of the period billed: their
 * lines' rounded amounts, so the invoices of a period add up to the period's usage rounded once.
 * An event dated earlier in the period that arrives late is simply part of the next invoice's
 * usage; a voided progressive invoice deducts nothing, so its usage goes on the next one.
 *
 * Exactly once per level, also across instances: the transaction that bills a level first
 * inserts the period's own ledger key (subscription_billings, kind arrears) and removes it
 * before committing. Whoever invoices the period meanwhile — a billing run, generate_invoice,
 * another instance checking the same threshold — inserts that same key and so waits for this
 * transaction (PostgreSQL) or is queued behind it (SQLite's write lock), then reads what it
 * billed. A period whose key is already taken is invoiced, and bills no progressive invoice
 * any more. progressive_billings' unique (subscription, period, level) is the second guard.
 */

export interface ProgressiveRun {
  subscriptions_examined: number;
  invoices_created: number;
  errors: Array<{ organization_id: string; subscription_id: string; message: string }>;
}

/** The period's charge lines so far, without the per-period minimums (they wait for its end). */
async function usageLines(ctx: ServiceContext, s: BillingSubject, it: BillingItem): Promise<BillingLine[]> {
  const out: BillingLine[] = [];
  const taxCodes = s.plan.taxCodes ?? undefined;
  for (const charge of s.plan.charges) {
    const metric = s.metrics.get(charge.billableMetricId);
    if (!metric) continue;
    const window = { from: it.usageFrom, to: it.usageTo, periodFrom: it.p.from, periodTo: it.p.to };
    const u = await chargeUsage(ctx, s.keys, metric, charge, window, s.agentCode);
    out.push(
      ...chargeLines(
        s.plan,
        { ...charge, minAmount: null, minUnits: null },
        u,
        { from: it.usageFrom, to: it.usageTo },
        taxCodes,
      ),
    );
  }
  return out;
}

const sumExact = (lines: readonly BillingLine[]) => Decimal.sum(lines.map((l) => l.unit_amount));

async function highestBilled(ctx: ServiceContext, subId: string, periodFrom: number): Promise<bigint | null> {
  const r = await ctx.db
    .selectFrom('progressive_billings')
    .select((eb) => eb.fn.max('threshold_cents').as('level'))
    .where('subscription_id', '=', subId)
    .where('period_from', '=', periodFrom)
    .executeTakeFirst();
  return r?.level === null || r?.level === undefined ? null : BigInt(r.level);
}

/**
 * Checks one subscription at `at` and bills the threshold level its period's usage reached, if
 * it has not been billed. Returns the invoice id, or null when there is nothing to bill.
 */
export async function billThresholds(
  ctx: ServiceContext,
  sub: SubscriptionRecord,
  at: number,
  subject?: BillingSubject,
): Promise<string | null> {
  if (sub.status !== 'active' || at < sub.startedAt) return null;
  const s = subject ?? (await billingSubject(ctx, sub));
  const thresholds = s.plan.usageThresholds;
  if (!thresholds.length || !s.plan.charges.length) return null;
  if (s.end !== null && at >= s.end) return null;
  const p = periodAt(sub, s.plan, at);
  const it = item(sub, 'arrears', p, s.end);
  const units = minorUnits(s.plan.currency);
  const levelOf = (lines: readonly BillingLine[]) =>
    crossedLevel(thresholds, sumExact(lines).rescale(units, 'half_up').coef);

  // A look without writing first: most checks find no new level.
  const seen = levelOf(await usageLines(ctx, s, it));
  if (seen === null) return null;
  const before = await highestBilled(ctx, sub.id, p.from);
  if (before !== null && before >= seen) return null;

  return ctx.transaction(async (trx) => {
    // Before the period's key: a billing run's batch takes them in this order too (billing-lock.ts).
    await holdBillingLock(trx);
    const hold = await trx.db
      .insertInto('subscription_billings')
      .values({
        id: newId('billing_run'),
        organization_id: trx.organizationId,
        subscription_id: sub.id,
        kind: 'arrears',
        period_from: p.from,
        period_to: it.usageTo,
        invoice_id: null,
        created_at: trx.now(),
      })
      .onConflict((oc) => oc.columns(['subscription_id', 'kind', 'period_from']).doNothing())
      .returning('id')
      .executeTakeFirst();
    // The period is being invoiced, or was: its own invoice bills the usage.
    if (!hold) return null;
    const billedId = await billLevel(trx);
    // Out of the way before committing; on an error the rollback takes it (and PostgreSQL
    // refuses any statement in a failed transaction).
    await trx.db.deleteFrom('subscription_billings').where('id', '=', hold.id).execute();
    return billedId;
  });

  async function billLevel(trx: ServiceContext): Promise<string | null> {
    const lines = await usageLines(trx, s, it);
    const usage = sumExact(lines);
    const level = levelOf(lines);
    const billedLevel = await highestBilled(trx, sub.id, p.from);
    if (level === null || (billedLevel !== null && billedLevel >= level)) return null;
    const billed = await progressiveBilled(trx, sub.id, p.from);
    const due = deductBilled(
      lines,
      billed,
      s.plan.currency,
      { from: it.usageFrom, to: it.usageTo },
      s.plan.code,
    ).filter((l) => l.amountMinor !== 0n);
    if (!due.some((l) => l.amountMinor > 0n)) return null;
    const threshold = thresholdOfLevel(thresholds, level);
    const levelAmount = fromMinor(level, s.plan.currency).toFixed(units);
    const name = threshold?.thresholdDisplayName ? ` (${threshold.thresholdDisplayName})` : '';
    const created = await createInvoice(trx, {
      customer: s.customer,
      currency: s.plan.currency,
      lines: due.map(({ amountMinor: _a, plan_code: _p, billable_metric_code: _m, ...rest }) => rest),
      invoice_type: 'progressive_billing',
      subscription_id: sub.id,
      status: 'finalized',
      memo: `Usage of ${s.plan.invoiceDisplayName ?? s.plan.name} from ${p.period.from} reached ${levelAmount} ${s.plan.currency}${name}: usage so far ${usage.rescale(units, 'half_up').toFixed(units)}, less what earlier invoices of the period billed.`,
    });
    const row = await trx.db
      .insertInto('progressive_billings')
      .values({
        id: newId('progressive_billing'),
        organization_id: trx.organizationId,
        subscription_id: sub.id,
        period_from: p.from,
        threshold_cents: Number(level),
        usage_amount: usage.toString(),
        invoice_id: created.row.id,
        created_at: trx.now(),
      })
      .onConflict((oc) => oc.columns(['subscription_id', 'period_from', 'threshold_cents']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!row) throw new Error(`threshold ${levelAmount} of subscription ${sub.id} was billed meanwhile`);
    await recordActivity(trx, {
      type: 'subscription.usage_threshold_reached',
      resourceType: 'subscription',
      resourceId: sub.id,
      customerId: s.customer.id,
      externalCustomerId: s.customer.external_id,
      subscriptionId: sub.id,
      externalSubscriptionId: sub.externalId,
      changes: {
        threshold: levelAmount,
        threshold_display_name: threshold?.thresholdDisplayName ?? null,
        recurring: threshold?.recurring ?? false,
        usage_amount: usage.toString(),
        period_from: toIso(p.from),
        invoice_id: created.row.id,
      },
    });
    return created.row.id;
  }
}

const byCodeUnits = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

/**
 * Checks every active subscription whose plan has usage thresholds (of the given customers,
 * when named) at `at`, each in its own transaction.
 */
export async function runProgressiveBilling(
  env: ServiceEnv,
  at: number,
  scope: { organizationId: string; customerIds: readonly string[] } | null = null,
  requestId = `progressive_${randomUUID()}`,
): Promise<ProgressiveRun> {
  const run: ProgressiveRun = { subscriptions_examined: 0, invoices_created: 0, errors: [] };
  // From the plans with thresholds (few) to their active subscriptions by plan
  // (subscriptions_plan_active), not through every subscription.
  let q = env.db.kysely
    .selectFrom('subscriptions')
    .selectAll('subscriptions')
    // A literal, not a parameter: only then may SQLite use the partial index.
    .where(sql<boolean>`subscriptions.status = 'active'`)
    .where('subscriptions.plan_id', 'in', (eb) =>
      eb.selectFrom('plans').select('plans.id').where('plans.usage_thresholds', 'is not', null),
    );
  if (scope) {
    if (!scope.customerIds.length) return run;
    q = q
      .where('subscriptions.organization_id', '=', scope.organizationId)
      .where('subscriptions.customer_id', 'in', [...scope.customerIds]);
  }
  // Sorted here rather than by the query, which would make SQLite walk an organization index.
  const rows = (await q.execute()).sort(
    (a, b) => byCodeUnits(a.organization_id, b.organization_id) || byCodeUnits(a.id, b.id),
  );
  const contexts = new Map<string, ServiceContext>();
  for (const row of rows) {
    let ctx = contexts.get(row.organization_id);
    if (!ctx)
      contexts.set(
        row.organization_id,
        (ctx = systemContext(env, row.organization_id, requestId, 'progressive billing')),
      );
    run.subscriptions_examined++;
    try {
      if (await billThresholds(ctx, subscriptionRecord(row), at)) run.invoices_created++;
    } catch (e) {
      run.errors.push({
        organization_id: row.organization_id,
        subscription_id: row.id,
        message: e instanceof Error ? e.message : String(e),
      });
      env.logger.error({ err: e, subscription_id: row.id }, 'progressive billing failed');
    }
  }
  return run;
}
