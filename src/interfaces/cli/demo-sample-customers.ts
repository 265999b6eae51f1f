/**
 * The ten sample customers the customer management server of seed 003 starts with, for
 * `billfold demo --customers` (and the customers profile). Their external ids are 1 to 10, as
 * that server's row ids were, so "get customer 3" keeps working after the move.
 */
export const SAMPLE_CUSTOMERS: ReadonlyArray<{
  external_id: string;
  name: string;
  email: string;
  phone: string;
  status: 'active' | 'disabled';
}> = [
  {
    external_id: '1',
    name: 'Alice Johnson',
    email: 'alice.johnson@example.com',
    phone: '+1-555-0101',
    status: 'active',
  },
  {
    external_id: '2',
    name: 'Bob Smith',
    email: 'bob.smith@example.com',
    phone: '+1-555-0102',
    status: 'active',
  },
  {
    external_id: '3',
    name: 'Carol Williams',
    email: 'carol.williams@example.com',
    phone: '+1-555-0103',
    status: 'active',
  },
  {
    external_id: '4',
    name: 'David Brown',
    email: 'david.brown@example.com',
    phone: '+1-555-0104',
    status: 'active',
  },
  {
    external_id: '5',
    name: 'Emma Davis',
    email: 'emma.davis@example.com',
    phone: '+1-555-0105',
    status: 'active',
  },
  {
    external_id: '6',
    name: 'Frank Miller',
    email: 'frank.miller@example.com',
    phone: '+1-555-0106',
    status: 'active',
  },
  {
    external_id: '7',
    name: 'Grace Wilson',
    email: 'grace.wilson@example.com',
    phone: '+1-555-0107',
    status: 'active',
  },
  {
    external_id: '8',
    name: 'Henry Moore',
    email: 'henry.moore@example.com',
    phone: '+1-555-0108',
    status: 'disabled',
  },
  {
    external_id: '9',
    name: 'Isabel Taylor',
    email: 'isabel.taylor@example.com',
    phone: '+1-555-0109',
    status: 'active',
  },
  {
    external_id: '10',
    name: 'Jack Anderson',
    email: 'jack.anderson@example.com',
    phone: '+1-555-0110',
    status: 'active',
  },
];

type Call = (operation: string, args: unknown) => Promise<Record<string, unknown>>;

/**
 * Loads the sample customers through the catalogue, once: a sample customer that exists (by its
 * external id) is left as it is, even if it was changed since, so running it again adds nothing.
 */
export async function loadSampleCustomers(
  call: Call,
  exists: (externalId: string) => Promise<boolean>,
): Promise<number> {
  let added = 0;
  for (const { status, ...customer } of SAMPLE_CUSTOMERS) {
    if (await exists(customer.external_id)) continue;
    await call('create_customer', customer);
    if (status === 'disabled') await call('disable_customer', { customer_id: customer.external_id });
    added++;
  }
  return added;
}
