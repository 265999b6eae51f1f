import { Decimal } from '../../../../domain/decimal.js';
import { billfoldRef, derivedLagoId, lagoId } from '../ids.js';
import { meta, type LagoCall } from '../call.js';
import { invalidFields } from '../errors.js';
import { Fields, unsupported } from '../request.js';
import type { LagoRoute } from '../router.js';
import { exactCents, lagoTime, majorFromCents } from '../shapes.js';
import { taxObject } from './taxes.js';

/**
 * Lago writes consecutive ranges as 0–10, 11–∞ (the next range starts one unit above the
 * previous end); Billfold as 0–10, 10–∞ (a range holds the units above its from_value). Both
 * mean the same tiers for whole units; the adapter converts the notation both ways and refuses
 * ranges that are neither.
 */
function rangesIn(field: string, ranges: unknown): unknown {
  if (!Array.isArray(ranges)) return ranges;
  let prevTo: Decimal | null = null;
  return ranges.map((r, i) => {
    if (!r || typeof r !== 'object') return r;
    const range = { ...(r as Record<string, unknown>) };
    if (i > 0 && prevTo !== null && range.from_value !== undefined && range.from_value !== null) {
      let from: Decimal | null = null;
      try {
        from = Decimal.parse(range.from_value as string);
      } catch {
        // Billfold's own validation words the error.
      }
      if (from && from.eq(prevTo.add(1))) range.from_value = prevTo.toString();
      else if (from && !from.eq(prevTo))
        throw invalidFields({
          [`${field}[${i}].from_value`]: `must be ${prevTo.add(1).toString()}, one above the previous range's to_value (got ${from.toString()})`,
        });
    }
    try {
      prevTo =
        range.to_value === null || range.to_value === undefined
          ? null
          : Decimal.parse(range.to_value as string);
    } catch {
      prevTo = null;
    }
    return range;
  });
}

function rangesOut(ranges: Array<Record<string, any>> | undefined) {
  if (!ranges) return ranges;
  return ranges.map((r, i) => {
    const prev = ranges[i - 1];
    const from =
      i > 0 && prev?.to_value != null && Decimal.parse(prev.to_value).isInteger()
        ? Decimal.parse(prev.to_value).add(1).toString()
        : r.from_value;
    return {
      from_value: Number(from),
      to_value: r.to_value === null ? null : Number(r.to_value),
      per_unit_amount: r.per_unit_amount,
      flat_amount: r.flat_amount,
    };
  });
}

function propertiesIn(field: string, p: unknown): unknown {
  if (!p || typeof p !== 'object' || Array.isArray(p)) return p;
  const out = { ...(p as Record<string, unknown>) };
  if (out.graduated_ranges)
    out.graduated_ranges = rangesIn(`${field}.graduated_ranges`, out.graduated_ranges);
  if (out.volume_ranges) out.volume_ranges = rangesIn(`${field}.volume_ranges`, out.volume_ranges);
  // Lago's grouped pricing and graduated percentages have no counterpart in Billfold.
  for (const k of [
    'grouped_by',
    'pricing_group_keys',
    'presentation_group_keys',
    'graduated_percentage_ranges',
  ]) {
    const v = out[k];
    if (v === undefined) continue;
    if (v === null || (Array.isArray(v) && v.length === 0)) delete out[k];
    else throw unsupported(`${field}.${k}`, v);
  }
  return out;
}

function propertiesOut(p: Record<string, any>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...p };
  if (p.graduated_ranges) out.graduated_ranges = rangesOut(p.graduated_ranges);
  if (p.volume_ranges) out.volume_ranges = rangesOut(p.volume_ranges);
  return out;
}

/** Lago's charge filters (`values`, `properties`, `invoice_display_name`) are Billfold's. */
function filtersIn(field: string, filters: Fields[] | undefined) {
  return filters?.map((f) => {
    const out: Record<string, unknown> = {};
    f.copy(out, 'values');
    out.properties = propertiesIn(`${f.path}.properties`, f.get('properties'));
    f.copy(out, 'invoice_display_name');
    f.done();
    return out;
  });
}

/** The metric a Lago charge names: `billable_metric_id` (a UUID) or `billable_metric_code`. */
async function metricCode(call: LagoCall, c: Fields): Promise<string | undefined> {
  const code = c.str('billable_metric_code');
  const id = c.str('billable_metric_id');
  if (code !== undefined || id === undefined) return code;
  const { billable_metric } = await call.op(
    'get_billable_metric',
    { code: billfoldRef('billable_metric', id) },
    'billable_metric',
    { code: `${c.path}.billable_metric_id` },
  );
  return billable_metric.code as string;
}

/** Lago's charge as Billfold's, for a plan or a subscription's overrides. */
export async function chargeIn(call: LagoCall, c: Fields, currency: string | undefined, override: boolean) {
  const out: Record<string, unknown> = {};
  const code = await metricCode(call, c);
  if (code !== undefined) out.billable_metric_code = code;
  if (!override) c.copy(out, 'charge_model');
  out.properties = propertiesIn(`${c.path}.properties`, c.get('properties'));
  if (out.properties === undefined) delete out.properties;
  const filters = filtersIn(`${c.path}.filters`, c.list('filters'));
  if (filters) out.filters = filters;
  const min = c.get('min_amount_cents');
  if (min !== undefined && min !== null) {
    if (!currency)
      throw invalidFields({ [`${c.path}.min_amount_cents`]: 'needs the plan currency (amount_currency)' });
    out.min_amount = majorFromCents(`${c.path}.min_amount_cents`, min, currency);
  }
  if (!override) {
    c.copy(out, 'prorated');
    c.copy(out, 'invoice_display_name');
  }
  c.get('id');
  c.get('lago_id');
  c.inert('invoiceable', true);
  c.inert('pay_in_advance', false);
  c.inert('regroup_paid_fees');
  c.inert('tax_codes');
  c.inert('applied_pricing_unit');
  c.inert('code');
  c.done();
  return out;
}

async function taxesOf(call: LagoCall, codes: readonly string[]) {
  const out = [];
  for (const code of codes) {
    // A list of plans names the same taxes again and again: each is read once per request.
    const tax = await call.memo(
      `tax:${code}`,
      async () => (await call.op('get_tax', { tax_id: code }, 'tax')).tax,
    );
    out.push(taxObject(tax));
  }
  return out;
}

export function chargeObject(plan: Record<string, any>, c: Record<string, any>): Record<string, unknown> {
  return {
    lago_id: lagoId(c.id),
    lago_billable_metric_id: lagoId(c.billable_metric_id),
    billable_metric_code: c.billable_metric_code,
    invoice_display_name: c.invoice_display_name,
    created_at: lagoTime(plan.created_at),
    charge_model: c.charge_model,
    pay_in_advance: false,
    invoiceable: true,
    regroup_paid_fees: null,
    prorated: c.prorated,
    min_amount_cents: exactCents(c.min_amount, plan.currency) ?? 0,
    properties: propertiesOut(c.properties),
    filters: (c.filters as Array<Record<string, any>>).map((f) => ({
      invoice_display_name: f.invoice_display_name,
      properties: propertiesOut(f.properties),
      values: f.values,
    })),
    taxes: [],
  };
}

export async function planObject(call: LagoCall, p: Record<string, any>): Promise<Record<string, unknown>> {
  const taxes = await taxesOf(call, p.tax_codes ?? []);
  return {
    lago_id: lagoId(p.id),
    name: p.name,
    invoice_display_name: p.invoice_display_name,
    created_at: lagoTime(p.created_at),
    code: p.code,
    interval: p.interval,
    description: p.description,
    amount_cents: p.amount_cents,
    amount_currency: p.currency,
    trial_period: p.trial_period_days,
    pay_in_advance: p.pay_in_advance,
    bill_charges_monthly: null,
    minimum_commitment:
      p.minimum_commitment_cents === null
        ? null
        : {
            lago_id: derivedLagoId(p.id, 'minimum_commitment'),
            plan_code: p.code,
            amount_cents: p.minimum_commitment_cents,
            invoice_display_name: null,
            interval: p.interval,
            created_at: lagoTime(p.created_at),
            updated_at: lagoTime(p.updated_at),
            taxes: [],
          },
    charges: (p.charges as Array<Record<string, any>>).map((c) => chargeObject(p, c)),
    fixed_charges: [],
    taxes,
    usage_thresholds: (p.usage_thresholds as Array<Record<string, any>>).map((u) => ({
      lago_id: lagoId(u.id),
      threshold_display_name: u.threshold_display_name,
      amount_cents: u.amount_cents,
      recurring: u.recurring,
      created_at: lagoTime(p.created_at),
      updated_at: lagoTime(p.updated_at),
    })),
  };
}

async function planInput(call: LagoCall, f: Fields, current?: Record<string, any>) {
  const args: Record<string, unknown> = {};
  for (const k of [
    'name',
    'code',
    'interval',
    'description',
    'invoice_display_name',
    'pay_in_advance',
    'tax_codes',
  ])
    f.copy(args, k);
  const currency = (f.str('amount_currency') ?? current?.currency)?.toUpperCase();
  if (currency) args.currency = currency;
  const amount = f.get('amount_cents');
  if (amount !== undefined && amount !== null) {
    if (!currency) throw invalidFields({ 'plan.amount_currency': 'is required with amount_cents' });
    args.amount = majorFromCents('plan.amount_cents', amount, currency);
  }
  const trial = f.get('trial_period');
  if (trial !== undefined && trial !== null) args.trial_period_days = trial;
  const commitment = f.obj('minimum_commitment');
  if (commitment) {
    const cents = commitment.get('amount_cents');
    args.minimum_commitment =
      cents === undefined || cents === null
        ? null
        : majorFromCents('plan.minimum_commitment.amount_cents', cents, currency ?? 'USD');
    commitment.inert('invoice_display_name');
    commitment.inert('tax_codes');
    commitment.done();
  } else if (f.has('minimum_commitment')) args.minimum_commitment = null;
  const charges = f.list('charges');
  if (charges) {
    const out = [];
    for (const c of charges) out.push(await chargeIn(call, c, currency, false));
    args.charges = out;
  }
  f.inert('bill_charges_monthly', false);
  f.inert('bill_fixed_charges_monthly', false);
  f.inert('fixed_charges');
  const thresholds = f.list('usage_thresholds');
  if (thresholds) {
    // Lago names a threshold by its amount: the same amount keeps its id, as in Billfold.
    args.usage_thresholds = thresholds.map((t) => {
      const cents = t.get('amount_cents');
      if (cents === undefined || cents === null)
        throw invalidFields({ [`${t.path}.amount_cents`]: 'is required' });
      const out: Record<string, unknown> = {
        amount: majorFromCents(`${t.path}.amount_cents`, cents, currency ?? 'USD'),
      };
      t.copy(out, 'threshold_display_name');
      t.copy(out, 'recurring');
      // A threshold's id when Lago updates it: the amount says which it is.
      t.get('id');
      t.get('lago_id');
      t.done();
      return out;
    });
  } else if (f.has('usage_thresholds')) args.usage_thresholds = null;
  f.inert('metadata');
  f.inert('entitlements');
  f.inert('cascade_updates', false);
  f.done();
  return args;
}

const NAMES = {
  amount: 'plan.amount_cents',
  currency: 'plan.amount_currency',
  trial_period_days: 'plan.trial_period',
  minimum_commitment: 'plan.minimum_commitment.amount_cents',
  charges: 'plan.charges',
  usage_thresholds: 'plan.usage_thresholds',
};

export const planRoutes: LagoRoute[] = [
  {
    method: 'POST',
    path: '/plans',
    async handle(call) {
      const args = await planInput(call, Fields.root(call.body, 'plan'));
      const { plan } = await call.op('create_plan', args, 'plan', NAMES);
      return { plan: await planObject(call, plan) };
    },
  },
  {
    method: 'PUT',
    path: '/plans/{code}',
    async handle(call, [code]) {
      const f = Fields.root(call.body, 'plan');
      const { plan: current } = await call.op('get_plan', { plan_code: code }, 'plan');
      const args = await planInput(call, f, current);
      if (args.code !== undefined && args.code !== current.code)
        throw invalidFields({
          'plan.code': `Billfold keeps a plan's code (it is '${current.code}'); create a new plan for a new code`,
        });
      delete args.code;
      const { plan } = await call.op('update_plan', { plan_code: code, ...args }, 'plan', NAMES);
      return { plan: await planObject(call, plan) };
    },
  },
  {
    method: 'GET',
    path: '/plans/{code}',
    async handle(call, [code]) {
      call.query.done();
      const { plan } = await call.op('get_plan', { plan_code: code }, 'plan');
      return { plan: await planObject(call, plan) };
    },
  },
  {
    method: 'DELETE',
    path: '/plans/{code}',
    async handle(call, [code]) {
      call.query.done();
      const { plan } = await call.op('delete_plan', { plan_code: code }, 'plan');
      return { plan: await planObject(call, plan) };
    },
  },
  {
    method: 'GET',
    path: '/plans',
    async handle(call) {
      const args = { ...call.query.page() };
      call.query.done();
      const out = await call.op('list_plans', args, 'plan');
      const plans = [];
      for (const p of out.plans) plans.push(await planObject(call, p));
      return { plans, meta: meta(out.pagination) };
    },
  },
];
