import { sql, type SelectQueryBuilder } from 'kysely';
import type { Database } from '../../db/schema.js';
import { rowsByAnyKey } from '../../db/sql.js';
import { Decimal } from '../../domain/decimal.js';
import { validation } from '../../domain/errors.js';
import { offsetSegments, toIso } from '../../domain/time.js';
import { DAY_MS } from '../../domain/usage.js';
import type { ServiceContext } from '../context.js';
import { findCustomer } from '../customers.js';
import { usageAttribution } from '../billing/usage-attribution.js';
import { subscriptionOwners } from './customer-keys.js';
import { customerKeysFor } from './events.js';
import { subscriptionOfKey, unknownSubscriptionKey, type ServiceCostView } from './ingest.js';
import { inCustomerSeries, inSeries } from './series.js';
import { ensureSqlFunctions } from './sql-functions.js';
import { inTimeRange } from './time-range.js';

/**
 * Usage and cost analytics over the events of a window: totals and breakdowns, computed in
 * SQL with exact decimal sums (`dec_sum`). Days are calendar days of a time zone (the
 * organization's unless the caller names one).
 */

export const GROUP_BYS = ['customer', 'metric', 'agent', 'plan', 'model', 'provider', 'day'] as const;
export type GroupBy = (typeof GROUP_BYS)[number];

export interface Totals {
  event_count: number;
  units: string;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cost: string;
  cost_cents: number;
  cost_currency: 'USD';
  /** Events with a model or services whose cost is not known yet. */
  unpriced_event_count: number;
}

export interface BreakdownRow extends Totals {
  key: string | null;
  label: string | null;
}

interface Filter {
  from: number;
  to: number;
  customerKeys?: string[];
  agent_code?: string;
  /** IANA zone whose calendar days `day` groups by. */
  timeZone: string;
}

type Q = SelectQueryBuilder<Database, 'usage_events', object>;

function base(ctx: ServiceContext, f: Filter): Q {
  const keys = f.customerKeys;
  // Some customers' events through their series, or the organization's through its time index.
  let q = ctx.db
    .selectFrom('usage_events')
    .where((eb) =>
      keys ? inCustomerSeries(eb, ctx.organizationId, keys) : eb('organization_id', '=', ctx.organizationId),
    )
    .where((eb) => inTimeRange(eb, f.from, f.to)) as unknown as Q;
  if (f.agent_code) q = q.where('agent_code', '=', f.agent_code);
  return q;
}

interface RawAgg {
  k: string | number | null;
  event_count: number | string;
  units: string | null;
  input_tokens: number | string | null;
  output_tokens: number | string | null;
  cost: string | null;
  unpriced: number | string | null;
}

const AGG = [
  sql<number>`count(*)`.as('event_count'),
  sql<string>`dec_sum(coalesce(value, quantity, '1'))`.as('units'),
  sql<number>`sum(coalesce(input_tokens, 0))`.as('input_tokens'),
  sql<number>`sum(coalesce(output_tokens, 0))`.as('output_tokens'),
  sql<string>`dec_sum(cost)`.as('cost'),
  sql<number>`sum(case when cost_status in ('NEEDS_COST_BACKFILL', 'MISSING_VOLUME_DATA') then 1 else 0 end)`.as(
    'unpriced',
  ),
];

function totalsOf(r: Omit<RawAgg, 'k'> | undefined, extraTokens = { input: 0, output: 0 }): Totals {
  const cost = Decimal.parse(r?.cost ?? '0');
  const input = Number(r?.input_tokens ?? 0) + extraTokens.input;
  const output = Number(r?.output_tokens ?? 0) + extraTokens.output;
  return {
    event_count: Number(r?.event_count ?? 0),
    units: Decimal.parse(r?.units ?? '0').toString(),
    input_tokens: input,
    output_tokens: output,
    total_tokens: input + output,
    cost: cost.toString(),
    cost_cents: cost.round(2, 'half_up').toMinorNumber(2),
    cost_currency: 'USD',
    unpriced_event_count: Number(r?.unpriced ?? 0),
  };
}

/**
 * The calendar day of an event in the filter's zone, as a number of days since 1970-01-01 of
 * local time: floor((t + offset) / day), with the offset the zone had at t. Over a window the
 * offset changes only at the zone's transitions (daylight saving), so the SQL is a CASE with one
 * branch per stretch of one offset, and the same stretches serve events looked at in JavaScript.
 */
function dayKey(f: Filter): { sql: ReturnType<typeof sql>; of: (ms: number) => number } {
  const segments = offsetSegments(f.timeZone, f.from, f.to);
  const last = segments[segments.length - 1]!;
  // Integer arithmetic on both databases (SQLite would bind a JavaScript number as a real).
  const branch = (offset: number) => sql`(timestamp + CAST(${offset} AS INTEGER)) / ${sql.lit(DAY_MS)}`;
  return {
    sql:
      segments.length === 1
        ? branch(last.offsetMs)
        : sql`CASE ${sql.join(
            segments
              .slice(0, -1)
              .map((s) => sql`WHEN timestamp < CAST(${s.until} AS BIGINT) THEN ${branch(s.offsetMs)}`),
            sql` `,
          )} ELSE ${branch(last.offsetMs)} END`,
    of: (ms) => Math.floor((ms + segments.find((s) => ms < s.until)!.offsetMs) / DAY_MS),
  };
}

const KEY_SQL: Record<Exclude<GroupBy, 'plan' | 'model' | 'provider' | 'day'>, ReturnType<typeof sql>> = {
  customer: sql`customer_key`,
  metric: sql`code`,
  agent: sql`agent_code`,
};

/** Tokens of multi-service events live in their services; they are added per service here. */
async function serviceTokens(ctx: ServiceContext, f: Filter) {
  const rows = await base(ctx, f)
    .select(['services', 'customer_key', 'code', 'agent_code', 'timestamp'])
    .where('services', 'is not', null)
    .execute();
  return rows.map((r) => ({ ...r, services: JSON.parse(r.services!) as ServiceCostView[] }));
}

async function breakdown(ctx: ServiceContext, f: Filter, by: GroupBy): Promise<BreakdownRow[]> {
  if (by === 'plan') return planBreakdown(ctx, f);
  const services = await serviceTokens(ctx, f);
  if (by === 'model' || by === 'provider') {
    // Single-service events by their model; multi-service events count once per service.
    const rows = (await base(ctx, f)
      .select(sql<string>`${sql.ref(by)}`.as('k'))
      .select(AGG)
      .where('services', 'is', null)
      .groupBy(by)
      .execute()) as unknown as RawAgg[];
    const out = new Map<
      string | null,
      { agg: RawAgg; input: number; output: number; cost: Decimal; events: number; unpriced: number }
    >();
    for (const r of rows)
      out.set(r.k === null ? null : String(r.k), {
        agg: r,
        input: 0,
        output: 0,
        cost: Decimal.ZERO,
        events: 0,
        unpriced: 0,
      });
    for (const e of services) {
      for (const s of e.services) {
        const k = by === 'model' ? s.model : s.provider.toLowerCase();
        let o = out.get(k);
        if (!o) {
          o = {
            agg: { k, event_count: 0, units: '0', input_tokens: 0, output_tokens: 0, cost: '0', unpriced: 0 },
            input: 0,
            output: 0,
            cost: Decimal.ZERO,
            events: 0,
            unpriced: 0,
          };
          out.set(k, o);
        }
        o.input += s.input_tokens ?? 0;
        o.output += s.output_tokens ?? 0;
        o.events++;
        if (s.cost) o.cost = o.cost.add(Decimal.parse(s.cost));
        else o.unpriced++;
      }
    }
    return [...out.entries()].map(([k, o]) => {
      const t = totalsOf(
        {
          ...o.agg,
          event_count: Number(o.agg.event_count) + o.events,
          cost: Decimal.parse(o.agg.cost ?? '0')
            .add(o.cost)
            .toString(),
          unpriced: Number(o.agg.unpriced ?? 0) + o.unpriced,
        },
        { input: o.input, output: o.output },
      );
      return { key: k, label: k ?? (by === 'model' ? '(no model)' : '(no provider)'), ...t };
    });
  }
  const day = by === 'day' ? dayKey(f) : undefined;
  const rows = (await base(ctx, f)
    .select((day ? day.sql : KEY_SQL[by as keyof typeof KEY_SQL]).as('k'))
    .select(AGG)
    .groupBy(sql`1`)
    .execute()) as unknown as RawAgg[];
  const extra = new Map<string, { input: number; output: number }>();
  for (const e of services) {
    const k =
      by === 'customer'
        ? e.customer_key
        : by === 'metric'
          ? e.code
          : by === 'agent'
            ? (e.agent_code ?? '')
            : String(day!.of(Number(e.timestamp)));
    const t = extra.get(k) ?? { input: 0, output: 0 };
    for (const s of e.services) {
      t.input += s.input_tokens ?? 0;
      t.output += s.output_tokens ?? 0;
    }
    extra.set(k, t);
  }
  const labels =
    by === 'customer'
      ? await customersOfKeys(
          ctx,
          rows.map((r) => String(r.k)),
        )
      : new Map<string, { label: string }>();
  return rows.map((r) => {
    const raw = r.k === null ? null : String(r.k);
    const key = by === 'day' && raw !== null ? toIso(Number(raw) * DAY_MS).slice(0, 10) : raw;
    const t = totalsOf(r, extra.get(by === 'agent' ? (raw ?? '') : (raw ?? '')));
    return { key, label: by === 'customer' ? (labels.get(raw ?? '')?.label ?? raw) : key, ...t };
  });
}

/**
 * The customers usage keys stand for (customer-keys.ts), by key, with the label breakdowns show:
 * customer ids (deleted customers too), live customers' external_ids, and the keys of
 * subscriptions events named before the subscription existed (their first one's customer).
 */
async function customersOfKeys(
  ctx: ServiceContext,
  keys: readonly string[],
): Promise<Map<string, { id: string; label: string }>> {
  const out = new Map<string, { id: string; label: string }>();
  if (keys.length === 0) return out;
  const owners = await subscriptionOwners(
    ctx,
    keys.flatMap((k) => {
      const x = subscriptionOfKey(k);
      return x === null ? [] : [x];
    }),
  );
  const refs = [...new Set([...keys, ...[...owners.values()].map((o) => o.id)])];
  // Ids find deleted customers too; external_ids, as everywhere, name live ones (and only those
  // are indexed).
  const rows = await rowsByAnyKey(['external_id', 'id'] as const, (column) => {
    const q = ctx.db
      .selectFrom('customers')
      .select(['id', 'external_id', 'name', 'legal_name', 'email', 'deleted_at'])
      .where('organization_id', '=', ctx.organizationId)
      .where(column, 'in', refs);
    return (column === 'external_id' ? q.where('deleted_at', 'is', null) : q).execute();
  });
  for (const c of rows) {
    const found = { id: c.id, label: c.name ?? c.legal_name ?? c.external_id ?? c.email ?? c.id };
    out.set(c.id, found);
    if (c.external_id && c.deleted_at === null) out.set(c.external_id, found);
  }
  for (const [externalId, owner] of owners) {
    const found = out.get(owner.id);
    if (found) out.set(unknownSubscriptionKey(externalId), found);
  }
  return out;
}

/** Σ of aggregates (one plan's share of several groups). */
function addAgg(a: RawAgg, b: RawAgg): RawAgg {
  const dec = (x: string | null) => Decimal.parse(x ?? '0');
  return {
    k: a.k,
    event_count: Number(a.event_count) + Number(b.event_count),
    units: dec(a.units).add(dec(b.units)).toString(),
    input_tokens: Number(a.input_tokens ?? 0) + Number(b.input_tokens ?? 0),
    output_tokens: Number(a.output_tokens ?? 0) + Number(b.output_tokens ?? 0),
    cost: dec(a.cost).add(dec(b.cost)).toString(),
    unpriced: Number(a.unpriced ?? 0) + Number(b.unpriced ?? 0),
  };
}

/**
 * Usage by the plan it counts for (billing/usage-attribution.ts): the events of each customer
 * key, agent and metric are summed in SQL, and a group that a subscription change falls inside
 * (a plan change mid-period, a start or an end) is summed again stretch by stretch. Key: the
 * plan id; null for usage of no subscription.
 */
async function planBreakdown(ctx: ServiceContext, f: Filter): Promise<BreakdownRow[]> {
  const groups = (await base(ctx, f)
    .select(['customer_key', 'agent_code', 'code'])
    .select(sql<number>`min(timestamp)`.as('first_at'))
    .select(sql<number>`max(timestamp)`.as('last_at'))
    .select(AGG)
    .groupBy(['customer_key', 'agent_code', 'code'])
    .execute()) as unknown as Array<
    RawAgg & {
      customer_key: string;
      agent_code: string | null;
      code: string;
      first_at: number;
      last_at: number;
    }
  >;
  const services = await serviceTokens(ctx, f);
  const customers = await customersOfKeys(ctx, [
    ...new Set([...groups.map((g) => g.customer_key), ...services.map((e) => e.customer_key)]),
  ]);
  const attribution = await usageAttribution(
    ctx,
    f.from,
    f.to,
    f.customerKeys ? [...new Set([...customers.values()].map((c) => c.id))] : undefined,
  );
  const sums = new Map<string | null, RawAgg>();
  const add = (planId: string | null, r: RawAgg) => {
    const prev = sums.get(planId);
    sums.set(planId, prev ? addAgg(prev, r) : r);
  };
  for (const g of groups) {
    const customerId = customers.get(g.customer_key)?.id ?? null;
    const first = Number(g.first_at);
    const changes = attribution.changesWithin(customerId, g.agent_code, first, Number(g.last_at) + 1);
    if (!changes.length) {
      add(attribution.planAt(customerId, g.agent_code, g.code, first), g);
      continue;
    }
    // Stretch i runs from starts[i] to the next change.
    const starts = [first, ...changes];
    const stretch = sql`CASE ${sql.join(
      changes.map((t, i) => sql`WHEN timestamp < CAST(${t} AS BIGINT) THEN ${sql.lit(i)}`),
      sql` `,
    )} ELSE ${sql.lit(changes.length)} END`;
    const rows = (await base(ctx, f)
      .where((eb) => inSeries(eb, ctx.organizationId, [g.customer_key], g.code))
      .where('agent_code', g.agent_code === null ? 'is' : '=', g.agent_code)
      .select(stretch.as('k'))
      .select(AGG)
      .groupBy(sql`1`)
      .execute()) as unknown as RawAgg[];
    for (const r of rows) add(attribution.planAt(customerId, g.agent_code, g.code, starts[Number(r.k)]!), r);
  }
  const extra = new Map<string | null, { input: number; output: number }>();
  for (const e of services) {
    const planId = attribution.planAt(
      customers.get(e.customer_key)?.id ?? null,
      e.agent_code,
      e.code,
      Number(e.timestamp),
    );
    const t = extra.get(planId) ?? { input: 0, output: 0 };
    for (const s of e.services) {
      t.input += s.input_tokens ?? 0;
      t.output += s.output_tokens ?? 0;
    }
    extra.set(planId, t);
  }
  return [...sums.entries()].map(([planId, r]) => ({
    key: planId,
    label: planId === null ? '(no plan)' : (attribution.plans.get(planId)?.name ?? planId),
    ...totalsOf(r, extra.get(planId)),
  }));
}

async function totals(ctx: ServiceContext, f: Filter): Promise<Totals> {
  const r = (await base(ctx, f).select(AGG).executeTakeFirst()) as unknown as RawAgg | undefined;
  const services = await serviceTokens(ctx, f);
  let input = 0;
  let output = 0;
  for (const e of services)
    for (const s of e.services) {
      input += s.input_tokens ?? 0;
      output += s.output_tokens ?? 0;
    }
  return totalsOf(r, { input, output });
}

function checkRange(from: number, to: number): void {
  if (from >= to) throw validation('to', `must be after from (${toIso(from)})`);
}

export async function getUsageAnalytics(
  ctx: ServiceContext,
  input: {
    from: number;
    to: number;
    group_by?: GroupBy;
    customer_id?: string;
    agent_code?: string;
    timezone?: string;
  },
): Promise<{
  from: string;
  to: string;
  group_by: GroupBy | null;
  timezone: string;
  totals: Totals;
  breakdown: BreakdownRow[];
}> {
  checkRange(input.from, input.to);
  ensureSqlFunctions(ctx);
  const f: Filter = {
    from: input.from,
    to: input.to,
    customerKeys: input.customer_id ? await customerKeysFor(ctx, input.customer_id) : undefined,
    agent_code: input.agent_code,
    timeZone: input.timezone ?? (await ctx.organization()).timezone,
  };
  const rows = input.group_by ? await breakdown(ctx, f, input.group_by) : [];
  rows.sort((a, b) =>
    input.group_by === 'day'
      ? String(a.key).localeCompare(String(b.key))
      : Decimal.parse(b.cost).cmp(a.cost) || b.event_count - a.event_count,
  );
  return {
    from: toIso(input.from),
    to: toIso(input.to),
    group_by: input.group_by ?? null,
    timezone: f.timeZone,
    totals: await totals(ctx, f),
    breakdown: rows,
  };
}

export async function getCostMetrics(
  ctx: ServiceContext,
  input: {
    from: number;
    to: number;
    customer_id?: string;
    agent_code?: string;
    include_prior_window?: boolean;
    timezone?: string;
  },
) {
  checkRange(input.from, input.to);
  ensureSqlFunctions(ctx);
  const customer = input.customer_id ? await findCustomer(ctx, input.customer_id) : undefined;
  const keys = input.customer_id ? await customerKeysFor(ctx, input.customer_id) : undefined;
  const f: Filter = {
    from: input.from,
    to: input.to,
    customerKeys: keys,
    agent_code: input.agent_code,
    timeZone: input.timezone ?? (await ctx.organization()).timezone,
  };
  const byCost = (a: BreakdownRow, b: BreakdownRow) =>
    Decimal.parse(b.cost).cmp(a.cost) || b.event_count - a.event_count;
  const current = await totals(ctx, f);
  const result = {
    from: toIso(input.from),
    to: toIso(input.to),
    customer_id: customer?.id ?? null,
    agent_code: input.agent_code ?? null,
    timezone: f.timeZone,
    totals: current,
    by_day: (await breakdown(ctx, f, 'day')).sort((a, b) => String(a.key).localeCompare(String(b.key))),
    by_agent: (await breakdown(ctx, f, 'agent')).sort(byCost),
    by_customer: (await breakdown(ctx, f, 'customer')).sort(byCost),
    by_metric: (await breakdown(ctx, f, 'metric')).sort(byCost),
    by_plan: (await breakdown(ctx, f, 'plan')).sort(byCost),
    by_model: (await breakdown(ctx, f, 'model')).sort(byCost),
    prior: null as null | {
      from: string;
      to: string;
      totals: Totals;
      cost_change: string;
      cost_change_percent: string | null;
    },
  };
  if (input.include_prior_window) {
    const span = input.to - input.from;
    const prior = await totals(ctx, { ...f, from: input.from - span, to: input.from });
    const delta = Decimal.parse(current.cost).sub(prior.cost);
    const priorCost = Decimal.parse(prior.cost);
    result.prior = {
      from: toIso(input.from - span),
      to: toIso(input.from),
      totals: prior,
      cost_change: delta.toString(),
      cost_change_percent: priorCost.isZero() ? null : delta.mul(100).div(priorCost, 2, 'half_up').toFixed(2),
    };
  }
  return result;
}
