import type { CustomersTable } from '../../db/schema.js';
import type { ServiceContext } from '../context.js';
import type { MetricRecord } from '../metering/aggregates.js';
import { chargeUsage, metricsById } from './charge-usage.js';
import { activeDates, chargeLines, commitmentLine, feeLine, oneTimeLine, type BillingLine } from './lines.js';
import type { PlanRecord, SubscriptionRecord } from './records.js';
import { deductBilled, progressiveBilled } from './progressive-credit.js';
import type { BillingItem } from './schedule.js';

/**
 * The lines for what one invoice covers: fees first, then a one-time fee, then each period's
 * charges (less what its progressive_billing invoices billed) and its minimum-commitment
 * true-up, in period order.
 */

/** What billing one subscription needs besides the subscription itself. */
export interface BillingSubject {
  sub: SubscriptionRecord;
  /** The effective plan (overrides applied). */
  plan: PlanRecord;
  customer: CustomersTable;
  metrics: Map<string, MetricRecord>;
  /** The instant the subscription ends for this billing (null: open-ended). */
  end: number | null;
  /** The keys the customer's usage is stored under (metering/customer-keys.ts). */
  keys: string[];
  /** A row continuing it on another plan starts at `end` and pays that day (lines.activeDates). */
  handedOver?: boolean;
  /** The code of the agent whose usage it bills; null: all of the customer's usage. */
  agentCode: string | null;
  /**
   * false: the subscription has no progressive_billing invoice (a billing run knows it for its
   * chunk), so its periods' invoices need not look for any; absent: look.
   */
  progressive?: boolean;
}

/** The codes of agents by id, for the subscriptions a billing step loads. */
export async function agentCodesById(
  ctx: ServiceContext,
  ids: readonly (string | null)[],
): Promise<Map<string, string>> {
  const unique = [...new Set(ids.filter((i): i is string => i !== null))];
  if (!unique.length) return new Map();
  const rows = await ctx.db
    .selectFrom('agents')
    .select(['id', 'code'])
    .where('organization_id', '=', ctx.organizationId)
    .where('id', 'in', unique)
    .execute();
  return new Map(rows.map((r) => [r.id, r.code]));
}

export async function metricsForPlan(
  ctx: ServiceContext,
  plan: PlanRecord,
  known?: Map<string, MetricRecord>,
): Promise<Map<string, MetricRecord>> {
  const missing = plan.charges.map((c) => c.billableMetricId).filter((id) => !known?.has(id));
  if (!missing.length && known) return known;
  const loaded = await metricsById(ctx, missing);
  if (!known) return loaded;
  for (const [k, v] of loaded) known.set(k, v);
  return known;
}

export async function buildLines(
  ctx: ServiceContext,
  s: BillingSubject,
  items: readonly BillingItem[],
): Promise<BillingLine[]> {
  const { sub, plan } = s;
  const dates = activeDates(sub, s.end, s.handedOver);
  const taxCodes = plan.taxCodes ?? undefined;
  const ordered = [...items].sort((a, b) => a.p.from - b.p.from || (a.kind === 'arrears' ? -1 : 1));
  const fees: BillingLine[] = [];
  const oneTime: BillingLine[] = [];
  const usage: BillingLine[] = [];
  const keys = s.keys;
  for (const it of ordered) {
    if (it.kind === 'one_time') {
      const line = oneTimeLine(plan, it.p, taxCodes);
      if (line) oneTime.push(line);
      continue;
    }
    if (it.kind === 'advance' || !plan.payInAdvance) {
      const fee = feeLine(plan, dates, it.p, taxCodes);
      if (fee) fees.push(fee);
    }
    if (it.kind !== 'arrears') continue;
    const periodCharges: BillingLine[] = [];
    for (const charge of plan.charges) {
      const metric = s.metrics.get(charge.billableMetricId);
      if (!metric) continue;
      const window = { from: it.usageFrom, to: it.usageTo, periodFrom: it.p.from, periodTo: it.p.to };
      const u = await chargeUsage(ctx, keys, metric, charge, window, s.agentCode);
      periodCharges.push(...chargeLines(plan, charge, u, { from: it.usageFrom, to: it.usageTo }, taxCodes));
    }
    // Minimums and commitments look at the period's whole usage; then what progressive
    // invoices billed of it comes off.
    const trueUp = commitmentLine(plan, dates, it.p, periodCharges, taxCodes);
    const billed =
      s.progressive === false && !plan.usageThresholds.length
        ? null
        : await progressiveBilled(ctx, sub.id, it.p.from);
    usage.push(
      ...(billed
        ? deductBilled(
            periodCharges,
            billed,
            plan.currency,
            { from: it.usageFrom, to: it.usageTo },
            plan.code,
          )
        : periodCharges),
    );
    if (trueUp) usage.push(trueUp);
  }
  return [...fees, ...oneTime, ...usage];
}
