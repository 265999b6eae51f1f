import type { Kysely, Migration } from 'kysely';
import * as m001 from './001_foundation.js';
import * as m002 from './002_invoicing.js';
import * as m003 from './003_metering.js';
import * as m004 from './004_subscriptions.js';
import * as m005 from './005_aggregate_fillfactor.js';
import * as m006 from './006_org_id_indexes.js';
import * as m007 from './007_organizations.js';
import * as m007b from './007b_api_log_token_subject.js';
import * as m008 from './008_orders.js';
import * as m009 from './009_agents.js';
import * as m009b from './009b_pricing.js';
import * as m010 from './010_webhooks.js';
import * as m012 from './012_portal.js';
import * as m012b from './012b_invoices_by_customer_status.js';
import * as m014 from './014_usage_series.js';
import * as m015 from './015_financial_reports.js';
import * as m016 from './016_signing_keys.js';
import * as m017 from './017_wallets.js';
import * as m018 from './018_progressive_billing.js';
import * as m018b from './018b_subscriptions_by_plan.js';
import * as m019 from './019_financial_totals.js';
import * as m020 from './020_signing_key_revocation.js';
import * as m021 from './021_webhook_payload_format.js';
import * as m022 from './022_finance_top_ups.js';

export interface MigrationContext {
  dialect: 'sqlite' | 'postgres';
}

type MigrationModule = { up(db: Kysely<any>, ctx: MigrationContext): Promise<void> };

/** Every migration in order. Names are permanent: they are recorded in the database. */
const MIGRATIONS: Array<[string, MigrationModule]> = [
  ['001_foundation', m001],
  ['002_invoicing', m002],
  ['003_metering', m003],
  ['004_subscriptions', m004],
  ['005_aggregate_fillfactor', m005],
  ['006_org_id_indexes', m006],
  ['007_organizations', m007],
  ['007b_api_log_token_subject', m007b],
  ['008_orders', m008],
  ['009_agents', m009],
  ['009b_pricing', m009b],
  ['010_webhooks', m010],
  ['012_portal', m012],
  ['012b_invoices_by_customer_status', m012b],
  ['014_usage_series', m014],
  ['015_financial_reports', m015],
  ['016_signing_keys', m016],
  ['017_wallets', m017],
  ['018_progressive_billing', m018],
  ['018b_subscriptions_by_plan', m018b],
  ['019_financial_totals', m019],
  ['020_signing_key_revocation', m020],
  ['021_webhook_payload_format', m021],
  ['022_finance_top_ups', m022],
];

export function migrationsFor(ctx: MigrationContext): Record<string, Migration> {
  return Object.fromEntries(
    MIGRATIONS.map(([name, mod]) => [name, { up: (db: Kysely<any>) => mod.up(db, ctx) }]),
  );
}
