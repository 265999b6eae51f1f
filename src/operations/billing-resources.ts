import type { PromptDefinition, ResourceDefinition } from './define.js';
import { getMrr } from '../services/billing/revenue.js';
import { getSubscription } from '../services/billing/subscriptions.js';

/** Subscription content an MCP client can read, and prompts for revenue and upcoming invoices. */
export const billingResources: ResourceDefinition[] = [
  {
    name: 'subscription',
    title: 'Subscription',
    description:
      'A subscription by Billfold id or external_id: plan, status, current period, scheduled plan change (what get_subscription returns).',
    uriTemplate: 'billfold://subscriptions/{subscription_id}',
    mimeType: 'application/json',
    scope: 'read',
    async read(ctx, params) {
      const subscription = await getSubscription(ctx, params.subscription_id ?? '');
      return { text: JSON.stringify({ subscription }, null, 2) };
    },
  },
];

export const billingPrompts: PromptDefinition[] = [
  {
    name: 'revenue_review',
    title: 'Revenue review',
    description:
      'Reviews recurring revenue: last month earned, the 30-day run rate and the contracted floor, what drives them, and margin against AI cost.',
    arguments: [],
    scope: 'read',
    async render(ctx) {
      const canonical = await getMrr(ctx, { variant: 'canonical' });
      const runRate = await getMrr(ctx, { variant: 'run_rate' });
      const committed = await getMrr(ctx, { variant: 'committed' });
      return [
        'Review our recurring revenue.',
        'Below are the three MRR readings from get_mrr: canonical (what subscriptions earned last month), run_rate (the ' +
          'last 30 days brought to a month) and committed (the contracted floor of active subscriptions). Explain the ' +
          'gap between them per currency, and what the split into recurring, usage and seat says.',
        'Then find the customers behind the numbers: list_subscriptions (status active), and get_customer_revenue for the ' +
          'largest ones over last month to compare their revenue with their AI usage cost and margin. Flag subscriptions ' +
          'that end soon (ending_at) or have a downgrade scheduled (next_plan_code). Quote amounts exactly as the tools ' +
          'return them; never add amounts of different currencies.',
        '',
        'canonical:',
        JSON.stringify(canonical.currencies, null, 2),
        'run_rate:',
        JSON.stringify(runRate.currencies, null, 2),
        'committed:',
        JSON.stringify(committed.currencies, null, 2),
      ].join('\n');
    },
  },
  {
    name: 'upcoming_invoice_check',
    title: 'Upcoming invoice check',
    description:
      "Checks a subscription's next invoice before it is issued: fee, usage charges, minimums, coupons and taxes against the plan.",
    arguments: [{ name: 'subscription_id', description: 'Subscription id or external_id', required: true }],
    scope: 'read',
    async render(ctx, args) {
      const subscription = await getSubscription(ctx, args.subscription_id ?? '');
      return [
        `Check the next invoice of subscription ${subscription.external_id} (plan ${subscription.plan_code}, ${subscription.status}).`,
        'Call preview_invoice with this subscription_id: it shows the next invoice without writing anything. Check each ' +
          'line against get_plan (base fee and its proration, each charge with its units and model, minimum top-ups, the ' +
          'commitment true-up), the coupons from list_applied_coupons for this customer, and the taxes. Use ' +
          'get_customer_usage to explain the units. Report anything surprising — usage far from the previous period, a ' +
          'coupon about to end, a draft already generated — and quote amounts exactly. Change nothing without asking.',
        '',
        'The subscription:',
        JSON.stringify(subscription, null, 2),
      ].join('\n');
    },
  },
];
