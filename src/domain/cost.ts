import { Decimal } from './decimal.js';

/**
 * The cost of a usage event from a service's list price, exactly: tokens × price per million
 * tokens ÷ 1,000,000, or quantity × price per unit. Never rounded; costs are in US dollars.
 */

export const COST_STATUSES = ['PROCESSED', 'NEEDS_COST_BACKFILL', 'MISSING_VOLUME_DATA'] as const;
export type CostStatus = (typeof COST_STATUSES)[number];

export interface Price {
  /** Where the price comes from: `catalog` entry or the organization's own (`organization`). */
  source: 'catalog' | 'organization';
  /** Catalog id (`openai/gpt-4o`) or the organization price's id (svc_…). */
  id: string;
  provider: string;
  model: string;
  inputPerMillion: Decimal | null;
  outputPerMillion: Decimal | null;
  unitPrice: Decimal | null;
  unit: string | null;
}

export interface Volume {
  input_tokens?: number | null;
  output_tokens?: number | null;
  quantity?: Decimal | null;
}

export interface ServiceCost {
  cost: Decimal | null;
  status: CostStatus;
  /** The price used (null when the model is unknown). */
  priceId: string | null;
}

/** Exact tokens × price-per-million ÷ 10^6: the division only moves the decimal point. */
export function perMillion(tokens: number, pricePerMillion: Decimal): Decimal {
  return Decimal.of(pricePerMillion.coef * BigInt(tokens), pricePerMillion.scale + 6).normalize();
}

/** A price is per token when it has an input or output price, else per unit. */
export function isTokenPrice(p: Price): boolean {
  return p.inputPerMillion !== null || p.outputPerMillion !== null;
}

export function costOf(price: Price | null, v: Volume): ServiceCost {
  if (!price) return { cost: null, status: 'NEEDS_COST_BACKFILL', priceId: null };
  const hasTokens =
    (v.input_tokens !== undefined && v.input_tokens !== null) ||
    (v.output_tokens !== undefined && v.output_tokens !== null);
  if (isTokenPrice(price)) {
    if (!hasTokens) {
      return { cost: null, status: 'MISSING_VOLUME_DATA', priceId: price.id };
    }
    let cost = Decimal.ZERO;
    if (v.input_tokens) cost = cost.add(perMillion(v.input_tokens, price.inputPerMillion ?? Decimal.ZERO));
    if (v.output_tokens) cost = cost.add(perMillion(v.output_tokens, price.outputPerMillion ?? Decimal.ZERO));
    return { cost: cost.normalize(), status: 'PROCESSED', priceId: price.id };
  }
  if (v.quantity === undefined || v.quantity === null) {
    return { cost: null, status: 'MISSING_VOLUME_DATA', priceId: price.id };
  }
  return {
    cost: (price.unitPrice ?? Decimal.ZERO).mul(v.quantity).normalize(),
    status: 'PROCESSED',
    priceId: price.id,
  };
}

/**
 * A multi-service event: the sum of its services once every one is priced, null until then.
 * Its status is the most urgent of its services' (an unknown model first, then missing volume).
 */
export function combineServiceCosts(costs: readonly ServiceCost[]): {
  cost: Decimal | null;
  status: CostStatus;
} {
  if (costs.some((c) => c.status === 'NEEDS_COST_BACKFILL'))
    return { cost: null, status: 'NEEDS_COST_BACKFILL' };
  if (costs.some((c) => c.status === 'MISSING_VOLUME_DATA'))
    return { cost: null, status: 'MISSING_VOLUME_DATA' };
  return { cost: Decimal.sum(costs.map((c) => c.cost ?? Decimal.ZERO)).normalize(), status: 'PROCESSED' };
}

/** Providers are matched case-insensitively; model names too, after trimming. */
export function priceKey(provider: string, model: string): string {
  return `${provider.trim().toLowerCase()}/${model.trim().toLowerCase()}`;
}
