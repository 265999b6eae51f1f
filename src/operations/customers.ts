import * as z from 'zod';
import * as customers from '../services/customers.js';
import { CREATE, DELETE, READ, TOGGLE, UPDATE, defineOperation } from './define.js';
import { Country, Currency, CustomerRef, ExternalId, Pagination, page } from './schemas/common.js';
import {
  Customer,
  CustomerStatus,
  CustomerType,
  customerExternalId,
  customerFields,
} from './schemas/customer.js';

const group = 'customers';

export const createCustomer = defineOperation({
  name: 'create_customer',
  title: 'Create or update a customer',
  description:
    'Creates a customer, or updates it when `external_id` names one that already exists (upsert): calling it ' +
    'twice with the same external_id never makes a duplicate, so it is safe to retry. Give external_id ' +
    'whenever the customer has an id in your own system; every other tool then accepts it as customer_id. ' +
    'Only the fields you pass are changed on an existing customer. `created` says which happened.',
  group,
  scope: 'write',
  annotations: CREATE,
  input: z.strictObject({ external_id: customerExternalId.optional(), ...customerFields }),
  output: z.object({ customer: Customer, created: z.boolean() }),
  handler: (ctx, input) => customers.upsertCustomer(ctx, input),
});

export const getCustomer = defineOperation({
  name: 'get_customer',
  title: 'Get a customer',
  description:
    'Returns one customer with every field. `customer_id` is the Billfold id (cus_…) or your own external_id.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({ customer_id: CustomerRef }),
  output: z.object({ customer: Customer }),
  handler: async (ctx, input) => ({ customer: await customers.getCustomer(ctx, input.customer_id) }),
});

export const listCustomers = defineOperation({
  name: 'list_customers',
  title: 'List customers',
  description:
    'Lists customers, newest first. `search` matches any part of the name, legal name, email or external_id ' +
    '(case-insensitive); `external_id`, `status`, `country`, `currency` and `customer_type` filter exactly. ' +
    'Paginated with page and per_page.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    search: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .describe('Text to find in name, email or external_id'),
    external_id: ExternalId.optional().describe('Only the customer with exactly this external_id'),
    status: CustomerStatus.optional(),
    country: Country.optional(),
    currency: Currency.optional(),
    customer_type: CustomerType.optional(),
    ...page,
  }),
  output: z.object({ customers: z.array(Customer), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, ...filter }) =>
    customers.listCustomers(ctx, filter, { page: p, per_page }),
});

export const updateCustomer = defineOperation({
  name: 'update_customer',
  title: 'Update a customer',
  description:
    'Changes the fields you pass and leaves the others as they are; pass null to clear a field. `metadata` ' +
    'replaces the whole map. Changing `external_id` is allowed when no other customer uses the new one.',
  group,
  scope: 'write',
  annotations: UPDATE,
  input: z.strictObject({
    customer_id: CustomerRef,
    external_id: customerExternalId.optional(),
    ...customerFields,
  }),
  output: z.object({ customer: Customer }),
  handler: async (ctx, { customer_id, ...patch }) => ({
    customer: await customers.updateCustomer(ctx, customer_id, patch),
  }),
});

export const disableCustomer = defineOperation({
  name: 'disable_customer',
  title: 'Disable a customer',
  description:
    "Sets the customer's status to disabled: it stays on record and readable, but no new invoices or " +
    'subscriptions can be made for it until activate_customer. Disabling a disabled customer changes nothing.',
  group,
  scope: 'write',
  annotations: TOGGLE,
  input: z.strictObject({ customer_id: CustomerRef }),
  output: z.object({ customer: Customer, changed: z.boolean() }),
  handler: (ctx, input) => customers.setCustomerStatus(ctx, input.customer_id, 'disabled'),
});

export const activateCustomer = defineOperation({
  name: 'activate_customer',
  title: 'Activate a customer',
  description:
    "Sets a disabled customer's status back to active. Activating an active customer changes nothing.",
  group,
  scope: 'write',
  annotations: TOGGLE,
  input: z.strictObject({ customer_id: CustomerRef }),
  output: z.object({ customer: Customer, changed: z.boolean() }),
  handler: (ctx, input) => customers.setCustomerStatus(ctx, input.customer_id, 'active'),
});

export const deleteCustomer = defineOperation({
  name: 'delete_customer',
  title: 'Delete a customer',
  description:
    'Deletes a customer: it no longer appears in any lookup or list and its external_id becomes free. Its ' +
    'past invoices and usage stay on record. Prefer disable_customer when you may need it again.',
  group,
  scope: 'write',
  annotations: DELETE,
  input: z.strictObject({ customer_id: CustomerRef }),
  output: z.object({ customer: Customer, deleted: z.literal(true) }),
  handler: async (ctx, input) => ({
    customer: await customers.deleteCustomer(ctx, input.customer_id),
    deleted: true as const,
  }),
});

export const customerOperations = [
  createCustomer,
  getCustomer,
  listCustomers,
  updateCustomer,
  disableCustomer,
  activateCustomer,
  deleteCustomer,
];
