import { hash as digest } from 'node:crypto';
import { usageCommitted, watchingThresholds } from '../billing/threshold-watch.js';
import { sql, type Kysely } from 'kysely';
import type BetterSqlite3 from 'better-sqlite3';
import { inList, lookUpTogether, lookup, type Lookup } from '../../db/round-trips.js';
import type { Database, UsageEventsTable } from '../../db/schema.js';
import {
  combineServiceCosts,
  costOf,
  priceKey,
  type CostStatus,
  type ServiceCost,
} from '../../domain/cost.js';
import { Decimal } from '../../domain/decimal.js';
import type { ErrorBody } from '../../domain/errors.js';
import { looksLikeId, newId } from '../../domain/ids.js';
import { bucketOf, contributionOf, groupOf } from '../../domain/usage.js';
import { activityInsert, recordActivities, type ActivityInput } from '../activity.js';
import { agentsByCodeLookup } from '../agents.js';
import type { ServiceContext } from '../context.js';
import { applyContributions, leaseShard, type Contribution } from './aggregates.js';
import { pricesLookup } from './catalog.js';
import { metricRecord, metricsByCodeLookup } from './metrics.js';
import { prepared, sqliteHandle } from './raw.js';
import { SeriesOfBatch, listSeries } from './series.js';

/**
 * Recording usage events. One pass per batch: every record is validated by the operation,
 * references (customers, metrics, prices) are resolved once for the batch, rows are inserted
 * with ON CONFLICT DO NOTHING on (organization, transaction_id), and the aggregates of the
 * stored events are updated in the same transaction. A retried transaction_id returns the
 * stored event; nothing valid is lost because a neighbour is bad.
 */

export interface ServiceInput {
  model: string;
  provider: string;
  input_tokens?: number;
  output_tokens?: number;
  quantity?: Decimal;
}

export interface UsageEventInput {
  transaction_id: string;
  /** At least one of customer_id and external_subscription_id (the schema makes sure). */
  customer_id?: string;
  external_subscription_id?: string;
  code: string;
  timestamp?: number;
  properties?: Record<string, unknown>;
  metadata?: Record<string, string>;
  agent_code?: string;
  model?: string;
  provider?: string;
  input_tokens?: number;
  output_tokens?: number;
  quantity?: Decimal;
  services?: ServiceInput[];
}

/** A record as the operation hands it over: validated, or the reason it is not. */
export type IncomingRecord =
  | { index: number; input: UsageEventInput }
  | { index: number; error: ErrorBody; transactionId: string | null };

export type EventFlag =
  | 'UNKNOWN_METRIC'
  | 'UNKNOWN_CUSTOMER'
  | 'UNKNOWN_SUBSCRIPTION'
  | 'UNKNOWN_AGENT'
  | 'INVALID_VALUE'
  | CostStatus;

export interface ServiceCostView {
  model: string;
  provider: string;
  input_tokens: number | null;
  output_tokens: number | null;
  quantity: string | null;
  cost: string | null;
  cost_status: CostStatus;
}

export type RecordOutcome =
  | {
      index: number;
      ok: true;
      duplicate: boolean;
      row: UsageEventsTable;
      flags: EventFlag[];
    }
  | { index: number; ok: false; transaction_id: string | null; error: ErrorBody };

interface StoredService extends ServiceCostView {
  price_id: string | null;
}

/** A copy of a free-form JSON value with every object's keys in sorted order. */
function sortDeep(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(sortDeep);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortDeep((v as Record<string, unknown>)[k]);
  return out;
}

/** True when the keys are already sorted and no value is an object (the common case). */
function flatAndSorted(o: Record<string, unknown> | undefined): boolean {
  if (!o) return true;
  let prev = '';
  for (const k in o) {
    if (k < prev) return false;
    const v = o[k];
    if (v !== null && typeof v === 'object') return false;
    prev = k;
  }
  return true;
}

/** JSON with every object's keys in sorted order: equal maps give equal text. */
function canonicalJson(o: Record<string, unknown>): string {
  return JSON.stringify(flatAndSorted(o) ? o : sortDeep(o));
}

/** A field of the fingerprint: its length first, so that no two payloads give the same text. */
function field(v: string | number | undefined): string {
  if (v === undefined) return '-';
  const text = String(v);
  return `${text.length}:${text}`;
}

/**
 * The fingerprint of what the caller sent, which tells a retry (the same payload) from another
 * event under a used transaction_id: every field the event was given, in one order, and the
 * free-form maps (properties, metadata) as JSON with their keys sorted. `properties` is that
 * JSON when the caller has it (ingestion stores it: serialized once for both). "2" and a
 * SHA-1: 28 characters; events stored before carry legacyPayloadHash's 27.
 */
export function payloadHash(input: UsageEventInput, properties?: string): string {
  const props =
    input.properties === undefined
      ? undefined
      : properties !== undefined && flatAndSorted(input.properties)
        ? properties
        : canonicalJson(input.properties);
  const text =
    field(input.transaction_id) +
    field(input.customer_id) +
    field(input.external_subscription_id) +
    field(input.code) +
    field(input.timestamp) +
    field(props) +
    field(input.metadata === undefined ? undefined : canonicalJson(input.metadata)) +
    field(input.agent_code) +
    field(input.model) +
    field(input.provider) +
    field(input.input_tokens) +
    field(input.output_tokens) +
    field(input.quantity?.toString()) +
    field(input.services === undefined ? undefined : JSON.stringify(input.services));
  return `2${digest('sha1', text, 'base64url')}`;
}

/** How long legacyPayloadHash's fingerprints are (payloadHash's are one longer). */
const LEGACY_HASH_LENGTH = 27;

/**
 * The fingerprint events were stored with before payloadHash: the validated input serialized
 * whole (its fields in schema order, its maps' keys sorted). Kept to compare retries of those
 * events.
 */
export function legacyPayloadHash(input: UsageEventInput): string {
  const canonical =
    flatAndSorted(input.properties) && flatAndSorted(input.metadata)
      ? input
      : { ...input, properties: sortDeep(input.properties), metadata: sortDeep(input.metadata) };
  return digest('sha1', JSON.stringify(canonical), 'base64url');
}

/** Whether a stored event's fingerprint is this payload's, whichever kind it has. */
function samePayload(stored: string, hash: string, input: UsageEventInput): boolean {
  return stored.length === LEGACY_HASH_LENGTH ? stored === legacyPayloadHash(input) : stored === hash;
}

/**
 * An event that named only a subscription no one has: it belongs to no customer, so it is
 * kept under a key of its own. Customer references are trimmed, so none starts with a space
 * and this key can never be mistaken for one.
 */
export function unknownSubscriptionKey(externalSubscriptionId: string): string {
  return `${SUBSCRIPTION_KEY}${externalSubscriptionId}`;
}

const SUBSCRIPTION_KEY = ' subscription:';

/** The subscription external_id an unknownSubscriptionKey names; null for a customer's key. */
export function subscriptionOfKey(key: string): string | null {
  return key.startsWith(SUBSCRIPTION_KEY) ? key.slice(SUBSCRIPTION_KEY.length) : null;
}

const NO_FLAGS: EventFlag[] = Object.freeze([]) as unknown as EventFlag[];

/** `subscriptionKnown`: false when the event named a subscription that did not exist (known only at ingest). */
export function eventFlags(
  row: UsageEventsTable,
  customerKnown: boolean,
  subscriptionKnown = true,
): EventFlag[] {
  // Most events carry no flag: they share one empty list.
  if (
    row.metric_id !== null &&
    customerKnown &&
    subscriptionKnown &&
    (row.agent_code === null || row.agent_id !== null) &&
    !row.value_error &&
    (!row.cost_status || row.cost_status === 'PROCESSED')
  )
    return NO_FLAGS;
  const flags: EventFlag[] = [];
  if (row.metric_id === null) flags.push('UNKNOWN_METRIC');
  // Sent with only an unknown subscription: there is no customer reference to be unknown.
  // Its customer is known once a subscription with that external_id exists (events.lateCustomers).
  const subscriptionOnly = row.customer_ref === '' && row.external_subscription_id !== null;
  if (subscriptionOnly ? !customerKnown : !subscriptionKnown) flags.push('UNKNOWN_SUBSCRIPTION');
  if (!customerKnown && !subscriptionOnly) flags.push('UNKNOWN_CUSTOMER');
  if (row.agent_code !== null && row.agent_id === null) flags.push('UNKNOWN_AGENT');
  if (row.value_error) flags.push('INVALID_VALUE');
  if (row.cost_status && row.cost_status !== 'PROCESSED') flags.push(row.cost_status as CostStatus);
  return flags;
}

export const INSERT_COLUMNS = [
  'id',
  'organization_id',
  'transaction_id',
  'payload_hash',
  'code',
  'metric_id',
  'customer_ref',
  'customer_id',
  'customer_key',
  'external_subscription_id',
  'timestamp',
  'hour',
  'properties',
  'metadata',
  'agent_code',
  'agent_id',
  'provider',
  'model',
  'input_tokens',
  'output_tokens',
  'quantity',
  'services',
  'cost',
  'cost_status',
  'value',
  'value_error',
  'grp',
  'unique_value',
  'operation',
  'created_at',
  'series',
] as const satisfies readonly (keyof UsageEventsTable)[];

/**
 * Customers named by id or external_id: each reference → the live customer's id. Two queries,
 * one per key, for the reason rowsByAnyKey gives (as a lookup, they share the batch's one
 * SELECT on PostgreSQL).
 */
function customerRefsLookup(ctx: ServiceContext, refs: string[]): Lookup<Map<string, string>> {
  const live = () =>
    ctx.db
      .selectFrom('customers')
      .select(['id', 'external_id'])
      .where('organization_id', '=', ctx.organizationId)
      .where('deleted_at', 'is', null);
  const ids = refs.filter((r) => looksLikeId('customer', r));
  return lookup(
    [
      ids.length === 0 ? null : live().where(inList(ctx.dialect, 'id', ids)),
      refs.length === 0 ? null : live().where(inList(ctx.dialect, 'external_id', refs)),
    ],
    ([byId, byExternalId]) => {
      const out = new Map<string, string>();
      for (const r of byExternalId) out.set(r.external_id!, r.id);
      // An id wins over an external_id that happens to equal it.
      for (const r of byId) out.set(r.id, r.id);
      return out;
    },
  );
}

interface SubscriptionRef {
  customerId: string;
  /** The customer's external_id, else its id: what the event records as its customer reference. */
  customerRef: string;
}

/**
 * The customers of subscriptions named by external_id, once per batch. An external_id names
 * its live subscription, else its latest (usage reported late for an ended one still counts).
 */
function subscriptionRefsLookup(ctx: ServiceContext, refs: string[]): Lookup<Map<string, SubscriptionRef>> {
  return lookup(
    [
      refs.length === 0
        ? null
        : ctx.db
            .selectFrom('subscriptions as s')
            .innerJoin('customers as c', 'c.id', 's.customer_id')
            .select([
              's.external_id',
              's.status',
              's.created_at',
              's.customer_id',
              'c.external_id as customer_external_id',
            ])
            .where('s.organization_id', '=', ctx.organizationId)
            .where(inList(ctx.dialect, 's.external_id', refs)),
    ],
    ([rows]) => {
      const rank = (r: { status: string; created_at: number }) => [
        r.status === 'pending' || r.status === 'active' ? 1 : 0,
        Number(r.created_at),
      ];
      const best = new Map<string, (typeof rows)[number]>();
      for (const r of rows) {
        const prev = best.get(r.external_id);
        const [live, at] = rank(r);
        if (!prev || live! > rank(prev)[0]! || (live === rank(prev)[0] && at! > rank(prev)[1]!))
          best.set(r.external_id, r);
      }
      const out = new Map<string, SubscriptionRef>();
      for (const [ext, r] of best)
        out.set(ext, { customerId: r.customer_id, customerRef: r.customer_external_id ?? r.customer_id });
      return out;
    },
  );
}

/** Prices every service of every record; the map is keyed by provider/model. */
function priceServices(
  input: UsageEventInput,
  prices: Map<string, import('../../domain/cost.js').Price | null>,
): { cost: Decimal | null; status: CostStatus | null; services: StoredService[] | null } {
  if (input.services) {
    const services: StoredService[] = [];
    const costs: ServiceCost[] = [];
    for (const s of input.services) {
      const c = costOf(prices.get(priceKey(s.provider, s.model)) ?? null, s);
      costs.push(c);
      services.push({
        model: s.model,
        provider: s.provider,
        input_tokens: s.input_tokens ?? null,
        output_tokens: s.output_tokens ?? null,
        quantity: s.quantity?.toString() ?? null,
        cost: c.cost?.toString() ?? null,
        cost_status: c.status,
        price_id: c.priceId,
      });
    }
    const total = combineServiceCosts(costs);
    return { cost: total.cost, status: total.status, services };
  }
  if (input.model && input.provider) {
    const c = costOf(prices.get(priceKey(input.provider, input.model)) ?? null, input);
    return { cost: c.cost, status: c.status, services: null };
  }
  return { cost: null, status: null, services: null };
}

/** The columns a batch reply and the duplicate check read from an already stored event. */
const REPLY_COLUMNS = [
  'id',
  'transaction_id',
  'payload_hash',
  'timestamp',
  'cost',
  'cost_status',
  'services',
  'customer_id',
  'customer_ref',
  'customer_key',
  'metric_id',
  'value_error',
  'agent_code',
  'agent_id',
] as const satisfies readonly (keyof UsageEventsTable)[];

/**
 * The rest of a stored event a batch reply does not read: the prototype of the rows a batch
 * lookup returns (cheaper than copying seventeen fields into each of a thousand rows).
 */
const REPLY_PLACEHOLDER: Omit<UsageEventsTable, (typeof REPLY_COLUMNS)[number]> = {
  organization_id: '',
  code: '',
  external_subscription_id: null,
  hour: 0,
  properties: '{}',
  metadata: '{}',
  provider: null,
  model: null,
  input_tokens: null,
  output_tokens: null,
  quantity: null,
  value: null,
  grp: '',
  unique_value: null,
  operation: null,
  created_at: 0,
  series: 0,
};

/**
 * `fullRows`: return already-stored events with every field (record_usage shows the whole
 * event); a batch reply needs only ids, costs and flags.
 */
export async function recordEvents(
  ctx: ServiceContext,
  records: IncomingRecord[],
  options: { fullRows?: boolean } = {},
): Promise<RecordOutcome[]> {
  const now = ctx.now();
  const outcomes: RecordOutcome[] = new Array(records.length);
  /** `properties`: the JSON the row stores, serialized once for the row and the fingerprint. */
  const valid: Array<{ index: number; input: UsageEventInput; hash: string; properties: string }> = [];
  const firstByTxn = new Map<string, { index: number; hash: string }>();
  const repeats: Array<{ index: number; input: UsageEventInput; hash: string; first: number }> = [];
  records.forEach((r, i) => {
    if ('error' in r) {
      outcomes[i] = { index: r.index, ok: false, transaction_id: r.transactionId, error: r.error };
      return;
    }
    const properties = JSON.stringify(r.input.properties ?? {});
    const hash = payloadHash(r.input, properties);
    const first = firstByTxn.get(r.input.transaction_id);
    if (first) {
      repeats.push({ index: i, input: r.input, hash, first: first.index });
      return;
    }
    firstByTxn.set(r.input.transaction_id, { index: i, hash });
    valid.push({ index: i, input: r.input, hash, properties });
  });

  const columns = options.fullRows ? INSERT_COLUMNS : REPLY_COLUMNS;
  const asRows = (found: ReadonlyArray<Partial<UsageEventsTable>>): Map<string, UsageEventsTable> =>
    new Map(
      found.map((r) => {
        const e = options.fullRows
          ? (r as UsageEventsTable)
          : (Object.assign(Object.create(REPLY_PLACEHOLDER), r) as UsageEventsTable);
        return [e.transaction_id, e];
      }),
    );
  const lookupStored = async (txns: string[]) => asRows(await storedByTransactionId(ctx, txns, columns));

  // Everything the batch needs to know, asked at once (one round trip on PostgreSQL): whether
  // its first event is stored, its customers, subscriptions, metrics and model prices.
  const customerRefs = new Set<string>();
  const subscriptionRefs = new Set<string>();
  const codes = new Set<string>();
  const agentCodes = new Set<string>();
  // Each (provider, model) once: a batch of a thousand LLM calls names a handful of models.
  const pairs = new Map<string, { provider: string; model: string }>();
  const addPair = (provider: string, model: string) => {
    const key = `${provider}\u0000${model}`;
    if (!pairs.has(key)) pairs.set(key, { provider, model });
  };
  for (const { input } of valid) {
    if (input.customer_id !== undefined) customerRefs.add(input.customer_id);
    if (input.agent_code !== undefined) agentCodes.add(input.agent_code);
    if (input.external_subscription_id !== undefined) subscriptionRefs.add(input.external_subscription_id);
    codes.add(input.code);
    if (input.services) for (const s of input.services) addPair(s.provider, s.model);
    else if (input.model && input.provider) addPair(input.provider, input.model);
  }
  const [storedFirst, customers, subscriptions, metricRows, prices, agents] = await lookUpTogether(
    ctx.db,
    ctx.dialect,
    [
      storedLookup(ctx, valid[0]?.input.transaction_id, columns),
      customerRefsLookup(ctx, [...customerRefs]),
      subscriptionRefsLookup(ctx, [...subscriptionRefs]),
      metricsByCodeLookup(ctx, [...codes]),
      pricesLookup(ctx, [...pairs.values()]),
      agentsByCodeLookup(ctx, [...agentCodes]),
    ] as const,
  );
  const metrics = new Map([...metricRows].map(([code, row]) => [code, metricRecord(row)]));

  // A batch of new events and a batch sent again (a retry after a timeout) are both common; its
  // first event tells which. A retry: find everything already stored first and build only the
  // new events. New events: insert straight away (a stored one is skipped by the insert and
  // looked up afterwards), sparing a thousand index lookups that would find nothing.
  let stored = asRows(storedFirst);
  if (stored.size && valid.length > 1) stored = await lookupStored(valid.map((v) => v.input.transaction_id));
  const fresh = stored.size ? valid.filter((v) => !stored.has(v.input.transaction_id)) : valid;

  const rows: UsageEventsTable[] = [];
  // Of each new row, in the same order: its record's position, its metric value as computed (a
  // Decimal, not parsed back from the row), and whether the subscription it named exists.
  const rowIndex: number[] = [];
  const rowValue: Array<Decimal | null> = [];
  const rowSubscriptionKnown: boolean[] = [];
  const series = new SeriesOfBatch(ctx);
  const emptyMetadata = '{}';
  for (const { index, input, hash, properties: propertiesJson } of fresh) {
    const owner = attribute(input, customers, subscriptions);
    if ('error' in owner) {
      outcomes[index] = {
        index: records[index]!.index,
        ok: false,
        transaction_id: input.transaction_id,
        error: owner.error,
      };
      continue;
    }
    const ts = input.timestamp ?? now;
    const properties = input.properties ?? {};
    const metric = metrics.get(input.code);
    const contribution = metric ? contributionOf(metric.definition, properties, ts) : null;
    const customerId = owner.customerId;
    const priced = priceServices(input, prices);
    const agentCode = input.agent_code ?? null;
    const row: UsageEventsTable = {
      id: newId('event', now),
      organization_id: ctx.organizationId,
      transaction_id: input.transaction_id,
      payload_hash: hash,
      code: input.code,
      metric_id: metric?.id ?? null,
      customer_ref: owner.customerRef,
      customer_id: customerId,
      customer_key: owner.customerKey,
      external_subscription_id: input.external_subscription_id ?? null,
      timestamp: ts,
      hour: bucketOf(ts),
      properties: propertiesJson,
      metadata: input.metadata ? JSON.stringify(input.metadata) : emptyMetadata,
      agent_code: agentCode,
      agent_id: agentCode === null ? null : (agents.get(agentCode) ?? null),
      provider: input.services ? null : (input.provider ?? null),
      model: input.services ? null : (input.model ?? null),
      input_tokens: input.services ? null : (input.input_tokens ?? null),
      output_tokens: input.services ? null : (input.output_tokens ?? null),
      quantity: input.quantity?.toString() ?? null,
      services: priced.services ? JSON.stringify(priced.services) : null,
      cost: priced.cost?.toString() ?? null,
      cost_status: priced.status,
      value: contribution?.value?.toString() ?? null,
      value_error: contribution?.error ?? null,
      grp: metric ? groupOf(metric.definition.filters, properties, agentCode) : '',
      unique_value: contribution?.uniqueValue ?? null,
      operation: contribution?.operation ?? null,
      created_at: now,
      series: series.of(owner.customerKey, input.code),
    };
    rows.push(row);
    rowIndex.push(index);
    rowValue.push(contribution?.value ?? null);
    rowSubscriptionKnown.push(owner.subscriptionKnown);
  }

  const inserted = await insertRows(ctx, rows);
  const listing = listSeries(ctx, series.fresh);

  const byMetric = new Map<string, Contribution[]>();
  /** Stored by a concurrent request between the lookup and the insert. */
  const raced: string[] = [];
  const createdRows: UsageEventsTable[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (!inserted[i]) {
      raced.push(row.transaction_id);
      continue;
    }
    createdRows.push(row);
    const index = rowIndex[i]!;
    outcomes[index] = {
      index: records[index]!.index,
      ok: true,
      duplicate: false,
      row,
      flags: eventFlags(row, row.customer_id !== null, rowSubscriptionKnown[i]),
    };
    if (row.metric_id && !row.value_error) {
      let list = byMetric.get(row.metric_id);
      if (!list) {
        list = [];
        byMetric.set(row.metric_id, list);
      }
      list.push({
        customerKey: row.customer_key,
        grp: row.grp,
        ts: row.timestamp,
        id: row.id,
        value: rowValue[i]!,
        uniqueValue: row.unique_value,
        operation: row.operation as 'add' | 'remove' | null,
      });
    }
  }
  if (raced.length) for (const [txn, e] of await lookupStored(raced)) stored.set(txn, e);

  for (const { index, input, hash } of valid) {
    // Stored now, or refused before insertion (customer and subscription disagree).
    if (outcomes[index]) continue;
    const existing = stored.get(input.transaction_id);
    outcomes[index] = existing
      ? sameOrConflict(records[index]!.index, input, hash, existing, customers)
      : {
          index: records[index]!.index,
          ok: false,
          transaction_id: input.transaction_id,
          error: {
            code: 'INTERNAL_ERROR',
            message: `transaction_id '${input.transaction_id}' could not be stored; retry`,
            details: { retryable: true },
          },
        };
  }
  for (const r of repeats) {
    const firstOutcome = outcomes[r.first]!;
    const firstHash = firstByTxn.get(r.input.transaction_id)!.hash;
    outcomes[r.index] =
      firstOutcome.ok && firstHash === r.hash
        ? {
            index: records[r.index]!.index,
            ok: true,
            duplicate: true,
            row: firstOutcome.row,
            flags: firstOutcome.flags,
          }
        : !firstOutcome.ok && firstOutcome.error.code === 'VALIDATION_ERROR' && firstHash === r.hash
          ? { ...firstOutcome, index: records[r.index]!.index }
          : conflictOutcome(
              records[r.index]!.index,
              r.input.transaction_id,
              firstOutcome.ok ? firstOutcome.row.id : null,
            );
  }

  const created = createdRows.length;
  if (created > 0 && watchingThresholds(ctx.env)) {
    // Usage thresholds of these customers are checked once the batch commits.
    const customerIds = new Set<string>();
    for (const r of createdRows) if (r.customer_id !== null) customerIds.add(r.customer_id);
    ctx.afterCommit(() => usageCommitted(ctx.env, ctx.organizationId, customerIds));
  }
  const activity: ActivityInput[] = [];
  if (created > 0) {
    const first = createdRows[0]!;
    const oneCustomer = createdRows.every((r) => r.customer_key === first.customer_key);
    activity.push({
      type: 'usage_events.recorded',
      resourceType: 'usage_event',
      resourceId: first.id,
      // Attributed to a customer only when the whole call was about one.
      customerId: oneCustomer ? first.customer_id : null,
      externalCustomerId: oneCustomer ? first.customer_ref || null : null,
      changes: {
        first_event_id: first.id,
        created,
        duplicates: outcomes.reduce((n, o) => (o.ok && o.duplicate ? n + 1 : n), 0),
        failed: outcomes.reduce((n, o) => (o.ok ? n : n + 1), 0),
        codes: [...new Set(createdRows.map((r) => r.code))].slice(0, 20),
        ...needsAttentionOf(createdRows),
      },
    });
  }
  // The activity entry: on PostgreSQL in one statement with the aggregates; SQLite runs writes
  // one by one, so there it takes the insert compiled once (recordActivities).
  const together = ctx.dialect === 'postgres';
  const alsoWrite = [
    ...(activity.length && together ? [activityInsert(ctx, activity)] : []),
    ...(listing ? [listing] : []),
  ];
  if (activity.length && !together) await recordActivities(ctx, activity);
  const lease = byMetric.size ? leaseShard() : undefined;
  try {
    const byId = new Map([...metrics.values()].map((m) => [m.id, m]));
    await applyContributions(
      ctx,
      [...byMetric].map(([metricId, items]) => ({ metric: byId.get(metricId)!, items })),
      lease?.shard,
      alsoWrite,
    );
  } finally {
    lease?.release();
  }
  return outcomes;
}

/** Events a batch listed in a usage.needs_attention webhook event. */
const ATTENTION_IDS = 100;

/**
 * The batch's events stored without a cost (an unknown model, or volume missing), for its
 * activity entry — and so for the one usage.needs_attention webhook event of the batch. Absent
 * when there are none, as for almost every batch.
 */
function needsAttentionOf(rows: readonly UsageEventsTable[]): { needs_attention?: Record<string, unknown> } {
  let waiting: UsageEventsTable[] | undefined;
  for (const r of rows)
    if (r.cost_status === 'NEEDS_COST_BACKFILL' || r.cost_status === 'MISSING_VOLUME_DATA')
      (waiting ??= []).push(r);
  if (!waiting) return {};
  const models = new Map<string, { provider: string; model: string; event_count: number }>();
  let missingVolume = 0;
  for (const r of waiting) {
    if (r.cost_status === 'MISSING_VOLUME_DATA') {
      missingVolume++;
      continue;
    }
    const unknown = r.services
      ? (JSON.parse(r.services) as StoredService[]).filter((s) => s.cost_status === 'NEEDS_COST_BACKFILL')
      : [{ provider: r.provider ?? '', model: r.model ?? '' }];
    for (const k of new Set(unknown.map((u) => priceKey(u.provider, u.model)))) {
      const u = unknown.find((x) => priceKey(x.provider, x.model) === k)!;
      const m = models.get(k) ?? { provider: u.provider, model: u.model, event_count: 0 };
      m.event_count++;
      models.set(k, m);
    }
  }
  return {
    needs_attention: {
      event_count: waiting.length,
      unknown_models: [...models.values()].sort((a, b) => b.event_count - a.event_count),
      missing_volume: { event_count: missingVolume },
      event_ids: waiting.slice(0, ATTENTION_IDS).map((r) => r.id),
    },
  };
}

type Attribution =
  | { customerId: string | null; customerRef: string; customerKey: string; subscriptionKnown: boolean }
  | { error: ErrorBody };

/**
 * Whose usage an event is: the customer it names, or its subscription's customer. Naming both
 * is fine when they are the same customer; an unknown subscription never loses the event.
 */
function attribute(
  input: UsageEventInput,
  customers: ReadonlyMap<string, string>,
  subscriptions: ReadonlyMap<string, SubscriptionRef>,
): Attribution {
  const ext = input.external_subscription_id;
  const sub = ext === undefined ? undefined : subscriptions.get(ext);
  if (input.customer_id !== undefined) {
    const customerId = customers.get(input.customer_id) ?? null;
    if (sub && sub.customerId !== customerId) {
      return {
        error: {
          code: 'VALIDATION_ERROR',
          message: `external_subscription_id: subscription '${ext}' belongs to customer '${sub.customerRef}', not to customer_id '${input.customer_id}'`,
          details: {
            issues: [
              {
                field: 'external_subscription_id',
                message: `belongs to customer '${sub.customerRef}', not '${input.customer_id}'`,
              },
            ],
            external_subscription_id: ext,
            customer_id: input.customer_id,
          },
          hint: 'Send only external_subscription_id (the event goes to its customer), or the customer_id it belongs to.',
        },
      };
    }
    return {
      customerId,
      customerRef: input.customer_id,
      customerKey: customerId ?? input.customer_id,
      subscriptionKnown: ext === undefined || sub !== undefined,
    };
  }
  if (sub) {
    return {
      customerId: sub.customerId,
      customerRef: sub.customerRef,
      customerKey: sub.customerId,
      subscriptionKnown: true,
    };
  }
  return {
    customerId: null,
    customerRef: '',
    customerKey: unknownSubscriptionKey(ext!),
    subscriptionKnown: false,
  };
}

function conflictOutcome(index: number, transactionId: string, existingId: string | null): RecordOutcome {
  return {
    index,
    ok: false,
    transaction_id: transactionId,
    error: {
      code: 'CONFLICT',
      message: `transaction_id: '${transactionId}' was already used${existingId ? ` by event ${existingId}` : ''} with a different payload`,
      details: {
        field: 'transaction_id',
        value: transactionId,
        ...(existingId ? { event_id: existingId } : {}),
      },
      hint: 'A retry must resend exactly the same event; a new event needs a new transaction_id.',
    },
  };
}

function sameOrConflict(
  index: number,
  input: UsageEventInput,
  hash: string,
  existing: UsageEventsTable,
  customers: Map<string, string>,
): RecordOutcome {
  if (!samePayload(existing.payload_hash, hash, input))
    return conflictOutcome(index, input.transaction_id, existing.id);
  const known = existing.customer_id !== null || customers.has(existing.customer_ref);
  return { index, ok: true, duplicate: true, row: existing, flags: eventFlags(existing, known) };
}

/** The stored event with this transaction id, if any (no id: nothing to ask). */
function storedLookup(
  ctx: ServiceContext,
  transactionId: string | undefined,
  columns: readonly (keyof UsageEventsTable)[],
): Lookup<Array<Partial<UsageEventsTable>>> {
  return lookup(
    [
      transactionId === undefined
        ? null
        : ctx.db
            .selectFrom('usage_events')
            .select([...columns])
            .where('organization_id', '=', ctx.organizationId)
            .where('transaction_id', '=', transactionId),
    ],
    ([rows]) => rows as Array<Partial<UsageEventsTable>>,
  );
}

const LOOKUP_CHUNK = 100;

/**
 * Already stored events by transaction id. Not through the query builder: compiling an IN list
 * of a thousand values costs more than the lookup. SQLite runs cached statements of up to 100
 * placeholders; PostgreSQL takes the ids as one array.
 */
async function storedByTransactionId<C extends keyof UsageEventsTable>(
  ctx: ServiceContext,
  txns: string[],
  columns: readonly C[],
): Promise<Array<Pick<UsageEventsTable, C>>> {
  const list = columns.join(', ');
  const raw = sqliteHandle(ctx);
  if (raw) {
    const out: Array<Pick<UsageEventsTable, C>> = [];
    for (let i = 0; i < txns.length; i += LOOKUP_CHUNK) {
      const chunk = txns.slice(i, i + LOOKUP_CHUNK);
      const stmt = prepared(
        raw,
        `SELECT ${list} FROM usage_events WHERE organization_id = ? AND transaction_id IN (${chunk.map(() => '?').join(',')})`,
      );
      out.push(...(stmt.all(ctx.organizationId, ...chunk) as Array<Pick<UsageEventsTable, C>>));
    }
    return out;
  }
  // One unique-index lookup per id. `transaction_id = ANY(...)` reads the same, but until
  // PostgreSQL has statistics on a young table it takes organization_id for selective and may
  // scan every event of the organization through another index; the LIMIT keeps the subquery
  // apart, and for an equality on the whole unique key no other plan looks cheaper.
  const { rows } = await sql<Pick<UsageEventsTable, C>>`
    SELECT e.* FROM unnest(${txns}::text[]) AS k(txn)
    CROSS JOIN LATERAL (
      SELECT ${sql.raw(list)} FROM usage_events
      WHERE organization_id = ${ctx.organizationId} AND transaction_id = k.txn LIMIT 1
    ) e`.execute(ctx.db);
  return rows;
}

/**
 * SQLite's insert of one event row, with its parameters in INSERT_COLUMNS order; a row whose
 * transaction id is already stored is skipped (changes = 0). bench/ingest-ceiling.ts times it alone.
 */
export function sqliteEventInsert(raw: BetterSqlite3.Database): BetterSqlite3.Statement {
  return prepared(
    raw,
    `INSERT INTO usage_events (${INSERT_COLUMNS.join(', ')}) VALUES (${INSERT_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (organization_id, transaction_id) DO NOTHING`,
  );
}

/** Inserts the rows that are new; returns, for each row, whether it was stored. */
async function insertRows(ctx: ServiceContext, rows: UsageEventsTable[]): Promise<boolean[]> {
  const inserted: boolean[] = new Array(rows.length);
  if (rows.length === 0) return inserted;
  const raw = sqliteHandle(ctx);
  if (raw) {
    const stmt = sqliteEventInsert(raw);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const res = stmt.run(
        r.id,
        r.organization_id,
        r.transaction_id,
        r.payload_hash,
        r.code,
        r.metric_id,
        r.customer_ref,
        r.customer_id,
        r.customer_key,
        r.external_subscription_id,
        r.timestamp,
        r.hour,
        r.properties,
        r.metadata,
        r.agent_code,
        r.agent_id,
        r.provider,
        r.model,
        r.input_tokens,
        r.output_tokens,
        r.quantity,
        r.services,
        r.cost,
        r.cost_status,
        r.value,
        r.value_error,
        r.grp,
        r.unique_value,
        r.operation,
        r.created_at,
        r.series,
      );
      inserted[i] = res.changes > 0;
    }
    return inserted;
  }
  const stored = new Set(await pgEventInsert(ctx.db, rows));
  for (let i = 0; i < rows.length; i++) inserted[i] = stored.has(rows[i]!.transaction_id);
  return inserted;
}

/**
 * PostgreSQL's insert of event rows in one statement; returns the transaction ids it stored (a
 * row whose transaction id is already stored is skipped). bench/ingest-ceiling.ts times it alone.
 */
export async function pgEventInsert(db: Kysely<Database>, rows: UsageEventsTable[]): Promise<string[]> {
  // Sorted by transaction id: two transactions inserting overlapping batches wait on each
  // other's keys in the same order, never in a cycle.
  const sorted = [...rows].sort((a, b) =>
    a.transaction_id < b.transaction_id ? -1 : a.transaction_id > b.transaction_id ? 1 : 0,
  );
  // One JSON document rather than an array per column: serializing it is native and cheaper
  // than pg's array literals, and PostgreSQL maps its keys onto the columns by name.
  const { rows: out } = await sql<{ transaction_id: string }>`
    INSERT INTO usage_events (${sql.raw(INSERT_COLUMNS.join(', '))})
    SELECT ${sql.raw(INSERT_COLUMNS.join(', '))}
    FROM json_populate_recordset(NULL::usage_events, ${JSON.stringify(sorted)}::json)
    ON CONFLICT (organization_id, transaction_id) DO NOTHING
    RETURNING transaction_id`.execute(db);
  return out.map((r) => r.transaction_id);
}
