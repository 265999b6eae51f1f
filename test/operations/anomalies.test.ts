import { beforeAll, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { caller, type Caller } from '../harness/billing.js';
import { describeDatabases } from '../harness/suite.js';

const ms = (iso: string) => Date.parse(iso);

/** Each kind of finding from records made for it, and none from the ordinary ones beside them. */
describeDatabases('detect_anomalies', (t) => {
  let now: Caller;
  let orgId: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const org = await t.env.newOrganization();
    orgId = org.id;
    const at = (iso: string) => caller({ ...t.env, rt: { ...t.env.rt, now: () => ms(iso) } }, org.id);
    const old = at('2026-01-10T00:00:00Z');
    await old.call('update_organization', { timezone: 'UTC', default_currency: 'USD' });
    for (const id of ['an-steady', 'an-dup', 'an-pay'])
      await old.call('create_customer', { external_id: id, name: `Customer ${id}`, currency: 'USD' });
    const invoice = async (
      c: Caller,
      customer: string,
      amount: string,
      issued: string,
      description = 'Service',
    ) =>
      (
        await c.call('create_invoice', {
          customer_id: customer,
          status: 'finalized',
          issued_at: issued,
          lines: [{ description, unit_amount: amount, tax_codes: [] }],
        })
      ).invoice;
    const c = at('2026-06-20T00:00:00Z');
    // A steady customer: six invoices around 100, then one of 5,000.
    for (const [i, a] of ['100', '105', '98', '102', '99', '101'].entries())
      await invoice(c, 'an-steady', a, `2026-0${i + 1}-15`);
    ids.big = (await invoice(c, 'an-steady', '5000', '2026-06-16')).id;
    // The same invoice twice, two days apart, and once more a month later.
    ids.dup1 = (await invoice(c, 'an-dup', '250', '2026-06-01', 'Hosting June')).id;
    ids.dup2 = (await invoice(c, 'an-dup', '250', '2026-06-03', 'Hosting June')).id;
    ids.dup3 = (await invoice(c, 'an-dup', '250', '2026-05-01', 'Hosting June')).id;
    // Payments referenced TRX-…, then one referenced otherwise.
    for (const [i, day] of ['02', '04', '06'].entries()) {
      const inv = await invoice(c, 'an-pay', '40', `2026-05-${day}`, `Order ${i}`);
      await c.call('mark_invoice_paid', {
        invoice_id: inv.id,
        reference: `TRX-${1000 + i}`,
        paid_at: `2026-05-${day}T12:00:00Z`,
      });
    }
    const odd = await invoice(c, 'an-pay', '40', '2026-06-10');
    ids.oddPayment = (
      await c.call('mark_invoice_paid', {
        invoice_id: odd.id,
        reference: '8812ab',
        paid_at: '2026-06-11T12:00:00Z',
      })
    ).payment.id;
    // A refund the day after the payment.
    const refunded = await invoice(c, 'an-pay', '60', '2026-06-12');
    await c.call('mark_invoice_paid', {
      invoice_id: refunded.id,
      reference: 'TRX-1010',
      paid_at: '2026-06-12T10:00:00Z',
    });
    ids.note = (
      await at('2026-06-13T09:00:00Z').call('create_credit_note', {
        invoice_id: refunded.id,
        type: 'refund',
        reason: 'other',
        amount: '60',
      })
    ).credit_note.id;
    // An overpayment, as an import from another system could leave it: Billfold refuses to record one.
    const over = await invoice(c, 'an-dup', '80', '2026-06-05', 'Support');
    ids.over = over.id;
    await t.env.rt.db.kysely
      .insertInto('payments')
      .values({
        id: newId('payment'),
        organization_id: orgId,
        invoice_id: over.id,
        customer_id: over.customer_id,
        amount_cents: 12000,
        currency: 'USD',
        status: 'succeeded',
        payment_method: 'bank_transfer',
        reference: null,
        paid_at: ms('2026-06-06T00:00:00Z'),
        created_at: ms('2026-06-06T00:00:00Z'),
      })
      .execute();
    // A customer created a week before a round 5,000.
    const fresh = at('2026-06-08T00:00:00Z');
    await fresh.call('create_customer', { external_id: 'an-new', name: 'Brand New', currency: 'USD' });
    ids.round = (await invoice(c, 'an-new', '5000', '2026-06-15')).id;
    await invoice(c, 'an-new', '1234.56', '2026-06-16');
    now = at('2026-06-20T00:00:00Z');
  });

  it('finds each pattern with its reason and records', async () => {
    const r = await now.call('detect_anomalies', {});
    expect(r).toMatchObject({ threshold: '3.5', duplicate_days: 7, to: '2026-06-20T00:00:00.000Z' });
    expect(r.counts).toEqual({
      duplicate_invoice: 1,
      overpayment: 1,
      reference_pattern_change: 1,
      unusual_amount: 1,
      credit_after_payment: 1,
      round_amount_new_customer: 1,
    });
    const of = (kind: string) => r.findings.find((f: any) => f.kind === kind);
    expect(of('duplicate_invoice').records.map((x: any) => x.id)).toEqual([ids.dup1, ids.dup2]);
    expect(of('duplicate_invoice').reason).toMatch(/^2 invoices of 250\.00 USD with the same lines/);
    expect(of('overpayment')).toMatchObject({
      reason: expect.stringMatching(/120\.00 USD paid on .*80\.00: 40\.00 too much/),
    });
    expect(of('overpayment').records[0].id).toBe(ids.over);
    const ref = of('reference_pattern_change');
    expect(ref.records[0]).toMatchObject({ type: 'payment', id: ids.oddPayment, number: '8812ab' });
    expect(ref.reason).toMatch(/shape 9A\) differs from the customer's 3 earlier ones, all shaped A-9/);
    const big = of('unusual_amount');
    expect(big.records[0].id).toBe(ids.big);
    expect(big.customer).toMatchObject({ external_id: 'an-steady', name: 'Customer an-steady' });
    // median 100.5, MAD 1.5: 0.6745 × 4899.5 / 1.5 = 2203.1418…
    expect(big.score).toBe('2203.14');
    expect(of('credit_after_payment').records.map((x: any) => x.type)).toEqual([
      'credit_note',
      'payment',
      'invoice',
    ]);
    expect(of('credit_after_payment').records[0].id).toBe(ids.note);
    expect(of('round_amount_new_customer').records).toEqual([
      expect.objectContaining({ id: ids.round, amount: '5000.00' }),
    ]);
  });

  it('takes the threshold, the window and one customer', async () => {
    const strict = await now.call('detect_anomalies', { threshold: 3000 });
    expect(strict.counts.unusual_amount).toBe(0);
    const recent = await now.call('detect_anomalies', { days: 3 });
    expect(recent.counts).toMatchObject({
      duplicate_invoice: 0,
      unusual_amount: 0,
      reference_pattern_change: 0,
    });
    const one = await now.call('detect_anomalies', { customer_id: 'an-dup' });
    expect(new Set(one.findings.map((f: any) => f.customer.external_id))).toEqual(new Set(['an-dup']));
    const apart = await now.call('detect_anomalies', { customer_id: 'an-dup', duplicate_days: 1 });
    expect(apart.counts.duplicate_invoice).toBe(0);
    expect((await now.fail('detect_anomalies', { threshold: 0 }, 'VALIDATION_ERROR')).message).toMatch(
      /^threshold/,
    );
    expect((await now.fail('detect_anomalies', { days: 0 }, 'VALIDATION_ERROR')).message).toMatch(/^days/);
    await now.fail('detect_anomalies', { customer_id: 'nobody' }, 'NOT_FOUND');
  });
});
