import { BillfoldError, notFound } from '../../domain/errors.js';
import { looksLikeId } from '../../domain/ids.js';
import type { ServiceContext } from '../context.js';
import { planRecord, subscriptionRecord, type PlanRecord, type SubscriptionRecord } from './records.js';

/** Reading plans and subscriptions into billing records, scoped to the organization. */

/** Plans by id, deleted ones included (a subscription keeps the plan it was sold). */
export async function plansById(
  ctx: ServiceContext,
  ids: readonly string[],
): Promise<Map<string, PlanRecord>> {
  const unique = [...new Set(ids)];
  if (!unique.length) return new Map();
  const rows = await ctx.db
    .selectFrom('plans')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('id', 'in', unique)
    .execute();
  const charges = await ctx.db
    .selectFrom('plan_charges')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('plan_id', 'in', unique)
    .where('deleted_at', 'is', null)
    .execute();
  const metricIds = [...new Set(charges.map((c) => c.billable_metric_id))];
  const metrics = metricIds.length
    ? await ctx.db
        .selectFrom('billable_metrics')
        .select(['id', 'code', 'name', 'aggregation_type', 'recurring'])
        .where('organization_id', '=', ctx.organizationId)
        .where('id', 'in', metricIds)
        .execute()
    : [];
  const names = new Map(
    metrics.map((m) => [
      m.id,
      { code: m.code, name: m.name, seats: m.aggregation_type === 'unique_count_agg' && m.recurring === 1 },
    ]),
  );
  const attached = await ctx.db
    .selectFrom('plan_agents as pa')
    .innerJoin('agents as a', 'a.id', 'pa.agent_id')
    .select(['pa.plan_id', 'a.id', 'a.code'])
    .where('pa.organization_id', '=', ctx.organizationId)
    .where('pa.plan_id', 'in', unique)
    .orderBy('a.code')
    .execute();
  const agentsOf = (planId: string) =>
    attached.filter((a) => a.plan_id === planId).map((a) => ({ id: a.id, code: a.code }));
  return new Map(rows.map((r) => [r.id, planRecord(r, charges, names, agentsOf(r.id))]));
}

/**
 * A plan by code (live plans only) or by Billfold id; by id a deleted plan is found too when
 * `includeDeleted` (so a subscription sold on it can still show it). NOT_FOUND names the field.
 */
export async function resolvePlan(
  ctx: ServiceContext,
  ref: string,
  options: { field?: string; includeDeleted?: boolean } = {},
): Promise<PlanRecord> {
  const field = options.field ?? 'plan_code';
  const byId = looksLikeId('plan', ref);
  let q = ctx.db
    .selectFrom('plans')
    .select('id')
    .where('organization_id', '=', ctx.organizationId)
    .where(byId ? 'id' : 'code', '=', ref);
  if (!(byId && options.includeDeleted)) q = q.where('deleted_at', 'is', null);
  const row = await q.executeTakeFirst();
  const plan = row && (await plansById(ctx, [row.id])).get(row.id);
  if (!plan) {
    throw new BillfoldError(
      'NOT_FOUND',
      `${field}: no plan has the code or id '${ref}'`,
      { resource: 'plan', field, ref },
      'list_plans shows the plans by code; create_plan makes one.',
    );
  }
  return plan;
}

/**
 * A subscription by Billfold id or external_id. An external_id names the live subscription
 * (pending or active) when there is one, else its latest.
 */
export async function loadSubscription(ctx: ServiceContext, ref: string): Promise<SubscriptionRecord> {
  const row = looksLikeId('subscription', ref)
    ? await ctx.db
        .selectFrom('subscriptions')
        .selectAll()
        .where('organization_id', '=', ctx.organizationId)
        .where('id', '=', ref)
        .executeTakeFirst()
    : await ctx.db
        .selectFrom('subscriptions')
        .selectAll()
        .where('organization_id', '=', ctx.organizationId)
        .where('external_id', '=', ref)
        .orderBy((eb) => eb.case().when('status', 'in', ['pending', 'active']).then(0).else(1).end())
        .orderBy('created_at', 'desc')
        .executeTakeFirst();
  if (!row) throw notFound('subscription', ref, 'list_subscriptions shows them by external_id.');
  return subscriptionRecord(row);
}
