import type { CustomersTable, UsageAlertsTable } from '../../db/schema.js';
import { countAll } from '../../db/sql.js';
import { minorUnits } from '../../domain/currencies.js';
import { Decimal } from '../../domain/decimal.js';
import { BillfoldError, invalidStatus, notFound, validation } from '../../domain/errors.js';
import { looksLikeId, newId } from '../../domain/ids.js';
import { pageOffset, pagination, type PageRequest, type Pagination } from '../../domain/pagination.js';
import { toIso } from '../../domain/time.js';
import { recordActivity } from '../activity.js';
import { plansById, loadSubscription } from '../billing/load.js';
import { effectivePlan, subscriptionRecord } from '../billing/records.js';
import { endOf, periodAt } from '../billing/schedule.js';
import { chargeAmountsSoFar } from '../billing/usage-amounts.js';
import { systemContext, type ServiceContext, type ServiceEnv } from '../context.js';
import { resolveCustomer } from '../customers.js';
import { usageKeys } from './customer-keys.js';
import { resolveMetric } from './metrics.js';
import { currentMonth, usageForCustomer } from './usage.js';

/**
 * Usage alerts: a threshold on a billable metric's units, or on what its charges amount to, in
 * the current period — of one subscription (its billing period; the alert follows the
 * subscription's external_id across plan changes) or of a customer (the calendar month in the
 * customer's time zone, the default usage period). The scheduler measures every alert
 * (evaluateUsageAlerts) and raises usage.threshold_reached once per alert and period: the
 * update that records the period is conditional on it, so two instances never both raise it.
 */

export const THRESHOLD_TYPES = ['units', 'amount'] as const;
export type ThresholdType = (typeof THRESHOLD_TYPES)[number];

export interface UsageAlertView {
  id: string;
  code: string | null;
  name: string | null;
  customer_id: string;
  external_customer_id: string | null;
  subscription_external_id: string | null;
  billable_metric_code: string;
  threshold_type: ThresholdType;
  threshold: string;
  /** Amount alerts: the currency of the threshold (the customer's). */
  currency: string | null;
  last_triggered: { at: string; value: string; period_from: string } | null;
  created_at: string;
  updated_at: string;
}

interface Names {
  customers: Map<string, Pick<CustomersTable, 'external_id' | 'currency'>>;
  metrics: Map<string, string>;
}

/** An amount with at least its currency's decimals ("7.50"); units as exact as they are. */
function shown(value: string, row: UsageAlertsTable, currency: string | null): string {
  if (row.threshold_type !== 'amount' || !currency) return value;
  const d = Decimal.parse(value).normalize();
  return d.toFixed(Math.max(minorUnits(currency), d.scale));
}

function view(row: UsageAlertsTable, names: Names): UsageAlertView {
  const customer = names.customers.get(row.customer_id);
  const currency = row.threshold_type === 'amount' ? (customer?.currency ?? null) : null;
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    customer_id: row.customer_id,
    external_customer_id: customer?.external_id ?? null,
    subscription_external_id: row.subscription_external_id,
    billable_metric_code: names.metrics.get(row.billable_metric_id) ?? row.billable_metric_id,
    threshold_type: row.threshold_type as ThresholdType,
    threshold: shown(row.threshold, row, currency),
    currency,
    last_triggered:
      row.last_triggered_at === null || row.last_period_from === null
        ? null
        : {
            at: toIso(row.last_triggered_at),
            value: shown(row.last_value ?? '0', row, currency),
            period_from: toIso(row.last_period_from),
          },
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  };
}

async function namesFor(ctx: ServiceContext, rows: readonly UsageAlertsTable[]): Promise<Names> {
  const customerIds = [...new Set(rows.map((r) => r.customer_id))];
  const metricIds = [...new Set(rows.map((r) => r.billable_metric_id))];
  const [customers, metrics] = await Promise.all([
    customerIds.length
      ? ctx.db
          .selectFrom('customers')
          .select(['id', 'external_id', 'currency'])
          .where('organization_id', '=', ctx.organizationId)
          .where('id', 'in', customerIds)
          .execute()
      : [],
    metricIds.length
      ? ctx.db
          .selectFrom('billable_metrics')
          .select(['id', 'code'])
          .where('organization_id', '=', ctx.organizationId)
          .where('id', 'in', metricIds)
          .execute()
      : [],
  ]);
  return {
    customers: new Map(customers.map((c) => [c.id, c])),
    metrics: new Map(metrics.map((m) => [m.id, m.code])),
  };
}

async function viewsOf(ctx: ServiceContext, rows: readonly UsageAlertsTable[]): Promise<UsageAlertView[]> {
  const names = await namesFor(ctx, rows);
  return rows.map((r) => view(r, names));
}

/** Alerts by id, deleted ones included (for the event of an alert deleted meanwhile). */
export async function usageAlertViews(
  ctx: ServiceContext,
  ids: readonly string[],
): Promise<UsageAlertView[]> {
  if (!ids.length) return [];
  const rows = await ctx.db
    .selectFrom('usage_alerts')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('id', 'in', ids)
    .execute();
  return viewsOf(ctx, rows);
}

export interface CreateUsageAlertInput {
  subscription_id?: string;
  customer_id?: string;
  billable_metric_code: string;
  threshold_type: ThresholdType;
  threshold: Decimal;
  code?: string;
  name?: string | null;
}

export async function createUsageAlert(
  ctx: ServiceContext,
  input: CreateUsageAlertInput,
): Promise<{ usage_alert: UsageAlertView; created: boolean }> {
  if ((input.subscription_id === undefined) === (input.customer_id === undefined)) {
    throw validation(
      input.subscription_id === undefined ? 'customer_id' : 'subscription_id',
      'give exactly one of subscription_id (an alert on one subscription, over its billing period) or customer_id (over the calendar month)',
    );
  }
  if (!input.threshold.isPositive()) throw validation('threshold', 'must be greater than 0');
  const metric = await resolveMetric(ctx, input.billable_metric_code, 'billable_metric_code');
  let customer: CustomersTable;
  let subscriptionExternalId: string | null = null;
  if (input.subscription_id !== undefined) {
    const sub = await loadSubscription(ctx, input.subscription_id);
    if (sub.status !== 'pending' && sub.status !== 'active') {
      throw invalidStatus(
        `subscription '${sub.externalId}' is ${sub.status}: an alert on it would never fire`,
        { subscription_id: sub.id, status: sub.status },
        'Alert on a live subscription, or on the customer (customer_id).',
      );
    }
    subscriptionExternalId = sub.externalId;
    customer = await resolveCustomer(ctx, sub.customerId);
    if (input.threshold_type === 'amount') {
      const plan = (await plansById(ctx, [sub.planId])).get(sub.planId)!;
      const priced = effectivePlan(plan, sub.overrides).charges.some((c) => c.billableMetricId === metric.id);
      if (!priced) {
        throw validation(
          'billable_metric_code',
          `plan '${plan.code}' of subscription '${sub.externalId}' has no charge on '${metric.code}', so its amount is always 0`,
          `Alert on units instead (threshold_type "units"), or on a metric the plan prices: ${
            plan.charges.map((c) => c.billableMetricCode).join(', ') || 'it prices none'
          }.`,
        );
      }
    }
  } else {
    customer = await resolveCustomer(ctx, input.customer_id!);
  }
  if (input.threshold_type === 'amount' && !customer.currency) {
    throw validation(
      'threshold_type',
      `customer '${customer.external_id ?? customer.id}' has no currency yet, so an amount has nothing to be counted in`,
      'Give the customer a currency (update_customer) or subscribe it to a plan first.',
    );
  }
  if (input.code) {
    const existing = await ctx.db
      .selectFrom('usage_alerts')
      .selectAll()
      .where('organization_id', '=', ctx.organizationId)
      .where('code', '=', input.code)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (existing) {
      const same =
        existing.customer_id === customer.id &&
        existing.subscription_external_id === subscriptionExternalId &&
        existing.billable_metric_id === metric.id &&
        existing.threshold_type === input.threshold_type &&
        Decimal.parse(existing.threshold).cmp(input.threshold) === 0;
      if (same) return { usage_alert: (await viewsOf(ctx, [existing]))[0]!, created: false };
      throw new BillfoldError(
        'CONFLICT',
        `code: usage alert '${input.code}' already exists (${existing.id}) with another definition`,
        { field: 'code', value: input.code, usage_alert_id: existing.id },
        'Delete it first (delete_usage_alert), or choose another code.',
      );
    }
  }
  const now = ctx.now();
  const row: UsageAlertsTable = {
    id: newId('usage_alert', now),
    organization_id: ctx.organizationId,
    code: input.code ?? null,
    name: input.name ?? null,
    customer_id: customer.id,
    subscription_external_id: subscriptionExternalId,
    billable_metric_id: metric.id,
    threshold_type: input.threshold_type,
    threshold: input.threshold.toString(),
    last_period_from: null,
    last_triggered_at: null,
    last_value: null,
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
  await ctx.db.insertInto('usage_alerts').values(row).execute();
  await recordActivity(ctx, {
    type: 'usage_alert.created',
    resourceType: 'usage_alert',
    resourceId: row.id,
    customerId: customer.id,
    externalCustomerId: customer.external_id,
    externalSubscriptionId: subscriptionExternalId,
    changes: {
      billable_metric_code: metric.code,
      threshold_type: row.threshold_type,
      threshold: row.threshold,
      ...(row.code ? { code: row.code } : {}),
    },
  });
  return { usage_alert: (await viewsOf(ctx, [row]))[0]!, created: true };
}

export interface UsageAlertFilter {
  customer_id?: string;
  subscription_id?: string;
  billable_metric_code?: string;
}

export async function listUsageAlerts(
  ctx: ServiceContext,
  filter: UsageAlertFilter,
  page: PageRequest,
): Promise<{ usage_alerts: UsageAlertView[]; pagination: Pagination }> {
  let q = ctx.db
    .selectFrom('usage_alerts')
    .where('organization_id', '=', ctx.organizationId)
    .where('deleted_at', 'is', null);
  if (filter.customer_id)
    q = q.where('customer_id', '=', (await resolveCustomer(ctx, filter.customer_id)).id);
  if (filter.subscription_id) {
    const sub = await loadSubscription(ctx, filter.subscription_id);
    q = q.where('subscription_external_id', '=', sub.externalId);
  }
  if (filter.billable_metric_code) {
    const metric = await resolveMetric(ctx, filter.billable_metric_code, 'billable_metric_code');
    q = q.where('billable_metric_id', '=', metric.id);
  }
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll()
    .orderBy('id', 'desc')
    .limit(page.per_page)
    .offset(pageOffset(page))
    .execute();
  return { usage_alerts: await viewsOf(ctx, rows), pagination: pagination(page, Number(count)) };
}

async function resolveAlert(ctx: ServiceContext, ref: string): Promise<UsageAlertsTable> {
  const row = await ctx.db
    .selectFrom('usage_alerts')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('deleted_at', 'is', null)
    .where(looksLikeId('usage_alert', ref) ? 'id' : 'code', '=', ref)
    .executeTakeFirst();
  if (!row)
    throw notFound(
      'usage_alert',
      ref,
      'usage_alert_id: pass its id (ua_…) or code; list_usage_alerts shows them.',
    );
  return row;
}

export async function deleteUsageAlert(ctx: ServiceContext, ref: string): Promise<UsageAlertView> {
  const row = await resolveAlert(ctx, ref);
  const now = ctx.now();
  await ctx.db
    .updateTable('usage_alerts')
    .set({ deleted_at: now, updated_at: now })
    .where('id', '=', row.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  await recordActivity(ctx, {
    type: 'usage_alert.deleted',
    resourceType: 'usage_alert',
    resourceId: row.id,
    customerId: row.customer_id,
    externalSubscriptionId: row.subscription_external_id,
    changes: { deleted_at: [null, toIso(now)] },
  });
  return (await viewsOf(ctx, [{ ...row, deleted_at: now, updated_at: now }]))[0]!;
}

// ——— measuring ———

interface Measured {
  value: Decimal;
  from: number;
  to: number;
}

/** What the alert watches, now: its period and the units or amount so far. Null: nothing to watch. */
async function measure(ctx: ServiceContext, alert: UsageAlertsTable): Promise<Measured | null> {
  const customer = await ctx.db
    .selectFrom('customers')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('id', '=', alert.customer_id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (!customer) return null;
  const metric = await ctx.db
    .selectFrom('billable_metrics')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('id', '=', alert.billable_metric_id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (!metric) return null;
  const now = ctx.now();
  const keys = await usageKeys(ctx, customer);
  const amounts = async () =>
    (await chargeAmountsSoFar(ctx, customer, new Set([metric.id]), keys)).get(metric.id) ?? [];

  if (alert.subscription_external_id === null) {
    const tz = customer.timezone ?? (await ctx.organization()).timezone;
    const month = currentMonth(now, tz);
    if (alert.threshold_type === 'units') {
      const usage = await usageForCustomer(ctx, {
        customerKeys: keys,
        metric,
        from: month.from,
        to: month.to,
      });
      return { value: usage.units, ...month };
    }
    return { value: Decimal.sum((await amounts()).map((a) => Decimal.parse(a.amount))), ...month };
  }

  const row = await ctx.db
    .selectFrom('subscriptions')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('external_id', '=', alert.subscription_external_id)
    .where('status', '=', 'active')
    .executeTakeFirst();
  if (!row) return null;
  const sub = subscriptionRecord(row);
  if (now < sub.startedAt) return null;
  const plan = (await plansById(ctx, [sub.planId])).get(sub.planId);
  if (!plan) return null;
  const p = periodAt(sub, effectivePlan(plan, sub.overrides), now);
  const end = endOf(sub);
  const window = { from: Math.max(p.from, sub.startedAt), to: end !== null && end < p.to ? end : p.to };
  const charged = (await amounts()).filter((a) => a.subscription_id === sub.id);
  if (alert.threshold_type === 'amount') {
    if (!charged.length) return null;
    return { value: Decimal.sum(charged.map((a) => Decimal.parse(a.amount))), from: p.from, to: p.to };
  }
  if (charged.length)
    return { value: Decimal.sum(charged.map((a) => Decimal.parse(a.units))), from: p.from, to: p.to };
  const usage = await usageForCustomer(ctx, { customerKeys: keys, metric, ...window });
  return { value: usage.units, from: p.from, to: p.to };
}

export interface AlertRun {
  examined: number;
  triggered: number;
}

/**
 * Measures every alert and raises usage.threshold_reached (an activity entry, which the outbox
 * turns into the event) for each that reached its threshold in a period it has not fired in.
 */
export async function evaluateUsageAlerts(env: ServiceEnv, requestId: string): Promise<AlertRun> {
  const rows = await env.db.kysely
    .selectFrom('usage_alerts')
    .selectAll()
    .where('deleted_at', 'is', null)
    .orderBy('organization_id')
    .orderBy('id')
    .execute();
  const run: AlertRun = { examined: 0, triggered: 0 };
  const contexts = new Map<string, ServiceContext>();
  for (const alert of rows) {
    let ctx = contexts.get(alert.organization_id);
    if (!ctx) {
      ctx = systemContext(env, alert.organization_id, requestId, 'usage alerts');
      contexts.set(alert.organization_id, ctx);
    }
    run.examined++;
    const m = await measure(ctx, alert);
    if (!m || m.value.lt(Decimal.parse(alert.threshold)) || alert.last_period_from === m.from) continue;
    const fired = await ctx.transaction(async (trx) => {
      const now = trx.now();
      const res = await trx.db
        .updateTable('usage_alerts')
        .set({
          last_period_from: m.from,
          last_triggered_at: now,
          last_value: m.value.toString(),
          updated_at: now,
        })
        .where('id', '=', alert.id)
        .where('organization_id', '=', alert.organization_id)
        .where('deleted_at', 'is', null)
        .where((eb) => eb.or([eb('last_period_from', 'is', null), eb('last_period_from', '!=', m.from)]))
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) return false;
      await recordActivity(trx, {
        type: 'usage_alert.triggered',
        resourceType: 'usage_alert',
        resourceId: alert.id,
        customerId: alert.customer_id,
        externalSubscriptionId: alert.subscription_external_id,
        changes: {
          threshold_type: alert.threshold_type,
          threshold: alert.threshold,
          value: m.value.toString(),
          period_from: toIso(m.from),
          period_to: toIso(m.to),
        },
      });
      return true;
    });
    if (fired) run.triggered++;
  }
  return run;
}
