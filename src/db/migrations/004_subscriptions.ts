import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Subscription billing: plans and their charges, subscriptions, coupons applied to customers,
 * and the ledger that makes each billing period invoice exactly once.
 *
 * Decimal prices are TEXT (exact, may be finer than the currency); charge properties and
 * filters are JSON documents in the shape the API shows (decimal strings).
 */
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('plans')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('interval', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('amount', 'text', (c) => c.notNull())
    .addColumn('pay_in_advance', 'integer', (c) => c.notNull())
    .addColumn('trial_period_days', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('minimum_commitment', 'text')
    .addColumn('invoice_display_name', 'text')
    .addColumn('tax_codes', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute();
  await sql`CREATE UNIQUE INDEX plans_org_code ON plans (organization_id, code) WHERE deleted_at IS NULL`.execute(
    db,
  );

  await db.schema
    .createTable('plan_charges')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('plan_id', 'text', (c) => c.notNull().references('plans.id'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('billable_metric_id', 'text', (c) => c.notNull())
    .addColumn('charge_model', 'text', (c) => c.notNull())
    .addColumn('properties', 'text', (c) => c.notNull())
    .addColumn('min_amount', 'text')
    .addColumn('filters', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('prorated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('invoice_display_name', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('plan_charges_plan')
    .on('plan_charges')
    .columns(['plan_id', 'position'])
    .execute();

  await db.schema
    .createTable('subscriptions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('external_id', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
    .addColumn('plan_id', 'text', (c) => c.notNull().references('plans.id'))
    .addColumn('name', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('billing_time', 'text', (c) => c.notNull())
    // The zone its calendar periods are cut in, fixed when it starts so periods never move.
    .addColumn('timezone', 'text', (c) => c.notNull())
    // The first day of the subscription in that zone: the anchor of anniversary periods.
    .addColumn('anchor_date', 'text', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('trial_ends_at', 'bigint')
    .addColumn('ending_at', 'bigint')
    .addColumn('terminated_at', 'bigint')
    .addColumn('canceled_at', 'bigint')
    .addColumn('plan_overrides', 'text')
    // A downgrade waits for the end of the period: the plan it moves to, and when.
    .addColumn('next_plan_id', 'text')
    .addColumn('next_plan_at', 'bigint')
    // The prices the subscription asked for on that plan (plan_overrides JSON), if any.
    .addColumn('next_plan_overrides', 'text')
    // An upgrade or downgrade continues the subscription as a new row: where it came from.
    .addColumn('previous_subscription_id', 'text')
    // The earliest instant a billing run has something to invoice for it (null: nothing).
    .addColumn('next_billing_at', 'bigint')
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // One live subscription per external_id; terminated ones keep theirs for history.
  await sql`CREATE UNIQUE INDEX subscriptions_org_external_live ON subscriptions (organization_id, external_id) WHERE status IN ('pending', 'active')`.execute(
    db,
  );
  await db.schema
    .createIndex('subscriptions_org_customer')
    .on('subscriptions')
    .columns(['organization_id', 'customer_id'])
    .execute();
  await db.schema
    .createIndex('subscriptions_org_external')
    .on('subscriptions')
    .columns(['organization_id', 'external_id'])
    .execute();
  // Billing runs look across organizations for what is due.
  await sql`CREATE INDEX subscriptions_due ON subscriptions (next_billing_at) WHERE next_billing_at IS NOT NULL`.execute(
    db,
  );

  // One row per invoiced (subscription, kind, period): the unique key is what makes a period
  // invoice exactly once, whichever process or run gets there first.
  await db.schema
    .createTable('subscription_billings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('subscription_id', 'text', (c) => c.notNull().references('subscriptions.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('period_from', 'bigint', (c) => c.notNull())
    .addColumn('period_to', 'bigint', (c) => c.notNull())
    .addColumn('invoice_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('subscription_billings_key')
    .on('subscription_billings')
    .columns(['subscription_id', 'kind', 'period_from'])
    .unique()
    .execute();
  await db.schema
    .createIndex('subscription_billings_invoice')
    .on('subscription_billings')
    .columns(['invoice_id'])
    .execute();

  await db.schema
    .createTable('coupons')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('coupon_type', 'text', (c) => c.notNull())
    .addColumn('amount_cents', 'bigint')
    .addColumn('amount_currency', 'text')
    .addColumn('percentage_rate', 'text')
    .addColumn('frequency', 'text', (c) => c.notNull())
    .addColumn('frequency_duration', 'integer')
    .addColumn('expiration_at', 'bigint')
    .addColumn('reusable', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('plan_codes', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('billable_metric_codes', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('terminated_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute();
  await sql`CREATE UNIQUE INDEX coupons_org_code ON coupons (organization_id, code) WHERE deleted_at IS NULL`.execute(
    db,
  );

  // A coupon applied to a customer, with its own copy of the terms (apply_coupon may override them).
  await db.schema
    .createTable('applied_coupons')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('coupon_id', 'text', (c) => c.notNull().references('coupons.id'))
    .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('amount_cents', 'bigint')
    .addColumn('amount_currency', 'text')
    .addColumn('percentage_rate', 'text')
    .addColumn('frequency', 'text', (c) => c.notNull())
    .addColumn('frequency_duration', 'integer')
    // recurring: periods left; once (fixed amount): what is left to take.
    .addColumn('frequency_duration_remaining', 'integer')
    .addColumn('amount_remaining_cents', 'bigint')
    .addColumn('terminated_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('applied_coupons_org_customer')
    .on('applied_coupons')
    .columns(['organization_id', 'customer_id', 'status'])
    .execute();
  await db.schema
    .createIndex('applied_coupons_coupon')
    .on('applied_coupons')
    .columns(['coupon_id'])
    .execute();

  // What each applied coupon took off each invoice: the record a voided or deleted invoice gives back.
  await db.schema
    .createTable('coupon_redemptions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('applied_coupon_id', 'text', (c) => c.notNull().references('applied_coupons.id'))
    .addColumn('invoice_id', 'text', (c) => c.notNull())
    .addColumn('amount_cents', 'bigint', (c) => c.notNull())
    // 1 when this redemption used the applied coupon up (terminated it): undoing it reactivates it.
    .addColumn('terminated_applied_coupon', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('coupon_redemptions_applied')
    .on('coupon_redemptions')
    .columns(['applied_coupon_id'])
    .execute();
  await db.schema
    .createIndex('coupon_redemptions_invoice')
    .on('coupon_redemptions')
    .columns(['invoice_id'])
    .execute();
}
