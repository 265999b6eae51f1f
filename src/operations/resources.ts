import { getCustomer } from '../services/customers.js';
import type { ResourceDefinition } from './define.js';

export const customerResources: ResourceDefinition[] = [
  {
    name: 'customer',
    title: 'Customer',
    description: 'One customer as JSON (the same object get_customer returns).',
    uriTemplate: 'billfold://customers/{customer_id}',
    mimeType: 'application/json',
    scope: 'read',
    async read(ctx, params) {
      const customer = await getCustomer(ctx, params.customer_id ?? '');
      return { text: JSON.stringify({ customer }, null, 2) };
    },
  },
];
