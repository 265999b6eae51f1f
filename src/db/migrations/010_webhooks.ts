import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Outbound webhooks and usage alerts.
 *
 * - webhook_endpoints: where an organization's events go, with the secret that signs them (and
 *   the previous one while a rotation overlaps).
 * - webhook_deliveries: the outbox. One row per event and endpoint, written in the transaction
 *   of the change that caused the event, carrying the exact body every attempt sends. A
 *   pending row's next_attempt_at is when it is due; while a dispatcher holds it, the end of
 *   that dispatcher's lease (so a dispatcher that dies leaves it due again, not lost). Each
 *   index costs every change with an event a page write, so there are only those lists need; a
 *   delivery's id carries its event's instant, which finds an event's deliveries by id.
 * - usage_alerts: a threshold on a metric's units or amount in the period, per subscription or
 *   per customer; last_period_from records the period it last fired in (once per period).
 * - invoices.overdue_noticed_at and subscriptions.trial_end_noticed_at: when the scheduler
 *   raised invoice.payment_overdue and subscription.trial_ended (each once). Rows whose date had
 *   already passed before this migration are marked as noticed, so upgrading does not announce
 *   every old overdue invoice at once.
 */
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('event_types', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('disabled_reason', 'text')
    .addColumn('disabled_at', 'bigint')
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('previous_secret', 'text')
    .addColumn('previous_secret_expires_at', 'bigint')
    .addColumn('failing_since', 'bigint')
    .addColumn('last_success_at', 'bigint')
    .addColumn('last_failure_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute();
  await sql`CREATE UNIQUE INDEX webhook_endpoints_org_url ON webhook_endpoints (organization_id, url) WHERE deleted_at IS NULL`.execute(
    db,
  );
  await db.schema
    .createIndex('webhook_endpoints_org_id')
    .on('webhook_endpoints')
    .columns(['organization_id', 'id'])
    .execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('endpoint_id', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('resource_id', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint')
    .addColumn('claim_token', 'text')
    .addColumn('last_attempt_at', 'bigint')
    .addColumn('last_response_status', 'integer')
    .addColumn('last_response_body', 'text')
    .addColumn('last_error', 'text')
    .addColumn('attempt_log', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('succeeded_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // What the dispatchers ask for: pending rows in the order they fall due (the id breaks ties,
  // so the first rows of a backlog are read straight off the index, not sorted).
  await sql`CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending'`.execute(
    db,
  );
  await db.schema
    .createIndex('webhook_deliveries_org_id')
    .on('webhook_deliveries')
    .columns(['organization_id', 'id'])
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_org_endpoint')
    .on('webhook_deliveries')
    .columns(['organization_id', 'endpoint_id', 'id'])
    .execute();

  await db.schema
    .createTable('usage_alerts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('code', 'text')
    .addColumn('name', 'text')
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('subscription_external_id', 'text')
    .addColumn('billable_metric_id', 'text', (c) => c.notNull())
    .addColumn('threshold_type', 'text', (c) => c.notNull())
    .addColumn('threshold', 'text', (c) => c.notNull())
    .addColumn('last_period_from', 'bigint')
    .addColumn('last_triggered_at', 'bigint')
    .addColumn('last_value', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute();
  await sql`CREATE UNIQUE INDEX usage_alerts_org_code ON usage_alerts (organization_id, code) WHERE code IS NOT NULL AND deleted_at IS NULL`.execute(
    db,
  );
  await db.schema
    .createIndex('usage_alerts_org_id')
    .on('usage_alerts')
    .columns(['organization_id', 'id'])
    .execute();

  await db.schema.alterTable('invoices').addColumn('overdue_noticed_at', 'bigint').execute();
  await db.schema.alterTable('subscriptions').addColumn('trial_end_noticed_at', 'bigint').execute();
  const now = Date.now();
  await sql`UPDATE invoices SET overdue_noticed_at = due_at WHERE status = 'finalized' AND amount_due_cents > 0 AND due_at < ${now}`.execute(
    db,
  );
  await sql`UPDATE subscriptions SET trial_end_noticed_at = trial_ends_at WHERE trial_ends_at IS NOT NULL AND trial_ends_at <= ${now}`.execute(
    db,
  );
  // The scheduler's questions: finalized invoices with money due whose overdue event has not
  // been raised, and subscriptions whose trial end has not been announced, by their date.
  await sql`CREATE INDEX invoices_overdue_unnoticed ON invoices (due_at) WHERE status = 'finalized' AND amount_due_cents > 0 AND overdue_noticed_at IS NULL`.execute(
    db,
  );
  await sql`CREATE INDEX subscriptions_trial_unnoticed ON subscriptions (trial_ends_at) WHERE status = 'active' AND trial_end_noticed_at IS NULL AND trial_ends_at IS NOT NULL`.execute(
    db,
  );
}
