import { randomUUID } from 'node:crypto';
import { preparedWrite } from '../../db/prepared.js';
import type { SubscriptionsTable } from '../../db/schema.js';
import { toIso } from '../../domain/time.js';
import { createServiceContext, type Principal, type ServiceContext, type ServiceEnv } from '../context.js';
import type { MetricRecord } from '../metering/aggregates.js';
import { usageKeysByCustomer } from '../metering/customer-keys.js';
import { agentCodesById, metricsForPlan, type BillingSubject } from './build.js';
import { holdBillingLock } from './billing-lock.js';
import { billMoments, type BillingOutcome } from './engine.js';
import { plansById } from './load.js';
import { customersWithoutWallets } from '../wallets/ledger.js';
import { customersWithoutCoupons } from './coupon-ledger.js';
import { runProgressiveBilling } from './progressive.js';
import { effectivePlan, subscriptionRecord, type PlanRecord, type SubscriptionRecord } from './records.js';
import { endOf } from './schedule.js';
import { applyScheduledChanges, lifecycleDueAt } from './subscriptions.js';

/**
 * Billing runs: every subscription whose next_billing_at has come (across organizations) gets
 * each billing moment up to `at` invoiced — several when a run catches up — and its
 * next_billing_at moved on. Each invoice commits with its ledger rows, so runs on several
 * processes at once, or one after another, bill each period once and skip none.
 */

export interface RunProgress {
  done: number;
  total: number;
}

export interface RunSummary {
  at: string;
  subscriptions_examined: number;
  invoices_created: number;
  invoices_finalized: number;
  invoices_refreshed: number;
  skipped: number;
  /** progressive_billing invoices: usage thresholds reached in current periods (progressive.ts). */
  progressive_invoices_created: number;
  errors: Array<{ organization_id: string; subscription_id: string; message: string }>;
  duration_ms: number;
}

export interface RunOptions {
  onProgress?: (p: RunProgress) => void;
}

/** Subscriptions loaded per query while a run walks an organization. */
const CHUNK = 500;
/** Subscriptions billed per transaction. */
const BATCH = 100;

/** A subscription's next_billing_at moves on from `from`, unless another run moved it first. */
const movePointer = preparedWrite(
  (db, p: { next: number | null; now: number; id: string; org: string; from: number }) =>
    db
      .updateTable('subscriptions')
      .set({ next_billing_at: p.next, updated_at: p.now })
      .where('id', '=', p.id)
      .where('organization_id', '=', p.org)
      .where('next_billing_at', '=', p.from),
);

function systemContext(env: ServiceEnv, organizationId: string, requestId: string): ServiceContext {
  const principal: Principal = {
    organizationId,
    actor: { type: 'system', id: null, name: 'billing run' },
    scopes: new Set(['read', 'write', 'admin']),
  };
  return createServiceContext(env, env.db.kysely, principal, 'system', requestId);
}

export async function runBilling(env: ServiceEnv, at: number, options: RunOptions = {}): Promise<RunSummary> {
  const started = performance.now();
  const requestId = `run_${randomUUID()}`;
  const due = await env.db.kysely
    .selectFrom('subscriptions')
    .select(['id', 'organization_id'])
    .where('next_billing_at', 'is not', null)
    .where('next_billing_at', '<=', at)
    .orderBy('organization_id')
    .orderBy('next_billing_at')
    .execute();
  const summary: RunSummary = {
    at: toIso(at),
    subscriptions_examined: 0,
    invoices_created: 0,
    invoices_finalized: 0,
    invoices_refreshed: 0,
    skipped: 0,
    progressive_invoices_created: 0,
    errors: [],
    duration_ms: 0,
  };
  const count = (o: BillingOutcome) => {
    if (o.action === 'created') summary.invoices_created++;
    else if (o.action === 'refreshed') summary.invoices_refreshed++;
    else if (o.action === 'skipped') summary.skipped++;
    if (o.finalized && (o.action === 'created' || o.action === 'refreshed')) summary.invoices_finalized++;
  };
  const byOrg = new Map<string, string[]>();
  for (const r of due) {
    let ids = byOrg.get(r.organization_id);
    if (!ids) byOrg.set(r.organization_id, (ids = []));
    ids.push(r.id);
  }
  options.onProgress?.({ done: 0, total: due.length });
  for (const [orgId, ids] of byOrg) {
    const ctx = systemContext(env, orgId, requestId);
    const org = await ctx.organization();
    const finalize = org.finalize_invoices === 1;
    const plans = new Map<string, PlanRecord>();
    const metrics = new Map<string, MetricRecord>();
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      const rows = await ctx.db
        .selectFrom('subscriptions')
        .selectAll()
        .where('organization_id', '=', orgId)
        .where('id', 'in', chunk)
        .execute();
      const missingPlans = rows.map((r) => r.plan_id).filter((id) => !plans.has(id));
      for (const [id, plan] of await plansById(ctx, missingPlans)) plans.set(id, plan);
      const customerIds = [...new Set(rows.map((r) => r.customer_id))];
      const customers = new Map(
        (
          await ctx.db
            .selectFrom('customers')
            .selectAll()
            .where('organization_id', '=', orgId)
            .where('id', 'in', customerIds)
            .execute()
        ).map((c) => [c.id, c]),
      );
      const keys = await usageKeysByCustomer(ctx, [...customers.values()]);
      const agentCodes = await agentCodesById(
        ctx,
        rows.map((r) => r.agent_id),
      );
      // Which of them have progressive invoices at all: the others' invoices need not look.
      const progressive = new Set(
        (
          await ctx.db
            .selectFrom('progressive_billings')
            .select('subscription_id')
            .distinct()
            .where('organization_id', '=', orgId)
            .where('subscription_id', 'in', chunk)
            .execute()
        ).map((r) => r.subscription_id),
      );
      const billOne = async (c: ServiceContext, row: SubscriptionsTable, out: BillingOutcome[]) => {
        // Before the lifecycle writes the row (billing-lock.ts); once per transaction.
        await holdBillingLock(c);
        // Lifecycle first: a pending subscription starts, an ended one terminates (and bills
        // what it owes), a downgrade whose time has come switches plans.
        const sub: SubscriptionRecord | null = await applyScheduledChanges(
          c,
          subscriptionRecord(row),
          at,
          (o) => out.push(o),
          plans,
        );
        if (!sub || sub.row.next_billing_at === null || sub.row.next_billing_at > at) return;
        const base = plans.get(sub.planId) ?? (await plansById(c, [sub.planId])).get(sub.planId);
        if (!base) throw new Error(`plan ${sub.planId} is missing`);
        plans.set(base.id, base);
        const plan = effectivePlan(base, sub.overrides);
        const s: BillingSubject = {
          sub,
          plan,
          customer: customers.get(sub.customerId)!,
          metrics: await metricsForPlan(c, plan, metrics),
          keys: keys.get(sub.customerId)!,
          end: endOf(sub),
          agentCode: sub.agentId ? (agentCodes.get(sub.agentId) ?? null) : null,
          // A plan change continues on a new row, which has its own progressive invoices.
          progressive: progressive.has(sub.id),
        };
        const from = sub.row.next_billing_at;
        const billed = await billMoments(c, s, from, at, finalize, (o) => out.push(o));
        // The lifecycle's own moments (ending_at, a scheduled downgrade) wake the run too.
        const wake = [billed, lifecycleDueAt(sub)].filter((v): v is number => v !== null);
        const next = wake.length ? Math.min(...wake) : null;
        // Compare-and-set: a concurrent run that moved it already leaves it alone.
        await movePointer(c.db, { next, now: c.now(), id: sub.id, org: orgId, from });
      };
      for (let b = 0; b < rows.length; b += BATCH) {
        const batch = rows.slice(b, b + BATCH);
        // A batch of subscriptions commits at once (one commit instead of one per invoice).
        // Each invoice still goes in with its ledger rows, and a period another run holds is
        // skipped without writing, so batching changes nothing about exactly-once. When one
        // subscription fails, the batch rolls back and is billed again one by one, so the
        // failure stays with that subscription.
        const outcomes: BillingOutcome[] = [];
        let batched = true;
        try {
          await ctx.transaction(async (trx) => {
            // Most customers have no wallet and no coupon: asked once for the batch, their
            // invoices skip looking.
            const customerIds = batch.map((r) => r.customer_id);
            await customersWithoutWallets.note(trx, customerIds);
            await customersWithoutCoupons.note(trx, customerIds);
            for (const row of batch) await billOne(trx, row, outcomes);
          });
        } catch {
          batched = false;
        }
        if (batched) outcomes.forEach(count);
        for (const row of batch) {
          if (!batched) {
            const own: BillingOutcome[] = [];
            try {
              await ctx.transaction((trx) => billOne(trx, row, own));
              own.forEach(count);
            } catch (e) {
              summary.errors.push({
                organization_id: orgId,
                subscription_id: row.id,
                message: e instanceof Error ? e.message : String(e),
              });
              env.logger.error({ err: e, subscription_id: row.id, organization_id: orgId }, 'billing failed');
            }
          }
          summary.subscriptions_examined++;
          options.onProgress?.({ done: summary.subscriptions_examined, total: due.length });
        }
      }
    }
  }
  // Then the periods now running: their usage thresholds, after the ended periods are billed.
  const progressive = await runProgressiveBilling(env, at, null, requestId);
  summary.progressive_invoices_created = progressive.invoices_created;
  summary.errors.push(...progressive.errors);
  summary.duration_ms = Math.round(performance.now() - started);
  return summary;
}
