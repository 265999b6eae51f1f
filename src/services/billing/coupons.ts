import { sql, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { AppliedCouponsTable, CouponsTable, CustomersTable, Database } from '../../db/schema.js';
import { countAll, escapeLike } from '../../db/sql.js';
import { minorUnits } from '../../domain/currencies.js';
import { Decimal } from '../../domain/decimal.js';
import { BillfoldError, conflict, invalidStatus, validation } from '../../domain/errors.js';
import { looksLikeId, newId } from '../../domain/ids.js';
import { formatMinor } from '../../domain/money.js';
import { pageOffset, pagination, type PageRequest, type Pagination } from '../../domain/pagination.js';
import { toIso } from '../../domain/time.js';
import { diff, recordActivity } from '../activity.js';
import type { ServiceContext } from '../context.js';
import { resolveCustomer } from '../customers.js';
import { metricsByCode } from '../metering/metrics.js';
import { currencyAmount } from './charge-validation.js';

/**
 * Coupons and the coupons applied to customers. An applied coupon keeps its own copy of the
 * terms (apply_coupon may override them), so later changes to the coupon — or its deletion —
 * leave discounts already granted alone; the plan and metric limits are read from the coupon.
 */

export type CouponType = 'fixed_amount' | 'percentage';
export type CouponFrequency = 'once' | 'recurring' | 'forever';

export interface CouponView {
  id: string;
  code: string;
  name: string;
  description: string | null;
  coupon_type: CouponType;
  amount_cents: number | null;
  amount: string | null;
  amount_currency: string | null;
  percentage_rate: string | null;
  frequency: CouponFrequency;
  frequency_duration: number | null;
  expiration_at: string | null;
  reusable: boolean;
  plan_codes: string[];
  billable_metric_codes: string[];
  status: 'active' | 'terminated';
  terminated_at: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface CouponFields {
  name?: string;
  description?: string | null;
  coupon_type?: CouponType;
  amount?: Decimal | null;
  amount_currency?: string | null;
  percentage_rate?: Decimal | null;
  frequency?: CouponFrequency;
  frequency_duration?: number | null;
  expiration_at?: number | null;
  reusable?: boolean;
  plan_codes?: string[];
  billable_metric_codes?: string[];
}

const amountOut = (cents: number | null, currency: string | null) =>
  cents === null || currency === null ? null : formatMinor(cents, currency);

/** Whether the coupon can still be applied at `now`. */
function couponStatus(row: CouponsTable, now: number): 'active' | 'terminated' {
  if (row.terminated_at !== null || row.deleted_at !== null) return 'terminated';
  if (row.expiration_at !== null && row.expiration_at <= now) return 'terminated';
  return 'active';
}

export function couponView(row: CouponsTable, now: number): CouponView {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    description: row.description,
    coupon_type: row.coupon_type as CouponType,
    amount_cents: row.amount_cents === null ? null : Number(row.amount_cents),
    amount: amountOut(row.amount_cents === null ? null : Number(row.amount_cents), row.amount_currency),
    amount_currency: row.amount_currency,
    percentage_rate: row.percentage_rate,
    frequency: row.frequency as CouponFrequency,
    frequency_duration: row.frequency_duration,
    expiration_at: toIso(row.expiration_at),
    reusable: row.reusable === 1,
    plan_codes: JSON.parse(row.plan_codes) as string[],
    billable_metric_codes: JSON.parse(row.billable_metric_codes) as string[],
    status: couponStatus(row, now),
    terminated_at: toIso(
      row.terminated_at ??
        (row.expiration_at !== null && row.expiration_at <= now ? row.expiration_at : null),
    ),
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
    deleted_at: toIso(row.deleted_at),
  };
}

type Terms = Pick<
  CouponsTable,
  | 'name'
  | 'description'
  | 'coupon_type'
  | 'amount_cents'
  | 'amount_currency'
  | 'percentage_rate'
  | 'frequency'
  | 'frequency_duration'
  | 'expiration_at'
  | 'reusable'
  | 'plan_codes'
  | 'billable_metric_codes'
>;

const TERM_KEYS = [
  'name',
  'description',
  'coupon_type',
  'amount_cents',
  'amount_currency',
  'percentage_rate',
  'frequency',
  'frequency_duration',
  'expiration_at',
  'reusable',
  'plan_codes',
  'billable_metric_codes',
] as const;

function checkFrequency(
  frequency: CouponFrequency,
  duration: number | null | undefined,
  field = '',
): number | null {
  if (frequency === 'recurring') {
    if (duration === null || duration === undefined || duration < 1) {
      throw validation(
        `${field}frequency_duration`,
        'is required for a recurring coupon: the number of invoices it applies to, at least 1',
        'Use frequency "forever" for a coupon with no end, or "once" for one invoice.',
      );
    }
    return duration;
  }
  if (duration !== null && duration !== undefined) {
    throw validation(
      `${field}frequency_duration`,
      `applies only to recurring coupons (frequency is ${frequency})`,
      'Set frequency to "recurring", or leave frequency_duration out.',
    );
  }
  return null;
}

function checkRate(rate: Decimal, field: string): string {
  if (!rate.isPositive() || rate.gt(100)) {
    throw validation(
      field,
      `must be greater than 0 and at most 100 (got ${rate.toString()})`,
      '"10" means 10 % off.',
    );
  }
  return rate.toString();
}

/** Checks a complete set of coupon fields and returns the columns to store. */
async function couponTerms(
  ctx: ServiceContext,
  f: CouponFields & { name: string; coupon_type: CouponType; frequency: CouponFrequency },
): Promise<Terms> {
  let amountCents: number | null = null;
  let currency: string | null = null;
  let rate: string | null = null;
  if (f.coupon_type === 'fixed_amount') {
    if (f.percentage_rate !== undefined && f.percentage_rate !== null) {
      throw validation(
        'percentage_rate',
        'applies only to percentage coupons',
        'A fixed_amount coupon takes `amount`.',
      );
    }
    if (!f.amount) {
      throw validation(
        'amount',
        'is required for a fixed_amount coupon, in major units, e.g. "25.00"',
        'For a share off the invoice use coupon_type "percentage" with percentage_rate.',
      );
    }
    currency = f.amount_currency ?? (await ctx.organization()).default_currency;
    if (!f.amount.isPositive())
      throw validation('amount', `must be greater than 0 (got ${f.amount.toString()})`);
    amountCents = Number(currencyAmountMinor(f.amount, currency, 'amount'));
  } else {
    if (f.amount !== undefined && f.amount !== null) {
      throw validation(
        'amount',
        'applies only to fixed_amount coupons',
        'A percentage coupon takes `percentage_rate`.',
      );
    }
    if (!f.percentage_rate) {
      throw validation('percentage_rate', 'is required for a percentage coupon, e.g. "10" for 10 % off');
    }
    rate = checkRate(f.percentage_rate, 'percentage_rate');
  }
  const duration = checkFrequency(f.frequency, f.frequency_duration);
  const plans = f.plan_codes ?? [];
  const metrics = f.billable_metric_codes ?? [];
  if (plans.length && metrics.length) {
    throw validation(
      'billable_metric_codes',
      'cannot be combined with plan_codes: a coupon is limited to plans or to billable metrics, not both',
      'Create two coupons if you need both.',
    );
  }
  await checkPlanCodes(ctx, plans);
  await checkMetricCodes(ctx, metrics);
  return {
    name: f.name,
    description: f.description ?? null,
    coupon_type: f.coupon_type,
    amount_cents: amountCents,
    amount_currency: currency,
    percentage_rate: rate,
    frequency: f.frequency,
    frequency_duration: duration,
    expiration_at: f.expiration_at ?? null,
    reusable: f.reusable === false ? 0 : 1,
    plan_codes: JSON.stringify(plans),
    billable_metric_codes: JSON.stringify(metrics),
  };
}

function currencyAmountMinor(d: Decimal, currency: string, field: string): bigint {
  currencyAmount(d, currency, field);
  return d.toMinor(minorUnits(currency));
}

async function checkPlanCodes(ctx: ServiceContext, codes: string[]): Promise<void> {
  if (!codes.length) return;
  const rows = await ctx.db
    .selectFrom('plans')
    .select('code')
    .where('organization_id', '=', ctx.organizationId)
    .where('deleted_at', 'is', null)
    .where('code', 'in', codes)
    .execute();
  const known = new Set(rows.map((r) => r.code));
  codes.forEach((c, i) => {
    if (!known.has(c)) {
      throw validation(`plan_codes[${i}]`, `no plan has the code '${c}'`, 'list_plans shows the plan codes.');
    }
  });
}

async function checkMetricCodes(ctx: ServiceContext, codes: string[]): Promise<void> {
  if (!codes.length) return;
  const known = await metricsByCode(ctx, codes);
  codes.forEach((c, i) => {
    if (!known.has(c)) {
      throw validation(
        `billable_metric_codes[${i}]`,
        `no billable metric has the code '${c}'`,
        'list_billable_metrics shows the codes.',
      );
    }
  });
}

async function liveCoupon(ctx: ServiceContext, code: string): Promise<CouponsTable | undefined> {
  return ctx.db
    .selectFrom('coupons')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('code', '=', code)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

/** A coupon by code (live ones) or by Billfold id (deleted ones too). */
export async function resolveCoupon(
  ctx: ServiceContext,
  ref: string,
  field = 'coupon_code',
): Promise<CouponsTable> {
  const row = looksLikeId('coupon', ref)
    ? await ctx.db
        .selectFrom('coupons')
        .selectAll()
        .where('organization_id', '=', ctx.organizationId)
        .where('id', '=', ref)
        .executeTakeFirst()
    : await liveCoupon(ctx, ref);
  if (!row) throw couponNotFound(ref, field);
  return row;
}

function couponNotFound(ref: string, field: string): BillfoldError {
  return new BillfoldError(
    'NOT_FOUND',
    `${field}: no coupon has the code or id '${ref}'`,
    { resource: 'coupon', field, ref },
    'list_coupons shows the coupon codes; create_coupon makes one.',
  );
}

export async function createCoupon(
  ctx: ServiceContext,
  input: CouponFields & { code: string; name: string; coupon_type: CouponType },
): Promise<{ coupon: CouponView; created: boolean }> {
  const now = ctx.now();
  if (input.expiration_at != null && input.expiration_at <= now) {
    throw validation(
      'expiration_at',
      `must be in the future (got ${toIso(input.expiration_at)})`,
      'Leave it out for a coupon that never expires.',
    );
  }
  const terms = await couponTerms(ctx, { ...input, frequency: input.frequency ?? 'once' });
  const existing = await liveCoupon(ctx, input.code);
  if (existing) {
    const same = TERM_KEYS.every(
      (k) => (k === 'amount_cents' ? numOrNull(existing[k]) : existing[k]) === terms[k],
    );
    if (same) return { coupon: couponView(existing, now), created: false };
    throw conflict(
      `code: a coupon with the code '${input.code}' already exists (${existing.id}) with other values`,
      { field: 'code', value: input.code, coupon_id: existing.id },
      'Use update_coupon to change it, or choose another code.',
    );
  }
  const row: CouponsTable = {
    id: newId('coupon', now),
    organization_id: ctx.organizationId,
    code: input.code,
    ...terms,
    status: 'active',
    terminated_at: null,
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
  await ctx.db.insertInto('coupons').values(row).execute();
  await recordActivity(ctx, {
    type: 'coupon.created',
    resourceType: 'coupon',
    resourceId: row.id,
    changes: { code: row.code, ...terms },
  });
  return { coupon: couponView(row, now), created: true };
}

const numOrNull = (v: number | string | null) => (v === null ? null : Number(v));

export async function getCoupon(ctx: ServiceContext, ref: string): Promise<CouponView> {
  return couponView(await resolveCoupon(ctx, ref), ctx.now());
}

export async function listCoupons(
  ctx: ServiceContext,
  filter: { search?: string; status?: 'active' | 'terminated' },
  page: PageRequest,
): Promise<{ coupons: CouponView[]; pagination: Pagination }> {
  const now = ctx.now();
  let q = ctx.db
    .selectFrom('coupons')
    .where('organization_id', '=', ctx.organizationId)
    .where('deleted_at', 'is', null);
  if (filter.status) {
    const live = (eb: ExpressionBuilder<Database, 'coupons'>) =>
      eb.and([
        eb('terminated_at', 'is', null),
        eb.or([eb('expiration_at', 'is', null), eb('expiration_at', '>', now)]),
      ]);
    q = filter.status === 'active' ? q.where(live) : q.where((eb) => eb.not(live(eb)));
  }
  if (filter.search) {
    const pattern = `%${escapeLike(filter.search.toLowerCase())}%`;
    q = q.where(sql<SqlBool>`lower(code || ' ' || name) like ${pattern} escape '\\'`);
  }
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const rows = await q.selectAll().orderBy('code').limit(page.per_page).offset(pageOffset(page)).execute();
  return { coupons: rows.map((r) => couponView(r, now)), pagination: pagination(page, Number(count)) };
}

export async function updateCoupon(
  ctx: ServiceContext,
  ref: string,
  patch: CouponFields,
): Promise<CouponView> {
  const before = await resolveCoupon(ctx, ref);
  const now = ctx.now();
  if (before.deleted_at !== null) {
    throw invalidStatus(
      `coupon_code: coupon '${before.code}' was deleted and can no longer change`,
      { coupon_id: before.id },
      'create_coupon makes a new one; its code is free again.',
    );
  }
  const type = patch.coupon_type ?? (before.coupon_type as CouponType);
  const typeChanged = type !== before.coupon_type;
  const frequency = patch.frequency ?? (before.frequency as CouponFrequency);
  const merged = {
    name: patch.name ?? before.name,
    description: patch.description !== undefined ? patch.description : before.description,
    coupon_type: type,
    amount:
      patch.amount !== undefined
        ? patch.amount
        : typeChanged || before.amount_cents === null
          ? null
          : fromCents(before),
    amount_currency:
      patch.amount_currency !== undefined
        ? patch.amount_currency
        : typeChanged
          ? null
          : before.amount_currency,
    percentage_rate:
      patch.percentage_rate !== undefined
        ? patch.percentage_rate
        : typeChanged || before.percentage_rate === null
          ? null
          : Decimal.parse(before.percentage_rate),
    frequency,
    frequency_duration:
      patch.frequency_duration !== undefined
        ? patch.frequency_duration
        : frequency === 'recurring'
          ? before.frequency_duration
          : null,
    expiration_at: patch.expiration_at !== undefined ? patch.expiration_at : before.expiration_at,
    reusable: patch.reusable ?? before.reusable === 1,
    plan_codes: patch.plan_codes ?? (JSON.parse(before.plan_codes) as string[]),
    billable_metric_codes:
      patch.billable_metric_codes ?? (JSON.parse(before.billable_metric_codes) as string[]),
  };
  if (patch.expiration_at != null && patch.expiration_at <= now) {
    throw validation('expiration_at', `must be in the future (got ${toIso(patch.expiration_at)})`);
  }
  const terms = await couponTerms(ctx, merged);
  const current = { ...before, amount_cents: numOrNull(before.amount_cents) };
  const changes = diff(current, { ...current, ...terms }, TERM_KEYS);
  if (Object.keys(changes).length === 0) return couponView(before, now);
  const next: CouponsTable = { ...before, ...terms, updated_at: now };
  const { id, organization_id, created_at, ...settable } = next;
  void created_at;
  await ctx.db
    .updateTable('coupons')
    .set(settable)
    .where('id', '=', id)
    .where('organization_id', '=', organization_id)
    .execute();
  await recordActivity(ctx, { type: 'coupon.updated', resourceType: 'coupon', resourceId: id, changes });
  return couponView(next, now);
}

function fromCents(row: CouponsTable): Decimal {
  return Decimal.parse(formatMinor(Number(row.amount_cents), row.amount_currency!));
}

export async function deleteCoupon(ctx: ServiceContext, ref: string): Promise<CouponView> {
  const row = await resolveCoupon(ctx, ref);
  const now = ctx.now();
  if (row.deleted_at !== null) return couponView(row, now);
  const next: CouponsTable = {
    ...row,
    status: 'terminated',
    terminated_at: row.terminated_at ?? now,
    deleted_at: now,
    updated_at: now,
  };
  await ctx.db
    .updateTable('coupons')
    .set({ status: next.status, terminated_at: next.terminated_at, deleted_at: now, updated_at: now })
    .where('id', '=', row.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  await recordActivity(ctx, {
    type: 'coupon.deleted',
    resourceType: 'coupon',
    resourceId: row.id,
    changes: { deleted_at: [null, toIso(now)] },
  });
  return couponView(next, now);
}

// Applied coupons.

export interface AppliedCouponView {
  id: string;
  coupon_id: string;
  coupon_code: string;
  coupon_name: string;
  customer_id: string;
  external_customer_id: string | null;
  status: 'active' | 'terminated';
  coupon_type: CouponType;
  frequency: CouponFrequency;
  frequency_duration: number | null;
  frequency_duration_remaining: number | null;
  amount_cents: number | null;
  amount: string | null;
  amount_currency: string | null;
  amount_remaining_cents: number | null;
  amount_remaining: string | null;
  percentage_rate: string | null;
  plan_codes: string[];
  billable_metric_codes: string[];
  expiration_at: string | null;
  created_at: string;
  terminated_at: string | null;
}

export function appliedCouponView(
  a: AppliedCouponsTable,
  coupon: CouponsTable,
  customer: Pick<CustomersTable, 'id' | 'external_id'>,
): AppliedCouponView {
  const amount = numOrNull(a.amount_cents);
  const remaining = numOrNull(a.amount_remaining_cents);
  return {
    id: a.id,
    coupon_id: coupon.id,
    coupon_code: coupon.code,
    coupon_name: coupon.name,
    customer_id: customer.id,
    external_customer_id: customer.external_id,
    status: a.status as 'active' | 'terminated',
    coupon_type: coupon.coupon_type as CouponType,
    frequency: a.frequency as CouponFrequency,
    frequency_duration: a.frequency_duration,
    frequency_duration_remaining: a.frequency_duration_remaining,
    amount_cents: amount,
    amount: amountOut(amount, a.amount_currency),
    amount_currency: a.amount_currency,
    amount_remaining_cents: remaining,
    amount_remaining: amountOut(remaining, a.amount_currency),
    percentage_rate: a.percentage_rate,
    plan_codes: JSON.parse(coupon.plan_codes) as string[],
    billable_metric_codes: JSON.parse(coupon.billable_metric_codes) as string[],
    expiration_at: toIso(coupon.expiration_at),
    created_at: toIso(a.created_at),
    terminated_at: toIso(a.terminated_at),
  };
}

export interface ApplyCouponInput {
  customer_id: string;
  coupon_code: string;
  frequency?: CouponFrequency;
  frequency_duration?: number | null;
  amount?: Decimal;
  amount_currency?: string;
  percentage_rate?: Decimal;
}

export async function applyCoupon(ctx: ServiceContext, input: ApplyCouponInput): Promise<AppliedCouponView> {
  const customer = await resolveCustomer(ctx, input.customer_id);
  const now = ctx.now();
  let coupon = await liveCoupon(ctx, input.coupon_code);
  if (!coupon && looksLikeId('coupon', input.coupon_code))
    coupon = await resolveCoupon(ctx, input.coupon_code);
  if (!coupon) {
    const deleted = await ctx.db
      .selectFrom('coupons')
      .select('id')
      .where('organization_id', '=', ctx.organizationId)
      .where('code', '=', input.coupon_code)
      .executeTakeFirst();
    if (deleted) {
      throw invalidStatus(
        `coupon_code: coupon '${input.coupon_code}' was deleted and can no longer be applied`,
        { coupon_id: deleted.id },
        'Customers who already have it keep it; create_coupon makes a new one.',
      );
    }
    throw couponNotFound(input.coupon_code, 'coupon_code');
  }
  if (coupon.deleted_at !== null || coupon.terminated_at !== null) {
    throw invalidStatus(
      `coupon_code: coupon '${coupon.code}' is terminated and can no longer be applied`,
      { coupon_id: coupon.id, terminated_at: toIso(coupon.terminated_at ?? coupon.deleted_at) },
      'list_coupons with status "active" shows the coupons that can be applied.',
    );
  }
  if (coupon.expiration_at !== null && coupon.expiration_at <= now) {
    throw invalidStatus(
      `coupon_code: coupon '${coupon.code}' expired at ${toIso(coupon.expiration_at)} and can no longer be applied`,
      { coupon_id: coupon.id, expiration_at: toIso(coupon.expiration_at) },
      'update_coupon with a later expiration_at extends it.',
    );
  }
  const earlier = await ctx.db
    .selectFrom('applied_coupons')
    .select(['id', 'status'])
    .where('organization_id', '=', ctx.organizationId)
    .where('coupon_id', '=', coupon.id)
    .where('customer_id', '=', customer.id)
    .execute();
  if (coupon.reusable === 0 && earlier.length) {
    throw conflict(
      `coupon_code: coupon '${coupon.code}' is not reusable and was already applied to customer '${customer.external_id ?? customer.id}'`,
      { coupon_id: coupon.id, customer_id: customer.id, applied_coupon_id: earlier[0]!.id },
      'A non-reusable coupon applies to a customer only once, ever; list_applied_coupons shows it.',
    );
  }

  let amountCents: number | null = null;
  let currency: string | null = null;
  let rate: string | null = null;
  if (coupon.coupon_type === 'fixed_amount') {
    if (input.percentage_rate !== undefined) {
      throw validation(
        'percentage_rate',
        `applies only to percentage coupons; '${coupon.code}' is a fixed_amount coupon`,
      );
    }
    currency = input.amount_currency ?? coupon.amount_currency!;
    if (input.amount !== undefined) {
      if (!input.amount.isPositive())
        throw validation('amount', `must be greater than 0 (got ${input.amount.toString()})`);
      amountCents = Number(currencyAmountMinor(input.amount, currency, 'amount'));
    } else if (currency !== coupon.amount_currency) {
      throw validation(
        'amount_currency',
        'can change only together with `amount`',
        'Pass the amount in that currency too.',
      );
    } else {
      amountCents = Number(coupon.amount_cents);
    }
    if (customer.currency && customer.currency !== currency) {
      throw validation(
        input.amount_currency ? 'amount_currency' : 'coupon_code',
        `coupon '${coupon.code}' is ${formatMinor(amountCents, currency)} ${currency}, but customer '${customer.external_id ?? customer.id}' is billed in ${customer.currency}`,
        `Pass amount and amount_currency: "${customer.currency}" to apply it in the customer's currency, or use a coupon in ${customer.currency}.`,
      );
    }
  } else {
    if (input.amount !== undefined || input.amount_currency !== undefined) {
      throw validation(
        'amount',
        `applies only to fixed_amount coupons; '${coupon.code}' is a percentage coupon`,
      );
    }
    rate = input.percentage_rate
      ? checkRate(input.percentage_rate, 'percentage_rate')
      : coupon.percentage_rate;
  }
  const frequency = input.frequency ?? (coupon.frequency as CouponFrequency);
  const duration = checkFrequency(
    frequency,
    input.frequency_duration !== undefined
      ? input.frequency_duration
      : frequency === coupon.frequency
        ? coupon.frequency_duration
        : undefined,
  );
  const row: AppliedCouponsTable = {
    id: newId('applied_coupon', now),
    organization_id: ctx.organizationId,
    coupon_id: coupon.id,
    customer_id: customer.id,
    status: 'active',
    amount_cents: amountCents,
    amount_currency: currency,
    percentage_rate: rate,
    frequency,
    frequency_duration: duration,
    frequency_duration_remaining: duration,
    // A once fixed amount carries what an invoice could not use to the next one.
    amount_remaining_cents: frequency === 'once' ? amountCents : null,
    terminated_at: null,
    created_at: now,
    updated_at: now,
  };
  await ctx.db.insertInto('applied_coupons').values(row).execute();
  await recordActivity(ctx, {
    type: 'applied_coupon.created',
    resourceType: 'applied_coupon',
    resourceId: row.id,
    customerId: customer.id,
    externalCustomerId: customer.external_id,
    changes: {
      coupon_code: coupon.code,
      frequency,
      frequency_duration: duration,
      amount_cents: amountCents,
      percentage_rate: rate,
    },
  });
  return appliedCouponView(row, coupon, customer);
}

async function appliedViews(ctx: ServiceContext, rows: AppliedCouponsTable[]): Promise<AppliedCouponView[]> {
  if (!rows.length) return [];
  const coupons = await ctx.db
    .selectFrom('coupons')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('id', 'in', [...new Set(rows.map((r) => r.coupon_id))])
    .execute();
  const customers = await ctx.db
    .selectFrom('customers')
    .select(['id', 'external_id'])
    .where('organization_id', '=', ctx.organizationId)
    .where('id', 'in', [...new Set(rows.map((r) => r.customer_id))])
    .execute();
  const couponById = new Map(coupons.map((c) => [c.id, c]));
  const customerById = new Map(customers.map((c) => [c.id, c]));
  return rows.map((r) =>
    appliedCouponView(r, couponById.get(r.coupon_id)!, customerById.get(r.customer_id)!),
  );
}

export async function listAppliedCoupons(
  ctx: ServiceContext,
  filter: { status?: 'active' | 'terminated'; customer_id?: string; coupon_codes?: string[] },
  page: PageRequest,
): Promise<{ applied_coupons: AppliedCouponView[]; pagination: Pagination }> {
  let q = ctx.db.selectFrom('applied_coupons').where('organization_id', '=', ctx.organizationId);
  if (filter.status) q = q.where('status', '=', filter.status);
  if (filter.customer_id)
    q = q.where('customer_id', '=', (await resolveCustomer(ctx, filter.customer_id)).id);
  if (filter.coupon_codes?.length) {
    // Deleted coupons count too: their applied coupons live on.
    const known = await ctx.db
      .selectFrom('coupons')
      .select(['id', 'code'])
      .where('organization_id', '=', ctx.organizationId)
      .where('code', 'in', filter.coupon_codes)
      .execute();
    const codes = new Set(known.map((k) => k.code));
    filter.coupon_codes.forEach((c, i) => {
      if (!codes.has(c)) {
        throw validation(
          `coupon_codes[${i}]`,
          `no coupon has the code '${c}'`,
          'list_coupons shows the coupon codes.',
        );
      }
    });
    q = q.where(
      'coupon_id',
      'in',
      known.map((r) => r.id),
    );
  }
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.per_page)
    .offset(pageOffset(page))
    .execute();
  return { applied_coupons: await appliedViews(ctx, rows), pagination: pagination(page, Number(count)) };
}

export async function removeAppliedCoupon(
  ctx: ServiceContext,
  id: string,
): Promise<{ applied_coupon: AppliedCouponView; changed: boolean }> {
  const row = await ctx.db
    .selectFrom('applied_coupons')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) {
    throw new BillfoldError(
      'NOT_FOUND',
      `applied_coupon_id: no applied coupon has the id '${id}'`,
      { resource: 'applied_coupon', field: 'applied_coupon_id', ref: id },
      'list_applied_coupons with customer_id shows a customer’s applied coupons and their ids (acp_…).',
    );
  }
  if (row.status === 'terminated')
    return { applied_coupon: (await appliedViews(ctx, [row]))[0]!, changed: false };
  const now = ctx.now();
  const next = { ...row, status: 'terminated', terminated_at: now, updated_at: now };
  await ctx.db
    .updateTable('applied_coupons')
    .set({ status: 'terminated', terminated_at: now, updated_at: now })
    .where('id', '=', row.id)
    .where('organization_id', '=', ctx.organizationId)
    .execute();
  const [view] = await appliedViews(ctx, [next]);
  await recordActivity(ctx, {
    type: 'applied_coupon.terminated',
    resourceType: 'applied_coupon',
    resourceId: row.id,
    customerId: row.customer_id,
    externalCustomerId: view!.external_customer_id,
    changes: { status: ['active', 'terminated'] },
  });
  return { applied_coupon: view!, changed: true };
}
