import type { InvoiceDeliveriesTable } from '../db/schema.js';
import { BillfoldError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { formatIban } from '../domain/iban.js';
import { toIso } from '../domain/time.js';
import { recordActivity } from './activity.js';
import type { ServiceContext } from './context.js';
import type { BillingSnapshot, InvoiceView } from './invoice-views.js';
import { formatMoney, invoiceFileName, renderInvoicePdf } from './invoice-pdf.js';
import { ensureFinalized, getInvoice, resolveInvoice } from './invoices.js';

/** Emailing an invoice: finalizes a draft, attaches the PDF, and records every send on the invoice. */

export interface DeliveryView {
  id: string;
  invoice_id: string;
  recipient_email: string;
  subject: string;
  transport: 'smtp' | 'outbox';
  message_id: string;
  location: string | null;
  sent_at: string;
}

export function deliveryView(d: InvoiceDeliveriesTable): DeliveryView {
  return {
    id: d.id,
    invoice_id: d.invoice_id,
    recipient_email: d.recipient_email,
    subject: d.subject,
    transport: d.transport as DeliveryView['transport'],
    message_id: d.message_id,
    location: d.location,
    sent_at: toIso(d.sent_at),
  };
}

export interface SendInvoiceInput {
  invoice_id: string;
  recipient_email?: string;
  subject?: string;
  message?: string;
}

function body(inv: InvoiceView, org: BillingSnapshot['organization'], message?: string): string {
  const out: string[] = [`Hello ${inv.customer.name},`, ''];
  if (message) out.push(message, '');
  out.push(
    `Please find attached invoice ${inv.number} from ${org.legal_name ?? org.name}, issued on ${inv.issuing_date}.`,
    '',
    `Total: ${formatMoney(inv.total_amount_cents, inv.currency)}`,
    `Amount due: ${formatMoney(inv.amount_due_cents, inv.currency)}${inv.due_date ? ` by ${inv.due_date}` : ''}`,
  );
  if (inv.amount_due_cents > 0 && (org.bank_iban || org.bank_name)) {
    out.push('', `Payment by bank transfer, quoting ${inv.number}:`);
    if (org.bank_name) out.push(`  Bank: ${org.bank_name}`);
    if (org.bank_iban) out.push(`  IBAN: ${formatIban(org.bank_iban)}`);
    if (org.bank_bic) out.push(`  BIC: ${org.bank_bic}`);
  }
  out.push('', 'Thank you,', org.name);
  if (org.invoice_footer) out.push('', org.invoice_footer);
  return out.join('\n');
}

/**
 * Emails an invoice in three steps, so no database lock is held while the mail server answers:
 * finalize a draft (committed), send, then record the delivery (committed). A send that fails
 * after a draft was finalized leaves it finalized — its number is taken for good — and says so,
 * so the caller can send it again.
 */
export async function sendInvoice(
  ctx: ServiceContext,
  input: SendInvoiceInput,
): Promise<{ invoice: InvoiceView; delivery: DeliveryView; finalized: boolean }> {
  const { row, finalizedNow, recipient } = await ctx.transaction(async (tx) => {
    const found = await resolveInvoice(tx, input.invoice_id, { lock: true });
    if (found.status === 'voided') {
      throw new BillfoldError(
        'INVALID_STATUS',
        `invoice ${found.number} is voided and cannot be sent`,
        { invoice_id: found.id, status: found.status },
        'Send the invoice that replaced it.',
      );
    }
    let to = input.recipient_email;
    if (!to) {
      const c = await tx.db
        .selectFrom('customers')
        .select(['email', 'external_id'])
        .where('organization_id', '=', tx.organizationId)
        .where('id', '=', found.customer_id)
        .executeTakeFirst();
      to = c?.email ?? undefined;
      if (!to) {
        throw new BillfoldError(
          'VALIDATION_ERROR',
          `recipient_email: the customer of invoice ${found.number ?? found.id} has no email address`,
          { issues: [{ field: 'recipient_email', message: 'required: the customer has no email' }] },
          'Pass recipient_email, or set the customer email with update_customer.',
        );
      }
    }
    return { ...(await ensureFinalized(tx, found.id)), recipient: to };
  });
  const { pdf, invoice } = await renderInvoicePdf(ctx, row.id);
  const org = (JSON.parse(row.billing_snapshot!) as BillingSnapshot).organization;
  const subject = input.subject ?? `Invoice ${row.number} from ${org.legal_name ?? org.name}`;
  const mailer = ctx.env.mailer;
  const from =
    ctx.env.mailer.defaultFrom !== 'billing@billfold.local' || !org.email ? mailer.defaultFrom : org.email;
  let sent: Awaited<ReturnType<typeof mailer.send>>;
  try {
    sent = await mailer.send({
      from: `"${(org.legal_name ?? org.name).replace(/"/g, "'")}" <${from}>`,
      to: recipient,
      replyTo: org.email,
      subject,
      text: body(invoice, org, input.message),
      attachments: [{ filename: invoiceFileName(invoice), content: pdf, contentType: 'application/pdf' }],
    });
  } catch (e) {
    if (!(e instanceof BillfoldError) || !finalizedNow) throw e;
    throw new BillfoldError(
      e.code,
      `${e.message}; invoice ${row.number} was finalized before sending and stays finalized`,
      { ...e.details, invoice_id: row.id, number: row.number, finalized: true },
      'Call send_invoice again to retry the email.',
    );
  }
  const delivery = await ctx.transaction(async (tx) => {
    const now = tx.now();
    const d: InvoiceDeliveriesTable = {
      id: newId('email', now),
      organization_id: tx.organizationId,
      invoice_id: row.id,
      recipient_email: recipient,
      subject,
      transport: sent.transport,
      message_id: sent.message_id,
      location: sent.location,
      sent_at: now,
    };
    await tx.db.insertInto('invoice_deliveries').values(d).execute();
    await tx.db
      .updateTable('invoices')
      .set((eb) => ({ sent_count: eb('sent_count', '+', 1), last_sent_at: now, updated_at: now }))
      .where('id', '=', row.id)
      .where('organization_id', '=', tx.organizationId)
      .execute();
    await recordActivity(tx, {
      type: 'invoice.sent',
      resourceType: 'invoice',
      resourceId: row.id,
      customerId: row.customer_id,
      changes: {
        recipient_email: recipient,
        transport: sent.transport,
        message_id: sent.message_id,
        subject,
      },
    });
    return d;
  });
  return {
    invoice: await getInvoice(ctx, row.id),
    delivery: deliveryView(delivery),
    finalized: finalizedNow,
  };
}

export async function deliveriesOf(ctx: ServiceContext, invoiceId: string): Promise<DeliveryView[]> {
  const rows = await ctx.db
    .selectFrom('invoice_deliveries')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('invoice_id', '=', invoiceId)
    .orderBy('id')
    .execute();
  return rows.map(deliveryView);
}
