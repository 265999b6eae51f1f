import type { DemoStep } from './demo.js';

/**
 * Demo subscription billing: three plans over the demo metrics (a package-priced starter, a
 * growth plan with seats, graduated API calls and LLM tokens, a yearly EUR plan with a minimum
 * commitment), a welcome coupon, and subscriptions for five customers started at the beginning of
 * this month, so preview_invoice and get_customer_usage show charges at once. Idempotent: plans,
 * coupons and subscriptions are keyed by code and external_id; a coupon is applied once.
 */
const PLANS = [
  {
    code: 'starter',
    name: 'Starter',
    description: 'Small teams: a flat monthly fee and API calls by the thousand',
    interval: 'monthly',
    currency: 'USD',
    amount: '49',
    pay_in_advance: true,
    trial_period_days: 14,
    charges: [
      {
        billable_metric_code: 'api_calls',
        charge_model: 'package',
        properties: { amount: '5', package_size: '1000', free_units: '1000' },
      },
    ],
  },
  {
    code: 'growth',
    name: 'Growth',
    description: 'Seats, API calls in tiers and LLM tokens at cost plus margin',
    interval: 'monthly',
    currency: 'USD',
    amount: '299',
    pay_in_advance: true,
    minimum_commitment: '500',
    charges: [
      {
        billable_metric_code: 'seats',
        charge_model: 'standard',
        properties: { amount: '12' },
        prorated: true,
      },
      {
        billable_metric_code: 'api_calls',
        charge_model: 'graduated',
        properties: {
          graduated_ranges: [
            { from_value: '0', to_value: '10000', per_unit_amount: '0', flat_amount: '0' },
            { from_value: '10000', to_value: '100000', per_unit_amount: '0.002', flat_amount: '0' },
            { from_value: '100000', to_value: null, per_unit_amount: '0.001', flat_amount: '0' },
          ],
        },
      },
      {
        billable_metric_code: 'llm_tokens',
        charge_model: 'standard',
        properties: { amount: '0.000004' },
      },
    ],
  },
  {
    code: 'enterprise_eur',
    name: 'Enterprise (EUR, yearly)',
    description: 'Yearly platform fee in arrears with volume-priced storage',
    interval: 'yearly',
    currency: 'EUR',
    amount: '12000',
    pay_in_advance: false,
    minimum_commitment: '15000',
    charges: [
      {
        billable_metric_code: 'storage_gb',
        charge_model: 'volume',
        properties: {
          volume_ranges: [
            { from_value: '0', to_value: '100', per_unit_amount: '0.25', flat_amount: '0' },
            { from_value: '100', to_value: null, per_unit_amount: '0.18', flat_amount: '10' },
          ],
        },
      },
    ],
  },
];

const SUBSCRIPTIONS = [
  { customer_id: 'acme-001', plan_code: 'growth', external_id: 'sub-acme-growth' },
  { customer_id: 'globex-002', plan_code: 'starter', external_id: 'sub-globex-starter' },
  {
    customer_id: 'initech-003',
    plan_code: 'growth',
    external_id: 'sub-initech-growth',
    billing_time: 'anniversary',
  },
  { customer_id: 'umbrella-004', plan_code: 'enterprise_eur', external_id: 'sub-umbrella-enterprise' },
  { customer_id: 'hooli-011', plan_code: 'starter', external_id: 'sub-hooli-starter' },
];

export const demoBillingStep: DemoStep = async (call) => {
  for (const plan of PLANS) await call('create_plan', plan);
  await call('create_coupon', {
    code: 'WELCOME10',
    name: 'Welcome: 10 % for three months',
    coupon_type: 'percentage',
    percentage_rate: '10',
    frequency: 'recurring',
    frequency_duration: 3,
    reusable: false,
  });
  const d = new Date();
  const monthStart = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)).toISOString().slice(0, 10);
  for (const s of SUBSCRIPTIONS) await call('create_subscription', { ...s, started_at: monthStart });
  const applied = (await call('list_applied_coupons', {
    customer_id: 'globex-002',
    coupon_codes: ['WELCOME10'],
  })) as {
    applied_coupons: unknown[];
  };
  if (applied.applied_coupons.length === 0)
    await call('apply_coupon', { customer_id: 'globex-002', coupon_code: 'WELCOME10' });
  return `${PLANS.length} plans, ${SUBSCRIPTIONS.length} subscriptions and a coupon`;
};
