import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { runBilling } from '../../src/services/billing/run.js';
import { caller, utc, type Caller } from '../harness/billing.js';
import { describeDatabases } from '../harness/suite.js';

/**
 * A year of monthly billing for one customer, invoice by invoice, against figures worked by hand.
 *
 * Plan "pro": 30.00 a month in arrears, calendar periods (UTC), minimum commitment 35.00, one
 * charge on `tokens` (sum of n): graduated 0–1000 free, above 1000 at 0.002. Tax 10 % for the
 * whole organization. Subscribed 2028-01-15; one event per month.
 *
 * January is 17 of 31 days: fee 30 × 17/31 = 16.4516… → 16.45; commitment 35 × 17/31 =
 * 19.1935… → 19.19; true-up 19.19 − 16.45 = 2.74; subtotal 19.19; tax 1.919 → 1.92.
 * Then per month: tokens → charge; fee 30 + charge, topped up to 35; tax 10 % half-up.
 */
const TOKENS = [500, 1000, 1001, 0, 6000, 20000, 3000, 1500, 10000, 2500, 7000, 4000];
const EXPECTED: Array<{ charge: string; trueUp: string | null; sub: number; tax: number; total: number }> = [
  { charge: '0', trueUp: '2.74', sub: 1919, tax: 192, total: 2111 }, // Jan: 500 ≤ 1000
  { charge: '0', trueUp: '5', sub: 3500, tax: 350, total: 3850 }, // Feb (29 days, leap): exactly on the edge
  { charge: '0.002', trueUp: '5', sub: 3500, tax: 350, total: 3850 }, // Mar: one above; 0.002 rounds to 0.00
  { charge: '0', trueUp: '5', sub: 3500, tax: 350, total: 3850 }, // Apr: no usage
  { charge: '10', trueUp: null, sub: 4000, tax: 400, total: 4400 }, // May: 5000 × 0.002
  { charge: '38', trueUp: null, sub: 6800, tax: 680, total: 7480 }, // Jun: 19000 × 0.002
  { charge: '4', trueUp: '1', sub: 3500, tax: 350, total: 3850 }, // Jul
  { charge: '1', trueUp: '4', sub: 3500, tax: 350, total: 3850 }, // Aug
  { charge: '18', trueUp: null, sub: 4800, tax: 480, total: 5280 }, // Sep
  { charge: '3', trueUp: '2', sub: 3500, tax: 350, total: 3850 }, // Oct
  { charge: '12', trueUp: null, sub: 4200, tax: 420, total: 4620 }, // Nov
  { charge: '6', trueUp: null, sub: 3600, tax: 360, total: 3960 }, // Dec
];

const monthStart = (m: number) =>
  utc(`${2028 + Math.floor(m / 12)}-${String((m % 12) + 1).padStart(2, '0')}-01`);

describeDatabases('a year of monthly billing', (t) => {
  let c: Caller;
  let orgId: string;
  beforeAll(async () => {
    const org = await t.env.newOrganization();
    orgId = org.id;
    c = caller(t.env, org.id);
    await c.call('update_organization', { timezone: 'UTC' });
    await c.call('create_tax', { code: 'vat10', name: 'VAT', rate: '10', applied_to_organization: true });
    await c.call('create_customer', { external_id: 'year-cust', name: 'Year Co', currency: 'USD' });
    await c.call('create_billable_metric', {
      code: 'tokens',
      name: 'Tokens',
      aggregation_type: 'sum_agg',
      field_name: 'n',
    });
    await c.call('create_plan', {
      code: 'pro',
      name: 'Pro',
      interval: 'monthly',
      currency: 'USD',
      amount: '30',
      pay_in_advance: false,
      minimum_commitment: '35',
      charges: [
        {
          billable_metric_code: 'tokens',
          charge_model: 'graduated',
          properties: {
            graduated_ranges: [
              { from_value: 0, to_value: 1000, per_unit_amount: '0', flat_amount: '0' },
              { from_value: 1000, to_value: null, per_unit_amount: '0.002', flat_amount: '0' },
            ],
          },
        },
      ],
    });
    await c.call('create_subscription', {
      customer_id: 'year-cust',
      plan_code: 'pro',
      external_id: 'year-sub',
      billing_time: 'calendar',
      started_at: '2028-01-15',
    });
    // Before the subscription started: never billed.
    await c.call('record_usage', {
      customer_id: 'year-cust',
      code: 'tokens',
      transaction_id: 'before-start',
      timestamp: '2028-01-05T10:00:00Z',
      properties: { n: 999 },
    });
    for (let m = 0; m < 12; m++) {
      if (!TOKENS[m]) continue;
      const day = m === 0 ? 20 : 10;
      await c.call('record_usage', {
        customer_id: 'year-cust',
        code: 'tokens',
        transaction_id: `tokens-${m}`,
        timestamp: new Date(monthStart(m) + (day - 1) * 86_400_000 + 3_600_000).toISOString(),
        properties: { n: TOKENS[m] },
      });
    }
  });

  it('bills twelve invoices, one per month, each as worked by hand', async () => {
    for (let m = 0; m < 12; m++) {
      const summary = await runBilling(t.env.rt, monthStart(m + 1));
      expect(summary.errors).toEqual([]);
      expect(summary.invoices_created, `run at month ${m + 1}`).toBe(1);
      expect(summary.invoices_finalized).toBe(1);
    }
    const { invoices } = await c.call('list_invoices', { customer_id: 'year-cust', per_page: 100 });
    expect(invoices).toHaveLength(12);
    const ordered = [...invoices].sort((a: any, b: any) => (a.lines[0].from < b.lines[0].from ? -1 : 1));
    ordered.forEach((inv: any, m: number) => {
      const e = EXPECTED[m]!;
      expect(inv.invoice_type).toBe('subscription');
      expect(inv.status).toBe('finalized');
      expect(inv.subscription_id).toMatch(/^sub_/);
      const fee = inv.lines.find((l: any) => l.details.kind === 'fee');
      expect(fee.unit_amount, `fee month ${m + 1}`).toBe(m === 0 ? '16.45' : '30');
      expect(fee.from).toBe(new Date(monthStart(m)).toISOString());
      expect(fee.to).toBe(new Date(monthStart(m + 1)).toISOString());
      const charge = inv.lines.find((l: any) => l.details.kind === 'charge');
      expect(charge.details.units, `units month ${m + 1}`).toBe(String(TOKENS[m]));
      expect(charge.unit_amount, `charge month ${m + 1}`).toBe(e.charge);
      expect(charge.from).toBe(new Date(m === 0 ? utc('2028-01-15') : monthStart(m)).toISOString());
      const trueUp = inv.lines.find((l: any) => l.details.kind === 'minimum_commitment');
      expect(trueUp?.unit_amount ?? null, `true-up month ${m + 1}`).toBe(e.trueUp);
      expect(inv.sub_total_amount_cents, `subtotal month ${m + 1}`).toBe(e.sub);
      expect(inv.taxes_amount_cents, `tax month ${m + 1}`).toBe(e.tax);
      expect(inv.total_amount_cents, `total month ${m + 1}`).toBe(e.total);
    });
    const sum = ordered.reduce((s: number, i: any) => s + i.total_amount_cents, 0);
    expect(sum).toBe(EXPECTED.reduce((s, e) => s + e.total, 0));
  });

  it('a second run at the same moment invoices nothing again', async () => {
    const again = await runBilling(t.env.rt, monthStart(12));
    expect(again.invoices_created).toBe(0);
    const { invoices } = await c.call('list_invoices', { customer_id: 'year-cust', per_page: 100 });
    expect(invoices).toHaveLength(12);
    const ledger = await t.env.rt.db.kysely
      .selectFrom('subscription_billings')
      .select(['kind', 'period_from'])
      .where('organization_id', '=', orgId)
      .execute();
    expect(ledger).toHaveLength(12);
  });
});

const ROOT = join(import.meta.dirname, '..', '..');

/** `billfold bill --at …` in a child process on the test database; resolves with its output. */
function billProcess(
  database: string,
  at: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/interfaces/cli/main.ts'), 'bill', '--at', at],
      {
        cwd: ROOT,
        env: { ...process.env, BILLFOLD_DATABASE: database, BILLFOLD_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describeDatabases('exactly-once billing across processes', (t) => {
  const SUBS = 25;
  let c: Caller;
  let orgId: string;
  beforeAll(async () => {
    const org = await t.env.newOrganization();
    orgId = org.id;
    c = caller(t.env, org.id);
    await c.call('update_organization', { timezone: 'UTC' });
    await c.call('create_billable_metric', { code: 'calls', name: 'Calls', aggregation_type: 'count_agg' });
    await c.call('create_plan', {
      code: 'flat',
      name: 'Flat',
      interval: 'monthly',
      currency: 'USD',
      amount: '10',
      pay_in_advance: true,
      charges: [{ billable_metric_code: 'calls', charge_model: 'standard', properties: { amount: '1' } }],
    });
    for (let i = 0; i < SUBS; i++) {
      await c.call('create_customer', { external_id: `eo-${i}`, name: `EO ${i}`, currency: 'USD' });
      await c.call('create_subscription', {
        customer_id: `eo-${i}`,
        plan_code: 'flat',
        external_id: `eo-sub-${i}`,
        started_at: '2028-01-01',
      });
      await c.call('record_usage', {
        customer_id: `eo-${i}`,
        code: 'calls',
        transaction_id: `eo-call-${i}`,
        timestamp: '2028-02-10T00:00:00Z',
      });
    }
  });

  it('two processes billing at once invoice each period exactly once and skip none', async () => {
    const [a, b] = await Promise.all([
      billProcess(t.env.database, '2028-04-01T00:00:00Z'),
      billProcess(t.env.database, '2028-04-01T00:00:00Z'),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const sa = JSON.parse(a.stdout);
    const sb = JSON.parse(b.stdout);
    expect(sa.errors).toEqual([]);
    expect(sb.errors).toEqual([]);
    // Advance fees for Jan–Apr (4) and usage for Jan–Mar (3), one invoice per billing moment:
    // 1 Jan (advance), 1 Feb, 1 Mar, 1 Apr (arrears + advance each) = 4 invoices a subscription.
    const invoices = await t.env.rt.db.kysely
      .selectFrom('invoices')
      .select(['id', 'subscription_id', 'total_amount_cents'])
      .where('organization_id', '=', orgId)
      .execute();
    expect(invoices).toHaveLength(SUBS * 4);
    const ledger = await t.env.rt.db.kysely
      .selectFrom('subscription_billings')
      .select(['subscription_id', 'kind', 'period_from', 'invoice_id'])
      .where('organization_id', '=', orgId)
      .execute();
    expect(ledger).toHaveLength(SUBS * 7);
    expect(ledger.every((r) => r.invoice_id !== null)).toBe(true);
    // Every subscription: 40 of fees and 1 call in February.
    const bySub = new Map<string, number>();
    for (const i of invoices)
      bySub.set(i.subscription_id!, (bySub.get(i.subscription_id!) ?? 0) + i.total_amount_cents);
    expect([...bySub.values()]).toEqual(Array(SUBS).fill(4100));
    const mine = (s: any) => s.invoices_created;
    expect(mine(sa) + mine(sb)).toBeGreaterThanOrEqual(SUBS * 4);
    // Run again: nothing new.
    const again = await billProcess(t.env.database, '2028-04-01T00:00:00Z');
    expect(JSON.parse(again.stdout).invoices_created).toBe(0);
    expect(again.stderr).toMatch(/billing: \d+\/\d+ subscriptions/);
  }, 120_000);
});
