import { getCustomer } from '../services/customers.js';
import type { PromptDefinition } from './define.js';

export const billfoldPrompts: PromptDefinition[] = [
  {
    name: 'customer_report',
    title: 'Customer report',
    description:
      'A review of one customer: profile, billing settings and recent activity, with anything that needs attention.',
    arguments: [
      { name: 'customer_id', description: 'Billfold id (cus_…) or your external_id', required: true },
      { name: 'period', description: 'Optional month to focus on, YYYY-MM', required: false },
    ],
    scope: 'read',
    async render(ctx, args) {
      const customer = await getCustomer(ctx, args.customer_id ?? '');
      const focus = args.period ? ` Focus on ${args.period}.` : '';
      return [
        `Write a short report on the customer below.${focus}`,
        'Cover: who they are and how they are billed (currency, payment term, time zone); their recent changes ' +
          '(list_activity_logs with customer_id); and anything that needs attention, such as missing billing ' +
          'details (email, address, tax id) or a disabled status. Use the Billfold tools for any further data, ' +
          'and quote amounts exactly as the tools return them.',
        '',
        'Customer:',
        JSON.stringify(customer, null, 2),
      ].join('\n');
    },
  },
];
