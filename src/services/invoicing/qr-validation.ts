import type { InvoicesTable } from '../../db/schema.js';
import { parseEpcPayload, type ParsedEpc } from '../../domain/epc-qr.js';
import { normalizeIban } from '../../domain/iban.js';
import { formatMinor, moneyFields } from '../../domain/money.js';
import { toIso } from '../../domain/time.js';
import { readVerificationCode, signatureMatches } from '../../domain/verification-code.js';
import type { ServiceContext } from '../context.js';
import { findInvoice, getInvoice } from '../invoices.js';
import { standingOf, type BillingSnapshot, type InvoiceStanding } from '../invoice-views.js';
import { signingKeyById } from '../signing-keys.js';
import { payeeName } from './invoice-codes.js';

/**
 * validate_qr_code: what a scanned code says about this organization's invoices.
 *
 * - A verification code (domain/verification-code.ts) of this organization whose signature
 *   holds and whose signed fields are the invoice's: `valid`, with the invoice as it stands
 *   today. One whose signature does not hold, or whose fields are missing: `tampered`, and
 *   nothing about any invoice, since its fields cannot be trusted.
 * - A verification code whose signature holds but whose key the organization revoked
 *   (rotate_signing_key, revoke_signing_key): `revoked`, and nothing about the invoice — whoever
 *   holds a revoked key can sign anything. A key merely retired by a rotation still vouches.
 * - An EPC069-12 credit transfer: `epc_transfer`, with whether its IBAN's check digits hold and
 *   it is the organization's, and whether its reference names an open invoice whose amount due
 *   is the code's amount. An EPC code is not signed; these checks are what can be known.
 * - Anything else, a verification code of another organization included: `unknown`.
 */

export type QrResult = 'valid' | 'tampered' | 'revoked' | 'unknown' | 'epc_transfer';

export interface QrInvoice {
  id: string;
  number: string | null;
  issuer: string;
  customer: { id: string; external_id: string | null; name: string };
  currency: string;
  total_amount_cents: number;
  total_amount: string;
  amount_due_cents: number;
  amount_due: string;
  issuing_date: string | null;
  due_date: string | null;
  status_today: InvoiceStanding;
}

export interface EpcCheck {
  beneficiary_name: string;
  iban: string;
  bic: string | null;
  iban_checksum_valid: boolean;
  iban_is_organization: boolean;
  amount_cents: number | null;
  amount: string | null;
  currency: 'EUR';
  reference: string | null;
  reference_matches_open_invoice: boolean;
  amount_matches: boolean;
  matches_open_invoice: boolean;
}

export interface QrValidation {
  result: QrResult;
  message: string;
  invoice: QrInvoice | null;
  epc_transfer: EpcCheck | null;
}

export async function validateQrCode(ctx: ServiceContext, text: string): Promise<QrValidation> {
  const code = readVerificationCode(text);
  if (code.kind !== 'other') {
    const organizationId = code.kind === 'code' ? code.fields.organizationId : code.organizationId;
    if (organizationId !== ctx.organizationId) {
      return unknown('this is a Billfold verification code, but not one of this organization’s invoices');
    }
    if (code.kind === 'damaged')
      return tampered('the code lacks one of its fields (or gives one twice), so it cannot be trusted');
    const key = await signingKeyById(ctx, code.fields.keyId);
    if (!key || !signatureMatches(code.fields, code.signature, key.secret))
      return tampered('the signature does not match what the code says: it was altered or forged');
    if (key.revoked_at !== null)
      return {
        result: 'revoked',
        message:
          `the code was signed with key ${key.id}, which the organization revoked on ` +
          `${toIso(Number(key.revoked_at)).slice(0, 10)}: it no longer vouches for codes signed with it, whatever they say; ` +
          'ask it for a new copy of the invoice',
        invoice: null,
        epc_transfer: null,
      };
    const row = await findInvoice(ctx, code.fields.number);
    if (!row || row.number !== code.fields.number || row.status === 'draft')
      return unknown(`the code is signed, but no issued invoice has the number ${code.fields.number}`);
    if (
      row.issuing_date !== code.fields.issueDate ||
      row.currency !== code.fields.currency ||
      formatMinor(row.total_amount_cents, row.currency) !== code.fields.total
    ) {
      return tampered('the code is signed but does not match the invoice it names');
    }
    const invoice = await qrInvoice(ctx, row);
    return {
      result: 'valid',
      message:
        `genuine: invoice ${invoice.number} issued by ${invoice.issuer} to ${invoice.customer.name} on ` +
        `${invoice.issuing_date}, total ${invoice.total_amount} ${invoice.currency}; today it is ${invoice.status_today}` +
        (invoice.status_today === 'due' || invoice.status_today === 'overdue'
          ? ` (${invoice.amount_due} ${invoice.currency} to pay${invoice.due_date ? ` by ${invoice.due_date}` : ''})`
          : ''),
      invoice,
      epc_transfer: null,
    };
  }
  const epc = parseEpcPayload(text.trim());
  if (epc) return checkEpc(ctx, epc);
  return unknown(
    'not a code of this organization: neither an invoice verification code nor a SEPA transfer code',
  );
}

function unknown(message: string): QrValidation {
  return { result: 'unknown', message, invoice: null, epc_transfer: null };
}

function tampered(message: string): QrValidation {
  return { result: 'tampered', message, invoice: null, epc_transfer: null };
}

async function qrInvoice(ctx: ServiceContext, row: InvoicesTable): Promise<QrInvoice> {
  const view = await getInvoice(ctx, row.id);
  const issuer = row.billing_snapshot
    ? (JSON.parse(row.billing_snapshot) as BillingSnapshot).organization
    : await ctx.organization();
  return {
    id: view.id,
    number: view.number,
    issuer: payeeName(issuer),
    customer: { id: view.customer.id, external_id: view.customer.external_id, name: view.customer.name },
    currency: view.currency,
    ...moneyFields('total_amount', view.total_amount_cents, view.currency),
    ...moneyFields('amount_due', Math.max(view.amount_due_cents, 0), view.currency),
    issuing_date: view.issuing_date,
    due_date: view.due_date,
    status_today: standingOf(view),
  };
}

/** The invoice a transfer's reference names: the whole text, else one of its words. */
async function invoiceOfReference(
  ctx: ServiceContext,
  reference: string,
): Promise<InvoicesTable | undefined> {
  const whole = await findInvoice(ctx, reference);
  if (whole) return whole;
  const words = [...new Set(reference.split(/[\s,;:/]+/).filter((w) => w && w !== reference))].slice(0, 10);
  for (const w of words) {
    const row = await findInvoice(ctx, w);
    if (row) return row;
  }
  return undefined;
}

async function checkEpc(ctx: ServiceContext, epc: ParsedEpc): Promise<QrValidation> {
  const org = await ctx.organization();
  const reference = epc.remittance ?? epc.reference;
  const row = reference ? await invoiceOfReference(ctx, reference) : undefined;
  const issued = row && row.status !== 'draft' ? row : undefined;
  const invoice = issued ? await qrInvoice(ctx, issued) : null;
  // The invoice's own frozen bank details, or today's: a code printed before a change of bank
  // still names the organization's account.
  const snapshotIban = issued?.billing_snapshot
    ? (JSON.parse(issued.billing_snapshot) as BillingSnapshot).organization.bank_iban
    : null;
  const ours = [org.bank_iban, snapshotIban].filter((i): i is string => !!i).map(normalizeIban);
  const open =
    !!invoice && issued!.status === 'finalized' && issued!.currency === 'EUR' && invoice.amount_due_cents > 0;
  const cents = epc.amountCents === null ? null : Number(epc.amountCents);
  const check: EpcCheck = {
    beneficiary_name: epc.name,
    iban: epc.iban,
    bic: epc.bic,
    iban_checksum_valid: epc.ibanValid,
    iban_is_organization: ours.includes(epc.iban),
    amount_cents: cents,
    amount: cents === null ? null : formatMinor(cents, 'EUR'),
    currency: 'EUR',
    reference,
    reference_matches_open_invoice: open,
    amount_matches: open && cents === invoice!.amount_due_cents,
    matches_open_invoice: false,
  };
  check.matches_open_invoice =
    check.iban_checksum_valid &&
    check.iban_is_organization &&
    check.reference_matches_open_invoice &&
    check.amount_matches;
  return { result: 'epc_transfer', message: epcMessage(check, invoice), invoice, epc_transfer: check };
}

function epcMessage(c: EpcCheck, invoice: QrInvoice | null): string {
  if (c.matches_open_invoice)
    return `a SEPA transfer of ${c.amount} EUR that matches open invoice ${invoice!.number}: IBAN, amount and reference agree`;
  const problems: string[] = [];
  if (!c.iban_checksum_valid) problems.push(`the IBAN ${c.iban} fails its check digits`);
  else if (!c.iban_is_organization) problems.push(`the IBAN ${c.iban} is not this organization’s`);
  if (!c.reference) problems.push('it has no reference');
  else if (!invoice) problems.push(`its reference '${c.reference}' names no invoice of this organization`);
  else if (!c.reference_matches_open_invoice)
    problems.push(`invoice ${invoice.number} is not open (it is ${invoice.status_today})`);
  else if (!c.amount_matches)
    problems.push(
      `its amount ${c.amount ?? '(none)'} EUR is not the ${invoice.amount_due} ${invoice.currency} due on ${invoice.number}`,
    );
  return `a SEPA transfer code that does not match an open invoice: ${problems.join('; ')}`;
}
