import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Each seed document's tool names, in the document's order, as this repository expects them.
 * seed-tools.test.ts holds every profile to these lists, and these lists to the seed documents
 * themselves whenever they are present (the folder shared/seeds beside or above the repository).
 */
export const SEED_TOOLS: Record<string, { seed: string; tools: string[] }> = {
  lago: {
    seed: '000',
    tools: [
      'get_invoice',
      'list_invoices',
      'get_customer',
      'list_customers',
      'create_customer',
      'get_billable_metric',
      'list_billable_metrics',
      'create_billable_metric',
      'get_activity_log',
      'list_activity_logs',
      'get_api_log',
      'list_api_logs',
      'list_applied_coupons',
      'apply_coupon',
    ],
  },
  orvion: { seed: '001', tools: ['create_invoice', 'get_invoice', 'list_invoices', 'mark_invoice_paid'] },
  marginfront: {
    seed: '002',
    tools: [
      'verify',
      'list_customers',
      'get_customer',
      'list_invoices',
      'get_invoice',
      'list_events',
      'get_usage_analytics',
      'list_subscriptions',
      'record_usage',
      'record_usage_batch',
      'create_customer',
      'generate_invoice',
      'send_invoice',
      'get_needs_attention',
      'map_model',
      'get_missing_volume',
      'fill_volume',
      'get_customer_revenue',
      'get_cost_metrics',
      'get_mrr',
      'create_pricing_plan',
      'list_pricing_plans',
      'get_pricing_plan',
      'create_pricing_strategy',
      'list_pricing_strategies',
      // Tool 26: the document lost its heading ("Attaches an existing pricing plan to an agent");
      // this is the name Billfold gives it.
      'attach_plan_to_agent',
      'create_subscription',
      'create_portal_session',
      'get_portal_session',
      'list_portal_sessions',
      'revoke_portal_session',
      'list_catalog_services',
    ],
  },
  customers: {
    seed: '003',
    tools: [
      'get_customer',
      'list_customers',
      'add_customer',
      'update_customer',
      'disable_customer',
      'activate_customer',
    ],
  },
  cegid: {
    seed: '004',
    tools: [
      'list_invoices',
      'get_invoice_details',
      'create_invoice',
      'update_invoice',
      'delete_invoice',
      'search_invoices',
      'batch_get_invoices',
      'list_customers',
      'get_customer_details',
      'create_customer',
      'update_customer',
      'list_products',
      'get_product_details',
      'list_orders',
      'get_order_details',
      'get_financial_summary',
      'validate_qr_code',
    ],
  },
};

/** MarginFront's tool 26 has no name in its document. */
export const UNNAMED_IN_SEED = { marginfront: { number: 26, name: 'attach_plan_to_agent' } };

/** shared/seeds in the repository's folder or one above it; null when there is none. */
export function findSeedsFolder(): string | null {
  let dir = join(import.meta.dirname, '..', '..', '..');
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'shared', 'seeds');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

export function readSeed(folder: string, seed: string): string {
  const file = readdirSync(folder).find((f) => f.startsWith(`${seed}_`));
  if (!file) throw new Error(`no seed document ${seed}_*.txt in ${folder}`);
  return readFileSync(join(folder, file), 'utf8');
}

function between(text: string, start: string, end: string): string {
  const a = text.indexOf(start);
  const b = text.indexOf(end, a + start.length);
  if (a < 0 || b < 0) throw new Error(`the seed no longer has '${start}' … '${end}'`);
  return text.slice(a + start.length, b);
}

/** The tool names a seed document gives, read the way that document writes them. */
export function toolNamesInSeed(seed: string, text: string): Array<{ number?: number; name: string }> {
  const all = (re: RegExp, body: string) => [...body.matchAll(re)];
  switch (seed) {
    case '000':
      return all(/^#### (\d+)\. `([a-z_]+)`/gm, text).map((m) => ({ number: Number(m[1]), name: m[2]! }));
    case '001':
      return between(text, 'Available Tools', 'Response Format')
        .split('\n')
        .filter((l) => /^[a-z]+(_[a-z]+)+$/.test(l.trim()))
        .map((l) => ({ name: l.trim() }));
    case '002':
      return all(/^(\d+)\. ([a-z_]+)\s*$/gm, text).map((m) => ({ number: Number(m[1]), name: m[2]! }));
    case '003':
      return all(/^\s+- `([a-z_]+)`:/gm, between(text, 'Customer Management Tools', '## Architecture')).map(
        (m) => ({ name: m[1]! }),
      );
    case '004':
      return all(/^- `([a-z_]+)` - /gm, between(text, 'Available Tools', 'Available Prompts')).map((m) => ({
        name: m[1]!,
      }));
    default:
      throw new Error(`no reader for seed ${seed}`);
  }
}
