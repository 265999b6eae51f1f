import * as z from 'zod';
import { defineTool, type Profile } from './define.js';

/**
 * The customer management MCP server of seed 003 (Flask, HTTP + SSE, SQLite): its six tools
 * — `add_customer` included — over Billfold's customer operations. `billfold demo --customers`
 * loads its ten sample customers, whose external ids are 1 to 10 as the seed's row ids were, so
 * `get_customer {"customer_id": 3}` finds the third.
 *
 * Every tool here has its operation. To add one: a defineTool entry naming the operations it
 * `uses`, its input in the seed's names, and a `run` that calls them and maps the result.
 * Errors are Billfold's `{ error: { code, message, details, hint } }`.
 */

const CustomerId = z
  .union([z.string().trim().min(1).max(255), z.int().min(0)])
  .transform((v) => String(v))
  .describe('The customer: its id (cus_…), or its own id in your system (the sample customers are 1 to 10)');

const Status = z.enum(['active', 'disabled']);

interface BillfoldCustomer {
  id: string;
  external_id: string | null;
  name: string | null;
  display_name: string;
  email: string | null;
  phone: string | null;
  status: 'active' | 'disabled';
  created_at: string;
  updated_at: string;
}

/** The seed's customer row (id, name, email, phone, status, timestamps) plus your external id. */
function customerOut(c: BillfoldCustomer) {
  return {
    id: c.id,
    external_id: c.external_id,
    name: c.name ?? c.display_name,
    email: c.email,
    phone: c.phone,
    status: c.status,
    created_at: c.created_at,
    updated_at: c.updated_at,
  };
}

const PER_PAGE = 100;

export const customersProfile: Profile = {
  name: 'customers',
  title: 'Customer management MCP',
  seed: '003',
  instructions: [
    'Customer management: look customers up, list them (optionally by status active or disabled), add, update, disable and activate them.',
    'A customer is named by its id (cus_…) or by your own id for it (external_id); the sample customers are 1 to 10.',
    'A failed call returns isError with {error: {code, message, details, hint}}; the message names the field that failed.',
  ].join('\n'),
  tools: [
    defineTool({
      name: 'get_customer',
      title: 'Get a customer',
      description: 'Retrieve a customer by ID: name, email, phone and status (active or disabled).',
      uses: ['get_customer'],
      input: z.strictObject({ customer_id: CustomerId }),
      async run(ops, input) {
        const { customer } = await ops.call('get_customer', { customer_id: input.customer_id });
        return { customer: customerOut(customer) };
      },
    }),
    defineTool({
      name: 'list_customers',
      title: 'List customers',
      description:
        `List all customers, newest first, optionally only those with a status (active or disabled). ` +
        `Returns up to ${PER_PAGE} per call; when has_more is true, ask for the next page.`,
      uses: ['list_customers'],
      input: z.strictObject({
        status: Status.optional().describe('Only customers with this status'),
        page: z.int().min(1).default(1).describe(`Page of ${PER_PAGE} customers, from 1`),
      }),
      async run(ops, input) {
        const out = await ops.call('list_customers', {
          ...(input.status ? { status: input.status } : {}),
          page: input.page,
          per_page: PER_PAGE,
        });
        return {
          customers: (out.customers as BillfoldCustomer[]).map(customerOut),
          total: out.pagination.total_count,
          page: out.pagination.current_page,
          has_more: out.pagination.next_page !== null,
        };
      },
    }),
    defineTool({
      name: 'add_customer',
      title: 'Add a customer',
      description:
        'Create a new customer with a name and optionally email and phone; it starts active. Give external_id ' +
        '(your own id for the customer) to make retries safe: a second call with it updates the same customer.',
      uses: ['create_customer'],
      input: z.strictObject({
        name: z.string().trim().min(1).max(255),
        email: z.email().max(254).optional(),
        phone: z.string().trim().max(50).optional(),
        external_id: z.string().trim().min(1).max(255).optional(),
      }),
      async run(ops, input) {
        const { customer, created } = await ops.call('create_customer', input);
        return { customer: customerOut(customer), created };
      },
    }),
    defineTool({
      name: 'update_customer',
      title: 'Update a customer',
      description:
        'Update customer information: the name, email or phone you pass (null clears email or phone).',
      uses: ['update_customer'],
      input: z.strictObject({
        customer_id: CustomerId,
        name: z.string().trim().min(1).max(255).optional(),
        email: z.email().max(254).nullable().optional(),
        phone: z.string().trim().max(50).nullable().optional(),
      }),
      async run(ops, { customer_id, ...patch }) {
        const { customer } = await ops.call('update_customer', { customer_id, ...patch });
        return { customer: customerOut(customer) };
      },
    }),
    defineTool({
      name: 'disable_customer',
      title: 'Disable a customer',
      description:
        'Disable a customer account: it stays on record and readable, but gets no new invoices or subscriptions until activated. `changed` is false when it was disabled already.',
      uses: ['disable_customer'],
      input: z.strictObject({ customer_id: CustomerId }),
      async run(ops, input) {
        const { customer, changed } = await ops.call('disable_customer', { customer_id: input.customer_id });
        return { customer: customerOut(customer), changed };
      },
    }),
    defineTool({
      name: 'activate_customer',
      title: 'Activate a customer',
      description: 'Activate a disabled customer account. `changed` is false when it was active already.',
      uses: ['activate_customer'],
      input: z.strictObject({ customer_id: CustomerId }),
      async run(ops, input) {
        const { customer, changed } = await ops.call('activate_customer', { customer_id: input.customer_id });
        return { customer: customerOut(customer), changed };
      },
    }),
  ],
};
