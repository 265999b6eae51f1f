import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { toIso } from '../../domain/time.js';
import { recordActivity } from '../activity.js';
import { systemContext, type ServiceEnv } from '../context.js';
import { evaluateUsageAlerts } from '../metering/alerts.js';

/**
 * What no request changes but customers' systems still need to hear: an invoice's due date
 * passing with money still due, a trial ending, usage crossing an alert's threshold. The
 * scheduler notices them and records an activity entry for each — invoice.payment_overdue,
 * subscription.trial_ended, usage_alert.triggered — which the outbox turns into the webhook
 * event. Each is raised once: the row is marked by an update conditional on it not being marked
 * yet, in the transaction that records the entry, so two instances never both raise it.
 */

export interface NoticeRun {
  invoices_overdue: number;
  trials_ended: number;
  usage_alerts_examined: number;
  usage_alerts_triggered: number;
}

/** Rows marked per transaction. */
const CHUNK = 200;

export async function raiseNotices(
  env: ServiceEnv,
  requestId = `notices_${randomUUID()}`,
): Promise<NoticeRun> {
  const run: NoticeRun = {
    invoices_overdue: await raiseOverdue(env, requestId),
    trials_ended: await raiseTrialEnds(env, requestId),
    usage_alerts_examined: 0,
    usage_alerts_triggered: 0,
  };
  const alerts = await evaluateUsageAlerts(env, requestId);
  run.usage_alerts_examined = alerts.examined;
  run.usage_alerts_triggered = alerts.triggered;
  return run;
}

async function raiseOverdue(env: ServiceEnv, requestId: string): Promise<number> {
  let raised = 0;
  for (;;) {
    const now = env.now();
    // The conditions as literals: the partial index repeats them (SQLite uses it only so).
    const due = await env.db.kysely
      .selectFrom('invoices')
      .select(['id', 'organization_id'])
      .where(sql<boolean>`status = 'finalized' AND amount_due_cents > 0 AND overdue_noticed_at IS NULL`)
      .where('due_at', '<', now)
      .orderBy('due_at')
      .limit(CHUNK)
      .execute();
    if (!due.length) return raised;
    for (const [org, ids] of byOrganization(due)) {
      const ctx = systemContext(env, org, requestId, 'scheduler');
      await ctx.transaction(async (trx) => {
        const marked = await trx.db
          .updateTable('invoices')
          .set({ overdue_noticed_at: now })
          .where('organization_id', '=', org)
          .where('id', 'in', ids)
          .where(sql<boolean>`status = 'finalized' AND amount_due_cents > 0 AND overdue_noticed_at IS NULL`)
          .returning(['id', 'customer_id', 'due_date', 'amount_due_cents', 'number'])
          .execute();
        for (const inv of marked) {
          await recordActivity(trx, {
            type: 'invoice.payment_overdue',
            resourceType: 'invoice',
            resourceId: inv.id,
            customerId: inv.customer_id,
            changes: {
              overdue: [false, true],
              due_date: inv.due_date,
              amount_due_cents: inv.amount_due_cents,
            },
          });
        }
        raised += marked.length;
      });
    }
    if (due.length < CHUNK) return raised;
  }
}

async function raiseTrialEnds(env: ServiceEnv, requestId: string): Promise<number> {
  let raised = 0;
  for (;;) {
    const now = env.now();
    const due = await env.db.kysely
      .selectFrom('subscriptions')
      .select(['id', 'organization_id'])
      .where(sql<boolean>`status = 'active' AND trial_end_noticed_at IS NULL AND trial_ends_at IS NOT NULL`)
      .where('trial_ends_at', '<=', now)
      .orderBy('trial_ends_at')
      .limit(CHUNK)
      .execute();
    if (!due.length) return raised;
    for (const [org, ids] of byOrganization(due)) {
      const ctx = systemContext(env, org, requestId, 'scheduler');
      await ctx.transaction(async (trx) => {
        const marked = await trx.db
          .updateTable('subscriptions')
          .set({ trial_end_noticed_at: now })
          .where('organization_id', '=', org)
          .where('id', 'in', ids)
          .where(
            sql<boolean>`status = 'active' AND trial_end_noticed_at IS NULL AND trial_ends_at IS NOT NULL`,
          )
          .returning(['id', 'customer_id', 'external_id', 'trial_ends_at'])
          .execute();
        for (const sub of marked) {
          await recordActivity(trx, {
            type: 'subscription.trial_ended',
            resourceType: 'subscription',
            resourceId: sub.id,
            customerId: sub.customer_id,
            subscriptionId: sub.id,
            externalSubscriptionId: sub.external_id,
            changes: { trial_ends_at: toIso(sub.trial_ends_at) },
          });
        }
        raised += marked.length;
      });
    }
    if (due.length < CHUNK) return raised;
  }
}

function byOrganization(rows: ReadonlyArray<{ id: string; organization_id: string }>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of rows) {
    let ids = out.get(r.organization_id);
    if (!ids) out.set(r.organization_id, (ids = []));
    ids.push(r.id);
  }
  return out;
}
