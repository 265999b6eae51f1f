import type { ServicePricesTable, UsageEventsTable } from '../../db/schema.js';
import { countAll } from '../../db/sql.js';
import { combineServiceCosts, costOf, priceKey, type CostStatus, type Price } from '../../domain/cost.js';
import { Decimal } from '../../domain/decimal.js';
import { BillfoldError, validation } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { pageOffset, pagination, type PageRequest, type Pagination } from '../../domain/pagination.js';
import { toIso } from '../../domain/time.js';
import { recordActivity } from '../activity.js';
import type { ServiceContext } from '../context.js';
import { inTimeRange } from './time-range.js';
import {
  catalog,
  catalogPrice,
  findCatalogEntry,
  organizationPrice,
  resolvePrices,
  type CatalogEntry,
} from './catalog.js';
import { eventView, lateCustomers, needsAttention, type UsageEventView } from './events.js';
import type { ServiceCostView } from './ingest.js';

/**
 * Cost repair flows (MarginFront's): which events could not be priced and why, mapping an
 * unknown model to a known price, supplying missing volumes, and the organization's own prices.
 */

// --- Catalog -----------------------------------------------------------------------------------

export interface CatalogServiceView {
  id: string;
  provider: string;
  canonical_name: string;
  display_name: string;
  service_type: string;
  is_api: boolean;
  input_price_per_million: string | null;
  output_price_per_million: string | null;
  unit_price: string | null;
  unit: string | null;
  context_window: number | null;
  currency: 'USD';
  source: 'catalog' | 'organization';
}

function ownView(r: ServicePricesTable): CatalogServiceView {
  return {
    id: r.id,
    provider: r.provider,
    canonical_name: r.model,
    display_name: r.display_name ?? r.model,
    service_type: r.service_type,
    is_api: r.input_price === null && r.output_price === null,
    input_price_per_million: r.input_price,
    output_price_per_million: r.output_price,
    unit_price: r.unit_price,
    unit: r.unit,
    context_window: r.context_window,
    currency: 'USD',
    source: 'organization',
  };
}

function entryView(e: CatalogEntry): CatalogServiceView {
  return { ...e, currency: 'USD', source: 'catalog' };
}

export async function listCatalogServices(
  ctx: ServiceContext,
  f: { provider?: string; service_type?: string; is_api?: boolean; search?: string },
  page: PageRequest,
): Promise<{ services: CatalogServiceView[]; prices_as_of: string; pagination: Pagination }> {
  const own = await ctx.db
    .selectFrom('service_prices')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .orderBy('provider')
    .orderBy('model')
    .execute();
  const ownKeys = new Set(own.map((r) => priceKey(r.provider, r.model)));
  const all = [
    ...own.map(ownView),
    ...catalog()
      .entries.filter((e) => !ownKeys.has(priceKey(e.provider, e.canonical_name)))
      .map(entryView),
  ];
  const search = f.search?.toLowerCase();
  const matches = all.filter(
    (s) =>
      (!f.provider || s.provider === f.provider.toLowerCase()) &&
      (!f.service_type || s.service_type.toLowerCase() === f.service_type.toLowerCase()) &&
      (f.is_api === undefined || s.is_api === f.is_api) &&
      (!search ||
        s.canonical_name.toLowerCase().includes(search) ||
        s.display_name.toLowerCase().includes(search)),
  );
  const start = pageOffset(page);
  return {
    services: matches.slice(start, start + page.per_page),
    prices_as_of: catalog().pricesAsOf,
    pagination: pagination(page, matches.length),
  };
}

export interface ServicePriceInput {
  provider: string;
  model: string;
  display_name?: string;
  service_type?: string;
  input_price_per_million?: Decimal;
  output_price_per_million?: Decimal;
  unit_price?: Decimal;
  unit?: string;
  context_window?: number;
}

export async function setServicePrice(
  ctx: ServiceContext,
  input: ServicePriceInput,
): Promise<{ service: CatalogServiceView; created: boolean; backfilled_events: number }> {
  const tokens = input.input_price_per_million !== undefined || input.output_price_per_million !== undefined;
  if (tokens && input.unit_price !== undefined) {
    throw validation(
      'unit_price',
      'give either per-token prices (input_price_per_million, output_price_per_million) or unit_price, not both',
    );
  }
  if (!tokens && input.unit_price === undefined) {
    throw validation(
      'input_price_per_million',
      'give input_price_per_million and/or output_price_per_million for a model, or unit_price for a per-unit service',
    );
  }
  for (const [field, v] of Object.entries({
    input_price_per_million: input.input_price_per_million,
    output_price_per_million: input.output_price_per_million,
    unit_price: input.unit_price,
  })) {
    if (v && v.isNegative()) throw validation(field, `must not be negative (got ${v.toString()})`);
  }
  const provider = input.provider.trim().toLowerCase();
  const model = input.model.trim().toLowerCase();
  const now = ctx.now();
  const existing = await ctx.db
    .selectFrom('service_prices')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('provider', '=', provider)
    .where('model', '=', model)
    .executeTakeFirst();
  const catalogEntry = findCatalogEntry(provider, model);
  const row: ServicePricesTable = {
    id: existing?.id ?? newId('service_price', now),
    organization_id: ctx.organizationId,
    provider,
    model,
    display_name:
      input.display_name ?? existing?.display_name ?? catalogEntry?.display_name ?? input.model.trim(),
    service_type:
      input.service_type ?? existing?.service_type ?? catalogEntry?.service_type ?? (tokens ? 'LLM' : 'API'),
    input_price: tokens ? (input.input_price_per_million?.toString() ?? null) : null,
    output_price: tokens ? (input.output_price_per_million?.toString() ?? null) : null,
    unit_price: tokens ? null : input.unit_price!.toString(),
    unit: tokens ? null : (input.unit ?? existing?.unit ?? catalogEntry?.unit ?? 'unit'),
    context_window: input.context_window ?? existing?.context_window ?? catalogEntry?.context_window ?? null,
    created_at: existing?.created_at ?? now,
    updated_at: now,
  };
  if (existing) {
    const { id, organization_id, created_at: _c, ...settable } = row;
    await ctx.db
      .updateTable('service_prices')
      .set(settable)
      .where('id', '=', id)
      .where('organization_id', '=', organization_id)
      .execute();
  } else {
    await ctx.db.insertInto('service_prices').values(row).execute();
  }
  const backfilled = await backfillCosts(ctx);
  await recordActivity(ctx, {
    type: existing ? 'service_price.updated' : 'service_price.created',
    resourceType: 'service_price',
    resourceId: row.id,
    changes: {
      provider,
      model,
      input_price_per_million: row.input_price,
      output_price_per_million: row.output_price,
      unit_price: row.unit_price,
      unit: row.unit,
      ...(backfilled ? { backfilled_events: backfilled } : {}),
    },
  });
  return { service: ownView(row), created: !existing, backfilled_events: backfilled };
}

// --- Repricing ---------------------------------------------------------------------------------

interface StoredService extends ServiceCostView {
  price_id: string | null;
}

function pairsOf(r: UsageEventsTable): Array<{ provider: string; model: string }> {
  if (r.services)
    return (JSON.parse(r.services) as StoredService[]).map((s) => ({ provider: s.provider, model: s.model }));
  if (r.provider && r.model) return [{ provider: r.provider, model: r.model }];
  return [];
}

/** The event's cost fields recomputed with today's prices. */
function reprice(
  r: UsageEventsTable,
  prices: Map<string, Price | null>,
): Pick<UsageEventsTable, 'cost' | 'cost_status' | 'services'> {
  if (r.services) {
    const services = JSON.parse(r.services) as StoredService[];
    const costs = services.map((s) =>
      costOf(prices.get(priceKey(s.provider, s.model)) ?? null, {
        input_tokens: s.input_tokens,
        output_tokens: s.output_tokens,
        quantity: s.quantity === null ? null : Decimal.parse(s.quantity),
      }),
    );
    const next = services.map((s, i) => ({
      ...s,
      cost: costs[i]!.cost?.toString() ?? null,
      cost_status: costs[i]!.status,
      price_id: costs[i]!.priceId,
    }));
    const total = combineServiceCosts(costs);
    return {
      cost: total.cost?.toString() ?? null,
      cost_status: total.status,
      services: JSON.stringify(next),
    };
  }
  if (!r.provider || !r.model) return { cost: r.cost, cost_status: r.cost_status, services: r.services };
  const c = costOf(prices.get(priceKey(r.provider, r.model)) ?? null, {
    input_tokens: r.input_tokens === null ? null : Number(r.input_tokens),
    output_tokens: r.output_tokens === null ? null : Number(r.output_tokens),
    quantity: r.quantity === null ? null : Decimal.parse(r.quantity),
  });
  return { cost: c.cost?.toString() ?? null, cost_status: c.status, services: null };
}

async function saveCost(
  ctx: ServiceContext,
  r: UsageEventsTable,
  next: Pick<UsageEventsTable, 'cost' | 'cost_status' | 'services'>,
) {
  await ctx.db
    .updateTable('usage_events')
    .set(next)
    .where('organization_id', '=', ctx.organizationId)
    .where('id', '=', r.id)
    .execute();
}

/**
 * Reprices the events waiting for a price (optionally only those that use a given
 * provider/model); returns how many changed.
 */
async function backfillCosts(ctx: ServiceContext, only?: string): Promise<number> {
  const waiting = await ctx.db
    .selectFrom('usage_events')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where(needsAttention('NEEDS_COST_BACKFILL'))
    .execute();
  const affected = only
    ? waiting.filter((r) => pairsOf(r).some((p) => priceKey(p.provider, p.model) === only))
    : waiting;
  if (affected.length === 0) return 0;
  const prices = await resolvePrices(ctx, affected.flatMap(pairsOf));
  let changed = 0;
  for (const r of affected) {
    const next = reprice(r, prices);
    if (next.cost_status !== r.cost_status || next.cost !== r.cost || next.services !== r.services) {
      await saveCost(ctx, r, next);
      if (next.cost_status !== r.cost_status || next.cost !== r.cost) changed++;
    }
  }
  return changed;
}

// --- map_model ---------------------------------------------------------------------------------

export interface ModelMappingView {
  id: string;
  source_provider: string;
  source_model: string;
  target_provider: string;
  target_model: string;
  target_price_id: string;
  created_at: string;
  updated_at: string;
}

export async function mapModel(
  ctx: ServiceContext,
  input: {
    source_model: string;
    source_provider: string;
    target_model?: string;
    target_provider?: string;
    target_price_id?: string;
  },
): Promise<{ mapping: ModelMappingView; created: boolean; backfilled_events: number }> {
  const byName = input.target_model !== undefined || input.target_provider !== undefined;
  if (byName && input.target_price_id !== undefined) {
    throw validation(
      'target_price_id',
      'give either target_price_id or target_model with target_provider, not both',
    );
  }
  if (!byName && input.target_price_id === undefined) {
    throw validation(
      'target_model',
      'give target_model and target_provider (a catalog or organization price), or target_price_id',
    );
  }
  if (byName && (!input.target_model || !input.target_provider)) {
    throw validation(
      input.target_model ? 'target_provider' : 'target_model',
      'is required with the other; give both',
    );
  }
  const own = await ctx.db
    .selectFrom('service_prices')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  let target: Price | undefined;
  if (input.target_price_id) {
    const ref = input.target_price_id;
    const o = own.find((r) => r.id === ref);
    const entry = catalog().entries.find((e) => e.id === ref);
    target = o ? organizationPrice(o) : entry ? catalogPrice(entry) : undefined;
    if (!target) {
      throw new BillfoldError(
        'NOT_FOUND',
        `target_price_id: no catalog entry or organization price has the id '${ref}'`,
        { field: 'target_price_id', ref },
        'list_catalog_services shows each price with its id (e.g. openai/gpt-4o, or svc_… for your own).',
      );
    }
  } else {
    const key = priceKey(input.target_provider!, input.target_model!);
    const o = own.find((r) => priceKey(r.provider, r.model) === key);
    const entry = catalog().byKey.get(key);
    target = o ? organizationPrice(o) : entry ? catalogPrice(entry) : undefined;
    if (!target) {
      throw new BillfoldError(
        'NOT_FOUND',
        `target_model: '${input.target_model}' from '${input.target_provider}' is neither in the catalog nor one of your prices`,
        { field: 'target_model', model: input.target_model, provider: input.target_provider },
        'list_catalog_services with `search` finds the canonical name; set_service_price adds your own.',
      );
    }
  }
  const sourceProvider = input.source_provider.trim().toLowerCase();
  const sourceModel = input.source_model.trim().toLowerCase();
  if (priceKey(sourceProvider, sourceModel) === priceKey(target.provider, target.model)) {
    throw validation(
      'target_model',
      'is the same as the source; map an unknown model to a different, known one',
    );
  }
  const now = ctx.now();
  const existing = await ctx.db
    .selectFrom('model_mappings')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('source_provider', '=', sourceProvider)
    .where('source_model', '=', sourceModel)
    .executeTakeFirst();
  const row = {
    id: existing?.id ?? newId('model_mapping', now),
    organization_id: ctx.organizationId,
    source_provider: sourceProvider,
    source_model: sourceModel,
    target_provider: target.provider,
    target_model: target.model,
    target_price_id: target.source === 'organization' ? target.id : null,
    created_at: existing?.created_at ?? now,
    updated_at: now,
  };
  const same =
    existing &&
    existing.target_provider === row.target_provider &&
    existing.target_model === row.target_model &&
    existing.target_price_id === row.target_price_id;
  if (!existing) await ctx.db.insertInto('model_mappings').values(row).execute();
  else if (!same) {
    await ctx.db
      .updateTable('model_mappings')
      .set({
        target_provider: row.target_provider,
        target_model: row.target_model,
        target_price_id: row.target_price_id,
        updated_at: now,
      })
      .where('id', '=', row.id)
      .execute();
  }
  const backfilled = await backfillCosts(ctx, priceKey(sourceProvider, sourceModel));
  if (!same || backfilled > 0) {
    await recordActivity(ctx, {
      type: existing ? 'model_mapping.updated' : 'model_mapping.created',
      resourceType: 'model_mapping',
      resourceId: row.id,
      changes: {
        source: `${sourceProvider}/${sourceModel}`,
        target: target.id,
        ...(existing && !same
          ? { previous_target: `${existing.target_provider}/${existing.target_model}` }
          : {}),
        backfilled_events: backfilled,
      },
    });
  }
  return {
    mapping: {
      id: row.id,
      source_provider: row.source_provider,
      source_model: row.source_model,
      target_provider: row.target_provider,
      target_model: row.target_model,
      target_price_id: target.id,
      created_at: toIso(row.created_at),
      updated_at: toIso(same ? existing!.updated_at : row.updated_at),
    },
    created: !existing,
    backfilled_events: backfilled,
  };
}

// --- Needs attention ---------------------------------------------------------------------------

export interface NeedsAttention {
  unknown_models: Array<{ provider: string; model: string; event_count: number }>;
  missing_volume: { event_count: number };
  unknown_metric_codes: Array<{ code: string; event_count: number }>;
  unknown_customers: Array<{ external_customer_id: string; event_count: number }>;
  unknown_agent_codes: Array<{ agent_code: string; event_count: number }>;
  invalid_values: Array<{ code: string; event_count: number; example_error: string }>;
  total_events: number;
}

export async function getNeedsAttention(
  ctx: ServiceContext,
  range: { from?: number; to?: number },
): Promise<NeedsAttention> {
  const base = () => {
    let q = ctx.db.selectFrom('usage_events').where('organization_id', '=', ctx.organizationId);
    if (range.from !== undefined || range.to !== undefined)
      q = q.where((eb) => inTimeRange(eb, range.from, range.to));
    return q;
  };
  const waiting = await base()
    .select(['provider', 'model', 'services'])
    .where(needsAttention('NEEDS_COST_BACKFILL'))
    .execute();
  const models = new Map<string, { provider: string; model: string; event_count: number }>();
  const prices = await resolvePrices(
    ctx,
    waiting.flatMap((r) => pairsOf(r as UsageEventsTable)),
  );
  for (const r of waiting) {
    const unknown = new Map<string, { provider: string; model: string }>();
    for (const p of pairsOf(r as UsageEventsTable)) {
      const k = priceKey(p.provider, p.model);
      if (!prices.get(k)) unknown.set(k, p);
    }
    for (const [k, p] of unknown) {
      const m = models.get(k) ?? {
        provider: p.provider.trim().toLowerCase(),
        model: p.model.trim(),
        event_count: 0,
      };
      m.event_count++;
      models.set(k, m);
    }
  }
  const missing = await base()
    .select(countAll())
    .where(needsAttention('MISSING_VOLUME_DATA'))
    .executeTakeFirstOrThrow();
  const codes = await base()
    .select(['code', countAll()])
    .where('metric_id', 'is', null)
    .groupBy('code')
    .orderBy('code')
    .execute();
  const refs = await base()
    .select(['customer_ref', countAll()])
    .where('customer_id', 'is', null)
    // '' marks events that named only an unknown subscription: no customer reference to fix.
    .where('customer_ref', '!=', '')
    .groupBy('customer_ref')
    .orderBy('customer_ref')
    .execute();
  // References that match a customer created since already count: only the others need attention.
  const late = await lateCustomers(
    ctx,
    refs.map((r) => ({ customer_id: null, customer_ref: r.customer_ref }) as UsageEventsTable),
  );
  // The partial index usage_events_unknown_agent holds exactly these events.
  const agents = await base()
    .select(['agent_code', countAll()])
    .where('agent_code', 'is not', null)
    .where('agent_id', 'is', null)
    .groupBy('agent_code')
    .orderBy('agent_code')
    .execute();
  const invalid = await base()
    .select((eb) => ['code', countAll(), eb.fn.min('value_error').as('example_error')])
    .where('value_error', 'is not', null)
    .groupBy('code')
    .orderBy('code')
    .execute();
  const unknown_models = [...models.values()].sort((a, b) => b.event_count - a.event_count);
  const unknown_customers = refs
    .filter((r) => !late.has(r.customer_ref))
    .map((r) => ({ external_customer_id: r.customer_ref, event_count: Number(r.count) }));
  const unknown_metric_codes = codes.map((c) => ({ code: c.code, event_count: Number(c.count) }));
  const unknown_agent_codes = agents.map((a) => ({
    agent_code: a.agent_code!,
    event_count: Number(a.count),
  }));
  const invalid_values = invalid.map((r) => ({
    code: r.code,
    event_count: Number(r.count),
    example_error: String(r.example_error),
  }));
  return {
    unknown_models,
    missing_volume: { event_count: Number(missing.count) },
    unknown_metric_codes,
    unknown_customers,
    unknown_agent_codes,
    invalid_values,
    total_events:
      unknown_models.reduce((n, m) => n + m.event_count, 0) +
      Number(missing.count) +
      unknown_metric_codes.reduce((n, m) => n + m.event_count, 0) +
      unknown_customers.reduce((n, m) => n + m.event_count, 0) +
      unknown_agent_codes.reduce((n, m) => n + m.event_count, 0) +
      invalid_values.reduce((n, m) => n + m.event_count, 0),
  };
}

export async function getMissingVolume(
  ctx: ServiceContext,
  range: { from?: number; to?: number },
  page: PageRequest,
): Promise<{ events: UsageEventView[]; pagination: Pagination }> {
  let q = ctx.db
    .selectFrom('usage_events')
    .where('organization_id', '=', ctx.organizationId)
    .where(needsAttention('MISSING_VOLUME_DATA'));
  if (range.from !== undefined || range.to !== undefined)
    q = q.where((eb) => inTimeRange(eb, range.from, range.to));
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll()
    .orderBy('hour', 'desc')
    .orderBy('timestamp', 'desc')
    .orderBy('id', 'desc')
    .limit(page.per_page)
    .offset(pageOffset(page))
    .execute();
  const late = await lateCustomers(ctx, rows);
  return { events: rows.map((r) => eventView(r, late)), pagination: pagination(page, Number(count)) };
}

// --- fill_volume -------------------------------------------------------------------------------

export async function fillVolume(
  ctx: ServiceContext,
  input: {
    event_id: string;
    input_tokens?: number;
    output_tokens?: number;
    quantity?: Decimal;
    service_index?: number;
  },
): Promise<{ event: UsageEventView; changed: boolean }> {
  const base = ctx.db
    .selectFrom('usage_events')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId);
  const row =
    (await base.where('id', '=', input.event_id).executeTakeFirst()) ??
    (await base.where('transaction_id', '=', input.event_id).executeTakeFirst());
  if (!row) {
    throw new BillfoldError(
      'NOT_FOUND',
      `event_id: no usage event has the id or transaction_id '${input.event_id}'`,
      { resource: 'usage_event', field: 'event_id', ref: input.event_id },
      'get_missing_volume lists the events waiting for volume data.',
    );
  }
  const view = async (r: UsageEventsTable) => eventView(r, await lateCustomers(ctx, [r]));
  if (row.cost_status === 'PROCESSED') return { event: await view(row), changed: false };
  if (row.cost_status === null) {
    throw new BillfoldError(
      'INVALID_STATUS',
      `event ${row.id} names no model or services, so it has no cost to complete`,
      { event_id: row.id },
    );
  }
  const given =
    input.input_tokens !== undefined || input.output_tokens !== undefined || input.quantity !== undefined;
  if (!given)
    throw validation(
      'input_tokens',
      'give input_tokens and/or output_tokens for a model, or quantity for a per-unit service',
    );
  const next: UsageEventsTable = { ...row };
  if (row.services) {
    const services = JSON.parse(row.services) as StoredService[];
    let i = input.service_index;
    if (i === undefined) {
      const lacking = services
        .map((s, idx) => (s.cost_status === 'MISSING_VOLUME_DATA' ? idx : -1))
        .filter((idx) => idx >= 0);
      if (lacking.length !== 1) {
        throw validation(
          'service_index',
          `this event has ${services.length} services and ${lacking.length} lack volume; say which one (0-${services.length - 1})`,
        );
      }
      i = lacking[0]!;
    }
    const s = services[i];
    if (!s) throw validation('service_index', `must be between 0 and ${services.length - 1} (got ${i})`);
    if (input.input_tokens !== undefined) s.input_tokens = input.input_tokens;
    if (input.output_tokens !== undefined) s.output_tokens = input.output_tokens;
    if (input.quantity !== undefined) s.quantity = input.quantity.toString();
    next.services = JSON.stringify(services);
  } else {
    if (input.service_index !== undefined)
      throw validation('service_index', 'applies to multi-service events only');
    if (input.input_tokens !== undefined) next.input_tokens = input.input_tokens;
    if (input.output_tokens !== undefined) next.output_tokens = input.output_tokens;
    if (input.quantity !== undefined) next.quantity = input.quantity.toString();
  }
  const priced = reprice(next, await resolvePrices(ctx, pairsOf(next)));
  Object.assign(next, priced);
  await ctx.db
    .updateTable('usage_events')
    .set({
      input_tokens: next.input_tokens,
      output_tokens: next.output_tokens,
      quantity: next.quantity,
      services: next.services,
      cost: next.cost,
      cost_status: next.cost_status,
    })
    .where('organization_id', '=', ctx.organizationId)
    .where('id', '=', row.id)
    .execute();
  await recordActivity(ctx, {
    type: 'usage_event.volume_filled',
    resourceType: 'usage_event',
    resourceId: row.id,
    customerId: row.customer_id,
    externalCustomerId: row.customer_ref,
    changes: {
      cost_status: [row.cost_status, next.cost_status],
      cost: [row.cost, next.cost],
      ...(input.input_tokens !== undefined ? { input_tokens: input.input_tokens } : {}),
      ...(input.output_tokens !== undefined ? { output_tokens: input.output_tokens } : {}),
      ...(input.quantity !== undefined ? { quantity: input.quantity.toString() } : {}),
    },
  });
  return { event: await view(next), changed: true };
}

export type { CostStatus };
