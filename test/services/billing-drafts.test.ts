import { expect, it } from 'vitest';
import { runBilling } from '../../src/services/billing/run.js';
import { caller, utc, type Caller } from '../harness/billing.js';
import { runCli } from '../harness/doors.js';
import { describeDatabases } from '../harness/suite.js';

/**
 * Drafts in billing runs: an organization that keeps drafts gets them from `billfold bill`, and
 * a draft made ahead of time by generate_invoice is refreshed with the final usage and finalized
 * by the run — the same invoice, never a second one.
 *
 * Plan: 10.00 a month in arrears, one charge on `calls` (count) at 1.00 each; no tax.
 */
async function setUp(c: Caller, customer: string): Promise<void> {
  await c.call('update_organization', { timezone: 'UTC' });
  await c.call('create_customer', { external_id: customer, name: customer, currency: 'USD' });
  await c.call('create_billable_metric', { code: 'calls', name: 'Calls', aggregation_type: 'count_agg' });
  await c.call('create_plan', {
    code: 'metered',
    name: 'Metered',
    interval: 'monthly',
    currency: 'USD',
    amount: '10',
    charges: [{ billable_metric_code: 'calls', charge_model: 'standard', properties: { amount: '1' } }],
  });
  await c.call('create_subscription', {
    customer_id: customer,
    plan_code: 'metered',
    external_id: `${customer}-sub`,
    started_at: '2029-01-01',
  });
}

const call = (c: Caller, customer: string, n: number, day: number) =>
  c.call('record_usage', {
    transaction_id: `${customer}-${n}`,
    customer_id: customer,
    code: 'calls',
    timestamp: `2029-01-${String(day).padStart(2, '0')}T12:00:00Z`,
  });

describeDatabases('billing runs and drafts', (t) => {
  it('leaves drafts for an organization that keeps them, with progress on stderr and a summary on stdout', async () => {
    const org = await t.env.newOrganization();
    const c = caller(t.env, org.id, () => utc('2029-01-10'));
    await setUp(c, 'drafty');
    await c.call('update_organization', { finalize_invoices: false });
    for (const [n, day] of [
      [1, 2],
      [2, 5],
      [3, 9],
    ] as const)
      await call(c, 'drafty', n, day);

    const run = await runCli(['bill', '--at', '2029-02-01T00:00:00Z'], { BILLFOLD_DATABASE: t.env.database });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^billing: \d+\/\d+ subscriptions \(100%\)$/m);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ at: '2029-02-01T00:00:00.000Z', invoices_finalized: 0, errors: [] });
    expect(summary.invoices_created).toBeGreaterThanOrEqual(1);

    const { invoices } = await c.call('list_invoices', { customer_id: 'drafty' });
    expect(invoices).toHaveLength(1);
    // 10.00 fee + 3 calls × 1.00
    expect(invoices[0]).toMatchObject({ status: 'draft', number: null, total_amount: '13.00' });
    const bad = await runCli(['bill', '--at', 'next tuesday'], { BILLFOLD_DATABASE: t.env.database });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--at must be an ISO 8601 date');
  });

  it('refreshes a generated draft with the final usage and finalizes that same invoice', async () => {
    const org = await t.env.newOrganization();
    const c = caller(t.env, org.id, () => utc('2029-01-15'));
    await setUp(c, 'early');
    await call(c, 'early', 1, 3);
    await call(c, 'early', 2, 14);
    const { invoice: draft } = await c.call('generate_invoice', { subscription_id: 'early-sub' });
    expect(draft).toMatchObject({ status: 'draft', total_amount: '12.00' });
    // Usage keeps arriving after the draft was made.
    await call(c, 'early', 3, 20);
    await call(c, 'early', 4, 31);

    const summary = await runBilling(t.env.rt, utc('2029-02-01'));
    expect(summary).toMatchObject({
      invoices_created: 0,
      invoices_refreshed: 1,
      invoices_finalized: 1,
      errors: [],
    });
    const { invoices } = await c.call('list_invoices', { customer_id: 'early' });
    expect(invoices).toHaveLength(1);
    expect(invoices[0]).toMatchObject({ id: draft.id, status: 'finalized', total_amount: '14.00' });
    expect(invoices[0].number).toMatch(/^INV-/);
    const charge = invoices[0].lines.find((l: { details: { kind: string } }) => l.details.kind === 'charge');
    expect(charge.details.units).toBe('4');
    // Run again: nothing left to bill for January.
    const again = await runBilling(t.env.rt, utc('2029-02-01'));
    expect(again.invoices_created + again.invoices_refreshed).toBe(0);
  });
});
