import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { caller, type Caller } from '../../harness/billing.js';
import type { TestOrganization } from '../../harness/environment.js';
import { describeDatabases } from '../../harness/suite.js';
import { UUID } from './client.js';

/**
 * Every example request body of Lago's API reference for an endpoint Billfold answers, sent as
 * written (fixtures/, each with its link). Where an example uses what Billfold does not have,
 * the request is refused naming that field; the test takes the field out and sends it again,
 * until the example succeeds; the fields taken out must be exactly the fixture's `refused` list.
 * The few ids an example must point at (a metric, an invoice, a fee) are bound to real ones.
 */
interface Fixture {
  endpoint: string;
  reference: string;
  source: string;
  body: Record<string, any>;
  refused: string[];
  /** Where the example contradicts itself (a past expiry, an empty standard charge): the change made, and why. */
  edits?: Array<{ path: string; value?: unknown; because: string }>;
}

const DIR = join(import.meta.dirname, 'fixtures');
const fixtures = new Map<string, Fixture>(
  readdirSync(DIR).map((f) => [
    f.replace(/\.json$/, ''),
    JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Fixture,
  ]),
);

/** The order the examples run in: later ones use what earlier ones made. */
const ORDER = [
  'createTax',
  'updateTax',
  'createCustomer',
  'createBillableMetric',
  'updateBillableMetric',
  'createEvent',
  'createBatchEvents',
  'createAddOn',
  'updateAddOn',
  'createPlan',
  'updatePlan',
  'createSubscription',
  'updateSubscription',
  'createCoupon',
  'updateCoupon',
  'applyCoupon',
  'createInvoice',
  'createPayment',
  'createCreditNote',
  'updateInvoice',
  'voidInvoice',
  'createWallet',
  'updateWallet',
  'createWalletTransaction',
  'updateOrganization',
];

function pathParts(path: string): Array<string | number> {
  return path.split(/\.|(?=\[)/).map((p) => (p.startsWith('[') ? Number(p.slice(1, -1)) : p));
}

function setAt(body: Record<string, any>, path: string, value: unknown): void {
  const parts = pathParts(path);
  let node: any = body;
  for (const p of parts.slice(0, -1)) node = node[p as any];
  if (value === undefined) delete node[parts[parts.length - 1] as any];
  else node[parts[parts.length - 1] as any] = value;
}

function removeAt(body: Record<string, any>, path: string): boolean {
  const parts = pathParts(path);
  let node: any = body;
  for (const p of parts.slice(0, -1)) {
    node = node?.[p as any];
    if (node === undefined) return false;
  }
  const last = parts[parts.length - 1]!;
  if (node === null || typeof node !== 'object' || !(last in node)) return false;
  if (Array.isArray(node)) node.splice(last as number, 1);
  else delete node[last];
  return true;
}

describeDatabases('Lago API reference examples', (t) => {
  let org: TestOrganization;
  let billfold: Caller;
  const ctx: Record<string, string> = {};
  const send = (method: string, path: string, body: unknown) =>
    fetch(`${t.env.url}/lago/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${org.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

  beforeAll(async () => {
    org = await t.env.newOrganization(['admin']);
    billfold = caller(t.env, org.id);
    await billfold.call('create_customer', { external_id: 'hooli_1234', name: 'Hooli', currency: 'USD' });
    for (const n of [1, 2, 3, 4, 5])
      await billfold.call('create_billable_metric', {
        code: `metric_${n}`,
        name: `Metric ${n}`,
        aggregation_type: n === 2 ? 'sum_agg' : 'count_agg',
        ...(n === 2 ? { field_name: 'units' } : {}),
      });
    await billfold.call('create_plan', {
      code: 'premium',
      name: 'Premium',
      interval: 'monthly',
      currency: 'USD',
      amount: '100',
      charges: [{ billable_metric_code: 'metric_1', charge_model: 'standard', properties: { amount: '1' } }],
    });
  });

  /** Points an example's ids at objects that exist, and its path at the object it names. */
  async function bind(name: string, body: Record<string, any>): Promise<string> {
    const path = fixtures.get(name)!.endpoint.split(' ')[1]!;
    const uuid = async (op: string, args: unknown, key: string) => {
      const { lagoId } = await import('../../../src/interfaces/http/lago/ids.js');
      return lagoId(((await billfold.call(op, args)) as any)[key].id);
    };
    switch (name) {
      case 'createPlan':
        for (const [i, c] of (body.plan.charges as any[]).entries())
          c.billable_metric_id = await uuid(
            'get_billable_metric',
            { code: `metric_${i + 1}` },
            'billable_metric',
          );
        break;
      case 'updatePlan':
        for (const [i, c] of ((body.plan.charges ?? []) as any[]).entries())
          c.billable_metric_id = await uuid(
            'get_billable_metric',
            { code: `metric_${i + 1}` },
            'billable_metric',
          );
        break;
      case 'createSubscription':
      case 'updateSubscription': {
        const plan = (await billfold.call('get_plan', { plan_code: 'premium' })).plan;
        const { lagoId } = await import('../../../src/interfaces/http/lago/ids.js');
        for (const c of (body.subscription.plan_overrides?.charges ?? []) as any[]) {
          c.id = lagoId(plan.charges[0].id);
          c.billable_metric_id = lagoId(plan.charges[0].billable_metric_id);
        }
        break;
      }
      case 'createCreditNote': {
        body.credit_note.invoice_id = ctx.invoice;
        const inv = (await billfold.call('get_invoice', { invoice_id: ctx.invoiceNumber })).invoice;
        const { lagoId } = await import('../../../src/interfaces/http/lago/ids.js');
        for (const item of body.credit_note.items as any[]) item.fee_id = lagoId(inv.lines[0].id);
        break;
      }
      case 'createPayment':
        body.payment.invoice_id = ctx.invoice;
        break;
      case 'createWalletTransaction':
        body.wallet_transaction.wallet_id = ctx.wallet;
        break;
    }
    return path
      .replace(
        '{code}',
        name.includes('Tax')
          ? 'french_standard_vat'
          : name.includes('AddOn')
            ? 'setup_fee'
            : name.includes('Coupon')
              ? 'startup_deal'
              : name.includes('Plan')
                ? 'startup'
                : 'storage',
      )
      .replace('{external_id}', ctx.subscription ?? '')
      .replace(
        '{lago_id}',
        name === 'voidInvoice' ? ctx.voidable! : name === 'updateWallet' ? ctx.wallet! : ctx.invoice!,
      );
  }

  for (const name of ORDER) {
    it(`${name}: ${name && ''}the reference example is answered`, async () => {
      const fixture = fixtures.get(name);
      expect(fixture, `fixture ${name}`).toBeDefined();
      const body = structuredClone(fixture!.body);
      for (const e of fixture!.edits ?? []) setAt(body, e.path, e.value);
      if (name === 'voidInvoice') {
        const v = await billfold.call('create_invoice', {
          customer_id: 'hooli_1234',
          amount: '10',
          status: 'finalized',
        });
        const { lagoId } = await import('../../../src/interfaces/http/lago/ids.js');
        ctx.voidable = lagoId(v.invoice.id);
      }
      const path = await bind(name, body);
      const method = fixture!.endpoint.split(' ')[0]!;
      const removed: string[] = [];
      let r = await send(method, path, body);
      for (let i = 0; i < 30 && r.status === 422 && /not supported/.test(r.body.message); i++) {
        const field = Object.keys(r.body.error_details)[0]!;
        removed.push(field);
        expect(removeAt(body, field), `remove ${field}`).toBe(true);
        r = await send(method, path, body);
      }
      expect(r.status, `${fixture!.endpoint}: ${JSON.stringify(r.body).slice(0, 400)}`).toBe(200);
      const [root] = Object.keys(r.body);
      if (root === 'subscription') ctx.subscription = r.body.subscription.external_id;
      if (root === 'wallet') ctx.wallet = r.body.wallet.lago_id;
      if (root === 'invoice' && name === 'createInvoice') {
        ctx.invoice = r.body.invoice.lago_id;
        ctx.invoiceNumber = r.body.invoice.number;
      }
      if (process.env.LAGO_FIXTURES_PRINT) console.log(name, JSON.stringify(removed));
      expect(removed.sort()).toEqual([...fixture!.refused].sort());
      const objects = Array.isArray(r.body[root!]) ? r.body[root!] : [r.body[root!]];
      for (const o of objects)
        if (root !== 'organization') expect(o.lago_id ?? o.activity_id, root).toMatch(UUID);
    });
  }
});
