import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Decimal } from '../../domain/decimal.js';
import { priceKey, type Price } from '../../domain/cost.js';
import type { ModelMappingsTable, ServicePricesTable } from '../../db/schema.js';
import { inList, lookUp, lookup, type Lookup } from '../../db/round-trips.js';
import type { ServiceContext } from '../context.js';

/**
 * The cost catalog: public list prices of LLM and API services, shipped as
 * data/catalog/services.json (with the date the prices were taken), read once per process.
 * An organization's own prices (set_service_price) and model mappings (map_model) come first.
 */

export interface CatalogEntry {
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
}

export interface Catalog {
  pricesAsOf: string;
  currency: string;
  description: string;
  entries: CatalogEntry[];
  byKey: Map<string, CatalogEntry>;
}

let loaded: Catalog | undefined;

function findCatalogFile(): string {
  // From src/services/metering or dist/src/services/metering up to the package root.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'data', 'catalog', 'services.json');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('data/catalog/services.json is missing from the installation');
}

export function catalog(): Catalog {
  if (loaded) return loaded;
  const doc = JSON.parse(readFileSync(findCatalogFile(), 'utf8')) as {
    prices_as_of: string;
    currency: string;
    description: string;
    services: Array<Omit<CatalogEntry, 'id'>>;
  };
  const entries = doc.services.map((s) => ({ id: `${s.provider}/${s.canonical_name}`, ...s }));
  const byKey = new Map(entries.map((e) => [priceKey(e.provider, e.canonical_name), e]));
  loaded = {
    pricesAsOf: doc.prices_as_of,
    currency: doc.currency,
    description: doc.description,
    entries,
    byKey,
  };
  return loaded;
}

const dec = (s: string | null) => (s === null ? null : Decimal.parse(s));

export function catalogPrice(e: CatalogEntry): Price {
  return {
    source: 'catalog',
    id: e.id,
    provider: e.provider,
    model: e.canonical_name,
    inputPerMillion: dec(e.input_price_per_million),
    outputPerMillion: dec(e.output_price_per_million),
    unitPrice: dec(e.unit_price),
    unit: e.unit,
  };
}

export function organizationPrice(r: ServicePricesTable): Price {
  return {
    source: 'organization',
    id: r.id,
    provider: r.provider,
    model: r.model,
    inputPerMillion: dec(r.input_price),
    outputPerMillion: dec(r.output_price),
    unitPrice: dec(r.unit_price),
    unit: r.unit,
  };
}

/** A catalog entry by its id (`openai/gpt-4o`) or by provider and canonical name. */
export function findCatalogEntry(provider: string, model: string): CatalogEntry | undefined {
  return catalog().byKey.get(priceKey(provider, model));
}

/**
 * The price of each (provider, model) pair: the organization's own price, else the target of
 * its mapping for that pair, else the catalog's; null when none knows it.
 */
export function pricesLookup(
  ctx: ServiceContext,
  pairs: ReadonlyArray<{ provider: string; model: string }>,
): Lookup<Map<string, Price | null>> {
  const keys = [...new Set(pairs.map((p) => priceKey(p.provider, p.model)))];
  const models = [...new Set(pairs.map((p) => p.model.trim().toLowerCase()))];
  const asked = keys.length > 0;
  return lookup(
    [
      asked
        ? ctx.db.selectFrom('service_prices').selectAll().where('organization_id', '=', ctx.organizationId)
        : null,
      asked
        ? ctx.db
            .selectFrom('model_mappings')
            .selectAll()
            .where('organization_id', '=', ctx.organizationId)
            .where(inList(ctx.dialect, 'source_model', models))
        : null,
    ],
    ([own, mappings]) => pricesFrom(keys, own, mappings),
  );
}

export function resolvePrices(
  ctx: ServiceContext,
  pairs: ReadonlyArray<{ provider: string; model: string }>,
): Promise<Map<string, Price | null>> {
  return lookUp(ctx.db, pricesLookup(ctx, pairs));
}

function pricesFrom(
  keys: readonly string[],
  own: readonly ServicePricesTable[],
  mappings: readonly ModelMappingsTable[],
): Map<string, Price | null> {
  const out = new Map<string, Price | null>();
  const ownByKey = new Map(own.map((r) => [priceKey(r.provider, r.model), r]));
  const ownById = new Map(own.map((r) => [r.id, r]));
  const mapByKey = new Map(mappings.map((m) => [priceKey(m.source_provider, m.source_model), m]));
  for (const key of keys) {
    const ownRow = ownByKey.get(key);
    if (ownRow) {
      out.set(key, organizationPrice(ownRow));
      continue;
    }
    const m = mapByKey.get(key);
    if (m) {
      const target = m.target_price_id ? ownById.get(m.target_price_id) : undefined;
      if (target) {
        out.set(key, organizationPrice(target));
        continue;
      }
      const targetKey = priceKey(m.target_provider, m.target_model);
      const viaOwn = ownByKey.get(targetKey);
      if (viaOwn) {
        out.set(key, organizationPrice(viaOwn));
        continue;
      }
      const entry = catalog().byKey.get(targetKey);
      if (entry) {
        out.set(key, catalogPrice(entry));
        continue;
      }
    }
    const entry = catalog().byKey.get(key);
    out.set(key, entry ? catalogPrice(entry) : null);
  }
  return out;
}
