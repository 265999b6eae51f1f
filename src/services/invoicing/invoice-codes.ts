import type { InvoicesTable } from '../../db/schema.js';
import { EpcError, epcPayload } from '../../domain/epc-qr.js';
import { formatMinor } from '../../domain/money.js';
import { verificationUrl, type VerificationFields } from '../../domain/verification-code.js';
import type { ServiceContext } from '../context.js';
import { resolveInvoice } from '../invoices.js';
import type { BillingSnapshot } from '../invoice-views.js';
import { activeSigningKey } from '../signing-keys.js';

/**
 * The two codes an issued invoice carries, on its PDF and its portal page: the verification
 * code (domain/verification-code.ts), signed with the organization's key, and, for an invoice
 * in euros with something left to pay to an IBAN, the EPC069-12 SEPA credit transfer a banking
 * app scans to fill in the payment.
 */

/** Where a transfer goes: the organization, or the details frozen on an invoice. */
export interface Payee {
  name: string;
  legal_name: string | null;
  bank_iban: string | null;
  bank_bic: string | null;
}

export function payeeName(p: Pick<Payee, 'name' | 'legal_name'>): string {
  return p.legal_name ?? p.name;
}

/** What an invoice's codes are made from: its row, or its output view. */
type CodedInvoice = Pick<InvoicesTable, 'id' | 'number' | 'status' | 'currency' | 'amount_due_cents'> &
  Pick<InvoicesTable, 'issuing_date' | 'total_amount_cents'>;

/** The EPC payload of what is left to pay, or null when no code can be made for it. */
export function epcTransferFor(
  invoice: Pick<CodedInvoice, 'id' | 'number' | 'status' | 'currency' | 'amount_due_cents'>,
  payee: Payee,
): string | null {
  if (invoice.status !== 'finalized' || invoice.currency !== 'EUR' || !payee.bank_iban) return null;
  if (invoice.amount_due_cents <= 0) return null;
  try {
    return epcPayload({
      name: payeeName(payee).slice(0, 70),
      iban: payee.bank_iban,
      bic: payee.bank_bic,
      amountCents: invoice.amount_due_cents,
      remittance: invoice.number ?? invoice.id,
    });
  } catch (e) {
    // An IBAN or BIC the organization saved before they were checked: no code rather than a wrong one.
    if (e instanceof EpcError) return null;
    throw e;
  }
}

/** The fields an issued invoice's verification code signs; null for a draft. */
export function verificationFieldsOf(
  ctx: ServiceContext,
  invoice: CodedInvoice,
  keyId: string,
): VerificationFields | null {
  if (invoice.status === 'draft' || !invoice.number || !invoice.issuing_date) return null;
  return {
    organizationId: ctx.organizationId,
    keyId,
    number: invoice.number,
    issueDate: invoice.issuing_date,
    total: formatMinor(invoice.total_amount_cents, invoice.currency),
    currency: invoice.currency,
  };
}

/** The verification code's text (a URL on this server's public address); null for a draft. */
export async function verificationCodeFor(
  ctx: ServiceContext,
  invoice: CodedInvoice,
): Promise<string | null> {
  if (invoice.status === 'draft') return null;
  const key = await activeSigningKey(ctx);
  const fields = verificationFieldsOf(ctx, invoice, key.id);
  return fields ? verificationUrl(ctx.env.publicUrl(), fields, key.secret) : null;
}

export interface InvoiceCodes {
  invoice_id: string;
  invoice_number: string | null;
  verification_code: string | null;
  epc_code: string | null;
}

/**
 * Both codes of one invoice, as its PDF prints them: the EPC transfer pays to the bank details
 * frozen on the invoice when it was finalized.
 */
export async function invoiceCodes(ctx: ServiceContext, ref: string): Promise<InvoiceCodes> {
  const row = await resolveInvoice(ctx, ref);
  return codesOf(ctx, row);
}

export async function codesOf(ctx: ServiceContext, row: InvoicesTable): Promise<InvoiceCodes> {
  return {
    invoice_id: row.id,
    invoice_number: row.number,
    verification_code: await verificationCodeFor(ctx, row),
    epc_code: epcTransferFor(row, await payeeOf(ctx, row)),
  };
}

/** The payee an invoice names: its frozen snapshot once finalized, else today's organization. */
export async function payeeOf(
  ctx: ServiceContext,
  row: Pick<InvoicesTable, 'billing_snapshot'>,
): Promise<Payee> {
  if (row.billing_snapshot) {
    const org = (JSON.parse(row.billing_snapshot) as BillingSnapshot).organization;
    return { name: org.name, legal_name: org.legal_name, bank_iban: org.bank_iban, bank_bic: org.bank_bic };
  }
  const org = await ctx.organization();
  return { name: org.name, legal_name: org.legal_name, bank_iban: org.bank_iban, bank_bic: org.bank_bic };
}
