import type { PromptDefinition, ResourceDefinition } from './define.js';
import { catalog } from '../services/metering/catalog.js';
import { getCustomerUsage } from '../services/metering/usage.js';
import { getNeedsAttention } from '../services/metering/costs.js';

/** Usage and cost content an MCP client can read, and a prompt that walks through cost repairs. */
export const meteringResources: ResourceDefinition[] = [
  {
    name: 'customer_usage',
    title: "Customer's usage this month",
    description:
      "A customer's usage per billable metric over the current calendar month in its time zone (what get_customer_usage returns).",
    uriTemplate: 'billfold://customers/{customer_id}/usage',
    mimeType: 'application/json',
    scope: 'read',
    async read(ctx, params) {
      const usage = await getCustomerUsage(ctx, { customer_id: params.customer_id ?? '' });
      return { text: JSON.stringify(usage, null, 2) };
    },
  },
  {
    name: 'price_catalog',
    title: 'Price catalog',
    description:
      'The public list prices of LLM and API services Billfold prices usage with (US dollars), and the date they were taken.',
    uriTemplate: 'billfold://catalog/services',
    mimeType: 'application/json',
    scope: 'read',
    listedAs: () => 'billfold://catalog/services',
    async read() {
      const c = catalog();
      return {
        text: JSON.stringify(
          {
            prices_as_of: c.pricesAsOf,
            currency: c.currency,
            description: c.description,
            services: c.entries,
          },
          null,
          2,
        ),
      };
    },
  },
];

export const meteringPrompts: PromptDefinition[] = [
  {
    name: 'ai_cost_review',
    title: 'AI cost review',
    description:
      'Reviews AI usage costs for a period: what costs the most, how it changed, and which stored events still need a price or volume — with the fixes.',
    arguments: [
      {
        name: 'from',
        description: 'Start of the period, ISO 8601 (default: the last 30 days)',
        required: false,
      },
      { name: 'to', description: 'End of the period, ISO 8601', required: false },
    ],
    scope: 'read',
    async render(ctx, args) {
      const attention = await getNeedsAttention(ctx, {});
      const to = args.to ?? new Date(ctx.now()).toISOString();
      const from = args.from ?? new Date(Date.parse(to) - 30 * 86_400_000).toISOString();
      return [
        `Review our AI usage costs from ${from} to ${to}.`,
        'Call get_cost_metrics with include_prior_window: true for that window and report the total cost, the change from ' +
          'the prior window, and the top models, agents and customers by cost. Quote amounts exactly as the tools return them.',
        'Then deal with the events below that need attention. They are stored: never re-send them. For an unknown model, ' +
          'find the right catalog entry with list_catalog_services and propose map_model (or set_service_price for our own ' +
          'price); for missing volume, list them with get_missing_volume and ask for the numbers before calling fill_volume; ' +
          'for unknown metric codes or customers, propose create_billable_metric or create_customer. Ask before changing anything.',
        '',
        'Needs attention now:',
        JSON.stringify(attention, null, 2),
      ].join('\n');
    },
  },
];
