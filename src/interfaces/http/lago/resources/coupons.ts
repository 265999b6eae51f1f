import { billfoldRef, lagoId } from '../ids.js';
import { meta, type LagoCall } from '../call.js';
import { invalidFields, LagoError } from '../errors.js';
import { Fields } from '../request.js';
import type { LagoRoute } from '../router.js';
import { lagoTime, majorFromCents } from '../shapes.js';

export function couponObject(c: Record<string, any>): Record<string, unknown> {
  return {
    lago_id: lagoId(c.id),
    name: c.name,
    code: c.code,
    description: c.description,
    coupon_type: c.coupon_type,
    amount_cents: c.amount_cents,
    amount_currency: c.amount_currency,
    reusable: c.reusable,
    limited_plans: c.plan_codes.length > 0,
    plan_codes: c.plan_codes,
    limited_billable_metrics: c.billable_metric_codes.length > 0,
    billable_metric_codes: c.billable_metric_codes,
    percentage_rate: c.percentage_rate,
    frequency: c.frequency,
    frequency_duration: c.frequency_duration,
    expiration: c.expiration_at ? 'time_limit' : 'no_expiration',
    expiration_at: lagoTime(c.expiration_at),
    created_at: lagoTime(c.created_at),
    terminated_at: lagoTime(c.terminated_at),
  };
}

export function appliedCouponObject(a: Record<string, any>): Record<string, unknown> {
  return {
    lago_id: lagoId(a.id),
    lago_coupon_id: lagoId(a.coupon_id),
    coupon_code: a.coupon_code,
    coupon_name: a.coupon_name,
    lago_customer_id: lagoId(a.customer_id),
    external_customer_id: a.external_customer_id,
    status: a.status,
    amount_cents: a.amount_cents,
    amount_cents_remaining: a.amount_remaining_cents,
    amount_currency: a.amount_currency,
    percentage_rate: a.percentage_rate,
    frequency: a.frequency,
    frequency_duration: a.frequency_duration,
    frequency_duration_remaining: a.frequency_duration_remaining,
    expiration_at: lagoTime(a.expiration_at),
    created_at: lagoTime(a.created_at),
    terminated_at: lagoTime(a.terminated_at),
    credits: [],
  };
}

/** The amount of a coupon or an applied coupon: Lago's cents become major units. */
function amountIn(f: Fields, args: Record<string, unknown>, where: string, currentCurrency?: string | null) {
  const currency = (f.str('amount_currency') ?? currentCurrency ?? undefined)?.toUpperCase();
  if (f.has('amount_currency')) args.amount_currency = currency;
  const cents = f.get('amount_cents');
  if (cents !== undefined && cents !== null) {
    if (!currency) throw invalidFields({ [`${where}.amount_currency`]: 'is required with amount_cents' });
    args.amount = majorFromCents(`${where}.amount_cents`, cents, currency);
    args.amount_currency = currency;
  }
}

function couponInput(f: Fields, current?: Record<string, any>): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const k of [
    'code',
    'name',
    'description',
    'coupon_type',
    'percentage_rate',
    'frequency',
    'frequency_duration',
    'reusable',
  ])
    f.copy(args, k);
  amountIn(f, args, 'coupon', current?.amount_currency);
  const expiration = f.str('expiration');
  const at = f.get('expiration_at');
  if (expiration === 'no_expiration') args.expiration_at = null;
  else if (expiration === 'time_limit') {
    if (at === undefined || at === null)
      throw invalidFields({ 'coupon.expiration_at': 'is required when expiration is time_limit' });
    args.expiration_at = at;
  } else if (expiration !== undefined)
    throw invalidFields({
      'coupon.expiration': `must be one of no_expiration, time_limit (got '${expiration}')`,
    });
  else if (at !== undefined) args.expiration_at = at;
  const applies = f.obj('applies_to');
  if (applies) {
    applies.copy(args, 'plan_codes');
    applies.copy(args, 'billable_metric_codes');
    applies.done();
  }
  f.done();
  return args;
}

const NAMES = { amount: 'amount_cents', coupon_code: 'code' };

async function listApplied(call: LagoCall, customer: string | undefined) {
  const q = call.query;
  const args: Record<string, unknown> = { ...q.page() };
  const status = q.str('status');
  if (status) args.status = status;
  const c = customer ?? q.str('external_customer_id');
  if (c) args.customer_id = c;
  const codes = q.list('coupon_code');
  if (codes.length) args.coupon_codes = codes;
  q.done();
  const out = await call.op('list_applied_coupons', args, 'applied_coupon', {
    customer_id: 'external_customer_id',
    coupon_codes: 'coupon_code[]',
  });
  return { applied_coupons: out.applied_coupons.map(appliedCouponObject), meta: meta(out.pagination) };
}

export const couponRoutes: LagoRoute[] = [
  {
    method: 'POST',
    path: '/coupons',
    async handle(call) {
      const { coupon } = await call.op(
        'create_coupon',
        couponInput(Fields.root(call.body, 'coupon')),
        'coupon',
        NAMES,
      );
      return { coupon: couponObject(coupon) };
    },
  },
  {
    method: 'PUT',
    path: '/coupons/{code}',
    async handle(call, [code]) {
      const f = Fields.root(call.body, 'coupon');
      const { coupon: current } = await call.op('get_coupon', { coupon_code: code }, 'coupon');
      const args = couponInput(f, current);
      if (args.code !== undefined && args.code !== current.code)
        throw invalidFields({ 'coupon.code': `Billfold keeps a coupon's code (it is '${current.code}')` });
      delete args.code;
      delete args.reusable;
      const { coupon } = await call.op('update_coupon', { coupon_code: code, ...args }, 'coupon', NAMES);
      return { coupon: couponObject(coupon) };
    },
  },
  {
    method: 'GET',
    path: '/coupons/{code}',
    async handle(call, [code]) {
      call.query.done();
      const { coupon } = await call.op('get_coupon', { coupon_code: code }, 'coupon');
      return { coupon: couponObject(coupon) };
    },
  },
  {
    method: 'DELETE',
    path: '/coupons/{code}',
    async handle(call, [code]) {
      call.query.done();
      const { coupon } = await call.op('delete_coupon', { coupon_code: code }, 'coupon');
      return { coupon: couponObject(coupon) };
    },
  },
  {
    method: 'GET',
    path: '/coupons',
    async handle(call) {
      const args = { ...call.query.page() };
      call.query.done();
      const out = await call.op('list_coupons', args, 'coupon');
      return { coupons: out.coupons.map(couponObject), meta: meta(out.pagination) };
    },
  },
  {
    method: 'POST',
    path: '/applied_coupons',
    async handle(call) {
      const f = Fields.root(call.body, 'applied_coupon');
      const args: Record<string, unknown> = {};
      f.copy(args, 'external_customer_id', 'customer_id');
      f.copy(args, 'coupon_code');
      f.copy(args, 'frequency');
      f.copy(args, 'frequency_duration');
      f.copy(args, 'percentage_rate');
      amountIn(f, args, 'applied_coupon');
      f.done();
      const { applied_coupon } = await call.op('apply_coupon', args, 'applied_coupon', {
        customer_id: 'external_customer_id',
        amount: 'amount_cents',
      });
      return { applied_coupon: appliedCouponObject(applied_coupon) };
    },
  },
  { method: 'GET', path: '/applied_coupons', handle: (call) => listApplied(call, undefined) },
  {
    method: 'GET',
    path: '/customers/{external_customer_id}/applied_coupons',
    handle: (call, [customer]) => listApplied(call, customer),
  },
  {
    method: 'DELETE',
    path: '/customers/{external_customer_id}/applied_coupons/{applied_coupon_id}',
    async handle(call, [customer, id]) {
      call.query.done();
      const ref = billfoldRef('applied_coupon', id!);
      // Only this customer's coupon may be removed through this path.
      let found = false;
      for (let page = 1; !found; page++) {
        const out = await call.op(
          'list_applied_coupons',
          { customer_id: customer, page, per_page: 100 },
          'customer',
          {
            customer_id: 'external_customer_id',
          },
        );
        found = out.applied_coupons.some((a: Record<string, any>) => a.id === ref);
        if (out.pagination.next_page === null) break;
      }
      if (!found)
        throw new LagoError(
          404,
          'applied_coupon_not_found',
          `customer '${customer}' has no applied coupon '${id}'`,
        );
      const { applied_coupon } = await call.op(
        'remove_applied_coupon',
        { applied_coupon_id: ref },
        'applied_coupon',
      );
      return { applied_coupon: appliedCouponObject(applied_coupon) };
    },
  },
];
