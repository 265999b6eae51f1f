import { beforeAll, describe, expect, it } from 'vitest';
import { addDaysToDate, dateInZone } from '../../src/domain/time.js';
import { buildCatalogue } from '../../src/operations/catalogue.js';
import { describeDoors } from '../harness/suite.js';

describe('names of other systems', () => {
  const catalogue = buildCatalogue();
  it.each([
    ['add_customer', 'create_customer'], // seed 003
    ['get_invoice_details', 'get_invoice'], // seed 004
    ['get_customer_details', 'get_customer'],
    ['get_product_details', 'get_product'],
    ['create_pricing_plan', 'create_plan'], // seed 002
    ['get_invoices', 'list_invoices'],
    ['remove_coupon', 'delete_coupon'],
    ['fetch_invoice', 'get_invoice'],
    ['invoice_details', 'get_invoice'],
    ['get_custmer', 'get_customer'], // a typo still finds its name
  ])('%s suggests %s first', (asked, expected) => {
    expect(catalogue.suggest(asked)[0]).toBe(expected);
  });

  it('suggests nothing for a name that means nothing', () => {
    expect(catalogue.suggest('launch_rocket')).toEqual([]);
  });
});

describeDoors('input as the replaced systems word it', (t) => {
  beforeAll(async () => {
    await t.door.ok('create_customer', { external_id: 'fg-acme', name: 'Forgiving Ltd', currency: 'EUR' });
    await t.door.ok('create_customer', {
      external_id: 'fg-terms',
      name: 'Slow Payer',
      currency: 'EUR',
      net_payment_term: 45,
    });
  });

  it("names the Billfold value a seed's enum word means", async () => {
    const sent = await t.door.fail(
      'create_invoice',
      {
        customer_id: 'fg-acme',
        status: 'sent',
        lines: [{ description: 'Work', quantity: 1, unit_amount: '10' }],
      },
      'VALIDATION_ERROR',
    );
    expect(sent.message).toBe(
      "status must be one of draft, finalized (got 'sent'; Billfold calls a sent invoice 'finalized')",
    );
    const paid = await t.door.fail('list_invoices', { payment_status: 'paid' }, 'VALIDATION_ERROR');
    expect(paid.message).toBe(
      "payment_status must be one of pending, succeeded, failed (got 'paid'; a paid invoice has payment_status 'succeeded')",
    );
    const canceled = await t.door.fail('list_invoices', { status: 'canceled' }, 'VALIDATION_ERROR');
    expect(canceled.message).toContain("(got 'canceled'; Billfold calls a canceled invoice 'voided')");
    const inactive = await t.door.fail('list_customers', { status: 'inactive' }, 'VALIDATION_ERROR');
    expect(inactive.message).toContain("Billfold calls an inactive customer 'disabled'");
    // Another spelling of a value is named as such.
    const runRate = await t.door.fail('get_mrr', { variant: 'runRate' }, 'VALIDATION_ERROR');
    expect(runRate.message).toContain("(got 'runRate'; did you mean 'run_rate'?)");
    // A word with no meaning here gets no made-up hint.
    const odd = await t.door.fail('list_invoices', { status: 'archived' }, 'VALIDATION_ERROR');
    expect(odd.message).toBe("status must be one of draft, finalized, voided (got 'archived')");
  });

  it('shows a draft the due date it will get, and finalization sets the real one', async () => {
    const { organization } = await t.door.ok('get_organization', {});
    const line = [{ description: 'Work', quantity: 1, unit_amount: '100' }];
    // Dated draft, customer term 45 days: 2026-11-20 + 45 = 2027-01-04.
    const dated = await t.door.ok('create_invoice', {
      customer_id: 'fg-terms',
      issued_at: '2026-11-20',
      lines: line,
    });
    expect(dated.invoice).toMatchObject({ status: 'draft', due_date: '2027-01-04', net_payment_term: 45 });
    expect(dated.invoice.due_at).toBeNull();
    // Undated draft, the invoice's own term: today + 10.
    const today = dateInZone(Date.now(), organization.timezone);
    const own = await t.door.ok('create_invoice', {
      customer_id: 'fg-acme',
      net_payment_term: 10,
      lines: line,
    });
    expect(own.invoice).toMatchObject({ due_date: addDaysToDate(today, 10), net_payment_term: 10 });
    // No term on the invoice or the customer: the organization's.
    const org = await t.door.ok('create_invoice', { customer_id: 'fg-acme', lines: line });
    expect(org.invoice).toMatchObject({
      due_date: addDaysToDate(today, organization.net_payment_term),
      net_payment_term: organization.net_payment_term,
    });
    const listed = await t.door.ok('list_invoices', { customer_id: 'fg-terms', status: 'draft' });
    expect(listed.invoices.find((i: { id: string }) => i.id === dated.invoice.id).due_date).toBe(
      '2027-01-04',
    );
    const finalized = await t.door.ok('finalize_invoice', { invoice_id: own.invoice.id });
    expect(finalized.invoice.due_date).toBe(addDaysToDate(finalized.invoice.issuing_date, 10));
    expect(finalized.invoice.due_at).not.toBeNull();
  });
});
