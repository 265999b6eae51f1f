import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Usage metering and AI cost: billable metrics, usage events, the aggregates kept up to date as
 * events arrive, and an organization's own service prices and model mappings.
 *
 * Aggregates are keyed by `customer_key`: the customer's Billfold id when the event named a
 * known customer, else the reference the event gave (read-time resolution makes those count
 * once a customer with that external_id exists).
 */
export async function up(db: Kysely<any>, ctx: MigrationContext): Promise<void> {
  const sqlite = ctx.dialect === 'sqlite';
  // SQLite stores these tables clustered on their primary key (no separate rowid tree).
  const withoutRowid = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(b: T): T =>
    sqlite ? b.modifyEnd(sql`without rowid`) : b;

  await db.schema
    .createTable('billable_metrics')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('aggregation_type', 'text', (c) => c.notNull())
    .addColumn('field_name', 'text')
    .addColumn('recurring', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rounding_function', 'text')
    .addColumn('rounding_precision', 'integer')
    .addColumn('expression', 'text')
    .addColumn('weighted_interval', 'text')
    .addColumn('filters', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute();
  await sql`CREATE UNIQUE INDEX billable_metrics_org_code ON billable_metrics (organization_id, code) WHERE deleted_at IS NULL`.execute(
    db,
  );

  // A rowid table: with wide rows and four indexes it inserts faster than one clustered on id.
  await db.schema
    .createTable('usage_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('transaction_id', 'text', (c) => c.notNull())
    .addColumn('payload_hash', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('metric_id', 'text')
    .addColumn('customer_ref', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'text')
    .addColumn('customer_key', 'text', (c) => c.notNull())
    .addColumn('external_subscription_id', 'text')
    .addColumn('timestamp', 'bigint', (c) => c.notNull())
    .addColumn('hour', 'bigint', (c) => c.notNull())
    .addColumn('properties', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('agent_code', 'text')
    .addColumn('provider', 'text')
    .addColumn('model', 'text')
    .addColumn('input_tokens', 'bigint')
    .addColumn('output_tokens', 'bigint')
    .addColumn('quantity', 'text')
    .addColumn('services', 'text')
    .addColumn('cost', 'text')
    .addColumn('cost_status', 'text')
    .addColumn('value', 'text')
    .addColumn('value_error', 'text')
    .addColumn('grp', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('unique_value', 'text')
    .addColumn('operation', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  // Time is indexed by the hour (`hour` = timestamp in hours), not the millisecond: entries of an
  // hour sort by rowid, so a batch appends to the end of a few index runs instead of touching a
  // page per event; queries narrow by hour and check the exact timestamp on the row.
  await sql`CREATE UNIQUE INDEX usage_events_org_txn ON usage_events (organization_id, transaction_id)`.execute(
    db,
  );
  await sql`CREATE INDEX usage_events_customer ON usage_events (organization_id, customer_key, code, hour)`.execute(
    db,
  );
  await sql`CREATE INDEX usage_events_time ON usage_events (organization_id, hour)`.execute(db);
  // Small partial indexes: only the rows that need attention or a per-value lookup are in them.
  await sql`CREATE INDEX usage_events_cost_attention ON usage_events (organization_id, cost_status, timestamp) WHERE cost_status IN ('NEEDS_COST_BACKFILL', 'MISSING_VOLUME_DATA')`.execute(
    db,
  );
  await sql`CREATE INDEX usage_events_unknown_metric ON usage_events (organization_id, code) WHERE metric_id IS NULL`.execute(
    db,
  );
  await sql`CREATE INDEX usage_events_unknown_customer ON usage_events (organization_id, customer_ref) WHERE customer_id IS NULL`.execute(
    db,
  );
  await sql`CREATE INDEX usage_events_invalid_value ON usage_events (organization_id, code) WHERE value_error IS NOT NULL`.execute(
    db,
  );
  await sql`CREATE INDEX usage_events_unique_value ON usage_events (organization_id, customer_key, code, unique_value) WHERE unique_value IS NOT NULL`.execute(
    db,
  );

  // One row per (metric, customer, filter group, hour) and per UTC day: what period sums are made of.
  for (const table of ['usage_buckets', 'usage_buckets_daily']) {
    await withoutRowid(
      db.schema
        .createTable(table)
        .addColumn('organization_id', 'text', (c) => c.notNull())
        .addColumn('metric_id', 'text', (c) => c.notNull())
        .addColumn('customer_key', 'text', (c) => c.notNull())
        .addColumn('grp', 'text', (c) => c.notNull())
        .addColumn('bucket', 'bigint', (c) => c.notNull())
        .addColumn('shard', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('event_count', 'bigint', (c) => c.notNull())
        .addColumn('sum', 'text', (c) => c.notNull())
        .addColumn('sum_dt', 'text', (c) => c.notNull())
        .addColumn('max', 'text')
        .addColumn('latest_ts', 'bigint')
        .addColumn('latest_id', 'text')
        .addColumn('latest_value', 'text')
        .addPrimaryKeyConstraint(`${table}_pk`, [
          'organization_id',
          'metric_id',
          'customer_key',
          'grp',
          'bucket',
          'shard',
        ]),
    ).execute();
  }

  // All-time totals per (metric, customer, filter group): the carry-over of recurring metrics.
  await withoutRowid(
    db.schema
      .createTable('usage_totals')
      .addColumn('organization_id', 'text', (c) => c.notNull())
      .addColumn('metric_id', 'text', (c) => c.notNull())
      .addColumn('customer_key', 'text', (c) => c.notNull())
      .addColumn('grp', 'text', (c) => c.notNull())
      .addColumn('shard', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('event_count', 'bigint', (c) => c.notNull())
      .addColumn('sum', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('usage_totals_pk', [
        'organization_id',
        'metric_id',
        'customer_key',
        'grp',
        'shard',
      ]),
  ).execute();

  // One row per distinct value of a unique_count metric: when it was first and last added and,
  // for recurring metrics, the intervals during which it was present.
  await withoutRowid(
    db.schema
      .createTable('usage_unique_values')
      .addColumn('organization_id', 'text', (c) => c.notNull())
      .addColumn('metric_id', 'text', (c) => c.notNull())
      .addColumn('customer_key', 'text', (c) => c.notNull())
      .addColumn('grp', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('first_ts', 'bigint')
      .addColumn('last_ts', 'bigint')
      .addColumn('last_change_ts', 'bigint', (c) => c.notNull())
      .addColumn('present_since', 'bigint')
      .addColumn('intervals', 'text', (c) => c.notNull().defaultTo('[]'))
      .addPrimaryKeyConstraint('usage_unique_values_pk', [
        'organization_id',
        'metric_id',
        'customer_key',
        'grp',
        'value',
      ]),
  ).execute();

  await db.schema
    .createTable('service_prices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text')
    .addColumn('service_type', 'text', (c) => c.notNull())
    .addColumn('input_price', 'text')
    .addColumn('output_price', 'text')
    .addColumn('unit_price', 'text')
    .addColumn('unit', 'text')
    .addColumn('context_window', 'integer')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await sql`CREATE UNIQUE INDEX service_prices_org_model ON service_prices (organization_id, provider, model)`.execute(
    db,
  );

  await db.schema
    .createTable('model_mappings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('source_provider', 'text', (c) => c.notNull())
    .addColumn('source_model', 'text', (c) => c.notNull())
    .addColumn('target_provider', 'text', (c) => c.notNull())
    .addColumn('target_model', 'text', (c) => c.notNull())
    .addColumn('target_price_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await sql`CREATE UNIQUE INDEX model_mappings_org_source ON model_mappings (organization_id, source_provider, source_model)`.execute(
    db,
  );

  if (!sqlite) {
    // Exact decimal arithmetic on TEXT columns inside upserts. SQLite registers the same
    // functions in JavaScript on each connection (services/metering/sql-functions.ts).
    await sql`CREATE FUNCTION dec_add(a text, b text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT (a::numeric + b::numeric)::text $$`.execute(
      db,
    );
    await sql`CREATE FUNCTION dec_max(a text, b text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a WHEN b::numeric > a::numeric THEN b ELSE a END $$`.execute(
      db,
    );
    await sql`CREATE AGGREGATE dec_sum(text) (SFUNC = dec_add, STYPE = text, INITCOND = '0')`.execute(db);
  }
}
