import { createHash, randomUUID } from 'node:crypto';
import * as z from 'zod';
import { addDaysToDate, parseInstant, toIso } from '../../../domain/time.js';
import { ProfileError } from './define.js';
import { camelKeys } from './shapes.js';

/**
 * MarginFront's words and shapes over Billfold's (seed 002): camelCase names, its invoice and
 * subscription statuses, a signal for a billable metric, dates that may be bare days, and usage
 * records without a transaction id. marginfront.ts wires these to the catalogue operations.
 */

// ——— inputs ———

/**
 * A MarginFront date: ISO 8601, a bare day ("2026-04-01") or a date-time with an offset. A bare
 * end day includes that whole day (see endOf), as "April 1 to April 12" means to a person.
 */
export const DateInput = z
  .string()
  .trim()
  .refine((s) => parseInstant(s) !== null, {
    message: 'must be an ISO 8601 date (2026-04-01) or date-time with offset (2026-04-01T00:00:00Z)',
  });

const BARE_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The exclusive end Billfold's windows take: the day after a bare end day, else the instant. */
export function endOf(date: string): string {
  return BARE_DAY.test(date) ? addDaysToDate(date, 1) : date;
}

/** The calendar day of a MarginFront date (a billing period bound). */
export function dayOf(date: string): string {
  return BARE_DAY.test(date) ? date : toIso(parseInstant(date)!).slice(0, 10);
}

export const Page = z.int().min(1).default(1).describe('Which page of results to show (from 1)');
export const Limit = (byDefault: number) =>
  z
    .int()
    .min(1)
    .max(100)
    .default(byDefault)
    .describe(`How many results per page (1-100, default ${byDefault})`);

/** MarginFront's metadata is free key/value pairs; Billfold keeps strings, so others are written as JSON. */
export const MetadataInput = z
  .record(z.string().min(1).max(64), z.unknown())
  .describe(
    'Custom key-value pairs stored with the event (not used for billing); values other than strings are kept as their JSON text',
  );

export function metadataOf(m: Record<string, unknown> | undefined): Record<string, string> | undefined {
  if (!m) return undefined;
  return Object.fromEntries(
    Object.entries(m).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  );
}

// ——— usage records ———

const Tokens = z.int().min(0);
const Quantity = z.union([z.number().min(0), z.string().trim().min(1)]);
const Name = z.string().trim().min(1).max(200);

export const ServiceInput = z.strictObject({
  model: Name.describe('Model or service, e.g. "claude-opus-4-1", "exa-search"'),
  modelProvider: Name.describe('Provider in lowercase, e.g. "anthropic", "exa"'),
  inputTokens: Tokens.optional().describe('LLM input tokens'),
  outputTokens: Tokens.optional().describe('LLM output tokens'),
  quantity: Quantity.optional().describe('Billing units of a non-LLM service (calls, messages)'),
});

const recordShape = {
  customerExternalId: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .describe('Your customer’s ID in your system, e.g. "acme-001"'),
  agentCode: z.string().trim().min(1).max(255).describe('The agent/product code, e.g. "cs-bot-v2"'),
  signalName: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .describe('The metric being tracked, e.g. "messages" or "pages_processed" (a billable metric code)'),
  model: Name.optional().describe(
    'Single-service shape: the model identifier, e.g. "gpt-4o", "twilio-sms". Omit when sending services[].',
  ),
  modelProvider: Name.optional().describe(
    'Single-service shape: the provider in lowercase, e.g. "openai", "twilio". Omit when sending services[].',
  ),
  inputTokens: Tokens.optional().describe('Single-service: input tokens for an LLM call'),
  outputTokens: Tokens.optional().describe('Single-service: output tokens for an LLM call'),
  quantity: Quantity.optional().describe(
    'Single-service: billing units for non-LLM. Multi-service: signal-level count (one report = 1). Default 1',
  ),
  services: z
    .array(ServiceInput)
    .min(1)
    .max(50)
    .optional()
    .describe('Multi-service shape: one entry per underlying service contributing to this outcome'),
  usageDate: DateInput.optional().describe(
    'ISO 8601 date for backdating, e.g. "2026-04-01T00:00:00Z"; default now',
  ),
  metadata: MetadataInput.optional(),
  transactionId: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .optional()
    .describe(
      'Optional (Billfold): your own idempotency key. Without it Billfold derives one from the event and its usageDate',
    ),
};

/** MarginFront's rule: top-level model + modelProvider, or services[] — never both, never neither. */
export const UsageRecordInput = z.strictObject(recordShape).superRefine((r, ctx) => {
  const single = r.model !== undefined || r.modelProvider !== undefined;
  if (r.services && (single || r.inputTokens !== undefined || r.outputTokens !== undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: ['services'],
      input: undefined,
      message:
        'cannot come with model, modelProvider, inputTokens or outputTokens: send either top-level model + modelProvider (one service) or services[] (several), never both',
    });
    return;
  }
  if (!single && !r.services) {
    ctx.addIssue({
      code: 'custom',
      path: ['model'],
      input: undefined,
      message:
        'is required (with modelProvider) unless services[] is sent: send top-level model + modelProvider for one service, or services[] for several',
    });
    return;
  }
  if (r.model !== undefined && r.modelProvider === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['modelProvider'],
      input: undefined,
      message: 'is required with model (e.g. "openai")',
    });
  if (r.modelProvider !== undefined && r.model === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['model'],
      input: undefined,
      message: 'is required with modelProvider (e.g. "gpt-4o")',
    });
});
export type UsageRecord = z.output<typeof UsageRecordInput>;

/** How the transaction id of a record without one was made, as the result says it. */
export type TransactionIdSource = 'given' | 'derived' | 'generated';

export const TRANSACTION_NOTES: Record<Exclude<TransactionIdSource, 'given'>, string> = {
  derived:
    'MarginFront sends no transaction id, so Billfold derived one from this event and its usageDate: sending the same event again is stored once (duplicate: true). To record a second identical event at the same usageDate, give it a transactionId or different metadata.',
  generated:
    'MarginFront sends no transaction id and this event has no usageDate, so Billfold made a new transaction id and timed it now: sending it again records it again. Give usageDate (or transactionId) to make retries safe.',
};

/**
 * The Billfold event of a MarginFront record. The transaction id is the caller's, else derived
 * from the record's whole content when it carries its usageDate (a retry is the same event),
 * `occurrence` telling identical records of one batch apart; without a usageDate nothing tells a
 * retry from a second event, so the id is new and the event is timed now.
 */
export function usageEventOf(
  r: UsageRecord,
  occurrence: number,
  now: number,
): { event: Record<string, unknown>; source: TransactionIdSource } {
  const quantity = r.quantity === undefined ? undefined : String(r.quantity);
  const event: Record<string, unknown> = {
    customer_id: r.customerExternalId,
    agent_code: r.agentCode,
    code: r.signalName,
    timestamp: r.usageDate ?? toIso(now),
    // The signal-level count, for a signal that sums it (sum_agg of `quantity`); 1 by default.
    properties: { quantity: quantity ?? '1' },
    ...(r.metadata ? { metadata: metadataOf(r.metadata) } : {}),
    ...(r.model !== undefined ? { model: r.model, provider: r.modelProvider } : {}),
    ...(r.inputTokens !== undefined ? { input_tokens: r.inputTokens } : {}),
    ...(r.outputTokens !== undefined ? { output_tokens: r.outputTokens } : {}),
    ...(quantity !== undefined ? { quantity } : {}),
    ...(r.services
      ? {
          services: r.services.map((s) => ({
            model: s.model,
            provider: s.modelProvider,
            ...(s.inputTokens !== undefined ? { input_tokens: s.inputTokens } : {}),
            ...(s.outputTokens !== undefined ? { output_tokens: s.outputTokens } : {}),
            ...(s.quantity !== undefined ? { quantity: String(s.quantity) } : {}),
          })),
        }
      : {}),
  };
  if (r.transactionId) return { event: { transaction_id: r.transactionId, ...event }, source: 'given' };
  if (r.usageDate === undefined)
    return { event: { transaction_id: `mf_${randomUUID()}`, ...event }, source: 'generated' };
  const content = JSON.stringify([
    event.customer_id,
    event.agent_code,
    event.code,
    parseInstant(r.usageDate),
    event.metadata ?? null,
    event.model ?? null,
    event.provider ?? null,
    event.input_tokens ?? null,
    event.output_tokens ?? null,
    quantity ?? null,
    event.services ?? null,
    occurrence,
  ]);
  const digest = createHash('sha256').update(content).digest('base64url').slice(0, 32);
  return { event: { transaction_id: `mf_${digest}`, ...event }, source: 'derived' };
}

/** Tells identical records of one batch apart: the how-manieth time each one appears. */
export function occurrences(records: readonly UsageRecord[]): number[] {
  const seen = new Map<string, number>();
  return records.map((r) => {
    const key = JSON.stringify(r);
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    return n;
  });
}

/** Billfold's record_usage field names → MarginFront's, for errors. */
export const USAGE_FIELDS: Readonly<Record<string, string>> = {
  transaction_id: 'transactionId',
  customer_id: 'customerExternalId',
  agent_code: 'agentCode',
  code: 'signalName',
  provider: 'modelProvider',
  input_tokens: 'inputTokens',
  output_tokens: 'outputTokens',
  timestamp: 'usageDate',
  events: 'records',
};

interface ServiceCost {
  model: string;
  provider: string;
  input_tokens: number | null;
  output_tokens: number | null;
  quantity: string | null;
  cost: string | null;
  cost_status: string;
}

export function serviceOut(s: ServiceCost) {
  return {
    model: s.model,
    modelProvider: s.provider,
    inputTokens: s.input_tokens,
    outputTokens: s.output_tokens,
    quantity: s.quantity,
    costUsd: s.cost,
    status: s.cost_status,
  };
}

/** What a stored-but-unpriced status asks of the caller. */
export function statusNote(status: string | null | undefined): string | undefined {
  if (status === 'NEEDS_COST_BACKFILL')
    return 'The event was saved; do NOT re-send it. Its model (or one of its services) is not in the pricing table yet: get_needs_attention shows it, map_model fixes it and prices the event.';
  if (status === 'MISSING_VOLUME_DATA')
    return 'The event was saved; do NOT re-send it. It came without tokens or quantity: fill_volume supplies them and prices it.';
  return undefined;
}

// ——— outputs ———

interface Customer {
  id: string;
  external_id: string | null;
  name: string | null;
  display_name: string;
  email: string | null;
  phone: string | null;
  status: string;
  currency: string | null;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string;
}

export function customerOut(c: Customer) {
  return {
    id: c.id,
    externalId: c.external_id,
    name: c.name ?? c.display_name,
    email: c.email,
    phone: c.phone,
    status: c.status,
    currency: c.currency,
    metadata: c.metadata,
    createdAt: c.created_at,
    updatedAt: c.updated_at,
  };
}

export const MF_INVOICE_STATUSES = ['draft', 'pending', 'paid', 'overdue', 'void'] as const;
export type MfInvoiceStatus = (typeof MF_INVOICE_STATUSES)[number];

interface Invoice {
  id: string;
  number: string | null;
  external_id: string | null;
  invoice_type: string;
  status: 'draft' | 'finalized' | 'voided';
  payment_status: string;
  overdue: boolean;
  customer: { id: string; external_id: string | null; name: string; email: string | null };
  currency: string;
  issued_at: string | null;
  due_at: string | null;
  paid_at: string | null;
  lines: Array<{
    id: string;
    description: string;
    quantity: string;
    unit_amount: string;
    amount: string;
    amount_cents: number;
    product_code: string | null;
    from: string | null;
    to: string | null;
    details: Record<string, unknown> | null;
  }>;
  sub_total_amount: string;
  coupons_amount: string;
  taxes_amount: string;
  total_amount: string;
  total_amount_cents: number;
  amount_paid: string;
  amount_due: string;
  amount_due_cents: number;
  credited_amount: string;
  subscription_id: string | null;
  sent_count: number;
  last_sent_at: string | null;
  finalized_at: string | null;
  voided_at: string | null;
  created_at: string;
  updated_at: string;
}

/** MarginFront's invoice status: an issued invoice is pending until paid, overdue past its due date. */
export function invoiceStatus(inv: Pick<Invoice, 'status' | 'payment_status' | 'overdue'>): MfInvoiceStatus {
  if (inv.status === 'draft') return 'draft';
  if (inv.status === 'voided') return 'void';
  if (inv.payment_status === 'succeeded') return 'paid';
  return inv.overdue ? 'overdue' : 'pending';
}

/** Billfold list_invoices filters for each MarginFront status (pending: either unpaid payment status). */
export const INVOICE_STATUS_FILTERS: Record<MfInvoiceStatus, Array<Record<string, unknown>>> = {
  draft: [{ status: 'draft' }],
  pending: [
    { status: 'finalized', payment_status: 'pending', overdue: false },
    { status: 'finalized', payment_status: 'failed', overdue: false },
  ],
  paid: [{ status: 'finalized', payment_status: 'succeeded' }],
  overdue: [{ overdue: true }],
  void: [{ status: 'voided' }],
};

interface Payment {
  id: string;
  amount: string;
  amount_cents: number;
  currency: string;
  payment_method: string | null;
  reference: string | null;
  paid_at: string;
}

export function invoiceOut(inv: Invoice, payments?: Payment[]) {
  return {
    id: inv.id,
    invoiceNumber: inv.number,
    status: invoiceStatus(inv),
    invoiceType: inv.invoice_type,
    customerId: inv.customer.id,
    customerExternalId: inv.customer.external_id,
    customerName: inv.customer.name,
    customerEmail: inv.customer.email,
    subscriptionId: inv.subscription_id,
    currency: inv.currency,
    subtotal: inv.sub_total_amount,
    discountAmount: inv.coupons_amount,
    taxAmount: inv.taxes_amount,
    totalAmount: inv.total_amount,
    totalAmountCents: inv.total_amount_cents,
    amountPaid: inv.amount_paid,
    amountDue: inv.amount_due,
    amountDueCents: inv.amount_due_cents,
    creditedAmount: inv.credited_amount,
    issuedAt: inv.issued_at,
    dueDate: inv.due_at,
    paidAt: inv.paid_at,
    voidedAt: inv.voided_at,
    sentCount: inv.sent_count,
    lastSentAt: inv.last_sent_at,
    lineItems: inv.lines.map((l) => ({
      id: l.id,
      description: l.description,
      quantity: l.quantity,
      // A usage line is one line of its charge: the units it priced are in its details.
      units: typeof l.details?.units === 'string' ? l.details.units : l.quantity,
      unitPrice: l.unit_amount,
      amount: l.amount,
      amountCents: l.amount_cents,
      periodStart: l.from,
      periodEnd: l.to,
      details: camelKeys(l.details),
    })),
    ...(payments
      ? {
          payments: payments.map((p) => ({
            id: p.id,
            amount: p.amount,
            amountCents: p.amount_cents,
            currency: p.currency,
            method: p.payment_method,
            reference: p.reference,
            paidAt: p.paid_at,
          })),
        }
      : {}),
    createdAt: inv.created_at,
    updatedAt: inv.updated_at,
  };
}

interface UsageEvent {
  id: string;
  transaction_id: string;
  customer_id: string | null;
  external_customer_id: string | null;
  code: string;
  billable_metric_id: string | null;
  timestamp: string;
  metadata: Record<string, string>;
  agent_code: string | null;
  agent_id: string | null;
  model: string | null;
  provider: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  quantity: string | null;
  services: ServiceCost[] | null;
  cost: string | null;
  cost_status: string | null;
  flags: string[];
  created_at: string;
}

export function eventOut(e: UsageEvent) {
  return {
    id: e.id,
    transactionId: e.transaction_id,
    customerId: e.customer_id,
    customerExternalId: e.external_customer_id,
    agentId: e.agent_id,
    agentCode: e.agent_code,
    signalId: e.billable_metric_id,
    signalName: e.code,
    model: e.model,
    modelProvider: e.provider,
    inputTokens: e.input_tokens,
    outputTokens: e.output_tokens,
    quantity: e.quantity,
    ...(e.services ? { services: e.services.map(serviceOut) } : {}),
    usageCost: e.cost,
    costCurrency: 'USD',
    status: e.cost_status,
    flags: e.flags,
    usageDate: e.timestamp,
    metadata: e.metadata,
    createdAt: e.created_at,
  };
}

export const MF_SUBSCRIPTION_STATUSES = ['active', 'canceled', 'past_due', 'trialing'] as const;
export type MfSubscriptionStatus = (typeof MF_SUBSCRIPTION_STATUSES)[number];

/** Billfold list_subscriptions filters for each MarginFront status (canceled: ended either way). */
export const SUBSCRIPTION_STATUS_FILTERS: Record<MfSubscriptionStatus, Array<Record<string, unknown>>> = {
  active: [{ status: 'active' }],
  canceled: [{ status: 'terminated' }, { status: 'canceled' }],
  past_due: [{ status: 'past_due' }],
  trialing: [{ status: 'trialing' }],
};

interface Subscription {
  id: string;
  external_id: string;
  customer_id: string;
  customer_external_id: string | null;
  plan_code: string;
  name: string | null;
  status: 'pending' | 'active' | 'terminated' | 'canceled';
  started_at: string;
  trial_ends_at: string | null;
  ending_at: string | null;
  terminated_at: string | null;
  canceled_at: string | null;
  current_period: { from: string; to: string } | null;
  agent_id: string | null;
  agent_code: string | null;
  billing_model: string;
  trialing: boolean;
  past_due: boolean;
  created_at: string;
  updated_at: string;
}

/**
 * MarginFront's status: an active subscription in its trial is trialing, one with an invoice
 * overdue past the grace period is past_due; an ended one (terminated or canceled) is canceled.
 * Billfold's pending (a start in the future) has no MarginFront word and keeps its own.
 */
export function subscriptionStatus(s: Pick<Subscription, 'status' | 'trialing' | 'past_due'>): string {
  if (s.status === 'terminated' || s.status === 'canceled') return 'canceled';
  if (s.status === 'active' && s.past_due) return 'past_due';
  if (s.status === 'active' && s.trialing) return 'trialing';
  return s.status;
}

export interface PlanInfo {
  id: string;
  name: string;
  interval: string;
  currency: string;
}

/** MarginFront's billing cycles, as the interval of the plan a subscription is on. */
export const BILLING_CYCLES = ['monthly', 'yearly'] as const;

export function subscriptionOut(s: Subscription, plan?: PlanInfo) {
  return {
    id: s.id,
    externalId: s.external_id,
    name: s.name,
    status: subscriptionStatus(s),
    customerId: s.customer_id,
    customerExternalId: s.customer_external_id,
    agentId: s.agent_id,
    agentCode: s.agent_code,
    planId: plan?.id ?? null,
    planCode: s.plan_code,
    planName: plan?.name ?? null,
    billingCycle: plan?.interval ?? null,
    billingModel: s.billing_model,
    currency: plan?.currency ?? null,
    startDate: s.started_at,
    trialEndsAt: s.trial_ends_at,
    currentPeriodStart: s.current_period?.from ?? null,
    currentPeriodEnd: s.current_period?.to ?? null,
    endDate: s.ending_at,
    canceledAt: s.terminated_at ?? s.canceled_at,
    createdAt: s.created_at,
    updatedAt: s.updated_at,
  };
}

interface Strategy {
  id: string;
  plan_code: string;
  charge_type: string;
  pricing_model: string;
  billable_metric_code: string | null;
  currency: string;
  rate: string | null;
  tiers: Array<{ up_to: string | null; rate: string; flat_amount: string }> | null;
  included_credits: string | null;
  credits_per_unit: string | null;
  minimum_commitment: string | null;
}

export function strategyOut(s: Strategy) {
  return {
    id: s.id,
    planCode: s.plan_code,
    signalName: s.billable_metric_code,
    chargeType: s.charge_type,
    pricingModel: s.pricing_model,
    currency: s.currency,
    rate: s.rate,
    tiers: s.tiers?.map((t) => ({ upTo: t.up_to, rate: t.rate, flatAmount: t.flat_amount })) ?? null,
    includedCredits: s.included_credits,
    creditsPerUnit: s.credits_per_unit,
    minimumCommitment: s.minimum_commitment,
  };
}

interface Plan {
  id: string;
  code: string;
  name: string;
  description: string | null;
  interval: string;
  currency: string;
  agent_codes: string[];
  created_at: string;
  updated_at: string;
}

export function planOut(p: Plan, strategies: Strategy[]) {
  return {
    id: p.id,
    code: p.code,
    name: p.name,
    description: p.description,
    billingCycle: p.interval,
    currency: p.currency,
    agentCodes: p.agent_codes,
    strategies: strategies.map(strategyOut),
    createdAt: p.created_at,
    updatedAt: p.updated_at,
  };
}

interface PortalSession {
  id: string;
  customer_id: string;
  customer: { id: string; external_id: string | null; name: string; email: string | null };
  features: string[];
  return_url: string | null;
  status: string;
  created_at: string;
  expires_at: string;
  redeemed_at: string | null;
  revoked_at: string | null;
}

export function portalSessionOut(s: PortalSession) {
  return {
    id: s.id,
    customerId: s.customer_id,
    customer: {
      id: s.customer.id,
      externalId: s.customer.external_id,
      name: s.customer.name,
      email: s.customer.email,
    },
    features: s.features,
    returnUrl: s.return_url,
    status: s.status,
    redeemed: s.redeemed_at !== null,
    redeemedAt: s.redeemed_at,
    expired: s.status === 'expired',
    revokedAt: s.revoked_at,
    expiresAt: s.expires_at,
    createdAt: s.created_at,
  };
}

/** Billfold's revenue types in MarginFront's words (one_off is its onetime). */
export function byTypeOut(t: Record<string, unknown> | null) {
  if (!t) return null;
  return {
    usage: t.usage,
    recurring: t.recurring,
    seat: t.seat,
    onetime: t.one_off,
  };
}

/** A breakdown row of the cost and usage analytics. */
export function bucketOut(b: Record<string, unknown>) {
  return {
    key: b.key,
    label: b.label,
    eventCount: b.event_count,
    units: b.units,
    inputTokens: b.input_tokens,
    outputTokens: b.output_tokens,
    totalTokens: b.total_tokens,
    costUsd: b.cost,
    costCents: b.cost_cents,
    unpricedEventCount: b.unpriced_event_count,
  };
}

export function totalsOut(t: Record<string, unknown>) {
  return {
    totalCost: t.cost,
    totalCostCents: t.cost_cents,
    currency: 'USD',
    totalEvents: t.event_count,
    totalTokens: t.total_tokens,
    inputTokens: t.input_tokens,
    outputTokens: t.output_tokens,
    units: t.units,
    unpricedEvents: t.unpriced_event_count,
  };
}

export function paginationOut(page: number, limit: number, total: number) {
  return { page, limit, total, totalPages: Math.ceil(total / limit), hasMore: page * limit < total };
}

/** One of two MarginFront parameters naming the same thing, never neither. */
export function oneOf(a: [string, unknown], b: [string, unknown]): void {
  if (a[1] === undefined && b[1] === undefined)
    throw new ProfileError(
      'VALIDATION_ERROR',
      `${a[0]} or ${b[0]} is required: name the customer by one of them`,
      {
        field: a[0],
      },
    );
}
