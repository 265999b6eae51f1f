import { lagoId } from '../ids.js';
import { meta, type LagoCall } from '../call.js';
import { invalidFields } from '../errors.js';
import { Fields } from '../request.js';
import type { LagoRoute } from '../router.js';
import { lagoTime, majorFromCents } from '../shapes.js';
import { BILLING_ENTITY_CODE } from './customers.js';
import { chargeIn } from './plans.js';

/** Lago ends a billing period at its last second (`…T23:59:59Z`); Billfold's `to` is exclusive. */
function lastSecond(iso: string | null | undefined): string | null {
  if (!iso) return null;
  return lagoTime(new Date(Date.parse(iso) - 1000).toISOString());
}

export function subscriptionObject(s: Record<string, any>, now: number): Record<string, unknown> {
  const trialEnds = s.trial_ends_at ? Date.parse(s.trial_ends_at) : null;
  return {
    lago_id: lagoId(s.id),
    external_id: s.external_id,
    lago_customer_id: lagoId(s.customer_id),
    external_customer_id: s.customer_external_id,
    billing_entity_code: BILLING_ENTITY_CODE,
    name: s.name,
    plan_code: s.plan_code,
    status: s.status,
    billing_time: s.billing_time,
    subscription_at: lagoTime(s.started_at),
    started_at: s.status === 'pending' ? null : lagoTime(s.started_at),
    trial_ended_at: trialEnds !== null && trialEnds <= now ? lagoTime(s.trial_ends_at) : null,
    ending_at: lagoTime(s.ending_at),
    terminated_at: lagoTime(s.terminated_at),
    canceled_at: lagoTime(s.canceled_at),
    created_at: lagoTime(s.created_at),
    previous_plan_code: null,
    next_plan_code: s.next_plan_code,
    downgrade_plan_date: s.next_plan_at ? (s.next_plan_at as string).slice(0, 10) : null,
    current_billing_period_started_at: lagoTime(s.current_period?.from),
    current_billing_period_ending_at: lastSecond(s.current_period?.to),
    on_termination_credit_note: null,
    on_termination_invoice: 'generate',
    consolidate_invoice: false,
    purchase_order_number: null,
  };
}

/** Lago's plan_overrides as Billfold's: amounts in cents become major units of the plan's currency. */
async function overridesIn(call: LagoCall, f: Fields, planCode: string) {
  const { plan } = await call.op('get_plan', { plan_code: planCode }, 'plan', {
    plan_code: 'subscription.plan_code',
  });
  const currency = plan.currency as string;
  const out: Record<string, unknown> = {};
  const cur = f.str('amount_currency');
  if (cur !== undefined && cur.toUpperCase() !== currency)
    throw invalidFields({
      'subscription.plan_overrides.amount_currency': `must be the plan's currency ${currency} (got ${cur})`,
    });
  const amount = f.get('amount_cents');
  if (amount !== undefined && amount !== null)
    out.amount = majorFromCents('subscription.plan_overrides.amount_cents', amount, currency);
  const commitment = f.obj('minimum_commitment');
  if (commitment) {
    const cents = commitment.get('amount_cents');
    out.minimum_commitment =
      cents === undefined || cents === null
        ? null
        : majorFromCents('subscription.plan_overrides.minimum_commitment.amount_cents', cents, currency);
    commitment.inert('invoice_display_name');
    commitment.inert('tax_codes');
    commitment.done();
  }
  const charges = f.list('charges');
  if (charges) {
    const list = [];
    for (const c of charges) {
      // An override names its charge by the plan charge's id; Billfold names it by metric.
      const id = c.value.id;
      if (
        typeof id === 'string' &&
        c.value.billable_metric_id === undefined &&
        c.value.billable_metric_code === undefined
      ) {
        const charge = (plan.charges as Array<Record<string, any>>).find(
          (ch) => lagoId(ch.id) === id || ch.id === id,
        );
        if (!charge)
          throw invalidFields({ [`${c.path}.id`]: `no charge of plan ${plan.code} has the id '${id}'` });
        c.value.billable_metric_code = charge.billable_metric_code;
      }
      list.push(await chargeIn(call, c, currency, true));
    }
    out.charges = list;
  }
  for (const k of ['name', 'description', 'invoice_display_name']) f.inert(k);
  f.inert('trial_period');
  f.inert('tax_codes');
  f.inert('usage_thresholds');
  f.inert('fixed_charges');
  f.inert('metadata');
  f.done();
  return out;
}

const NAMES = {
  customer_id: 'external_customer_id',
  started_at: 'subscription_at',
  subscription_id: 'external_id',
};

async function findSubscription(call: LagoCall, ref: string): Promise<Record<string, any> | null> {
  return call
    .op<{ subscription: Record<string, any> }>('get_subscription', { subscription_id: ref }, 'subscription')
    .then((r) => r.subscription)
    .catch((e: { status?: number }) => {
      if (e.status === 404) return null;
      throw e;
    });
}

async function listSubscriptions(call: LagoCall, customer: string | undefined) {
  const q = call.query;
  const args: Record<string, unknown> = { ...q.page() };
  if (customer) args.customer_id = customer;
  else {
    const c = q.str('external_customer_id');
    if (c) args.customer_id = c;
  }
  const plan = q.str('plan_code');
  if (plan) args.plan_code = plan;
  // Lago lists active subscriptions unless asked for other statuses.
  args.status = q.one('status') ?? 'active';
  q.inert('billing_entity_codes', BILLING_ENTITY_CODE);
  q.done();
  const out = await call.op('list_subscriptions', args, 'subscription', {
    customer_id: 'external_customer_id',
    status: 'status[]',
  });
  const now = call.rt.now();
  return {
    subscriptions: out.subscriptions.map((s: Record<string, any>) => subscriptionObject(s, now)),
    meta: meta(out.pagination),
  };
}

export const subscriptionRoutes: LagoRoute[] = [
  {
    method: 'POST',
    path: '/subscriptions',
    async handle(call) {
      const root = (call.body ?? {}) as Record<string, unknown>;
      if (root.authorization !== undefined && root.authorization !== null)
        throw invalidFields({
          authorization: 'payment pre-authorization is not supported by Billfold; leave it out',
        });
      const f = Fields.root({ subscription: root.subscription }, 'subscription');
      const args: Record<string, unknown> = {};
      f.copy(args, 'external_customer_id', 'customer_id');
      f.copy(args, 'plan_code');
      f.copy(args, 'name');
      f.copy(args, 'external_id');
      f.copy(args, 'billing_time');
      f.copy(args, 'subscription_at', 'started_at');
      f.copy(args, 'ending_at');
      const overrides = f.obj('plan_overrides');
      if (overrides && typeof args.plan_code === 'string')
        args.plan_overrides = await overridesIn(call, overrides, args.plan_code);
      f.inert('billing_entity_code', BILLING_ENTITY_CODE);
      f.inert('payment_method');
      f.inert('invoice_custom_section');
      f.inert('purchase_order_number');
      f.done();
      const now = call.rt.now();
      // Lago changes a subscription's plan by posting it again with the same external_id.
      const existing =
        typeof args.external_id === 'string' ? await findSubscription(call, args.external_id) : null;
      if (existing && (existing.status === 'active' || existing.status === 'pending')) {
        if (existing.plan_code === args.plan_code) return { subscription: subscriptionObject(existing, now) };
        const { subscription } = await call.op(
          'update_subscription',
          { subscription_id: existing.external_id, plan_code: args.plan_code },
          'subscription',
          NAMES,
        );
        return { subscription: subscriptionObject(subscription, now) };
      }
      const { subscription } = await call.op('create_subscription', args, 'subscription', NAMES);
      return { subscription: subscriptionObject(subscription, now) };
    },
  },
  {
    method: 'PUT',
    path: '/subscriptions/{external_id}',
    async handle(call, [ref]) {
      call.query.inert('status', 'active', 'pending');
      call.query.done();
      // Lago's body may say which of the subscriptions with this external_id it means.
      const f = Fields.root(call.body, 'subscription', { status: ['active', 'pending'] });
      const args: Record<string, unknown> = { subscription_id: ref };
      f.copy(args, 'name');
      f.copy(args, 'ending_at');
      const overrides = f.obj('plan_overrides');
      if (overrides) {
        const current = await call.op('get_subscription', { subscription_id: ref }, 'subscription');
        args.plan_overrides = await overridesIn(call, overrides, current.subscription.plan_code);
      }
      f.inert('subscription_at');
      f.inert('payment_method');
      f.inert('invoice_custom_section');
      f.inert('purchase_order_number');
      f.done();
      const { subscription } = await call.op('update_subscription', args, 'subscription', NAMES);
      return { subscription: subscriptionObject(subscription, call.rt.now()) };
    },
  },
  {
    method: 'GET',
    path: '/subscriptions/{external_id}',
    async handle(call, [ref]) {
      call.query.inert('status', 'active', 'pending', 'terminated', 'canceled');
      call.query.done();
      const { subscription } = await call.op('get_subscription', { subscription_id: ref }, 'subscription');
      return { subscription: subscriptionObject(subscription, call.rt.now()) };
    },
  },
  {
    method: 'DELETE',
    path: '/subscriptions/{external_id}',
    async handle(call, [ref]) {
      const q = call.query;
      q.inert('status', 'active', 'pending');
      q.inert('on_termination_invoice', 'generate');
      q.inert('on_termination_credit_note', 'credit');
      q.done();
      const out = await call.op('terminate_subscription', { subscription_id: ref }, 'subscription', NAMES);
      return { subscription: subscriptionObject(out.subscription, call.rt.now()) };
    },
  },
  {
    method: 'GET',
    path: '/subscriptions',
    handle: (call) => listSubscriptions(call, undefined),
  },
  {
    method: 'GET',
    path: '/customers/{external_customer_id}/subscriptions',
    handle: (call, [customer]) => listSubscriptions(call, customer),
  },
];
