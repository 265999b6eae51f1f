import { beforeAll, expect, it } from 'vitest';
import { Decimal } from '../../src/domain/decimal.js';
import { bootstrap, localPrincipal } from '../../src/interfaces/bootstrap.js';
import { loadDemo } from '../../src/interfaces/cli/demo.js';
import { dispatch } from '../../src/interfaces/dispatch.js';
import { createServiceContext, type Principal } from '../../src/services/context.js';
import { resolveCustomer } from '../../src/services/customers.js';
import { createInvoice, viewOf } from '../../src/services/invoices.js';
import { describeDatabases } from '../harness/suite.js';

/** The service contract billing runs build on, and the demo data built on the operations. */
describeDatabases('invoice service', (t) => {
  let principal: Principal;
  beforeAll(async () => {
    const org = await t.env.newOrganization();
    principal = localPrincipal(org.id);
  });

  async function call(operation: string, args: unknown): Promise<any> {
    const { outcome } = await dispatch(t.env.rt, { principal, door: 'system', operation, args });
    if (!outcome.ok) throw new Error(`${operation}: ${outcome.error.message}`);
    return outcome.output;
  }

  it('createInvoice takes computed lines with periods, resolved taxes and coupon discounts', async () => {
    await call('create_customer', { external_id: 'sub-1', name: 'Subscriber', currency: 'EUR' });
    const from = Date.parse('2026-03-01T00:00:00Z');
    const to = Date.parse('2026-03-31T23:59:59Z');
    const vat = { code: 'vat20', name: 'VAT', rate: Decimal.parse('20') };
    const loaded = await t.env.rt.db.kysely.transaction().execute(async (trx) => {
      const ctx = createServiceContext(t.env.rt, trx, principal, 'system', 'req_billing_run');
      const customer = await resolveCustomer(ctx, 'sub-1');
      const inv = await createInvoice(ctx, {
        customer,
        invoice_type: 'subscription',
        subscription_id: 'sub_01TEST',
        lines: [
          {
            description: 'Growth plan',
            unit_amount: Decimal.parse('99'),
            taxes: [vat],
            from,
            to,
            charge_id: 'chg_plan',
          },
          {
            description: 'API calls',
            quantity: Decimal.parse('1234567'),
            unit_amount: Decimal.parse('0.0000025'),
            taxes: [vat],
            from,
            to,
            charge_id: 'chg_calls',
            details: { units: '1234567', charge_model: 'standard' },
          },
        ],
        discounts: [
          { description: 'Coupon WELCOME10', coupon_code: 'WELCOME10', percentage: Decimal.parse('10') },
        ],
        status: 'finalized',
      });
      return viewOf(ctx, inv);
    });
    expect(loaded).toMatchObject({
      invoice_type: 'subscription',
      subscription_id: 'sub_01TEST',
      status: 'finalized',
      sub_total_amount: '102.09', // 99.00 + 3.086… → 3.09
      coupons_amount: '10.21',
      taxes_amount: '18.38', // 20 % of 91.88 = 18.376
      total_amount: '110.26',
      discounts: [{ coupon_code: 'WELCOME10', percentage: '10', amount: '10.21' }],
    });
    expect(loaded.lines[1]).toMatchObject({
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-31T23:59:59.000Z',
      charge_id: 'chg_calls',
      details: { units: '1234567', charge_model: 'standard' },
      amount: '3.09',
    });
    const listed = await call('list_invoices', { invoice_type: 'subscription' });
    expect(listed.invoices.map((i: { id: string }) => i.id)).toEqual([loaded.id]);
  });

  it('refuses a due date before the issue date', async () => {
    await expect(
      call('create_invoice', {
        customer_id: 'sub-1',
        amount: '1',
        description: 'x',
        issued_at: '2026-05-10',
        due_at: '2026-05-01',
      }),
    ).rejects.toThrow(/due date 2026-05-01 is before the issue date 2026-05-10/);
  });

  it('loads the demo data, and loading it again changes nothing', async () => {
    const boot = await bootstrap(t.env.rt, { createAdminKey: false });
    const local = localPrincipal(boot.organizationId, 'cli');
    await loadDemo(t.env.rt, local);
    const count = async () =>
      t.env.rt.db.kysely
        .selectFrom('invoices')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('organization_id', '=', boot.organizationId)
        .executeTakeFirstOrThrow();
    const first = Number((await count()).n);
    await loadDemo(t.env.rt, local);
    expect(Number((await count()).n)).toBe(first);
    const { outcome } = await dispatch(t.env.rt, {
      principal: local,
      door: 'cli',
      operation: 'get_accounts_receivable',
      args: {},
    });
    expect(outcome.ok).toBe(true);
    const ar = (outcome as { output: any }).output;
    expect(ar.balances.find((b: any) => b.customer.external_id === 'initech-003').overdue_amount).toBe(
      '2400.00',
    );
    const notes = await dispatch(t.env.rt, {
      principal: local,
      door: 'cli',
      operation: 'list_credit_notes',
      args: {},
    });
    expect((notes.outcome as { output: any }).output.pagination.total_count).toBe(1);
  });
});
