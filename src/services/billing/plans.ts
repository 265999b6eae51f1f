import type { BillableMetricsTable, PlanChargesTable, PlansTable } from '../../db/schema.js';
import { sql, type SqlBool } from 'kysely';
import { countAll, escapeLike } from '../../db/sql.js';
import type { Decimal } from '../../domain/decimal.js';
import { conflict, invalidStatus, notFound, validation } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { minorUnits } from '../../domain/currencies.js';
import { moneyFields } from '../../domain/money.js';
import { pageOffset, pagination, type PageRequest, type Pagination } from '../../domain/pagination.js';
import type { Interval } from '../../domain/periods.js';
import { toIso } from '../../domain/time.js';
import type { ChargeInput } from '../../operations/schemas/billing.js';
import { diff, recordActivity } from '../activity.js';
import { resolveAgent } from '../agents.js';
import type { ServiceContext } from '../context.js';
import { metricsByCode } from '../metering/metrics.js';
import { checkTaxCodes } from '../taxes.js';
import {
  currencyAmount,
  minUnits,
  validateChargeFilters,
  validateChargeProperties,
} from './charge-validation.js';
import { plansById, resolvePlan } from './load.js';
import {
  storedUsageThresholds,
  usageThresholdViews,
  type UsageThresholdInput,
  type UsageThresholdView,
} from './usage-thresholds.js';
import type { ChargeModelName, ChargeProperties, PlanRecord, StoredChargeFilter } from './records.js';

/** Plans: a recurring base fee and the charges that price billable metrics, per interval. */

export interface ChargeView {
  id: string;
  billable_metric_id: string;
  billable_metric_code: string;
  charge_model: ChargeModelName;
  properties: ChargeProperties;
  min_amount: string | null;
  min_units: string | null;
  filters: StoredChargeFilter[];
  prorated: boolean;
  invoice_display_name: string | null;
}

export interface PlanView {
  id: string;
  code: string;
  name: string;
  description: string | null;
  interval: Interval;
  currency: string;
  amount_cents: number;
  amount: string;
  pay_in_advance: boolean;
  trial_period_days: number;
  minimum_commitment_cents: number | null;
  minimum_commitment: string | null;
  one_time_amount_cents: number | null;
  one_time_amount: string | null;
  invoice_display_name: string | null;
  tax_codes: string[] | null;
  charges: ChargeView[];
  usage_thresholds: UsageThresholdView[];
  agent_codes: string[];
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface PlanFields {
  name?: string;
  description?: string | null;
  interval?: Interval;
  currency?: string;
  amount?: Decimal;
  pay_in_advance?: boolean;
  trial_period_days?: number;
  minimum_commitment?: Decimal | null;
  one_time_amount?: Decimal | null;
  invoice_display_name?: string | null;
  tax_codes?: string[] | null;
  charges?: ChargeInput[];
  /** Progressive billing; null or [] for none. */
  usage_thresholds?: UsageThresholdInput[] | null;
}

export function planView(plan: PlanRecord): PlanView {
  const row = plan.row;
  const minor = minorUnits(plan.currency);
  const amount = moneyFields('amount', plan.amount.toMinor(minor), plan.currency);
  const min = plan.minimumCommitment
    ? moneyFields('minimum_commitment', plan.minimumCommitment.toMinor(minor), plan.currency)
    : null;
  const oneTime = plan.oneTimeAmount
    ? moneyFields('one_time_amount', plan.oneTimeAmount.toMinor(minor), plan.currency)
    : null;
  return {
    id: plan.id,
    code: plan.code,
    name: plan.name,
    description: row.description,
    interval: plan.interval,
    currency: plan.currency,
    ...amount,
    pay_in_advance: plan.payInAdvance,
    trial_period_days: plan.trialPeriodDays,
    minimum_commitment_cents: min?.minimum_commitment_cents ?? null,
    minimum_commitment: min?.minimum_commitment ?? null,
    one_time_amount_cents: oneTime?.one_time_amount_cents ?? null,
    one_time_amount: oneTime?.one_time_amount ?? null,
    invoice_display_name: plan.invoiceDisplayName,
    tax_codes: plan.taxCodes,
    charges: plan.charges.map((c) => ({
      id: c.id,
      billable_metric_id: c.billableMetricId,
      billable_metric_code: c.billableMetricCode,
      charge_model: c.chargeModel,
      properties: c.properties,
      min_amount: c.minAmount === null ? null : c.minAmount.toString(),
      min_units: c.minUnits === null ? null : c.minUnits.toString(),
      filters: c.filters.map((f) => ({
        values: f.values,
        properties: f.properties,
        invoice_display_name: f.invoiceDisplayName,
      })),
      prorated: c.prorated,
      invoice_display_name: c.invoiceDisplayName,
    })),
    usage_thresholds: usageThresholdViews(plan.usageThresholds, plan.currency),
    agent_codes: plan.agents.map((a) => a.code),
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
    deleted_at: toIso(row.deleted_at),
  };
}

/** A charge checked and ready to store, before it has an id. */
type PreparedCharge = Pick<
  PlanChargesTable,
  | 'billable_metric_id'
  | 'charge_model'
  | 'properties'
  | 'min_amount'
  | 'min_units'
  | 'filters'
  | 'prorated'
  | 'invoice_display_name'
>;

async function prepareCharges(
  ctx: ServiceContext,
  charges: readonly ChargeInput[],
  currency: string,
): Promise<PreparedCharge[]> {
  const metrics = await metricsByCode(ctx, [...new Set(charges.map((c) => c.billable_metric_code))]);
  const seen = new Map<string, number>();
  return charges.map((c, i) => {
    const at = `charges[${i}]`;
    const metric: BillableMetricsTable | undefined = metrics.get(c.billable_metric_code);
    if (!metric) {
      throw validation(
        `${at}.billable_metric_code`,
        `no billable metric has the code '${c.billable_metric_code}'`,
        'list_billable_metrics shows the codes; create_billable_metric makes a new one.',
      );
    }
    const earlier = seen.get(metric.id);
    if (earlier !== undefined) {
      throw validation(
        `${at}.billable_metric_code`,
        `'${c.billable_metric_code}' is already priced by charges[${earlier}]`,
        'A plan prices each billable metric once; use `filters` to price values of it differently.',
      );
    }
    seen.set(metric.id, i);
    if (c.prorated && metric.recurring !== 1) {
      throw validation(
        `${at}.prorated`,
        `applies only to recurring billable metrics, and '${metric.code}' is not recurring`,
        'Proration bills units for the part of the period they existed, which only a recurring metric carries over; set prorated to false.',
      );
    }
    return {
      billable_metric_id: metric.id,
      charge_model: c.charge_model,
      properties: JSON.stringify(validateChargeProperties(c.charge_model, c.properties, `${at}.properties`)),
      min_amount:
        c.min_amount === undefined || c.min_amount === null
          ? null
          : currencyAmount(c.min_amount, currency, `${at}.min_amount`),
      min_units: minUnits(c.charge_model, c.min_units, `${at}.min_units`),
      filters: JSON.stringify(
        validateChargeFilters(c.charge_model, c.filters ?? [], metric, `${at}.filters`),
      ),
      prorated: c.prorated ? 1 : 0,
      invoice_display_name: c.invoice_display_name ?? null,
    };
  });
}

const CHARGE_KEYS = [
  'billable_metric_id',
  'charge_model',
  'properties',
  'min_amount',
  'min_units',
  'filters',
  'prorated',
  'invoice_display_name',
] as const;

function chargeSignature(c: PreparedCharge): string {
  return JSON.stringify(CHARGE_KEYS.map((k) => c[k]));
}

async function livePlanRow(ctx: ServiceContext, code: string): Promise<PlansTable | undefined> {
  return ctx.db
    .selectFrom('plans')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('code', '=', code)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

async function reload(ctx: ServiceContext, id: string): Promise<PlanRecord> {
  const plan = (await plansById(ctx, [id])).get(id);
  if (!plan) throw notFound('plan', id);
  return plan;
}

function planFieldsRow(
  input: PlanFields & { name: string; interval: Interval; amount: Decimal },
  currency: string,
  before?: PlanRecord,
): Omit<
  PlansTable,
  'id' | 'organization_id' | 'code' | 'metadata' | 'created_at' | 'updated_at' | 'deleted_at'
> {
  return {
    name: input.name,
    description: input.description ?? null,
    interval: input.interval,
    currency,
    amount: currencyAmount(input.amount, currency, 'amount'),
    pay_in_advance: input.pay_in_advance ? 1 : 0,
    trial_period_days: input.trial_period_days ?? 0,
    minimum_commitment:
      input.minimum_commitment === undefined || input.minimum_commitment === null
        ? null
        : currencyAmount(input.minimum_commitment, currency, 'minimum_commitment'),
    one_time_amount:
      input.one_time_amount === undefined || input.one_time_amount === null
        ? null
        : currencyAmount(input.one_time_amount, currency, 'one_time_amount'),
    invoice_display_name: input.invoice_display_name ?? null,
    tax_codes: input.tax_codes ? JSON.stringify(input.tax_codes) : null,
    usage_thresholds: storedUsageThresholds(input.usage_thresholds, currency, before?.usageThresholds),
  };
}

const PLAN_KEYS = [
  'name',
  'description',
  'interval',
  'currency',
  'amount',
  'pay_in_advance',
  'trial_period_days',
  'minimum_commitment',
  'one_time_amount',
  'invoice_display_name',
  'tax_codes',
] as const;

/** Two stored threshold lists alike but for their ids (a retried create_plan makes new ones). */
function sameThresholds(a: string | null | undefined, b: string | null | undefined): boolean {
  const strip = (j: string | null | undefined) =>
    j
      ? JSON.stringify((JSON.parse(j) as Array<Record<string, unknown>>).map(({ id: _id, ...rest }) => rest))
      : null;
  return strip(a) === strip(b);
}

export async function createPlan(
  ctx: ServiceContext,
  input: PlanFields & { code: string; name: string; interval: Interval; amount: Decimal },
): Promise<{ plan: PlanView; created: boolean }> {
  const currency = input.currency ?? (await ctx.organization()).default_currency;
  const fields = planFieldsRow(input, currency);
  const charges = await prepareCharges(ctx, input.charges ?? [], currency);
  const existing = await livePlanRow(ctx, input.code);
  if (existing) {
    const plan = await reload(ctx, existing.id);
    const samePlan =
      PLAN_KEYS.every((k) => existing[k] === fields[k]) &&
      sameThresholds(existing.usage_thresholds, fields.usage_thresholds);
    const sameCharges =
      JSON.stringify(plan.charges.map((c) => chargeSignature(storedCharge(c)))) ===
      JSON.stringify(charges.map(chargeSignature));
    if (samePlan && sameCharges) return { plan: planView(plan), created: false };
    throw conflict(
      `code: a plan with the code '${input.code}' already exists (${existing.id}) with other values`,
      { field: 'code', value: input.code, plan_id: existing.id },
      'Use update_plan to change it, or choose another code.',
    );
  }
  await checkTaxCodes(ctx, input.tax_codes);
  const now = ctx.now();
  const row: PlansTable = {
    id: newId('plan', now),
    organization_id: ctx.organizationId,
    code: input.code,
    ...fields,
    metadata: '{}',
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
  await ctx.db.insertInto('plans').values(row).execute();
  await insertCharges(
    ctx,
    row.id,
    charges.map((c, i) => ({ charge: c, position: i })),
    now,
  );
  await recordActivity(ctx, {
    type: 'plan.created',
    resourceType: 'plan',
    resourceId: row.id,
    changes: { code: row.code, name: row.name, interval: row.interval, amount: row.amount, currency },
  });
  return { plan: planView(await reload(ctx, row.id)), created: true };
}

/** The stored columns of a loaded charge, to compare with a prepared one. */
function storedCharge(c: PlanRecord['charges'][number]): PreparedCharge {
  return {
    billable_metric_id: c.billableMetricId,
    charge_model: c.chargeModel,
    properties: JSON.stringify(c.properties),
    min_amount: c.minAmount === null ? null : c.minAmount.toString(),
    min_units: c.minUnits === null ? null : c.minUnits.toString(),
    filters: JSON.stringify(
      c.filters.map((f) => ({
        values: f.values,
        properties: f.properties,
        invoice_display_name: f.invoiceDisplayName,
      })),
    ),
    prorated: c.prorated ? 1 : 0,
    invoice_display_name: c.invoiceDisplayName,
  };
}

async function insertCharges(
  ctx: ServiceContext,
  planId: string,
  charges: Array<{ charge: PreparedCharge; position: number }>,
  now: number,
): Promise<void> {
  if (!charges.length) return;
  await ctx.db
    .insertInto('plan_charges')
    .values(
      charges.map(({ charge, position }) => ({
        id: newId('charge', now),
        organization_id: ctx.organizationId,
        plan_id: planId,
        position,
        ...charge,
        created_at: now,
        updated_at: now,
        deleted_at: null,
      })),
    )
    .execute();
}

export async function getPlan(ctx: ServiceContext, ref: string): Promise<PlanView> {
  return planView(await resolvePlan(ctx, ref, { includeDeleted: true }));
}

export async function listPlans(
  ctx: ServiceContext,
  filter: { search?: string; interval?: Interval; currency?: string; agent_id?: string },
  page: PageRequest,
): Promise<{ plans: PlanView[]; pagination: Pagination }> {
  let q = ctx.db
    .selectFrom('plans')
    .where('organization_id', '=', ctx.organizationId)
    .where('deleted_at', 'is', null);
  if (filter.interval) q = q.where('interval', '=', filter.interval);
  if (filter.currency) q = q.where('currency', '=', filter.currency);
  if (filter.agent_id) {
    const agent = await resolveAgent(ctx, filter.agent_id);
    q = q.where('id', 'in', (eb) =>
      eb
        .selectFrom('plan_agents')
        .select('plan_id')
        .where('organization_id', '=', ctx.organizationId)
        .where('agent_id', '=', agent.id),
    );
  }
  if (filter.search) {
    const pattern = `%${escapeLike(filter.search.toLowerCase())}%`;
    q = q.where(sql<SqlBool>`lower(code || ' ' || name) like ${pattern} escape '\\'`);
  }
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const ids = await q.select('id').orderBy('code').limit(page.per_page).offset(pageOffset(page)).execute();
  const plans = await plansById(
    ctx,
    ids.map((r) => r.id),
  );
  return {
    plans: ids.map((r) => planView(plans.get(r.id)!)),
    pagination: pagination(page, Number(count)),
  };
}

export async function updatePlan(ctx: ServiceContext, ref: string, patch: PlanFields): Promise<PlanView> {
  const before = await resolvePlan(ctx, ref, { includeDeleted: true });
  if (before.row.deleted_at !== null) {
    throw invalidStatus(
      `plan_code: plan '${before.code}' was deleted and can no longer change`,
      { plan_id: before.id, deleted_at: toIso(before.row.deleted_at) },
      'create_plan makes a new plan; its code is free again.',
    );
  }
  const row = before.row;
  const currency = patch.currency ?? row.currency;
  const merged: PlanFields & { name: string; interval: Interval; amount: Decimal } = {
    name: patch.name ?? row.name,
    description: patch.description !== undefined ? patch.description : row.description,
    interval: patch.interval ?? (row.interval as Interval),
    amount: patch.amount ?? before.amount,
    pay_in_advance: patch.pay_in_advance ?? row.pay_in_advance === 1,
    trial_period_days: patch.trial_period_days ?? row.trial_period_days,
    minimum_commitment:
      patch.minimum_commitment !== undefined ? patch.minimum_commitment : before.minimumCommitment,
    one_time_amount: patch.one_time_amount !== undefined ? patch.one_time_amount : before.oneTimeAmount,
    invoice_display_name:
      patch.invoice_display_name !== undefined ? patch.invoice_display_name : row.invoice_display_name,
    tax_codes: patch.tax_codes !== undefined ? patch.tax_codes : before.taxCodes,
    usage_thresholds:
      patch.usage_thresholds !== undefined
        ? patch.usage_thresholds
        : before.usageThresholds.map((u) => ({
            amount: u.amount,
            threshold_display_name: u.thresholdDisplayName,
            recurring: u.recurring,
          })),
  };
  const fields = planFieldsRow(merged, currency, before);
  if (patch.tax_codes !== undefined) await checkTaxCodes(ctx, patch.tax_codes);
  const now = ctx.now();
  const changes: Record<string, unknown> = diff(row, { ...row, ...fields }, PLAN_KEYS);
  if ((row.usage_thresholds ?? null) !== fields.usage_thresholds)
    changes.usage_thresholds = [row.usage_thresholds ?? null, fields.usage_thresholds].map((j) =>
      j ? (JSON.parse(j) as Array<{ amount: string }>).map((u) => u.amount) : null,
    );

  if (patch.charges !== undefined) {
    const next = await prepareCharges(ctx, patch.charges, currency);
    const beforeSignatures = before.charges.map((c) => chargeSignature(storedCharge(c)));
    if (JSON.stringify(beforeSignatures) !== JSON.stringify(next.map(chargeSignature))) {
      await replaceCharges(ctx, before, next, now);
      changes.charges = [
        before.charges.map((c) => c.billableMetricCode),
        patch.charges.map((c) => c.billable_metric_code),
      ];
    }
  } else if (patch.currency !== undefined && patch.currency !== row.currency) {
    // Charge minimums are money in the plan currency: they must still fit the new one.
    before.charges.forEach((c, i) => {
      if (c.minAmount) currencyAmount(c.minAmount, currency, `charges[${i}].min_amount`);
    });
  }
  if (Object.keys(changes).length === 0) return planView(before);
  await ctx.db
    .updateTable('plans')
    .set({ ...fields, updated_at: now })
    .where('id', '=', row.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  await recordActivity(ctx, { type: 'plan.updated', resourceType: 'plan', resourceId: row.id, changes });
  return planView(await reload(ctx, row.id));
}

/**
 * Replaces a plan's charges. A charge that prices the same billable metric keeps its row and
 * id (invoice lines point at it); charges no longer listed are soft-deleted, new ones inserted.
 */
async function replaceCharges(
  ctx: ServiceContext,
  plan: PlanRecord,
  next: PreparedCharge[],
  now: number,
): Promise<void> {
  const kept = new Set<string>();
  const inserts: Array<{ charge: PreparedCharge; position: number }> = [];
  for (const [position, charge] of next.entries()) {
    const current = plan.charges.find((c) => c.billableMetricId === charge.billable_metric_id);
    if (!current) {
      inserts.push({ charge, position });
      continue;
    }
    kept.add(current.id);
    await ctx.db
      .updateTable('plan_charges')
      .set({ ...charge, position, updated_at: now })
      .where('id', '=', current.id)
      .where('organization_id', '=', ctx.organizationId)
      .execute();
  }
  const removed = plan.charges.filter((c) => !kept.has(c.id)).map((c) => c.id);
  if (removed.length) {
    await ctx.db
      .updateTable('plan_charges')
      .set({ deleted_at: now, updated_at: now })
      .where('organization_id', '=', ctx.organizationId)
      .where('id', 'in', removed)
      .execute();
  }
  await insertCharges(ctx, plan.id, inserts, now);
}

export async function deletePlan(ctx: ServiceContext, ref: string): Promise<PlanView> {
  const plan = await resolvePlan(ctx, ref, { includeDeleted: true });
  if (plan.row.deleted_at !== null) return planView(plan);
  const using = await ctx.db
    .selectFrom('subscriptions')
    .select(['external_id'])
    .where('organization_id', '=', ctx.organizationId)
    .where('status', 'in', ['pending', 'active'])
    .where((eb) => eb.or([eb('plan_id', '=', plan.id), eb('next_plan_id', '=', plan.id)]))
    .orderBy('external_id')
    .limit(6)
    .execute();
  if (using.length) {
    const names = using.slice(0, 5).map((s) => s.external_id);
    throw invalidStatus(
      `plan_code: plan '${plan.code}' is used by pending or active subscriptions (${names.join(', ')}${using.length > 5 ? ', …' : ''})`,
      { plan_id: plan.id, subscription_external_ids: names },
      'Terminate those subscriptions (terminate_subscription) or move them to another plan (update_subscription with plan_code) first.',
    );
  }
  const now = ctx.now();
  await ctx.db
    .updateTable('plans')
    .set({ deleted_at: now, updated_at: now })
    .where('id', '=', plan.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  await recordActivity(ctx, {
    type: 'plan.deleted',
    resourceType: 'plan',
    resourceId: plan.id,
    changes: { deleted_at: [null, toIso(now)] },
  });
  return planView(await reload(ctx, plan.id));
}

/**
 * Offers a plan for an agent (MarginFront: the junction of a plan and an agent). A plan attached
 * to agents is subscribed to for one of them; attaching again changes nothing.
 */
export async function attachPlanToAgent(
  ctx: ServiceContext,
  planRef: string,
  agentRef: string,
): Promise<{ plan: PlanView; agent_code: string; attached: boolean }> {
  const plan = await resolvePlan(ctx, planRef);
  const agent = await resolveAgent(ctx, agentRef);
  const inserted = await ctx.db
    .insertInto('plan_agents')
    .values({
      organization_id: ctx.organizationId,
      plan_id: plan.id,
      agent_id: agent.id,
      created_at: ctx.now(),
    })
    .onConflict((oc) => oc.columns(['plan_id', 'agent_id']).doNothing())
    .returning('plan_id')
    .executeTakeFirst();
  if (inserted) {
    await recordActivity(ctx, {
      type: 'plan.updated',
      resourceType: 'plan',
      resourceId: plan.id,
      changes: {
        agent_codes: [plan.agents.map((a) => a.code), [...plan.agents.map((a) => a.code), agent.code].sort()],
      },
    });
  }
  return {
    plan: planView(await reload(ctx, plan.id)),
    agent_code: agent.code,
    attached: inserted !== undefined,
  };
}

/**
 * Takes an agent off a plan. Refused while a live subscription bills that agent on the plan: it
 * would be on a plan no longer offered for its agent.
 */
export async function detachPlanFromAgent(
  ctx: ServiceContext,
  planRef: string,
  agentRef: string,
): Promise<{ plan: PlanView; agent_code: string; detached: boolean }> {
  const plan = await resolvePlan(ctx, planRef);
  const agent = await resolveAgent(ctx, agentRef);
  const using = await ctx.db
    .selectFrom('subscriptions')
    .select('external_id')
    .where('organization_id', '=', ctx.organizationId)
    .where('plan_id', '=', plan.id)
    .where('agent_id', '=', agent.id)
    .where('status', 'in', ['pending', 'active'])
    .orderBy('external_id')
    .limit(5)
    .execute();
  if (using.length) {
    throw invalidStatus(
      `agent_id: pending or active subscriptions bill agent '${agent.code}' on plan '${plan.code}' (${using.map((u) => u.external_id).join(', ')})`,
      { plan_id: plan.id, agent_id: agent.id, subscription_external_ids: using.map((u) => u.external_id) },
      'Terminate them or move them to another plan first.',
    );
  }
  const removed = await ctx.db
    .deleteFrom('plan_agents')
    .where('organization_id', '=', ctx.organizationId)
    .where('plan_id', '=', plan.id)
    .where('agent_id', '=', agent.id)
    .executeTakeFirst();
  const detached = Number(removed.numDeletedRows) > 0;
  if (detached) {
    await recordActivity(ctx, {
      type: 'plan.updated',
      resourceType: 'plan',
      resourceId: plan.id,
      changes: {
        agent_codes: [
          plan.agents.map((a) => a.code),
          plan.agents.map((a) => a.code).filter((c) => c !== agent.code),
        ],
      },
    });
  }
  return { plan: planView(await reload(ctx, plan.id)), agent_code: agent.code, detached };
}

/**
 * Adds one charge to a live plan (create_pricing_strategy): checked as create_plan checks its
 * charges. A metric the plan prices already is a CONFLICT: update_plan changes that charge.
 */
export async function addCharge(ctx: ServiceContext, ref: string, charge: ChargeInput): Promise<PlanRecord> {
  const plan = await resolvePlan(ctx, ref);
  const [prepared] = await prepareCharges(ctx, [charge], plan.currency);
  const existing = plan.charges.find((c) => c.billableMetricId === prepared!.billable_metric_id);
  if (existing) {
    throw conflict(
      `billable_metric_code: plan '${plan.code}' already prices '${charge.billable_metric_code}' (charge ${existing.id})`,
      { plan_id: plan.id, charge_id: existing.id, billable_metric_code: charge.billable_metric_code },
      'A plan prices each billable metric once: update_plan with `charges` changes that charge.',
    );
  }
  const now = ctx.now();
  const position = plan.charges.reduce((m, c) => Math.max(m, c.position + 1), 0);
  await insertCharges(ctx, plan.id, [{ charge: prepared!, position }], now);
  await ctx.db
    .updateTable('plans')
    .set({ updated_at: now })
    .where('id', '=', plan.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  await recordActivity(ctx, {
    type: 'plan.updated',
    resourceType: 'plan',
    resourceId: plan.id,
    changes: {
      charges: [
        plan.charges.map((c) => c.billableMetricCode),
        [...plan.charges.map((c) => c.billableMetricCode), charge.billable_metric_code],
      ],
    },
  });
  return reload(ctx, plan.id);
}

/** Sets a plan's base fee or one-time fee when it has none (create_pricing_strategy). */
export async function setPlanFee(
  ctx: ServiceContext,
  ref: string,
  which: 'amount' | 'one_time_amount',
  amount: Decimal,
): Promise<PlanRecord> {
  const plan = await resolvePlan(ctx, ref);
  const current = which === 'amount' ? plan.amount : plan.oneTimeAmount;
  const stored = currencyAmount(amount, plan.currency, 'rate');
  if (current !== null && current.eq(amount)) return plan;
  if (current !== null && current.isPositive()) {
    throw conflict(
      `charge_type: plan '${plan.code}' already has a ${which === 'amount' ? 'recurring base fee' : 'one-time fee'} of ${current.toFixed(minorUnits(plan.currency))} ${plan.currency}`,
      { plan_id: plan.id, [which]: current.toString() },
      `A plan has one; update_plan with ${which} changes it.`,
    );
  }
  const now = ctx.now();
  await ctx.db
    .updateTable('plans')
    .set({ [which]: stored, updated_at: now })
    .where('id', '=', plan.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  await recordActivity(ctx, {
    type: 'plan.updated',
    resourceType: 'plan',
    resourceId: plan.id,
    changes: { [which]: [current?.toString() ?? null, stored] },
  });
  return reload(ctx, plan.id);
}
