import { sql, type ExpressionBuilder } from 'kysely';
import type { CustomersTable, Database, SubscriptionsTable } from '../../db/schema.js';
import { preparedWrite } from '../../db/prepared.js';
import { countAll } from '../../db/sql.js';
import { minorUnits } from '../../domain/currencies.js';
import { Decimal } from '../../domain/decimal.js';
import { BillfoldError, invalidStatus, notFound, validation } from '../../domain/errors.js';
import { looksLikeId, newId } from '../../domain/ids.js';
import { pageOffset, pagination, type PageRequest, type Pagination } from '../../domain/pagination.js';
import { periodContaining, type BillingTime, type Interval } from '../../domain/periods.js';
import { dateInZone, startOfDayInZone, toIso } from '../../domain/time.js';
import { recordActivity } from '../activity.js';
import type { ServiceContext } from '../context.js';
import { resolveAgent } from '../agents.js';
import { onCustomerDeletion, resolveCustomer } from '../customers.js';
import { assertInvoiceable } from '../invoices.js';
import type { PlanOverridesInput } from '../../operations/schemas/billing.js';
import { planOverridesView, validatePlanOverrides } from './charge-validation.js';
import { holdBillingLock } from './billing-lock.js';
import { billTermination, creditUnusedAdvanceFee, nextBillingAt, type BillingOutcome } from './engine.js';
import { loadSubscription, plansById, resolvePlan } from './load.js';
import {
  billingModelOf,
  effectivePlan,
  subscriptionRecord,
  type BillingModel,
  type PlanOverrides,
  type PlanRecord,
  type SubscriptionRecord,
} from './records.js';

/**
 * The subscription lifecycle: pending → active → terminated, or pending → canceled. A plan
 * change continues a subscription as a new row under the same external_id (so every row bills
 * one plan); an upgrade does it at once, a downgrade at the end of the current period. The
 * billing run calls applyScheduledChanges when lifecycleDueAt says something is due.
 */

export const SUBSCRIPTION_STATUSES = ['pending', 'active', 'terminated', 'canceled'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];
const LIVE: SubscriptionStatus[] = ['pending', 'active'];
const DAY_MS = 86_400_000;

/** A time as the caller gave it: an instant, or a calendar date read in the subscription's zone. */
export type TimeInput = { instant: number } | { date: string };

/** Overrides as shown: charges named by their billable metric code. */
export type PlanOverridesView = NonNullable<ReturnType<typeof planOverridesView>>;

export interface SubscriptionView {
  id: string;
  external_id: string;
  customer_id: string;
  customer_external_id: string | null;
  plan_code: string;
  name: string | null;
  status: SubscriptionStatus;
  billing_time: BillingTime;
  timezone: string;
  started_at: string;
  trial_ends_at: string | null;
  ending_at: string | null;
  terminated_at: string | null;
  canceled_at: string | null;
  current_period: { from: string; to: string } | null;
  next_plan_code: string | null;
  next_plan_at: string | null;
  previous_subscription_id: string | null;
  plan_overrides: PlanOverridesView | null;
  agent_id: string | null;
  agent_code: string | null;
  billing_model: BillingModel;
  trialing: boolean;
  past_due: boolean;
  created_at: string;
  updated_at: string;
}

// ——— periods and schedule ———

function instantOf(t: TimeInput, tz: string): number {
  return 'instant' in t ? t.instant : startOfDayInZone(t.date, tz);
}

/** The bounds of the plan period containing `at`, as instants in the subscription's zone. */
export function periodAt(
  sub: SubscriptionRecord,
  interval: Interval,
  at: number,
): { from: number; to: number } {
  const p = periodContaining(dateInZone(at, sub.timezone), interval, sub.billingTime, sub.anchorDate);
  return { from: startOfDayInZone(p.from, sub.timezone), to: startOfDayInZone(p.to, sub.timezone) };
}

/** The current period clipped to the subscription's start and end; null unless it is active. */
export function currentPeriod(
  sub: SubscriptionRecord,
  interval: Interval,
  now: number,
): { from: number; to: number } | null {
  if (sub.status !== 'active') return null;
  const at = Math.max(now, sub.startedAt);
  const p = periodAt(sub, interval, at);
  const end = sub.endingAt ?? Number.POSITIVE_INFINITY;
  return { from: Math.max(p.from, sub.startedAt), to: Math.min(p.to, end) };
}

/**
 * The next instant the lifecycle changes by itself: a pending subscription starts, an active
 * one reaches its ending_at or its scheduled downgrade. Null when nothing is scheduled.
 */
export function lifecycleDueAt(sub: SubscriptionRecord): number | null {
  if (sub.status === 'pending') return sub.startedAt;
  if (sub.status !== 'active') return null;
  const due = [sub.endingAt, sub.nextPlanAt].filter((v): v is number => v !== null);
  return due.length ? Math.min(...due) : null;
}

/**
 * When a billing run next has something to do for `sub`: its next invoice or lifecycle change.
 * The engine's next_billing_at is its pointer to the earliest moment not yet billed, so the
 * search starts there (from started_at for a new row): starting at "now" would step over a
 * period that fell due while no run had billed it yet.
 */
function nextWakeAt(sub: SubscriptionRecord, plan: PlanRecord): number | null {
  const after = sub.row.next_billing_at ?? sub.startedAt;
  const due = [nextBillingAt(sub, plan, after), lifecycleDueAt(sub)].filter((v): v is number => v !== null);
  return due.length ? Math.min(...due) : null;
}

/** A base fee per year: the one scale on which plans of different intervals compare. */
const PERIODS_PER_YEAR: Record<Interval, number> = { weekly: 52, monthly: 12, quarterly: 4, yearly: 1 };
export function yearlyAmount(plan: PlanRecord): Decimal {
  return plan.amount.mul(PERIODS_PER_YEAR[plan.interval]);
}

// ——— reading ———

interface ViewExtras {
  plans: ReadonlyMap<string, PlanRecord>;
  customerExternalIds: ReadonlyMap<string, string | null>;
  agentCodes: ReadonlyMap<string, string>;
  /** Ids of the subscriptions that are past due. */
  pastDue: ReadonlySet<string>;
}

function viewOf(sub: SubscriptionRecord, x: ViewExtras, now: number): SubscriptionView {
  const plan = x.plans.get(sub.planId);
  const period = plan ? currentPeriod(sub, plan.interval, now) : null;
  return {
    id: sub.id,
    external_id: sub.externalId,
    customer_id: sub.customerId,
    customer_external_id: x.customerExternalIds.get(sub.customerId) ?? null,
    plan_code: plan?.code ?? sub.planId,
    name: sub.row.name,
    status: sub.status,
    billing_time: sub.billingTime,
    timezone: sub.timezone,
    started_at: toIso(sub.startedAt),
    trial_ends_at: toIso(sub.trialEndsAt),
    ending_at: toIso(sub.endingAt),
    terminated_at: toIso(sub.terminatedAt),
    canceled_at: toIso(sub.row.canceled_at),
    current_period: period && { from: toIso(period.from), to: toIso(period.to) },
    next_plan_code: sub.nextPlanId ? (x.plans.get(sub.nextPlanId)?.code ?? sub.nextPlanId) : null,
    next_plan_at: toIso(sub.nextPlanAt),
    previous_subscription_id: sub.previousSubscriptionId,
    plan_overrides: plan ? planOverridesView(sub.overrides, plan) : null,
    agent_id: sub.agentId,
    agent_code: sub.agentId ? (x.agentCodes.get(sub.agentId) ?? null) : null,
    billing_model: plan ? billingModelOf(effectivePlan(plan, sub.overrides)) : 'recurring',
    trialing: isTrialing(sub, now),
    past_due: x.pastDue.has(sub.id),
    created_at: toIso(sub.row.created_at),
    updated_at: toIso(sub.row.updated_at),
  };
}

async function viewsOf(ctx: ServiceContext, subs: SubscriptionRecord[]): Promise<SubscriptionView[]> {
  const plans = await plansById(
    ctx,
    subs.flatMap((s) => (s.nextPlanId ? [s.planId, s.nextPlanId] : [s.planId])),
  );
  const customerIds = [...new Set(subs.map((s) => s.customerId))];
  const customers = customerIds.length
    ? await ctx.db
        .selectFrom('customers')
        .select(['id', 'external_id'])
        .where('organization_id', '=', ctx.organizationId)
        .where('id', 'in', customerIds)
        .execute()
    : [];
  const customerExternalIds = new Map(customers.map((c) => [c.id, c.external_id]));
  const agentIds = [...new Set(subs.map((s) => s.agentId).filter((a): a is string => a !== null))];
  const agents = agentIds.length
    ? await ctx.db
        .selectFrom('agents')
        .select(['id', 'code'])
        .where('organization_id', '=', ctx.organizationId)
        .where('id', 'in', agentIds)
        .execute()
    : [];
  const agentCodes = new Map(agents.map((a) => [a.id, a.code]));
  const now = ctx.now();
  const pastDue = await pastDueAmong(ctx, subs, now);
  return subs.map((s) => viewOf(s, { plans, customerExternalIds, agentCodes, pastDue }, now));
}

/** In its trial now: active, with no base fee until trial_ends_at. */
function isTrialing(sub: SubscriptionRecord, now: number): boolean {
  return sub.status === 'active' && sub.trialEndsAt !== null && now < sub.trialEndsAt;
}

/** The latest due date an unpaid invoice may have for its subscription to be past due at `now`. */
async function pastDueCutoff(ctx: ServiceContext, now: number): Promise<number> {
  const org = await ctx.organization();
  return now - org.past_due_grace_period_days * DAY_MS;
}

/**
 * A subscription is past due while it is active and one of its invoices (of any row under its
 * external_id: a plan change continues it) has money due past its due date and the
 * organization's grace period.
 */
function overdueInvoiceOf(ctx: ServiceContext, cutoff: number) {
  return (eb: ExpressionBuilder<Database, 'subscriptions'>) =>
    eb.exists(
      eb
        .selectFrom('invoices as i')
        .innerJoin('subscriptions as s2', 's2.id', 'i.subscription_id')
        .select(sql`1`.as('one'))
        .where('i.organization_id', '=', ctx.organizationId)
        .where('s2.organization_id', '=', ctx.organizationId)
        .whereRef('s2.external_id', '=', 'subscriptions.external_id')
        .whereRef('s2.customer_id', '=', 'subscriptions.customer_id')
        .where('i.status', '=', 'finalized')
        .where('i.amount_due_cents', '>', 0)
        .where('i.due_at', '<', cutoff),
    );
}

async function pastDueAmong(
  ctx: ServiceContext,
  subs: readonly SubscriptionRecord[],
  now: number,
): Promise<Set<string>> {
  const active = subs.filter((s) => s.status === 'active').map((s) => s.id);
  if (!active.length) return new Set();
  const cutoff = await pastDueCutoff(ctx, now);
  const rows = await ctx.db
    .selectFrom('subscriptions')
    .select('id')
    .where('organization_id', '=', ctx.organizationId)
    .where('id', 'in', active)
    .where(overdueInvoiceOf(ctx, cutoff))
    .execute();
  return new Set(rows.map((r) => r.id));
}

export async function subscriptionView(
  ctx: ServiceContext,
  sub: SubscriptionRecord,
): Promise<SubscriptionView> {
  return (await viewsOf(ctx, [sub]))[0]!;
}

export async function getSubscription(ctx: ServiceContext, ref: string): Promise<SubscriptionView> {
  return subscriptionView(ctx, await loadSubscription(ctx, ref));
}

/** The statuses list_subscriptions filters by: the lifecycle, and two states of active ones. */
export const SUBSCRIPTION_STATUS_FILTERS = [...SUBSCRIPTION_STATUSES, 'trialing', 'past_due'] as const;
export type SubscriptionStatusFilter = (typeof SUBSCRIPTION_STATUS_FILTERS)[number];

export interface SubscriptionListFilter {
  customer_id?: string;
  plan_code?: string;
  status?: SubscriptionStatusFilter;
  agent_id?: string;
}

export async function listSubscriptions(
  ctx: ServiceContext,
  filter: SubscriptionListFilter,
  page: PageRequest,
): Promise<{ subscriptions: SubscriptionView[]; pagination: Pagination }> {
  let q = ctx.db.selectFrom('subscriptions').where('organization_id', '=', ctx.organizationId);
  if (filter.customer_id) {
    const customer = await resolveCustomer(ctx, filter.customer_id);
    q = q.where('customer_id', '=', customer.id);
  }
  if (filter.plan_code) {
    // Deleted plans too: their subscriptions still exist.
    const plans = await ctx.db
      .selectFrom('plans')
      .select('id')
      .where('organization_id', '=', ctx.organizationId)
      .where(looksLikeId('plan', filter.plan_code) ? 'id' : 'code', '=', filter.plan_code)
      .execute();
    if (!plans.length)
      throw notFound('plan', filter.plan_code, 'plan_code: list_plans shows the plans by code.');
    q = q.where(
      'plan_id',
      'in',
      plans.map((p) => p.id),
    );
  }
  if (filter.agent_id) {
    const agent = await resolveAgent(ctx, filter.agent_id);
    q = q.where('agent_id', '=', agent.id);
  }
  if (filter.status === 'trialing') {
    q = q.where('status', '=', 'active').where('trial_ends_at', '>', ctx.now());
  } else if (filter.status === 'past_due') {
    q = q.where('status', '=', 'active').where(overdueInvoiceOf(ctx, await pastDueCutoff(ctx, ctx.now())));
  } else if (filter.status) q = q.where('status', '=', filter.status);
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.per_page)
    .offset(pageOffset(page))
    .execute();
  return {
    subscriptions: await viewsOf(ctx, rows.map(subscriptionRecord)),
    pagination: pagination(page, Number(count)),
  };
}

// ——— writing ———

async function liveByExternalId(
  ctx: ServiceContext,
  externalId: string,
): Promise<SubscriptionsTable | undefined> {
  return ctx.db
    .selectFrom('subscriptions')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('external_id', '=', externalId)
    .where('status', 'in', LIVE)
    .executeTakeFirst();
}

function checkCurrency(customer: CustomersTable, plan: PlanRecord, field = 'plan_code'): void {
  if (customer.currency && customer.currency !== plan.currency) {
    throw validation(
      field,
      `plan '${plan.code}' is priced in ${plan.currency} but customer '${customer.external_id ?? customer.id}' is billed in ${customer.currency}`,
      `Choose a plan in ${customer.currency} (list_plans), or create one in that currency.`,
      { plan_currency: plan.currency, customer_currency: customer.currency },
    );
  }
}

/**
 * Usage is aggregated per customer (and agent), not per subscription: two live subscriptions of
 * one customer whose plans price the same billable metric would both bill the same events. So a
 * plan is refused for `customer` when another of its pending or active subscriptions prices one
 * of the plan's metrics, now or after the downgrade it has scheduled — unless the two bill
 * different agents, whose usage is apart. `replacing`: the row the plan goes on or replaces (an
 * upgrade, a downgrade, a pending row taking another plan), which does not count against itself.
 */
async function assertMetricsUnpriced(
  ctx: ServiceContext,
  customer: Pick<CustomersTable, 'id' | 'external_id'>,
  plan: PlanRecord,
  replacing: string | null,
  agentId: string | null,
): Promise<void> {
  if (!plan.charges.length) return;
  let q = ctx.db
    .selectFrom('subscriptions')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('customer_id', '=', customer.id)
    .where('status', 'in', LIVE);
  if (replacing) q = q.where('id', '!=', replacing);
  const others = (await q.orderBy('created_at').orderBy('id').execute())
    .map(subscriptionRecord)
    .filter((o) => agentId === null || o.agentId === null || o.agentId === agentId);
  if (!others.length) return;
  const plans = await plansById(
    ctx,
    others.flatMap((o) => (o.nextPlanId ? [o.planId, o.nextPlanId] : [o.planId])),
  );
  const wanted = new Map(plan.charges.map((c) => [c.billableMetricId, c.billableMetricCode]));
  for (const other of others) {
    for (const [planId, from] of [
      [other.planId, null],
      [other.nextPlanId, other.nextPlanAt],
    ] as const) {
      const priced = planId ? plans.get(planId) : undefined;
      if (!priced) continue;
      const shared = [
        ...new Set(
          priced.charges.filter((c) => wanted.has(c.billableMetricId)).map((c) => c.billableMetricCode),
        ),
      ];
      if (!shared.length) continue;
      const customerRef = customer.external_id ?? customer.id;
      const metrics = shared.map((m) => `'${m}'`).join(', ');
      throw validation(
        'plan_code',
        `plan '${plan.code}' prices billable metric ${metrics}, which subscription '${other.externalId}' ` +
          `(plan '${priced.code}'${from !== null ? `, from its scheduled change at ${toIso(from)}` : ''}) ` +
          `of customer '${customerRef}' already prices; usage is counted per customer, so both would bill the same events`,
        `Terminate subscription '${other.externalId}' first (terminate_subscription), or move it to one plan that ` +
          `prices everything this customer uses (update_subscription with plan_code), or choose a plan without ${metrics}` +
          ` — or scope both subscriptions to different agents (agent_id), whose usage is billed apart.`,
        {
          subscription_id: other.id,
          subscription_external_id: other.externalId,
          subscription_plan_code: priced.code,
          billable_metric_codes: shared,
        },
      );
    }
  }
}

/** Writes a new or changed subscription row with its next_billing_at, and returns its record. */
async function saveRow(
  ctx: ServiceContext,
  row: SubscriptionsTable,
  plan: PlanRecord,
  mode: 'insert' | 'update',
  now: number,
): Promise<SubscriptionRecord> {
  row.next_billing_at = nextWakeAt(subscriptionRecord(row), plan);
  if (mode === 'insert') {
    await ctx.db.insertInto('subscriptions').values(row).execute();
  } else {
    const { id, organization_id, created_at, ...settable } = row;
    void created_at;
    await ctx.db
      .updateTable('subscriptions')
      .set(settable)
      .where('id', '=', id)
      .where('organization_id', '=', organization_id)
      .execute();
  }
  return subscriptionRecord(row);
}

async function activity(
  ctx: ServiceContext,
  type: string,
  sub: SubscriptionRecord,
  changes: Record<string, unknown>,
): Promise<void> {
  await recordActivity(ctx, {
    type,
    resourceType: 'subscription',
    resourceId: sub.id,
    customerId: sub.customerId,
    subscriptionId: sub.id,
    externalSubscriptionId: sub.externalId,
    changes,
  });
}

/**
 * The agent a subscription to `plan` bills: the one asked for, which a plan attached to agents
 * must be attached to; without one, a plan attached to a single agent gives it.
 */
async function agentFor(
  ctx: ServiceContext,
  plan: PlanRecord,
  ref: string | undefined,
): Promise<string | null> {
  if (ref === undefined) {
    if (plan.agents.length === 1) return plan.agents[0]!.id;
    if (plan.agents.length > 1) {
      throw validation(
        'agent_id',
        `is required: plan '${plan.code}' is attached to agents ${plan.agents.map((a) => `'${a.code}'`).join(', ')}`,
        'Name the agent whose usage this subscription bills.',
      );
    }
    return null;
  }
  const agent = await resolveAgent(ctx, ref);
  if (plan.agents.length && !plan.agents.some((a) => a.id === agent.id)) {
    throw validation(
      'agent_id',
      `plan '${plan.code}' is not attached to agent '${agent.code}' (it is to ${plan.agents.map((a) => `'${a.code}'`).join(', ')})`,
      `attach_plan_to_agent offers it for '${agent.code}'; or choose a plan attached to it (list_plans with agent_id).`,
    );
  }
  return agent.id;
}

/** A billing model the caller states must be the plan's (billingModelOf). */
function checkBillingModel(
  plan: PlanRecord,
  stated: BillingModel | undefined,
  field = 'billing_model',
): void {
  if (stated === undefined) return;
  const actual = billingModelOf(plan);
  if (stated === actual) return;
  const parts = [
    plan.amount.isPositive()
      ? `a base fee of ${plan.amount.toFixed(minorUnits(plan.currency))} ${plan.currency}`
      : null,
    plan.charges.some((c) => c.seatBased) ? 'seat charges' : null,
    plan.charges.some((c) => !c.seatBased) ? 'usage charges' : null,
  ].filter(Boolean);
  throw validation(
    field,
    `plan '${plan.code}' bills ${parts.length ? parts.join(' and ') : 'nothing recurring'}, so its billing model is ${actual} (got ${stated})`,
    `Leave billing_model out, give ${actual}, or choose a plan that bills as ${stated}.`,
    { billing_model: actual },
  );
}

export interface CreateSubscriptionInput {
  customer_id: string;
  plan_code: string;
  agent_id?: string;
  billing_model?: BillingModel;
  external_id?: string;
  name?: string | null;
  billing_time?: BillingTime;
  started_at?: TimeInput;
  ending_at?: TimeInput | null;
  plan_overrides?: PlanOverridesInput;
}

export async function createSubscription(
  ctx: ServiceContext,
  input: CreateSubscriptionInput,
): Promise<{ subscription: SubscriptionView; created: boolean }> {
  const customer = await resolveCustomer(ctx, input.customer_id);
  const plan = await resolvePlan(ctx, input.plan_code);
  const agentId = await agentFor(ctx, plan, input.agent_id);
  if (input.external_id) {
    const existing = await liveByExternalId(ctx, input.external_id);
    if (existing) {
      if (
        existing.customer_id === customer.id &&
        existing.plan_id === plan.id &&
        existing.agent_id === agentId
      ) {
        return { subscription: await subscriptionView(ctx, subscriptionRecord(existing)), created: false };
      }
      throw new BillfoldError(
        'CONFLICT',
        `external_id: subscription '${input.external_id}' already exists (${existing.id}) for another customer or plan`,
        { field: 'external_id', value: input.external_id, subscription_id: existing.id },
        'To move it to another plan use update_subscription with plan_code; for a separate subscription choose another external_id.',
      );
    }
  }
  assertInvoiceable(customer);
  checkCurrency(customer, plan);
  await assertMetricsUnpriced(ctx, customer, plan, null, agentId);
  const overrides =
    input.plan_overrides === undefined ? null : await validatePlanOverrides(ctx, plan, input.plan_overrides);
  checkBillingModel(effectivePlan(plan, overrides), input.billing_model);

  const org = await ctx.organization();
  const now = ctx.now();
  const timezone = customer.timezone ?? org.timezone;
  const startedAt = input.started_at ? instantOf(input.started_at, timezone) : now;
  const endingAt = input.ending_at ? instantOf(input.ending_at, timezone) : null;
  if (endingAt !== null && endingAt <= startedAt) {
    throw validation(
      'ending_at',
      `must be after started_at (${toIso(startedAt)}); got ${toIso(endingAt)}`,
      'Leave ending_at out for a subscription that runs until terminated.',
    );
  }
  if (!customer.currency) {
    // Lago's rule: a customer without a currency takes the currency of its first plan.
    await ctx.db
      .updateTable('customers')
      .set({ currency: plan.currency, updated_at: now })
      .where('id', '=', customer.id)
      .where('organization_id', '=', ctx.organizationId)
      .execute();
    await recordActivity(ctx, {
      type: 'customer.updated',
      resourceType: 'customer',
      resourceId: customer.id,
      externalCustomerId: customer.external_id,
      changes: { currency: [null, plan.currency] },
    });
  }
  const id = newId('subscription', now);
  const row: SubscriptionsTable = {
    id,
    organization_id: ctx.organizationId,
    external_id: input.external_id ?? id,
    customer_id: customer.id,
    plan_id: plan.id,
    name: input.name ?? null,
    status: startedAt > now ? 'pending' : 'active',
    billing_time: input.billing_time ?? 'calendar',
    timezone,
    anchor_date: dateInZone(startedAt, timezone),
    started_at: startedAt,
    trial_ends_at: plan.trialPeriodDays > 0 ? startedAt + plan.trialPeriodDays * DAY_MS : null,
    ending_at: endingAt,
    terminated_at: null,
    canceled_at: null,
    plan_overrides: overrides ? JSON.stringify(overrides) : null,
    next_plan_id: null,
    next_plan_at: null,
    next_plan_overrides: null,
    previous_subscription_id: null,
    next_billing_at: null,
    agent_id: agentId,
    metadata: '{}',
    created_at: now,
    updated_at: now,
  };
  const sub = await saveRow(ctx, row, plan, 'insert', now);
  await activity(ctx, 'subscription.created', sub, {
    external_id: row.external_id,
    customer_id: row.customer_id,
    plan_code: plan.code,
    status: row.status,
    billing_time: row.billing_time,
    started_at: toIso(row.started_at),
    ...(agentId ? { agent_id: agentId } : {}),
  });
  return { subscription: await subscriptionView(ctx, sub), created: true };
}

/** A live subscription, or INVALID_STATUS saying what to do instead. */
function requireLive(sub: SubscriptionRecord, action: string): void {
  if (sub.status === 'pending' || sub.status === 'active') return;
  throw invalidStatus(
    `subscription '${sub.externalId}' (${sub.id}) is ${sub.status} and cannot be ${action}`,
    { subscription_id: sub.id, status: sub.status },
    'Create a new subscription with create_subscription (the external_id can be reused once it has ended).',
  );
}

export interface UpdateSubscriptionInput {
  name?: string | null;
  ending_at?: TimeInput | null;
  plan_code?: string;
  plan_overrides?: PlanOverridesInput | null;
}

export type PlanChange = 'upgrade' | 'downgrade' | 'replaced' | 'scheduled_change_canceled' | null;

export interface LifecycleResult {
  subscription: SubscriptionView;
  /** Invoices the billing engine issued for what the ended subscription owed. */
  invoice_ids: string[];
  /** The credit note for the unused part of a fee paid in advance, if any. */
  credit_note_id: string | null;
}

export async function updateSubscription(
  ctx: ServiceContext,
  ref: string,
  patch: UpdateSubscriptionInput,
): Promise<LifecycleResult & { plan_change: PlanChange }> {
  // A plan change may upgrade now, which ends the row and bills it (billing-lock.ts): the lock
  // comes before the row is read, so the row is the one left after any run that held it.
  if (patch.plan_code !== undefined) await holdBillingLock(ctx);
  const sub = await loadSubscription(ctx, ref);
  requireLive(sub, 'updated');
  const now = ctx.now();
  const [plan] = (await plansById(ctx, [sub.planId])).values();
  if (!plan) throw notFound('plan', sub.planId);
  const next: SubscriptionsTable = { ...sub.row };
  const changes: Record<string, unknown> = {};

  if (patch.name !== undefined && patch.name !== sub.row.name) {
    changes.name = [sub.row.name, patch.name];
    next.name = patch.name;
  }
  if (patch.ending_at !== undefined) {
    const endingAt = patch.ending_at === null ? null : instantOf(patch.ending_at, sub.timezone);
    if (endingAt !== null && endingAt <= Math.max(now, sub.startedAt)) {
      throw validation(
        'ending_at',
        `must be after ${sub.startedAt > now ? 'started_at' : 'now'} (${toIso(Math.max(now, sub.startedAt))}); got ${toIso(endingAt)}`,
        'To end it now use terminate_subscription.',
      );
    }
    if (endingAt !== sub.endingAt) {
      changes.ending_at = [toIso(sub.endingAt), toIso(endingAt)];
      next.ending_at = endingAt;
    }
  }

  const newPlan =
    patch.plan_code !== undefined && patch.plan_code !== plan.code && patch.plan_code !== plan.id
      ? await resolvePlan(ctx, patch.plan_code)
      : null;
  const overridesPlan = newPlan ?? plan;
  const overrides =
    patch.plan_overrides === undefined
      ? undefined
      : patch.plan_overrides === null
        ? null
        : await validatePlanOverrides(ctx, overridesPlan, patch.plan_overrides);

  if (!newPlan) {
    if (overrides !== undefined) {
      changes.plan_overrides = [sub.overrides, overrides];
      next.plan_overrides = overrides ? JSON.stringify(overrides) : null;
    }
    let planChange: PlanChange = null;
    // Asking for the plan it is on again calls off a downgrade that was waiting.
    if (patch.plan_code !== undefined && sub.nextPlanId) {
      changes.next_plan_id = [sub.nextPlanId, null];
      next.next_plan_id = null;
      next.next_plan_at = null;
      next.next_plan_overrides = null;
      planChange = 'scheduled_change_canceled';
    }
    const saved = await writeUpdate(ctx, sub, next, plan, changes, now);
    return {
      subscription: await subscriptionView(ctx, saved),
      plan_change: planChange,
      invoice_ids: [],
      credit_note_id: null,
    };
  }

  const customer = await resolveCustomer(ctx, sub.customerId);
  checkCurrency(customer, newPlan);
  // Upgraded, downgraded or replaced, this subscription's row gives way to the new plan: only
  // the customer's other subscriptions count.
  if (newPlan.agents.length && !newPlan.agents.some((a) => a.id === sub.agentId)) {
    throw validation(
      'plan_code',
      `plan '${newPlan.code}' is not offered for ${sub.agentId ? 'the agent of' : 'a subscription without an agent, as is'} subscription '${sub.externalId}'`,
      'attach_plan_to_agent offers it for the agent; list_plans with agent_id shows the plans offered for one.',
    );
  }
  await assertMetricsUnpriced(ctx, customer, newPlan, sub.id, sub.agentId);
  const newOverrides = overrides ?? null;

  if (sub.status === 'pending') {
    // Nothing billed yet: the pending subscription simply takes the other plan.
    changes.plan_code = [plan.code, newPlan.code];
    next.plan_id = newPlan.id;
    next.plan_overrides = newOverrides ? JSON.stringify(newOverrides) : null;
    next.next_plan_id = null;
    next.next_plan_at = null;
    next.next_plan_overrides = null;
    next.trial_ends_at =
      newPlan.trialPeriodDays > 0 ? sub.startedAt + newPlan.trialPeriodDays * DAY_MS : null;
    const saved = await writeUpdate(ctx, sub, next, newPlan, changes, now);
    return {
      subscription: await subscriptionView(ctx, saved),
      plan_change: 'replaced',
      invoice_ids: [],
      credit_note_id: null,
    };
  }

  const current = yearlyAmount(effectivePlan(plan, sub.overrides));
  const target = yearlyAmount(effectivePlan(newPlan, newOverrides));
  // Equal yearly fees count as an upgrade (Lago's rule too): nothing is cheaper to wait for,
  // and the customer asked for the other charges now.
  if (target.gte(current)) {
    if (Object.keys(changes).length) await writeUpdate(ctx, sub, next, plan, changes, now);
    const updated = subscriptionRecord(next);
    const ended = await terminateRow(ctx, updated, now, 'plan_change');
    // The successor first: billing the ended row sees it takes over the change day.
    const successor = await startSuccessor(ctx, ended, newPlan, newOverrides, now, now);
    const billed = await billEnd(ctx, ended, now, true);
    await activity(ctx, 'subscription.upgraded', successor, {
      previous_subscription_id: sub.id,
      plan_code: [plan.code, newPlan.code],
    });
    return { subscription: await subscriptionView(ctx, successor), plan_change: 'upgrade', ...billed };
  }

  const periodEnd = periodAt(sub, plan.interval, Math.max(now, sub.startedAt)).to;
  if (next.ending_at !== null && next.ending_at <= periodEnd) {
    throw invalidStatus(
      `subscription '${sub.externalId}' ends at ${toIso(next.ending_at)}, before the downgrade to '${newPlan.code}' could take effect at ${toIso(periodEnd)}`,
      { subscription_id: sub.id, ending_at: toIso(next.ending_at), next_plan_at: toIso(periodEnd) },
      'Move ending_at later (update_subscription ending_at) or leave the plan as it is.',
    );
  }
  changes.next_plan_code = [sub.nextPlanId, newPlan.code];
  changes.next_plan_at = [toIso(sub.nextPlanAt), toIso(periodEnd)];
  next.next_plan_id = newPlan.id;
  next.next_plan_at = periodEnd;
  next.next_plan_overrides = newOverrides ? JSON.stringify(newOverrides) : null;
  const saved = await writeUpdate(ctx, sub, next, plan, changes, now, 'subscription.downgrade_scheduled');
  return {
    subscription: await subscriptionView(ctx, saved),
    plan_change: 'downgrade',
    invoice_ids: [],
    credit_note_id: null,
  };
}

async function writeUpdate(
  ctx: ServiceContext,
  sub: SubscriptionRecord,
  next: SubscriptionsTable,
  plan: PlanRecord,
  changes: Record<string, unknown>,
  now: number,
  type = 'subscription.updated',
): Promise<SubscriptionRecord> {
  if (Object.keys(changes).length === 0) return sub;
  next.updated_at = now;
  const saved = await saveRow(ctx, next, plan, 'update', now);
  await activity(ctx, type, saved, changes);
  return saved;
}

/**
 * Marks a live subscription terminated at `at`. The update is conditional on its status, so
 * two processes applying the same change cannot both end it: the loser gets null.
 */
async function endRow(
  ctx: ServiceContext,
  sub: SubscriptionRecord,
  status: 'terminated' | 'canceled',
  at: number,
  now: number,
): Promise<SubscriptionRecord | null> {
  const row: SubscriptionsTable = {
    ...sub.row,
    status,
    terminated_at: status === 'terminated' ? at : null,
    canceled_at: status === 'canceled' ? at : null,
    next_plan_id: null,
    next_plan_at: null,
    next_plan_overrides: null,
    updated_at: now,
  };
  // A terminated row keeps the engine's pointer: billTermination bills from there up to its
  // end, then clears it. A canceled one never bills.
  if (status === 'canceled') row.next_billing_at = null;
  const res = await ctx.db
    .updateTable('subscriptions')
    .set({
      status: row.status,
      terminated_at: row.terminated_at,
      canceled_at: row.canceled_at,
      next_plan_id: null,
      next_plan_at: null,
      next_plan_overrides: null,
      next_billing_at: row.next_billing_at,
      updated_at: now,
    })
    .where('id', '=', sub.id)
    .where('organization_id', '=', ctx.organizationId)
    .where('status', '=', sub.status)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) return null;
  return subscriptionRecord(row);
}

async function terminateRow(
  ctx: ServiceContext,
  sub: SubscriptionRecord,
  at: number,
  reason: 'terminated' | 'plan_change' | 'ending_at',
): Promise<SubscriptionRecord> {
  const ended = await endRow(ctx, sub, 'terminated', at, ctx.now());
  if (!ended) {
    throw invalidStatus(
      `subscription '${sub.externalId}' (${sub.id}) was changed by another request; nothing was done`,
      { subscription_id: sub.id },
      'Read it again with get_subscription and retry if still needed.',
    );
  }
  await activity(ctx, 'subscription.terminated', ended, {
    status: [sub.status, 'terminated'],
    terminated_at: toIso(at),
    reason,
  });
  return ended;
}

/** What a subscription ended at `at` owes, and the credit for a fee paid beyond it. */
async function billEnd(
  ctx: ServiceContext,
  ended: SubscriptionRecord,
  at: number,
  credit: boolean,
  onOutcome?: (o: BillingOutcome) => void,
): Promise<{ invoice_ids: string[]; credit_note_id: string | null }> {
  const invoice_ids = await billTermination(ctx, ended, at, onOutcome);
  const credit_note_id = credit ? await creditUnusedAdvanceFee(ctx, ended, at) : null;
  return { invoice_ids, credit_note_id };
}

/** The row that continues `prev` on another plan from `at`: same external_id, zone and anchor. */
async function startSuccessor(
  ctx: ServiceContext,
  prev: SubscriptionRecord,
  plan: PlanRecord,
  overrides: PlanOverrides | null,
  at: number,
  now: number,
): Promise<SubscriptionRecord> {
  const id = newId('subscription', now);
  const row: SubscriptionsTable = {
    id,
    organization_id: ctx.organizationId,
    external_id: prev.externalId,
    customer_id: prev.customerId,
    plan_id: plan.id,
    name: prev.row.name,
    status: 'active',
    billing_time: prev.billingTime,
    timezone: prev.timezone,
    anchor_date: prev.anchorDate,
    started_at: at,
    // A plan change does not start a new trial; what is left of the old one carries over.
    trial_ends_at: prev.trialEndsAt !== null && prev.trialEndsAt > at ? prev.trialEndsAt : null,
    ending_at: prev.endingAt !== null && prev.endingAt > at ? prev.endingAt : null,
    terminated_at: null,
    canceled_at: null,
    plan_overrides: overrides ? JSON.stringify(overrides) : null,
    next_plan_id: null,
    next_plan_at: null,
    next_plan_overrides: null,
    previous_subscription_id: prev.id,
    next_billing_at: null,
    agent_id: prev.row.agent_id,
    metadata: prev.row.metadata,
    created_at: now,
    updated_at: now,
  };
  return saveRow(ctx, row, plan, 'insert', now);
}

export async function terminateSubscription(
  ctx: ServiceContext,
  ref: string,
  when: 'now' | 'period_end' = 'now',
): Promise<LifecycleResult> {
  // Ending now bills what the row owes (billing-lock.ts): the lock before the row is read or written.
  if (when === 'now') await holdBillingLock(ctx);
  const sub = await loadSubscription(ctx, ref);
  if (sub.status === 'terminated' || sub.status === 'canceled') {
    throw invalidStatus(
      `subscription '${sub.externalId}' (${sub.id}) is already ${sub.status}${sub.terminatedAt ? ` since ${toIso(sub.terminatedAt)}` : ''}`,
      { subscription_id: sub.id, status: sub.status },
      'Nothing to do. list_subscriptions with status "active" shows what still runs.',
    );
  }
  const now = ctx.now();
  const [plan] = (await plansById(ctx, [sub.planId])).values();
  if (!plan) throw notFound('plan', sub.planId);

  if (when === 'period_end') {
    const periodEnd = periodAt(sub, plan.interval, Math.max(now, sub.startedAt)).to;
    const endingAt = sub.endingAt !== null && sub.endingAt < periodEnd ? sub.endingAt : periodEnd;
    const next: SubscriptionsTable = {
      ...sub.row,
      ending_at: endingAt,
      // Ending wins over a downgrade due at the same moment.
      next_plan_id: null,
      next_plan_at: null,
      next_plan_overrides: null,
    };
    const saved = await writeUpdate(
      ctx,
      sub,
      next,
      plan,
      { ending_at: [toIso(sub.endingAt), toIso(endingAt)] },
      now,
    );
    return { subscription: await subscriptionView(ctx, saved), invoice_ids: [], credit_note_id: null };
  }

  if (sub.status === 'pending') {
    const canceled = await endRow(ctx, sub, 'canceled', now, now);
    if (!canceled)
      return { subscription: await getSubscription(ctx, sub.id), invoice_ids: [], credit_note_id: null };
    await activity(ctx, 'subscription.canceled', canceled, { status: ['pending', 'canceled'] });
    return { subscription: await subscriptionView(ctx, canceled), invoice_ids: [], credit_note_id: null };
  }
  const ended = await terminateRow(ctx, sub, now, 'terminated');
  const billed = await billEnd(ctx, ended, now, true);
  return { subscription: await subscriptionView(ctx, ended), ...billed };
}

/** A pending row starts, unless another process started it first. Once per subscription in a run. */
const startPending = preparedWrite((db, p: { next: number | null; now: number; id: string; org: string }) =>
  db
    .updateTable('subscriptions')
    .set({ status: 'active', next_billing_at: p.next, updated_at: p.now })
    .where('id', '=', p.id)
    .where('organization_id', '=', p.org)
    .where('status', '=', 'pending'),
);

/**
 * Applies what is due at `at` for the billing run, in order, until nothing more is: a pending
 * subscription starts; an active one reaching ending_at terminates (billing what it owes); a
 * downgrade whose time has come ends the old row and starts the new plan at that instant.
 * Returns the live subscription afterwards, or null when it has ended; what the ended rows are
 * billed goes to `onOutcome`. Safe to call twice or from two processes: every step is
 * conditional on the row's status. `plans` holds plans the caller loaded already (a run's
 * chunk), by id; others are read.
 */
export async function applyScheduledChanges(
  ctx: ServiceContext,
  sub: SubscriptionRecord,
  at: number,
  onOutcome?: (o: BillingOutcome) => void,
  plans?: Map<string, PlanRecord>,
): Promise<SubscriptionRecord | null> {
  let current: SubscriptionRecord | null = sub;
  for (;;) {
    if (!current) return null;
    const due = lifecycleDueAt(current);
    if (due === null || due > at)
      return current.status === 'pending' || current.status === 'active' ? current : null;
    const plan = plans?.get(current.planId) ?? (await plansById(ctx, [current.planId])).get(current.planId);
    if (!plan) throw notFound('plan', current.planId);
    const now = ctx.now();

    if (current.status === 'pending') {
      const row: SubscriptionsTable = { ...current.row, status: 'active', updated_at: now };
      row.next_billing_at = nextWakeAt(subscriptionRecord(row), plan);
      const started = await startPending(ctx.db, {
        next: row.next_billing_at,
        now,
        id: current.id,
        org: ctx.organizationId,
      });
      if (started === 0) {
        current = await reload(ctx, current.id);
        continue;
      }
      current = subscriptionRecord(row);
      await activity(ctx, 'subscription.started', current, { status: ['pending', 'active'] });
      continue;
    }

    const endingAt = current.endingAt;
    if (
      endingAt !== null &&
      endingAt <= at &&
      (current.nextPlanAt === null || endingAt <= current.nextPlanAt)
    ) {
      const ended = await endRow(ctx, current, 'terminated', endingAt, now);
      if (!ended) {
        current = await reload(ctx, current.id);
        continue;
      }
      await activity(ctx, 'subscription.terminated', ended, {
        status: ['active', 'terminated'],
        terminated_at: toIso(endingAt),
        reason: 'ending_at',
      });
      // An ending_at set mid-period leaves part of an advance fee unused.
      await billEnd(ctx, ended, endingAt, true, onOutcome);
      return null;
    }

    const switchAt = current.nextPlanAt!;
    const nextPlanId = current.nextPlanId!;
    const nextOverrides = current.nextPlanOverrides;
    const ended = await endRow(ctx, current, 'terminated', switchAt, now);
    if (!ended) {
      current = await reload(ctx, current.id);
      continue;
    }
    await activity(ctx, 'subscription.terminated', ended, {
      status: ['active', 'terminated'],
      terminated_at: toIso(switchAt),
      reason: 'plan_change',
    });
    await billEnd(ctx, ended, switchAt, false, onOutcome);
    const [nextPlan] = (await plansById(ctx, [nextPlanId])).values();
    if (!nextPlan) throw notFound('plan', nextPlanId);
    current = await startSuccessor(ctx, ended, nextPlan, nextOverrides, switchAt, now);
    await activity(ctx, 'subscription.downgraded', current, {
      previous_subscription_id: ended.id,
      plan_code: [plan.code, nextPlan.code],
    });
  }
}

/** The live row under a subscription's external_id after another process changed it, or null. */
async function reload(ctx: ServiceContext, id: string): Promise<SubscriptionRecord | null> {
  const row = await ctx.db
    .selectFrom('subscriptions')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) return null;
  if (row.status === 'pending' || row.status === 'active') return subscriptionRecord(row);
  const live = await liveByExternalId(ctx, row.external_id);
  return live && live.previous_subscription_id === row.id ? subscriptionRecord(live) : null;
}

// A customer with a running subscription would go on being billed with no one to bill.
onCustomerDeletion(async (ctx, customer) => {
  const live = await ctx.db
    .selectFrom('subscriptions')
    .select(['external_id'])
    .where('organization_id', '=', ctx.organizationId)
    .where('customer_id', '=', customer.id)
    .where('status', 'in', LIVE)
    .limit(5)
    .execute();
  if (live.length) {
    throw invalidStatus(
      `customer '${customer.external_id ?? customer.id}' has live subscriptions (${live.map((s) => s.external_id).join(', ')}) and cannot be deleted`,
      { customer_id: customer.id, subscriptions: live.map((s) => s.external_id) },
      'Terminate them first with terminate_subscription.',
    );
  }
});
