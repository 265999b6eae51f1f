import { beforeAll, expect, it } from 'vitest';
import { epcPayload, parseEpcPayload } from '../../src/domain/epc-qr.js';
import { httpApiDoor, type Door } from '../harness/doors.js';
import { pdfQrCodes } from '../harness/pdf.js';
import { describeDoors } from '../harness/suite.js';

/**
 * The codes an issued invoice carries, read back as a customer's phone would — from the PDF
 * drawn to an image, decoded with jsqr — and checked with validate_qr_code through every door,
 * on both databases.
 */

const IBAN = 'FR7630006000011234567890189';
const DAY = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The invoice's PDF: the MCP resource on MCP doors, the document route on the HTTP API. */
async function pdfOf(door: Door, url: string, key: string, invoiceId: string): Promise<Uint8Array> {
  if (door.readResource) {
    const r = await door.readResource(`billfold://invoices/${invoiceId}/pdf`);
    expect(r.mimeType).toBe('application/pdf');
    return new Uint8Array(Buffer.from(r.blob!, 'base64'));
  }
  const res = await fetch(`${url}/api/v1/invoices/${invoiceId}.pdf`, { headers: { 'x-api-key': key } });
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

/** The code with one parameter's value replaced, as someone editing the printed URL would. */
function withParam(code: string, name: string, value: string): string {
  const url = new URL(code);
  url.searchParams.set(name, value);
  return url.toString();
}

describeDoors('invoice QR codes', (t) => {
  let eur: any;
  let codes: string[];

  beforeAll(async () => {
    await t.door.ok('update_organization', {
      name: 'Nordlicht',
      legal_name: 'Nordlicht Software SAS',
      bank_iban: IBAN,
      bank_bic: 'AGRIFRPP',
    });
    await t.door.ok('create_customer', { external_id: 'acme', name: 'Acme Corp', currency: 'EUR' });
    await t.door.ok('create_customer', { external_id: 'globex', name: 'Globex Inc', currency: 'USD' });
    ({ invoice: eur } = await t.door.ok('create_invoice', {
      customer_id: 'acme',
      lines: [{ description: 'Consulting', quantity: '3', unit_amount: '411.50' }],
      status: 'finalized',
    }));
  });

  it('prints a verification code and a SEPA transfer code on the PDF, and both read back', async () => {
    codes = await pdfQrCodes(await pdfOf(t.door, t.env.url, t.org.key, eur.id));
    expect(codes).toHaveLength(2);
    const verification = codes.find((c) => c.startsWith('http'))!;
    const epc = codes.find((c) => c.startsWith('BCD'))!;
    expect(new URL(verification).pathname).toBe('/portal/verify');
    expect(parseEpcPayload(epc)).toMatchObject({
      iban: IBAN,
      ibanValid: true,
      amountCents: 123450n,
      remittance: eur.number,
      name: 'Nordlicht Software SAS',
    });
    // What the PDF prints is what get_invoice_qr_codes gives to print elsewhere.
    const out = await t.door.ok('get_invoice_qr_codes', { invoice_id: eur.number });
    expect(out).toEqual({
      invoice_id: eur.id,
      invoice_number: eur.number,
      verification_code: verification,
      epc_code: epc,
    });
  });

  it('validates the scanned verification code: the invoice, its issuer, customer, total and status today', async () => {
    const verification = codes.find((c) => c.startsWith('http'))!;
    const r = await t.door.ok('validate_qr_code', { text: verification });
    expect(r.result).toBe('valid');
    expect(r.epc_transfer).toBeNull();
    expect(r.invoice).toEqual({
      id: eur.id,
      number: eur.number,
      issuer: 'Nordlicht Software SAS',
      customer: { id: eur.customer_id, external_id: 'acme', name: 'Acme Corp' },
      currency: 'EUR',
      total_amount_cents: 123450,
      total_amount: '1234.50',
      amount_due_cents: 123450,
      amount_due: '1234.50',
      issuing_date: eur.issuing_date,
      due_date: eur.due_date,
      status_today: 'due',
    });
    expect(r.message).toContain(eur.number);
  });

  it('calls a code whose amount, number or date was changed tampered, and tells nothing of the invoice', async () => {
    const verification = codes.find((c) => c.startsWith('http'))!;
    for (const [param, value] of [
      ['t', '234.50'],
      ['t', '1234.5'],
      ['c', 'USD'],
      ['n', eur.number.replace(/\d$/, (d: string) => String((Number(d) + 1) % 10))],
      ['d', '2020-01-01'],
      ['s', 'AAAAAAAAAAAAAAAAAAAAAA'],
      ['k', 'unknownk'],
    ] as const) {
      const r = await t.door.ok('validate_qr_code', { text: withParam(verification, param, value) });
      expect({ param, result: r.result }).toEqual({ param, result: 'tampered' });
      expect(r.invoice).toBeNull();
      expect(r.epc_transfer).toBeNull();
    }
    const unsigned = new URL(verification);
    unsigned.searchParams.delete('s');
    const r = await t.door.ok('validate_qr_code', { text: unsigned.toString() });
    expect(r).toMatchObject({ result: 'tampered', invoice: null });
    // The host is not part of what is signed: a code stays valid when the public address changes.
    const moved = new URL(verification);
    moved.host = 'billing.example.com';
    expect((await t.door.ok('validate_qr_code', { text: moved.toString() })).result).toBe('valid');
  });

  it('calls anything else unknown, another organization’s code included', async () => {
    for (const text of ['hello', 'https://example.com/pay?invoice=1', 'BCD\n002\nnot an epc']) {
      const r = await t.door.ok('validate_qr_code', { text });
      expect(r).toMatchObject({ result: 'unknown', invoice: null, epc_transfer: null });
    }
    const other = await t.env.newOrganization(['admin'], 'Other Org');
    const theirs = httpApiDoor(t.env, other.key);
    const verification = codes.find((c) => c.startsWith('http'))!;
    const r = await theirs.ok('validate_qr_code', { text: verification });
    expect(r).toMatchObject({ result: 'unknown', invoice: null });
    expect(JSON.stringify(r)).not.toContain(eur.number);
  });

  it('checks a SEPA transfer code against the open invoices: IBAN checksum, amount and reference', async () => {
    const epc = codes.find((c) => c.startsWith('BCD'))!;
    const ok = await t.door.ok('validate_qr_code', { text: epc });
    expect(ok.result).toBe('epc_transfer');
    expect(ok.epc_transfer).toEqual({
      beneficiary_name: 'Nordlicht Software SAS',
      iban: IBAN,
      bic: 'AGRIFRPP',
      iban_checksum_valid: true,
      iban_is_organization: true,
      amount_cents: 123450,
      amount: '1234.50',
      currency: 'EUR',
      reference: eur.number,
      reference_matches_open_invoice: true,
      amount_matches: true,
      matches_open_invoice: true,
    });
    expect(ok.invoice).toMatchObject({ id: eur.id, status_today: 'due' });

    const transfer = {
      name: 'Nordlicht Software SAS',
      iban: IBAN,
      amountCents: 123450,
      remittance: eur.number,
    };
    const cheaper = await t.door.ok('validate_qr_code', {
      text: epcPayload({ ...transfer, amountCents: 23450 }),
    });
    expect(cheaper.epc_transfer).toMatchObject({ amount_matches: false, matches_open_invoice: false });
    expect(cheaper.message).toMatch(/234\.50 EUR is not the 1234\.50 EUR due/);

    const elsewhere = await t.door.ok('validate_qr_code', {
      text: epcPayload({ ...transfer, iban: 'DE89 3704 0044 0532 0130 00' }),
    });
    expect(elsewhere.epc_transfer).toMatchObject({
      iban_checksum_valid: true,
      iban_is_organization: false,
      matches_open_invoice: false,
    });

    // A payload written by hand with a mistyped IBAN: its check digits fail.
    const mistyped = epc.replace(IBAN, IBAN.slice(0, -1) + '8');
    const bad = await t.door.ok('validate_qr_code', { text: mistyped });
    expect(bad.epc_transfer).toMatchObject({ iban_checksum_valid: false, matches_open_invoice: false });
    expect(bad.message).toMatch(/check digits/);

    const nowhere = await t.door.ok('validate_qr_code', {
      text: epcPayload({ ...transfer, remittance: 'INV-000000-9999' }),
    });
    expect(nowhere).toMatchObject({ result: 'epc_transfer', invoice: null });
    expect(nowhere.epc_transfer).toMatchObject({
      reference_matches_open_invoice: false,
      matches_open_invoice: false,
    });
  });

  it('gives the status of today: overdue past the due date, paid once paid, voided once voided', async () => {
    const now = Date.now();
    const { invoice: late } = await t.door.ok('create_invoice', {
      customer_id: 'acme',
      amount: '99.90',
      description: 'Support',
      issued_at: isoDay(now - 40 * DAY),
      due_at: isoDay(now - 10 * DAY),
      status: 'finalized',
    });
    const { verification_code: code, epc_code } = await t.door.ok('get_invoice_qr_codes', {
      invoice_id: late.id,
    });
    expect((await t.door.ok('validate_qr_code', { text: code })).invoice.status_today).toBe('overdue');

    await t.door.ok('mark_invoice_paid', { invoice_id: late.id });
    const paid = await t.door.ok('validate_qr_code', { text: code });
    expect(paid.invoice).toMatchObject({ status_today: 'paid', amount_due_cents: 0 });
    // Once paid, its transfer code no longer matches an open invoice, and none is printed any more.
    const epc = await t.door.ok('validate_qr_code', { text: epc_code });
    expect(epc.epc_transfer).toMatchObject({
      reference_matches_open_invoice: false,
      matches_open_invoice: false,
    });
    expect(epc.message).toMatch(/is not open \(it is paid\)/);
    expect((await t.door.ok('get_invoice_qr_codes', { invoice_id: late.id })).epc_code).toBeNull();

    const { invoice: gone } = await t.door.ok('create_invoice', {
      customer_id: 'acme',
      amount: '10',
      description: 'Mistake',
      status: 'finalized',
    });
    const goneCode = (await t.door.ok('get_invoice_qr_codes', { invoice_id: gone.id })).verification_code;
    await t.door.ok('void_invoice', { invoice_id: gone.id });
    expect((await t.door.ok('validate_qr_code', { text: goneCode })).invoice.status_today).toBe('voided');
  });

  it('has no codes for a draft, and no transfer code outside euros', async () => {
    const { invoice: draft } = await t.door.ok('create_invoice', {
      customer_id: 'acme',
      amount: '5',
      description: 'Later',
    });
    expect(await t.door.ok('get_invoice_qr_codes', { invoice_id: draft.id })).toEqual({
      invoice_id: draft.id,
      invoice_number: null,
      verification_code: null,
      epc_code: null,
    });
    const { invoice: usd } = await t.door.ok('create_invoice', {
      customer_id: 'globex',
      amount: '5',
      description: 'Now',
      status: 'finalized',
    });
    const usdCodes = await t.door.ok('get_invoice_qr_codes', { invoice_id: usd.id });
    expect(usdCodes.epc_code).toBeNull();
    const r = await t.door.ok('validate_qr_code', { text: usdCodes.verification_code });
    expect(r.invoice).toMatchObject({ currency: 'USD', total_amount: '5.00', status_today: 'due' });
  });

  it('names the field when the input is wrong', async () => {
    const empty = await t.door.fail('validate_qr_code', { text: '' }, 'VALIDATION_ERROR');
    expect(empty.message).toMatch(/text/);
    const missing = await t.door.fail('validate_qr_code', {}, 'VALIDATION_ERROR');
    expect(missing.message).toMatch(/text/);
    const nope = await t.door.fail('get_invoice_qr_codes', { invoice_id: 'INV-999999-9999' }, 'NOT_FOUND');
    expect(nope.message).toMatch(/invoice_id/);
  });
});
