import type { CustomersTable } from '../../db/schema.js';
import { Decimal } from '../../domain/decimal.js';
import { toIso } from '../../domain/time.js';
import type { ServiceContext } from '../context.js';
import { usageKeys } from '../metering/customer-keys.js';
import { chargeUsage } from './charge-usage.js';
import { agentCodesById, metricsForPlan } from './build.js';
import { chargeLines } from './lines.js';
import { plansById } from './load.js';
import { effectivePlan, subscriptionRecord } from './records.js';
import { endOf, periodAt } from './schedule.js';

/**
 * What each charge of a customer's active subscriptions amounts to so far in its current
 * period, per billable metric id: get_customer_usage shows it next to the units. One query for
 * the subscriptions, the plans once, then one aggregate per charge.
 */
export interface ChargeAmountView {
  subscription_id: string;
  subscription_external_id: string;
  plan_code: string;
  charge_id: string;
  charge_model: string;
  currency: string;
  from: string;
  to: string;
  units: string;
  /** Exact, before the invoice rounds it and before any min_amount top-up. */
  amount: string;
}

export async function chargeAmountsSoFar(
  ctx: ServiceContext,
  customer: CustomersTable,
  metricIds?: ReadonlySet<string>,
  /** The customer's usage keys when the caller has them (customer-keys.usageKeys). */
  customerKeys?: string[],
): Promise<Map<string, ChargeAmountView[]>> {
  const out = new Map<string, ChargeAmountView[]>();
  const rows = await ctx.db
    .selectFrom('subscriptions')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('customer_id', '=', customer.id)
    .where('status', '=', 'active')
    .execute();
  if (!rows.length) return out;
  const plans = await plansById(
    ctx,
    rows.map((r) => r.plan_id),
  );
  const now = ctx.now();
  const keys = customerKeys ?? (await usageKeys(ctx, customer));
  const agentCodes = await agentCodesById(
    ctx,
    rows.map((r) => r.agent_id),
  );
  for (const row of rows) {
    const sub = subscriptionRecord(row);
    const base = plans.get(sub.planId);
    if (!base || now < sub.startedAt) continue;
    const plan = effectivePlan(base, sub.overrides);
    const charges = plan.charges.filter((c) => !metricIds || metricIds.has(c.billableMetricId));
    if (!charges.length) continue;
    const metrics = await metricsForPlan(ctx, plan);
    const p = periodAt(sub, plan, now);
    const end = endOf(sub);
    const window = {
      from: Math.max(p.from, sub.startedAt),
      to: end !== null && end < p.to ? end : p.to,
      periodFrom: p.from,
      periodTo: p.to,
    };
    for (const charge of charges) {
      const metric = metrics.get(charge.billableMetricId);
      if (!metric) continue;
      const agentCode = sub.agentId ? (agentCodes.get(sub.agentId) ?? null) : null;
      const usage = await chargeUsage(ctx, keys, metric, charge, window, agentCode);
      const lines = chargeLines(plan, { ...charge, minAmount: null }, usage, window, undefined);
      const units = Decimal.sum(lines.map((l) => Decimal.parse(String(l.details.units))));
      let list = out.get(charge.billableMetricId);
      if (!list) out.set(charge.billableMetricId, (list = []));
      list.push({
        subscription_id: sub.id,
        subscription_external_id: sub.externalId,
        plan_code: plan.code,
        charge_id: charge.id,
        charge_model: charge.chargeModel,
        currency: plan.currency,
        from: toIso(window.from),
        to: toIso(window.to),
        units: units.toString(),
        amount: Decimal.sum(lines.map((l) => l.unit_amount)).toString(),
      });
    }
  }
  return out;
}
