import type { Generated } from 'kysely';

/**
 * Row types of every table. Conventions, the same on SQLite and PostgreSQL:
 * - instants are epoch milliseconds (BIGINT), shown as ISO 8601 at the edges;
 * - exact decimals that may exceed a currency's precision are TEXT ("0.0000025");
 * - amounts in a currency's minor unit are BIGINT (`*_cents`);
 * - booleans are INTEGER 0/1; JSON documents are TEXT.
 * Every row carries `organization_id` and every query filters on it.
 */

export interface OrganizationsTable {
  id: string;
  name: string;
  is_default: number;
  legal_name: string | null;
  email: string | null;
  address_line1: string | null;
  address_line2: string | null;
  city: string | null;
  state: string | null;
  zipcode: string | null;
  country: string | null;
  tax_identification_number: string | null;
  default_currency: string;
  timezone: string;
  net_payment_term: number;
  invoice_prefix: string;
  invoice_numbering: string;
  invoice_footer: string | null;
  bank_iban: string | null;
  bank_bic: string | null;
  bank_name: string | null;
  finalize_invoices: number;
  /** Days an invoice may stay overdue before its subscription is past_due. */
  past_due_grace_period_days: number;
  /** Branding of the customer portal. */
  logo_url: string | null;
  /** `#rrggbb`. */
  accent_color: string | null;
  /** The organization's id in another system (an identity provider's organization claim); unique. */
  external_id: string | null;
  /** Set while the organization is disabled: its keys and tokens are refused. */
  disabled_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface ApiKeysTable {
  id: string;
  organization_id: string;
  name: string;
  prefix: string;
  hash: string;
  scopes: string;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
  revoked_at: number | null;
}

export interface CustomersTable {
  id: string;
  organization_id: string;
  external_id: string | null;
  status: string;
  name: string | null;
  firstname: string | null;
  lastname: string | null;
  email: string | null;
  phone: string | null;
  address_line1: string | null;
  address_line2: string | null;
  city: string | null;
  state: string | null;
  zipcode: string | null;
  country: string | null;
  url: string | null;
  legal_name: string | null;
  legal_number: string | null;
  logo_url: string | null;
  tax_identification_number: string | null;
  timezone: string | null;
  currency: string | null;
  net_payment_term: number | null;
  customer_type: string | null;
  finalize_zero_amount_invoice: string;
  metadata: string;
  search_text: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface ActivityLogsTable {
  id: string;
  organization_id: string;
  activity_type: string;
  activity_source: string;
  door: string;
  actor_type: string;
  actor_id: string | null;
  actor_name: string | null;
  resource_type: string;
  resource_id: string;
  customer_id: string | null;
  external_customer_id: string | null;
  subscription_id: string | null;
  external_subscription_id: string | null;
  changes: string;
  request_id: string | null;
  logged_at: number;
}

export interface ApiLogsTable {
  id: string;
  organization_id: string;
  api_key_id: string | null;
  /** The bearer token's subject, when a token (not an API key) made the request. */
  token_subject: string | null;
  door: string;
  operation: string;
  http_method: string;
  http_status: number;
  request_path: string;
  request_origin: string | null;
  client: string | null;
  api_version: string;
  duration_ms: number;
  error_code: string | null;
  request_body: string | null;
  response_body: string | null;
  logged_at: number;
}

export interface CountersTable {
  organization_id: string;
  name: string;
  value: number;
}

export interface ProductsTable {
  id: string;
  organization_id: string;
  code: string;
  name: string;
  description: string | null;
  unit_amount: string;
  currency: string;
  unit_label: string | null;
  tax_codes: string;
  active: number;
  metadata: string;
  search_text: string;
  created_at: number;
  updated_at: number;
  archived_at: number | null;
}

export interface TaxesTable {
  id: string;
  organization_id: string;
  code: string;
  name: string;
  rate: string;
  description: string | null;
  applied_to_organization: number;
  customer_ids: string;
  product_codes: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface InvoicesTable {
  id: string;
  organization_id: string;
  customer_id: string;
  external_id: string | null;
  number: string | null;
  sequence: number | null;
  invoice_type: string;
  status: string;
  payment_status: string;
  currency: string;
  issued_at: number | null;
  issuing_date: string | null;
  due_at: number | null;
  due_date: string | null;
  net_payment_term: number | null;
  sub_total_amount_cents: number;
  coupons_amount_cents: number;
  taxes_amount_cents: number;
  total_amount_cents: number;
  amount_paid_cents: number;
  credited_amount_cents: number;
  refunded_amount_cents: number;
  amount_due_cents: number;
  tax_breakdown: string;
  discounts: string;
  billing_snapshot: string | null;
  memo: string | null;
  metadata: string;
  search_text: string;
  subscription_id: string | null;
  /** The sales order this invoice bills, when invoice_order made it. */
  order_id: string | null;
  sent_count: number;
  last_sent_at: number | null;
  finalized_at: number | null;
  voided_at: number | null;
  void_reason: string | null;
  paid_at: number | null;
  created_at: number;
  updated_at: number;
  /** When invoice.payment_overdue was raised for it (once); rows are written without it. */
  overdue_noticed_at?: number | null;
  /** What wallets paid of it at finalization (default 0). */
  prepaid_credit_amount_cents?: number;
}

export interface InvoiceLinesTable {
  id: string;
  organization_id: string;
  invoice_id: string;
  position: number;
  product_id: string | null;
  product_code: string | null;
  description: string;
  quantity: string;
  unit_amount: string;
  unit_label: string | null;
  amount_cents: number;
  discount_amount_cents: number;
  taxes: string;
  from_at: number | null;
  to_at: number | null;
  charge_id: string | null;
  details: string | null;
}

export interface PaymentsTable {
  id: string;
  organization_id: string;
  invoice_id: string;
  customer_id: string;
  amount_cents: number;
  currency: string;
  status: string;
  payment_method: string | null;
  reference: string | null;
  paid_at: number;
  created_at: number;
}

export interface CreditNotesTable {
  id: string;
  organization_id: string;
  invoice_id: string;
  customer_id: string;
  number: string;
  sequence: number;
  credit_note_type: string;
  reason: string;
  description: string | null;
  status: string;
  currency: string;
  sub_total_amount_cents: number;
  taxes_amount_cents: number;
  total_amount_cents: number;
  items: string;
  tax_breakdown: string;
  issued_at: number;
  voided_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface InvoiceDeliveriesTable {
  id: string;
  organization_id: string;
  invoice_id: string;
  recipient_email: string;
  subject: string;
  transport: string;
  message_id: string;
  location: string | null;
  sent_at: number;
}

export interface BillableMetricsTable {
  id: string;
  organization_id: string;
  code: string;
  name: string;
  description: string | null;
  aggregation_type: string;
  field_name: string | null;
  recurring: number;
  rounding_function: string | null;
  rounding_precision: number | null;
  expression: string | null;
  weighted_interval: string | null;
  filters: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface UsageEventsTable {
  id: string;
  organization_id: string;
  transaction_id: string;
  payload_hash: string;
  code: string;
  metric_id: string | null;
  customer_ref: string;
  customer_id: string | null;
  customer_key: string;
  external_subscription_id: string | null;
  timestamp: number;
  /** floor(timestamp / 1 h): what the time indexes hold. */
  hour: number;
  properties: string;
  metadata: string;
  agent_code: string | null;
  /** The agent agent_code names, resolved per batch; null while no agent has the code. */
  agent_id: string | null;
  provider: string | null;
  model: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  quantity: string | null;
  services: string | null;
  cost: string | null;
  cost_status: string | null;
  value: string | null;
  value_error: string | null;
  grp: string;
  unique_value: string | null;
  operation: string | null;
  created_at: number;
  /** seriesId(organization_id, customer_key, code): what the per-customer indexes hold. */
  series: number;
}

/** Every (organization, customer key, code) events have been stored under, with its series. */
export interface UsageSeriesTable {
  organization_id: string;
  customer_key: string;
  code: string;
  id: number;
}

export interface UsageBucketsTable {
  organization_id: string;
  metric_id: string;
  customer_key: string;
  grp: string;
  bucket: number;
  shard: number;
  event_count: number;
  sum: string;
  sum_dt: string;
  max: string | null;
  latest_ts: number | null;
  latest_id: string | null;
  latest_value: string | null;
}

export interface UsageTotalsTable {
  organization_id: string;
  metric_id: string;
  customer_key: string;
  grp: string;
  shard: number;
  event_count: number;
  sum: string;
}

export interface UsageUniqueValuesTable {
  organization_id: string;
  metric_id: string;
  customer_key: string;
  grp: string;
  value: string;
  first_ts: number | null;
  last_ts: number | null;
  last_change_ts: number;
  present_since: number | null;
  intervals: string;
}

export interface ServicePricesTable {
  id: string;
  organization_id: string;
  provider: string;
  model: string;
  display_name: string | null;
  service_type: string;
  input_price: string | null;
  output_price: string | null;
  unit_price: string | null;
  unit: string | null;
  context_window: number | null;
  created_at: number;
  updated_at: number;
}

export interface ModelMappingsTable {
  id: string;
  organization_id: string;
  source_provider: string;
  source_model: string;
  target_provider: string;
  target_model: string;
  target_price_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface PlansTable {
  id: string;
  organization_id: string;
  code: string;
  name: string;
  description: string | null;
  interval: string;
  currency: string;
  amount: string;
  pay_in_advance: number;
  trial_period_days: number;
  minimum_commitment: string | null;
  /** Charged once, on a subscription's first invoice; null: none. */
  one_time_amount: string | null;
  invoice_display_name: string | null;
  /** JSON array of tax codes for the plan's lines, or null for the invoicing defaults. */
  tax_codes: string | null;
  /** JSON array of usage thresholds (progressive billing), or null for none. */
  usage_thresholds?: string | null;
  metadata: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface PlanChargesTable {
  id: string;
  organization_id: string;
  plan_id: string;
  position: number;
  billable_metric_id: string;
  charge_model: string;
  /** JSON: the model's properties as the API shows them (decimal strings). */
  properties: string;
  min_amount: string | null;
  /** The least units billed per period (a true-up line prices the rest); null: none. */
  min_units: string | null;
  /** JSON: [{ values: {key: [value…]}, properties, invoice_display_name }]. */
  filters: string;
  prorated: number;
  invoice_display_name: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface SubscriptionsTable {
  id: string;
  organization_id: string;
  external_id: string;
  customer_id: string;
  plan_id: string;
  name: string | null;
  status: string;
  billing_time: string;
  timezone: string;
  anchor_date: string;
  started_at: number;
  trial_ends_at: number | null;
  ending_at: number | null;
  terminated_at: number | null;
  canceled_at: number | null;
  /** JSON: { amount?, charges?: [{ charge_id?, billable_metric_code?, properties?, min_amount? }] }. */
  plan_overrides: string | null;
  next_plan_id: string | null;
  next_plan_at: number | null;
  next_plan_overrides: string | null;
  previous_subscription_id: string | null;
  next_billing_at: number | null;
  /** The agent whose usage it bills; null: all of its customer's usage. */
  agent_id: string | null;
  metadata: string;
  created_at: number;
  updated_at: number;
  /** When subscription.trial_ended was raised for it (once); rows are written without it. */
  trial_end_noticed_at?: number | null;
}

/** One progressive_billing invoice: the threshold level it crossed in a subscription's period. */
export interface ProgressiveBillingsTable {
  id: string;
  organization_id: string;
  subscription_id: string;
  period_from: number;
  /** The threshold level crossed, in the plan currency's minor unit. */
  threshold_cents: number;
  /** The period's usage amount when it was billed, exact. */
  usage_amount: string;
  invoice_id: string;
  created_at: number;
}

export interface SubscriptionBillingsTable {
  id: string;
  organization_id: string;
  subscription_id: string;
  kind: string;
  period_from: number;
  period_to: number;
  invoice_id: string | null;
  created_at: number;
}

export interface CouponsTable {
  id: string;
  organization_id: string;
  code: string;
  name: string;
  description: string | null;
  coupon_type: string;
  amount_cents: number | null;
  amount_currency: string | null;
  percentage_rate: string | null;
  frequency: string;
  frequency_duration: number | null;
  expiration_at: number | null;
  reusable: number;
  plan_codes: string;
  billable_metric_codes: string;
  status: string;
  terminated_at: number | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface AppliedCouponsTable {
  id: string;
  organization_id: string;
  coupon_id: string;
  customer_id: string;
  status: string;
  amount_cents: number | null;
  amount_currency: string | null;
  percentage_rate: string | null;
  frequency: string;
  frequency_duration: number | null;
  frequency_duration_remaining: number | null;
  amount_remaining_cents: number | null;
  terminated_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface CouponRedemptionsTable {
  id: string;
  organization_id: string;
  applied_coupon_id: string;
  invoice_id: string;
  amount_cents: number;
  /** 1 when this redemption terminated the applied coupon (releasing it reactivates it). */
  terminated_applied_coupon: number;
  created_at: number;
}

/** A one-time portal link and the browser session its first open starts. */
export interface PortalSessionsTable {
  id: string;
  organization_id: string;
  customer_id: string;
  /** SHA-256 (hex) of the link's token; the token itself is never stored. */
  token_hash: string;
  /** SHA-256 (hex) of the cookie the first open issued; null until then. */
  browser_hash: string | null;
  /** JSON array of the pages the link opens (invoices, subscriptions, usage, profile). */
  features: string;
  return_url: string | null;
  created_at: number;
  expires_at: number;
  redeemed_at: number | null;
  revoked_at: number | null;
}

export interface OrdersTable {
  id: string;
  organization_id: string;
  customer_id: string;
  external_id: string | null;
  /** Given at confirmation (SO-…); null on a draft. */
  number: string | null;
  sequence: number | null;
  status: string;
  currency: string;
  /** YYYY-MM-DD in the organization's time zone. */
  order_date: string;
  sub_total_amount_cents: number;
  taxes_amount_cents: number;
  total_amount_cents: number;
  tax_breakdown: string;
  memo: string | null;
  metadata: string;
  search_text: string;
  confirmed_at: number | null;
  canceled_at: number | null;
  cancel_reason: string | null;
  created_at: number;
  updated_at: number;
}

export interface OrderLinesTable {
  id: string;
  organization_id: string;
  order_id: string;
  position: number;
  product_id: string | null;
  product_code: string | null;
  description: string;
  quantity: string;
  unit_amount: string;
  unit_label: string | null;
  amount_cents: number;
  /** JSON [{code, name, rate}]: resolved when the line is written, frozen at confirmation. */
  taxes: string;
}

/** A quantity of an order line billed by an invoice line; released when that invoice is voided or deleted. */
export interface OrderAllocationsTable {
  id: string;
  organization_id: string;
  order_id: string;
  order_line_id: string;
  invoice_id: string;
  invoice_line_id: string;
  quantity: string;
  created_at: number;
  released_at: number | null;
}

export interface AgentsTable {
  id: string;
  organization_id: string;
  code: string;
  name: string;
  description: string | null;
  metadata: string;
  created_at: number;
  updated_at: number;
}

export interface PlanAgentsTable {
  organization_id: string;
  plan_id: string;
  agent_id: string;
  created_at: number;
}

export interface WebhookEndpointsTable {
  id: string;
  organization_id: string;
  url: string;
  description: string | null;
  /** JSON array of event types, or null for every type. */
  event_types: string | null;
  status: string;
  disabled_reason: string | null;
  disabled_at: number | null;
  /** whsec_…: deliveries are signed with it (and with previous_secret until it expires). */
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  /** The first failed attempt since the last success; three days of it disables the endpoint. */
  failing_since: number | null;
  last_success_at: number | null;
  last_failure_at: number | null;
  /** billfold or lago: the body its deliveries carry (services/webhooks/formats.ts). */
  payload_format: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface WebhookDeliveriesTable {
  id: string;
  organization_id: string;
  endpoint_id: string;
  /** The webhook-id header: the same on every attempt, and for every endpoint of the event. */
  event_id: string;
  event_type: string;
  resource_type: string;
  resource_id: string;
  /** The exact request body, fixed when the event was written. */
  payload: string;
  status: string;
  attempts: number;
  /** Pending: when it is due (while claimed, when the claim lapses). Null once done. */
  next_attempt_at: number | null;
  claim_token: string | null;
  last_attempt_at: number | null;
  last_response_status: number | null;
  last_response_body: string | null;
  last_error: string | null;
  /** JSON: the latest attempts, [{ attempted_at, duration_ms, response_status, error }]. */
  attempt_log: string;
  succeeded_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface UsageAlertsTable {
  id: string;
  organization_id: string;
  code: string | null;
  name: string | null;
  customer_id: string;
  /** Set for a subscription's alert: it follows the subscription across plan changes. */
  subscription_external_id: string | null;
  billable_metric_id: string;
  threshold_type: string;
  threshold: string;
  /** The start of the period it last fired in: it fires once per period. */
  last_period_from: number | null;
  last_triggered_at: number | null;
  last_value: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

/** An organization's key for its invoices' verification codes (migration 016). */
export interface SigningKeysTable {
  organization_id: string;
  /** Short and unique within the organization; printed in each code so rotation keeps old codes valid. */
  id: string;
  /** 32 random bytes, base64url. Read only to sign and to check; never returned by an operation. */
  secret: string;
  created_at: number;
  /** When a newer key replaced it (rotation): it signs no more, and still vouches for what it signed. */
  retired_at: number | null;
  /** When it was revoked (migration 020): its codes answer `revoked`, not `valid`. */
  revoked_at: number | null;
}

export interface WalletsTable {
  id: string;
  organization_id: string;
  customer_id: string;
  external_id: string | null;
  name: string | null;
  currency: string;
  /** Exact decimal: the price of one credit in `currency`. */
  rate_amount: string;
  /** 1 is applied first. */
  priority: number;
  status: string;
  balance_cents: number;
  credits_balance: string;
  consumed_cents: number;
  consumed_credits: string;
  invoice_requires_payment: number;
  expiration_at: number | null;
  terminated_at: number | null;
  last_consumed_credit_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface WalletTransactionsTable {
  id: string;
  organization_id: string;
  wallet_id: string;
  customer_id: string;
  transaction_type: string;
  status: string;
  reason: string;
  source: string;
  credits: string;
  amount_cents: number;
  invoice_id: string | null;
  rule_id: string | null;
  external_id: string | null;
  settled_at: number | null;
  failed_at: number | null;
  voided_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface WalletRecurringRulesTable {
  id: string;
  organization_id: string;
  wallet_id: string;
  position: number;
  trigger: string;
  method: string;
  interval: string | null;
  threshold_credits: string | null;
  target_ongoing_balance: string | null;
  paid_credits: string;
  granted_credits: string;
  invoice_requires_payment: number;
  started_at: number | null;
  next_run_at: number | null;
  created_at: number;
}

/**
 * Maintained financial totals (see services/finance/totals.ts): per organization, currency and
 * time bucket (a UTC month, day or quarter hour starting at bucket_start), kept up to date in
 * the transaction of every change that moves them.
 */
export interface FinanceFlowsTable {
  organization_id: string;
  span: string;
  bucket_start: number;
  currency: string;
  invoice_count: number;
  invoiced_net_cents: number;
  invoiced_tax_cents: number;
  invoiced_total_cents: number;
  credit_note_count: number;
  credit_notes_net_cents: number;
  credit_notes_tax_cents: number;
  credit_notes_total_cents: number;
  refund_count: number;
  refunds_cents: number;
  payment_count: number;
  payments_cents: number;
  /** Wallet top-up invoices: prepaid credits sold, kept out of the invoiced (revenue) figures. */
  top_up_count: number;
  top_up_total_cents: number;
}

/** Tax per rate of finalized invoices and credit notes, per bucket (lines: how many breakdown lines). */
export interface FinanceTaxFlowsTable {
  organization_id: string;
  span: string;
  bucket_start: number;
  currency: string;
  tax_code: string;
  rate: string;
  name: string;
  invoice_lines: number;
  taxable_cents: number;
  tax_cents: number;
  credit_lines: number;
  credited_taxable_cents: number;
  credited_tax_cents: number;
}

/** Net revenue per customer, per bucket: finalized invoices' net and credit notes' net. */
export interface FinanceCustomerFlowsTable {
  organization_id: string;
  span: string;
  bucket_start: number;
  customer_id: string;
  currency: string;
  invoice_count: number;
  invoiced_net_cents: number;
  credit_note_count: number;
  credit_notes_net_cents: number;
}

/** Today's open balances of finalized invoices per due date ('' for none). */
export interface FinanceReceivablesTable {
  organization_id: string;
  currency: string;
  due_date: string;
  open_count: number;
  open_cents: number;
}

export interface Database {
  organizations: OrganizationsTable;
  api_keys: ApiKeysTable;
  customers: CustomersTable;
  activity_logs: ActivityLogsTable;
  api_logs: ApiLogsTable;
  counters: CountersTable;
  products: ProductsTable;
  taxes: TaxesTable;
  invoices: InvoicesTable;
  invoice_lines: InvoiceLinesTable;
  payments: PaymentsTable;
  credit_notes: CreditNotesTable;
  invoice_deliveries: InvoiceDeliveriesTable;
  billable_metrics: BillableMetricsTable;
  usage_events: UsageEventsTable;
  usage_series: UsageSeriesTable;
  usage_buckets: UsageBucketsTable;
  usage_buckets_daily: UsageBucketsTable;
  usage_totals: UsageTotalsTable;
  usage_unique_values: UsageUniqueValuesTable;
  service_prices: ServicePricesTable;
  model_mappings: ModelMappingsTable;
  plans: PlansTable;
  plan_charges: PlanChargesTable;
  subscriptions: SubscriptionsTable;
  subscription_billings: SubscriptionBillingsTable;
  progressive_billings: ProgressiveBillingsTable;
  coupons: CouponsTable;
  applied_coupons: AppliedCouponsTable;
  coupon_redemptions: CouponRedemptionsTable;
  portal_sessions: PortalSessionsTable;
  orders: OrdersTable;
  order_lines: OrderLinesTable;
  order_allocations: OrderAllocationsTable;
  agents: AgentsTable;
  plan_agents: PlanAgentsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  usage_alerts: UsageAlertsTable;
  signing_keys: SigningKeysTable;
  wallets: WalletsTable;
  wallet_transactions: WalletTransactionsTable;
  wallet_recurring_rules: WalletRecurringRulesTable;
  finance_flows: FinanceFlowsTable;
  finance_tax_flows: FinanceTaxFlowsTable;
  finance_customer_flows: FinanceCustomerFlowsTable;
  finance_receivables: FinanceReceivablesTable;
  billfold_meta: { key: string; value: string };
}

export type { Generated };
