import { afterAll, beforeAll, expect, it } from 'vitest';
import { httpApiDoor, mcpStdioDoor, type CallResult, type Door } from '../harness/doors.js';
import { describeDatabases } from '../harness/suite.js';

/**
 * Two invoice_order calls on one order at the same moment — two HTTP requests served by one
 * process (its connection pool runs them side by side), and two `billfold stdio` processes on
 * the same database — never bill the same unit twice.
 */
describeDatabases('invoice_order under concurrency', (t) => {
  let http: Door;
  const processes: Door[] = [];

  beforeAll(async () => {
    const org = await t.env.newOrganization(['admin']);
    http = httpApiDoor(t.env, org.key);
    processes.push(await mcpStdioDoor(t.env, org.key), await mcpStdioDoor(t.env, org.key));
    await http.ok('create_customer', { external_id: 'race', name: 'Race Buyer', currency: 'USD' });
  });
  afterAll(async () => {
    for (const p of processes) await p.close();
  });

  async function confirmedOrder(quantity: number) {
    const { order } = await http.ok('create_order', {
      customer_id: 'race',
      status: 'confirmed',
      lines: [
        { description: 'Widget', quantity, unit_amount: '2.50', tax_codes: [] },
        { description: 'Gadget', quantity: 1, unit_amount: '10', tax_codes: [] },
      ],
    });
    return order;
  }

  async function invoicesOf(orderId: string) {
    const { order } = await http.ok('get_order', { order_id: orderId });
    const live = order.invoices.filter((i: any) => i.status !== 'voided');
    const billed = await Promise.all(
      live.map(async (i: any) => (await http.ok('get_invoice', { invoice_id: i.id })).invoice),
    );
    return { order, billed };
  }

  const outcomes = (results: CallResult[]) =>
    results.map((r) => (r.ok ? 'ok' : r.error.code)).sort((a, b) => a.localeCompare(b));

  it('bills every unit once when two requests invoice a whole order at once', async () => {
    for (let round = 0; round < 4; round++) {
      const order = await confirmedOrder(10);
      const results = await Promise.all([
        http.call('invoice_order', { order_id: order.id, status: 'finalized' }),
        http.call('invoice_order', { order_id: order.id, status: 'finalized' }),
      ]);
      expect(outcomes(results)).toEqual(['INVALID_STATUS', 'ok']);
      const { order: after, billed } = await invoicesOf(order.id);
      expect(after.status).toBe('invoiced');
      expect(billed).toHaveLength(1);
      expect(billed[0].total_amount).toBe('35.00');
    }
  });

  it('refuses the second of two parts that together exceed a line, from two processes', async () => {
    for (let round = 0; round < 3; round++) {
      const order = await confirmedOrder(10);
      const part = { order_id: order.id, lines: [{ position: 1, quantity: 6 }] };
      const results = await Promise.all([
        processes[0]!.call('invoice_order', part),
        processes[1]!.call('invoice_order', part),
        http.call('invoice_order', part),
      ]);
      expect(outcomes(results)).toEqual(['ok', 'VALIDATION_ERROR', 'VALIDATION_ERROR']);
      const refused = results.filter((r) => !r.ok) as Array<Extract<CallResult, { ok: false }>>;
      for (const r of refused)
        expect(r.error.message).toMatch(/6 is more than the 4 left to invoice on line 1/);
      const { order: after, billed } = await invoicesOf(order.id);
      expect(after.status).toBe('partially_invoiced');
      expect(after.lines[0]).toMatchObject({ invoiced_quantity: '6', remaining_quantity: '4' });
      expect(billed.map((i: any) => i.lines.map((l: any) => l.quantity))).toEqual([['6']]);
    }
  });
});
