import { hash } from 'node:crypto';
import { Decimal, type RoundingMode } from './decimal.js';
import type { CompiledExpression } from './expression.js';

/**
 * What a billable metric means, exactly: how an event becomes a value and how a period's
 * events become units. Pure; the services keep the hourly partial aggregates these functions
 * combine (see services/metering/aggregates.ts).
 */

export const AGGREGATION_TYPES = [
  'count_agg',
  'sum_agg',
  'max_agg',
  'unique_count_agg',
  'weighted_sum_agg',
  'latest_agg',
] as const;
export type AggregationType = (typeof AGGREGATION_TYPES)[number];

/** Types whose value carries over from earlier periods when `recurring` is set. */
export const RECURRING_TYPES: readonly AggregationType[] = [
  'sum_agg',
  'unique_count_agg',
  'weighted_sum_agg',
];

export const ROUNDING_FUNCTIONS = ['round', 'ceil', 'floor'] as const;
export type RoundingFunction = (typeof ROUNDING_FUNCTIONS)[number];

export interface MetricFilter {
  key: string;
  values: string[];
}

export interface MetricDefinition {
  aggregation_type: AggregationType;
  field_name: string | null;
  recurring: boolean;
  rounding_function: RoundingFunction | null;
  rounding_precision: number | null;
  filters: MetricFilter[];
  expression: CompiledExpression | null;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** Decimals kept when a weighted sum's division does not terminate (half-up). */
export const WEIGHTED_SCALE = 20;

export function bucketOf(ts: number): number {
  return Math.floor(ts / HOUR_MS);
}

/**
 * The series of an event: its organization, customer key and metric code as one integer, which
 * the per-customer event index holds instead of the three strings (a fifth of the entry, and a
 * third of what storing an event costs went into that index). It is the first 52 bits of the
 * SHA-1 of the three, NUL-separated: any process computes it without a lookup, and it never
 * changes, since every stored event carries it. Two triples may share a number (about one chance
 * in 2^52 for a pair); readers also compare the organization, customer key and code, so a shared
 * number costs a few rows read, never a wrong answer.
 */
export function seriesId(organizationId: string, customerKey: string, code: string): number {
  return parseInt(hash('sha1', `${organizationId}\u0000${customerKey}\u0000${code}`, 'hex').slice(0, 13), 16);
}

/** How an event feeds its metric: the numeric value, the unique value, the operation. */
export interface EventContribution {
  /** The aggregated number (sum, max, latest, weighted sum); null for count and unique count. */
  value: Decimal | null;
  /** The distinct value for unique_count_agg. */
  uniqueValue: string | null;
  operation: 'add' | 'remove' | null;
  /** Why the event cannot count (a missing or non-numeric field); it is stored regardless. */
  error: string | null;
}

export function contributionOf(
  metric: MetricDefinition,
  properties: Record<string, unknown>,
  timestamp: number,
): EventContribution {
  const type = metric.aggregation_type;
  if (type === 'count_agg') return { value: null, uniqueValue: null, operation: null, error: null };
  let raw: unknown;
  if (metric.expression) {
    try {
      raw = metric.expression.evaluate({ properties, timestamp });
    } catch (e) {
      return {
        value: null,
        uniqueValue: null,
        operation: null,
        error: `expression: ${(e as Error).message}`,
      };
    }
  } else {
    raw = metric.field_name ? properties[metric.field_name] : undefined;
  }
  const field = metric.field_name ?? 'value';
  if (raw === undefined || raw === null) {
    return { value: null, uniqueValue: null, operation: null, error: `properties.${field} is missing` };
  }
  if (type === 'unique_count_agg') {
    const op = properties.operation_type ?? 'add';
    if (op !== 'add' && op !== 'remove') {
      return {
        value: null,
        uniqueValue: null,
        operation: null,
        error: `properties.operation_type must be add or remove (got ${JSON.stringify(op)})`,
      };
    }
    if (typeof raw === 'object' && !(raw instanceof Decimal)) {
      return {
        value: null,
        uniqueValue: null,
        operation: null,
        error: `properties.${field} must be a string or a number`,
      };
    }
    const text = raw instanceof Decimal ? raw.toString() : String(raw);
    return { value: null, uniqueValue: text, operation: op, error: null };
  }
  const value =
    raw instanceof Decimal
      ? raw
      : typeof raw === 'string' || typeof raw === 'number'
        ? Decimal.tryParse(raw)
        : null;
  if (!value) {
    return {
      value: null,
      uniqueValue: null,
      operation: null,
      error: `properties.${field} must be a number (got ${JSON.stringify(raw).slice(0, 60)})`,
    };
  }
  return { value, uniqueValue: null, operation: null, error: null };
}

/**
 * The key under which an event's agent code joins its filter group. Usage is aggregated per
 * group, so with the agent in the group a subscription scoped to one agent reads that agent's
 * usage from the same aggregates, and every other reader adds the agents up. Metric filters may
 * not use this key (billable-metric validation refuses it).
 */
export const AGENT_GROUP_KEY = '@agent';

/**
 * The group of an event: for each of the metric's filter keys whose property holds one of the
 * declared values, `key=value`, and the agent code when the event has one; canonical JSON with
 * sorted keys, '' when there is nothing.
 */
export function groupOf(
  filters: readonly MetricFilter[],
  properties: Record<string, unknown>,
  agentCode: string | null = null,
): string {
  if (filters.length === 0) return agentCode === null ? '' : JSON.stringify({ [AGENT_GROUP_KEY]: agentCode });
  const pairs: Array<[string, string]> = [];
  if (agentCode !== null) pairs.push([AGENT_GROUP_KEY, agentCode]);
  for (const f of filters) {
    const v = properties[f.key];
    if (v === undefined || v === null || typeof v === 'object') continue;
    const s = String(v);
    if (f.values.includes(s)) pairs.push([f.key, s]);
  }
  if (pairs.length === 0) return '';
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return JSON.stringify(Object.fromEntries(pairs));
}

export function parseGroup(grp: string): Record<string, string> {
  return grp === '' ? {} : (JSON.parse(grp) as Record<string, string>);
}

/**
 * The group as readers show and combine it: its filter values, without the agent. Groups that
 * differ only by agent are one group to them.
 */
export function filterGroupKey(grp: string): string {
  if (!grp.includes(`"${AGENT_GROUP_KEY}"`)) return grp;
  const { [AGENT_GROUP_KEY]: _agent, ...rest } = parseGroup(grp);
  void _agent;
  const keys = Object.keys(rest);
  return keys.length ? JSON.stringify(rest) : '';
}

/**
 * Which groups a reader wants: those matching `filters` (every key, any of its values; the
 * agent key too, for an agent's own usage) and none of `exclude`.
 */
export interface GroupSelection {
  filters?: Record<string, readonly string[]>;
  exclude?: ReadonlyArray<Record<string, readonly string[]>>;
}

export function groupSelected(grp: string, s: GroupSelection): boolean {
  if (!groupMatches(grp, s.filters)) return false;
  return !s.exclude?.some((e) => groupMatches(grp, e));
}

/** True when the group satisfies a selection {key: [allowed values]} (every key must match). */
export function groupMatches(grp: string, selection: Record<string, readonly string[]> | undefined): boolean {
  if (!selection) return true;
  const g = parseGroup(grp);
  for (const [k, values] of Object.entries(selection)) {
    const v = g[k];
    if (v === undefined || !values.includes(v)) return false;
  }
  return true;
}

/** A partial aggregate: of one hour bucket, of the events at a period's edges, or of a period. */
export class Partial {
  count = 0;
  sum = Decimal.ZERO;
  /** Σ value × timestamp (ms): with `sum`, gives a weighted sum without visiting each event. */
  sumDt = Decimal.ZERO;
  max: Decimal | null = null;
  latestTs: number | null = null;
  latestId: string | null = null;
  latestValue: Decimal | null = null;

  addEvent(ts: number, id: string, value: Decimal | null): void {
    this.count++;
    if (value === null) return;
    this.sum = this.sum.add(value);
    this.sumDt = this.sumDt.add(value.mul(Decimal.fromInt(ts)));
    if (this.max === null || value.gt(this.max)) this.max = value;
    this.takeLatest(ts, id, value);
  }

  merge(o: {
    count: number;
    sum: Decimal;
    sumDt: Decimal;
    max: Decimal | null;
    latestTs: number | null;
    latestId: string | null;
    latestValue: Decimal | null;
  }): void {
    this.count += o.count;
    this.sum = this.sum.add(o.sum);
    this.sumDt = this.sumDt.add(o.sumDt);
    if (o.max !== null && (this.max === null || o.max.gt(this.max))) this.max = o.max;
    if (o.latestTs !== null && o.latestValue !== null)
      this.takeLatest(o.latestTs, o.latestId ?? '', o.latestValue);
  }

  private takeLatest(ts: number, id: string, value: Decimal): void {
    if (
      this.latestTs === null ||
      ts > this.latestTs ||
      (ts === this.latestTs && id > (this.latestId ?? ''))
    ) {
      this.latestTs = ts;
      this.latestId = id;
      this.latestValue = value;
    }
  }
}

/** The hour buckets a period covers whole, and the stretches at its edges read event by event. */
export function periodPieces(
  from: number,
  to: number,
): { fullFrom: number; fullTo: number; edges: Array<[number, number]> } {
  const fullFrom = Math.ceil(from / HOUR_MS);
  const fullTo = Math.floor(to / HOUR_MS);
  if (fullFrom >= fullTo) return { fullFrom: 0, fullTo: 0, edges: from < to ? [[from, to]] : [] };
  const edges: Array<[number, number]> = [];
  if (from < fullFrom * HOUR_MS) edges.push([from, fullFrom * HOUR_MS]);
  if (fullTo * HOUR_MS < to) edges.push([fullTo * HOUR_MS, to]);
  return { fullFrom, fullTo, edges };
}

/**
 * Time-weighted average level of a gauge over [from, to): events are deltas, `level0` the
 * level at `from`. ∫ level dt = level0·(to−from) + Σ d·(to − t) = level0·(to−from) + to·Σd − Σd·t.
 */
export function weightedAverage(
  level0: Decimal,
  sum: Decimal,
  sumDt: Decimal,
  from: number,
  to: number,
): Decimal {
  const span = Decimal.fromInt(to - from);
  if (span.isZero()) return Decimal.ZERO;
  const integral = level0.mul(span).add(Decimal.fromInt(to).mul(sum)).sub(sumDt);
  return integral.div(span, WEIGHTED_SCALE, 'half_up').normalize();
}

/** The metric's rounding, applied to an aggregated value (precision may be negative: tens, hundreds). */
export function applyRounding(
  value: Decimal,
  fn: RoundingFunction | null,
  precision: number | null,
): Decimal {
  if (!fn) return value;
  const p = precision ?? 0;
  const mode: RoundingMode = fn === 'round' ? 'half_up' : fn;
  if (p >= 0) return value.round(p, mode).normalize();
  const factor = Decimal.parse(`1e${-p}`);
  return value.div(factor, 0, mode).mul(factor).normalize();
}

/** A distinct value's history: first and last add, and (recurring) its presence intervals. */
export interface UniqueState {
  firstTs: number | null;
  lastTs: number | null;
  lastChangeTs: number;
  presentSince: number | null;
  /** Closed presence intervals [added, removed), in time order. */
  intervals: Array<[number, number]>;
}

export function emptyUniqueState(): UniqueState {
  return {
    firstTs: null,
    lastTs: null,
    lastChangeTs: Number.MIN_SAFE_INTEGER,
    presentSince: null,
    intervals: [],
  };
}

/**
 * Applies one add/remove at `ts` to a value's history; transitions must arrive in time order
 * (the caller rebuilds from the events when one arrives earlier than the last change).
 */
export function applyTransition(s: UniqueState, ts: number, op: 'add' | 'remove'): void {
  if (op === 'add') {
    s.firstTs = s.firstTs === null ? ts : Math.min(s.firstTs, ts);
    s.lastTs = s.lastTs === null ? ts : Math.max(s.lastTs, ts);
    if (s.presentSince === null) s.presentSince = ts;
  } else if (s.presentSince !== null) {
    if (ts > s.presentSince) s.intervals.push([s.presentSince, ts]);
    s.presentSince = null;
  }
  s.lastChangeTs = Math.max(s.lastChangeTs, ts);
}

/** Whether a recurring value was present at some moment of [from, to), and for how long. */
export function presence(
  s: Pick<UniqueState, 'presentSince' | 'intervals'>,
  from: number,
  to: number,
): { present: boolean; ms: number } {
  let ms = 0;
  let present = false;
  const take = (a: number, b: number) => {
    const lo = Math.max(a, from);
    const hi = Math.min(b, to);
    if (lo < hi) {
      present = true;
      ms += hi - lo;
    }
  };
  for (const [a, b] of s.intervals) take(a, b);
  if (s.presentSince !== null) take(s.presentSince, Number.MAX_SAFE_INTEGER);
  return { present, ms };
}

/**
 * Whether a non-recurring value had an add in [from, to) from its first and last add alone:
 * true, false, or null when only the events can tell (first before the period, last after it).
 */
export function addedWithin(
  s: Pick<UniqueState, 'firstTs' | 'lastTs'>,
  from: number,
  to: number,
): boolean | null {
  if (s.firstTs === null || s.lastTs === null) return false;
  if (s.lastTs < from || s.firstTs >= to) return false;
  if (s.firstTs >= from || s.lastTs < to) return true;
  return null;
}
