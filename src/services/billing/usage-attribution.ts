import type { SubscriptionsTable } from '../../db/schema.js';
import type { ServiceContext } from '../context.js';
import { agentCodesById } from './build.js';
import { plansById } from './load.js';
import type { PlanRecord } from './records.js';

/**
 * Which plan a customer's usage at an instant counts for: the plan of the subscription that
 * bills it. A subscription bills its customer's usage from its start to its end (terminated, or
 * its planned end), only its agent's when it names one; a downgrade scheduled but not applied
 * yet takes over at its date, as the billing run will make it. A plan change mid-period is two
 * subscriptions one after the other, so usage before the change counts for the old plan and
 * usage from the change on for the new one.
 *
 * Of the subscriptions running at t, the one whose plan prices the event's metric bills it (at
 * most one does per agent: create_subscription refuses two that would bill the same events).
 * Usage no running plan prices (a flat-fee plan, a metric only measured) still belongs to the
 * customer's running subscription — the agent's before the customer-wide one, the older first —
 * so what it costs to serve a customer counts for the plan the customer is on. A customer with no
 * subscription running at t (or usage of no known customer) has no plan: null.
 */

interface Span {
  from: number;
  /** Exclusive; null while open-ended. */
  to: number | null;
  planId: string;
  /** The agent whose usage alone it bills; null: all of the customer's. */
  agentCode: string | null;
  /** When the subscription started, to prefer the older of two. */
  startedAt: number;
  subscriptionId: string;
}

export interface UsageAttribution {
  /** The plans the spans name, by id. */
  readonly plans: ReadonlyMap<string, PlanRecord>;
  /** The plan id usage of `code` by (customer, agent) at `t` counts for; null: none. */
  planAt(customerId: string | null, agentCode: string | null, code: string, t: number): string | null;
  /** The instants in (from, to) at which planAt may change for that usage, ascending. */
  changesWithin(customerId: string | null, agentCode: string | null, from: number, to: number): number[];
}

/**
 * The subscriptions of these customers (every customer of the organization when undefined) that
 * run at some moment of [from, to), as spans of one plan each.
 */
export async function usageAttribution(
  ctx: ServiceContext,
  from: number,
  to: number,
  customerIds?: readonly string[],
): Promise<UsageAttribution> {
  if (customerIds && !customerIds.length) return attribution(new Map(), new Map());
  let q = ctx.db
    .selectFrom('subscriptions')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('status', '!=', 'canceled')
    .where('started_at', '<', to)
    .where((eb) =>
      eb.or([
        eb.and([eb('terminated_at', 'is', null), eb('ending_at', 'is', null)]),
        eb('terminated_at', '>', from),
        eb.and([eb('terminated_at', 'is', null), eb('ending_at', '>', from)]),
      ]),
    );
  if (customerIds) q = q.where('customer_id', 'in', [...new Set(customerIds)]);
  const rows = await q.execute();
  const plans = await plansById(
    ctx,
    rows.flatMap((r) => (r.next_plan_id ? [r.plan_id, r.next_plan_id] : [r.plan_id])),
  );
  const agents = await agentCodesById(
    ctx,
    rows.map((r) => r.agent_id),
  );
  const byCustomer = new Map<string, Span[]>();
  for (const r of rows) {
    const spans = byCustomer.get(r.customer_id) ?? [];
    spans.push(...spansOf(r, r.agent_id === null ? null : (agents.get(r.agent_id) ?? r.agent_id)));
    byCustomer.set(r.customer_id, spans);
  }
  return attribution(byCustomer, plans);
}

function spansOf(r: SubscriptionsTable, agentCode: string | null): Span[] {
  const end = r.terminated_at ?? r.ending_at;
  const span = { agentCode, startedAt: r.started_at, subscriptionId: r.id };
  const switchAt = r.terminated_at === null && r.next_plan_id !== null ? r.next_plan_at : null;
  if (switchAt === null || (end !== null && switchAt >= end))
    return [{ ...span, from: r.started_at, to: end, planId: r.plan_id }];
  return [
    { ...span, from: r.started_at, to: switchAt, planId: r.plan_id },
    { ...span, from: switchAt, to: end, planId: r.next_plan_id! },
  ];
}

function attribution(
  byCustomer: ReadonlyMap<string, Span[]>,
  plans: ReadonlyMap<string, PlanRecord>,
): UsageAttribution {
  const prices = (planId: string, code: string) =>
    plans.get(planId)?.charges.some((c) => c.billableMetricCode === code) ?? false;
  const candidates = (customerId: string | null, agentCode: string | null) =>
    (customerId === null ? [] : (byCustomer.get(customerId) ?? [])).filter(
      (s) => s.agentCode === null || s.agentCode === agentCode,
    );
  // The agent's subscriptions before the customer-wide ones, then the older first.
  const order = (a: Span, b: Span) =>
    Number(b.agentCode !== null) - Number(a.agentCode !== null) ||
    a.startedAt - b.startedAt ||
    (a.subscriptionId < b.subscriptionId ? -1 : a.subscriptionId > b.subscriptionId ? 1 : 0);
  return {
    plans,
    planAt(customerId, agentCode, code, t) {
      const running = candidates(customerId, agentCode)
        .filter((s) => s.from <= t && (s.to === null || t < s.to))
        .sort(order);
      return (running.find((s) => prices(s.planId, code)) ?? running[0])?.planId ?? null;
    },
    changesWithin(customerId, agentCode, from, to) {
      const at = new Set<number>();
      for (const s of candidates(customerId, agentCode))
        for (const t of [s.from, s.to]) if (t !== null && t > from && t < to) at.add(t);
      return [...at].sort((a, b) => a - b);
    },
  };
}
