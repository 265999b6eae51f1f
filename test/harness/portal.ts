import { caller, type Caller } from './billing.js';
import type { TestEnvironment } from './environment.js';

/**
 * A customer with a billing history to show in the portal, and a browser's view of the portal
 * over plain HTTP: opening a link, then pages with the cookie it set.
 */

export interface SeededCustomer {
  c: Caller;
  organizationId: string;
  customerId: string;
  externalId: string;
  /** Newest first, as the portal lists them. */
  invoices: any[];
  /** The invoice that is partly paid and has a credit note. */
  credited: any;
  creditNote: any;
  draft: any;
  /** Finalized, unpaid and past its due date. */
  overdue: any;
  other: { customerId: string; invoice: any; creditNote: any };
  subscriptionId: string;
  /** The cost of the customer's usage to the seller, which the portal must never show. */
  aiCost: string;
}

let seq = 0;

export async function seedCustomer(
  env: TestEnvironment,
  options: { invoices?: number; name?: string } = {},
): Promise<SeededCustomer> {
  const n = ++seq;
  const org = await env.newOrganization(['admin'], `Nordlicht Billing ${n}`);
  const c = caller(env, org.id);
  await c.call('update_organization', {
    name: 'Nordlicht GmbH',
    legal_name: 'Nordlicht Software GmbH',
    email: 'billing@nordlicht.example',
    timezone: 'Europe/Berlin',
    default_currency: 'EUR',
    bank_name: 'Commerzbank',
    bank_iban: 'DE89 3704 0044 0532 0130 00',
    bank_bic: 'COBADEFFXXX',
    accent_color: '#0b6e4f',
  });
  const externalId = `acme-${n}`;
  const { customer } = await c.call('create_customer', {
    external_id: externalId,
    name: options.name ?? 'Acme Corporation',
    email: 'ap@acme.example',
    address_line1: 'Hauptstraße 1',
    city: 'Berlin',
    zipcode: '10115',
    country: 'DE',
    tax_identification_number: 'DE123456789',
    currency: 'EUR',
    timezone: 'Europe/Berlin',
  });
  const { customer: other } = await c.call('create_customer', {
    external_id: `other-${n}`,
    name: 'Other Customer Ltd',
    currency: 'EUR',
  });
  const made: any[] = [];
  const count = options.invoices ?? 3;
  for (let i = 0; i < count; i++) {
    const { invoice } = await c.call('create_invoice', {
      customer_id: externalId,
      status: 'finalized',
      lines: [
        { description: `Consulting, week ${i + 1}`, quantity: '3', unit_amount: '800' },
        { description: 'Travel', quantity: '1', unit_amount: '123.45' },
      ],
    });
    made.push(invoice);
  }
  // The oldest is paid, the newest partly paid and credited.
  if (made.length > 1) await c.call('mark_invoice_paid', { invoice_id: made[0].id, reference: 'SEPA-1' });
  const newest = made[made.length - 1];
  await c.call('mark_invoice_paid', { invoice_id: newest.id, amount: '500', reference: 'SEPA-2' });
  const { credit_note } = await c.call('create_credit_note', {
    invoice_id: newest.id,
    type: 'credit',
    reason: 'other',
    amount: '100',
  });
  const { invoice: credited } = await c.call('get_invoice', { invoice_id: newest.id });
  // Issued two months ago, due a month ago and not paid: overdue.
  const day = 86_400_000;
  const { invoice: overdue } = await c.call('create_invoice', {
    customer_id: externalId,
    status: 'finalized',
    issued_at: new Date(Date.now() - 60 * day).toISOString().slice(0, 10),
    due_at: new Date(Date.now() - 30 * day).toISOString().slice(0, 10),
    lines: [{ description: 'Audit', quantity: '1', unit_amount: '300' }],
  });
  const { invoice: draft } = await c.call('create_invoice', {
    customer_id: externalId,
    lines: [{ description: 'Not issued yet', quantity: '1', unit_amount: '1' }],
  });
  const { invoice: otherInvoice } = await c.call('create_invoice', {
    customer_id: other.id,
    status: 'finalized',
    lines: [{ description: 'Someone else', quantity: '1', unit_amount: '42' }],
  });
  const { credit_note: otherNote } = await c.call('create_credit_note', {
    invoice_id: otherInvoice.id,
    type: 'credit',
    reason: 'other',
    amount: '2',
  });

  await c.call('create_billable_metric', {
    code: 'api_calls',
    name: 'API calls',
    aggregation_type: 'count_agg',
  });
  await c.call('create_plan', {
    code: `growth-${n}`,
    name: 'Growth',
    interval: 'monthly',
    currency: 'EUR',
    amount: '49',
    pay_in_advance: false,
    charges: [
      { billable_metric_code: 'api_calls', charge_model: 'standard', properties: { amount: '0.25' } },
    ],
  });
  const monthStart = new Date();
  monthStart.setUTCDate(1);
  const { subscription } = await c.call('create_subscription', {
    customer_id: externalId,
    plan_code: `growth-${n}`,
    external_id: `sub-${n}`,
    started_at: monthStart.toISOString().slice(0, 10),
  });
  // A support plan on trial, ending in about three months.
  await c.call('create_plan', {
    code: `support-${n}`,
    name: 'Priority support',
    interval: 'monthly',
    currency: 'EUR',
    amount: '20',
    trial_period_days: 14,
  });
  await c.call('create_subscription', {
    customer_id: externalId,
    plan_code: `support-${n}`,
    external_id: `support-${n}`,
    ending_at: new Date(Date.now() + 90 * day).toISOString().slice(0, 10),
  });
  const now = Date.now();
  for (let k = 0; k < 5; k++) {
    await c.call('record_usage', {
      customer_id: externalId,
      code: 'api_calls',
      transaction_id: `${externalId}-call-${k}`,
      timestamp: new Date(now - k * 1000).toISOString(),
      model: 'claude-sonnet-4-5',
      provider: 'anthropic',
      input_tokens: 1234567,
      output_tokens: 7,
    });
  }
  const from = new Date(now - 86_400_000).toISOString();
  const to = new Date(now + 60_000).toISOString();
  const analytics = await c.call('get_usage_analytics', { from, to, customer_id: externalId });
  const { invoices } = await c.call('list_invoices', {
    customer_id: externalId,
    status: 'finalized',
    per_page: 100,
  });
  return {
    c,
    organizationId: org.id,
    customerId: customer.id,
    externalId,
    invoices,
    credited,
    creditNote: credit_note,
    draft,
    overdue,
    other: { customerId: other.id, invoice: otherInvoice, creditNote: otherNote },
    subscriptionId: subscription.id,
    aiCost: analytics.totals.cost,
  };
}

export interface Visit {
  status: number;
  text: string;
  headers: Headers;
  /** The portal cookie this response set, `name=value`; undefined when it set none. */
  cookie?: string;
}

async function visit(url: string, init: RequestInit = {}): Promise<Visit> {
  const res = await fetch(url, { redirect: 'manual', ...init });
  const set = res.headers.getSetCookie().find((c) => c.startsWith('billfold_portal='));
  return {
    status: res.status,
    text: await res.text(),
    headers: res.headers,
    cookie: set ? set.split(';')[0] : undefined,
  };
}

export function openLink(env: TestEnvironment, token: string, cookie?: string): Promise<Visit> {
  return visit(`${env.url}/portal/${token}`, cookie ? { headers: { cookie } } : {});
}

export function getPage(env: TestEnvironment, path: string, cookie?: string): Promise<Visit> {
  return visit(`${env.url}${path}`, cookie ? { headers: { cookie } } : {});
}

/** A form post as a browser sends it from the portal's own page. */
export function postForm(
  env: TestEnvironment,
  path: string,
  cookie: string,
  fields: Record<string, string>,
  headers: Record<string, string> = { 'sec-fetch-site': 'same-origin', origin: env.url },
): Promise<Visit> {
  return visit(`${env.url}${path}`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** The hidden form token of a page (every signed-in page has one, on its sign-out button). */
export function formTokenOf(page: string): string {
  const m = /name="form_token" value="([^"]+)"/.exec(page);
  if (!m) throw new Error('the page has no form token');
  return m[1]!;
}

/** The markup with its whitespace runs made single spaces, to match markup whatever its line breaks. */
export function flat(page: string): string {
  return page.replace(/\s+/g, ' ').replace(/> </g, '><');
}

/** Visible text, roughly: tags removed and entities of the escaping decoded. */
export function textOf(page: string): string {
  return page
    .replace(/<style[\s\S]*?<\/style>/g, '')
    .replace(/<svg[\s\S]*?<\/svg>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}
