import { demoBillingStep } from './demo-billing.js';
import type { Principal } from '../../services/context.js';
import { dispatch } from '../dispatch.js';
import type { Runtime } from '../runtime.js';
import { invoicingDemoStep } from './demo-invoicing.js';
import { demoUsageStep } from './demo-usage.js';
import { loadSampleCustomers, SAMPLE_CUSTOMERS } from './demo-sample-customers.js';

/**
 * Realistic sample data, loaded through the operations themselves (so it obeys every rule and
 * leaves an audit trail). Idempotent: customers are keyed by external_id.
 */
export const DEMO_CUSTOMERS = [
  {
    external_id: 'acme-001',
    name: 'Acme Corporation',
    email: 'billing@acme.example',
    customer_type: 'company',
    address_line1: '123 Business St',
    city: 'San Francisco',
    state: 'CA',
    zipcode: '94105',
    country: 'US',
    currency: 'USD',
    timezone: 'America/Los_Angeles',
    net_payment_term: 30,
    tax_identification_number: 'US-94-1234567',
    url: 'https://acme.example',
  },
  {
    external_id: 'globex-002',
    name: 'Globex Corporation',
    email: 'ap@globex.example',
    customer_type: 'company',
    address_line1: '1 Globex Way',
    city: 'Springfield',
    state: 'OR',
    zipcode: '97477',
    country: 'US',
    currency: 'USD',
    timezone: 'America/Los_Angeles',
    net_payment_term: 45,
  },
  {
    external_id: 'initech-003',
    name: 'Initech',
    email: 'finance@initech.example',
    customer_type: 'company',
    address_line1: '4120 Freidrich Ln',
    city: 'Austin',
    state: 'TX',
    zipcode: '78744',
    country: 'US',
    currency: 'USD',
    timezone: 'America/Chicago',
    net_payment_term: 30,
  },
  {
    external_id: 'umbrella-004',
    name: 'Umbrella GmbH',
    legal_name: 'Umbrella Deutschland GmbH',
    email: 'rechnung@umbrella.example',
    customer_type: 'company',
    address_line1: 'Friedrichstraße 68',
    city: 'Berlin',
    zipcode: '10117',
    country: 'DE',
    currency: 'EUR',
    timezone: 'Europe/Berlin',
    net_payment_term: 14,
    tax_identification_number: 'DE123456789',
  },
  {
    external_id: 'soylent-005',
    name: 'Soylent SAS',
    email: 'compta@soylent.example',
    customer_type: 'company',
    address_line1: '12 rue de Rivoli',
    city: 'Paris',
    zipcode: '75004',
    country: 'FR',
    currency: 'EUR',
    timezone: 'Europe/Paris',
    net_payment_term: 30,
    tax_identification_number: 'FR40303265045',
  },
  {
    external_id: 'tyrell-006',
    name: 'Tyrell KK',
    email: 'keiri@tyrell.example',
    customer_type: 'company',
    address_line1: '2-1-1 Marunouchi',
    city: 'Tokyo',
    zipcode: '100-0005',
    country: 'JP',
    currency: 'JPY',
    timezone: 'Asia/Tokyo',
    net_payment_term: 30,
  },
  {
    external_id: 'wayne-007',
    name: 'Wayne Enterprises',
    email: 'payables@wayne.example',
    customer_type: 'company',
    address_line1: '1007 Mountain Drive',
    city: 'Gotham',
    state: 'NJ',
    zipcode: '07001',
    country: 'US',
    currency: 'USD',
    timezone: 'America/New_York',
    net_payment_term: 60,
  },
  {
    external_id: 'stark-008',
    name: 'Stark Industries',
    email: 'billing@stark.example',
    customer_type: 'company',
    address_line1: '200 Park Avenue',
    city: 'New York',
    state: 'NY',
    zipcode: '10166',
    country: 'US',
    currency: 'USD',
    timezone: 'America/New_York',
    net_payment_term: 30,
  },
  {
    external_id: 'gulf-009',
    name: 'Gulf Trading WLL',
    email: 'accounts@gulftrading.example',
    customer_type: 'company',
    address_line1: 'Building 45, Road 1701',
    city: 'Manama',
    country: 'BH',
    currency: 'BHD',
    timezone: 'Asia/Bahrain',
    net_payment_term: 30,
  },
  {
    external_id: 'jane-010',
    firstname: 'Jane',
    lastname: 'Doe',
    email: 'jane.doe@example.com',
    customer_type: 'individual',
    city: 'London',
    zipcode: 'SW1A 1AA',
    country: 'GB',
    currency: 'GBP',
    timezone: 'Europe/London',
    net_payment_term: 14,
  },
  {
    external_id: 'hooli-011',
    name: 'Hooli',
    email: 'ar@hooli.example',
    customer_type: 'company',
    address_line1: '1 Hooli Plaza',
    city: 'Palo Alto',
    state: 'CA',
    zipcode: '94301',
    country: 'US',
    currency: 'USD',
    timezone: 'America/Los_Angeles',
    net_payment_term: 30,
    metadata: { segment: 'enterprise', crm_id: 'HB-2231' },
  },
  {
    external_id: 'piedpiper-012',
    name: 'Pied Piper',
    email: 'richard@piedpiper.example',
    customer_type: 'company',
    city: 'Palo Alto',
    state: 'CA',
    country: 'US',
    currency: 'USD',
    timezone: 'America/Los_Angeles',
    net_payment_term: 15,
    metadata: { segment: 'startup' },
  },
];

/** A demo step: later features add theirs (products, invoices, usage) after the customers. */
export type DemoStep = (
  call: (operation: string, args: unknown) => Promise<Record<string, unknown>>,
) => Promise<string>;

export const demoSteps: DemoStep[] = [
  async (call) => {
    for (const c of DEMO_CUSTOMERS) await call('create_customer', c);
    // One disabled account, as a real book of customers has.
    await call('disable_customer', { customer_id: 'piedpiper-012' });
    return `${DEMO_CUSTOMERS.length} customers`;
  },
  invoicingDemoStep,
  demoUsageStep,
  demoBillingStep,
];

function caller(rt: Runtime, principal: Principal) {
  return async (operation: string, args: unknown) => {
    const { outcome } = await dispatch(rt, { principal, door: 'cli', operation, args });
    if (!outcome.ok) throw new Error(`${operation}: ${outcome.error.message}`);
    return outcome.output;
  };
}

export async function loadDemo(rt: Runtime, principal: Principal): Promise<string[]> {
  const call = caller(rt, principal);
  const done: string[] = [];
  for (const step of demoSteps) done.push(await step(call));
  return done;
}

/** `billfold demo --customers`: the ten sample customers of the customers profile, once. */
export async function loadDemoCustomers(
  rt: Runtime,
  principal: Principal,
): Promise<{ added: number; total: number }> {
  const call = caller(rt, principal);
  const exists = async (externalId: string) => {
    const { outcome } = await dispatch(rt, {
      principal,
      door: 'cli',
      operation: 'list_customers',
      args: { external_id: externalId, per_page: 1 },
    });
    if (!outcome.ok) throw new Error(`list_customers: ${outcome.error.message}`);
    return (outcome.output.customers as unknown[]).length > 0;
  };
  const added = await loadSampleCustomers(call, exists);
  return { added, total: SAMPLE_CUSTOMERS.length };
}
