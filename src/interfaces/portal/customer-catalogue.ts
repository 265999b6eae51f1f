import type * as z from 'zod';
import type { PortalSessionsTable } from '../../db/schema.js';
import { BillfoldError, type ErrorBody } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { runRead } from '../../operations/invoke.js';
import type { Plan } from '../../operations/schemas/billing.js';
import type { Customer } from '../../operations/schemas/customer.js';
import type { CreditNote, Invoice, Organization, Payment } from '../../operations/schemas/invoice.js';
import type { MetricUsage } from '../../operations/usage-events.js';
import type { Subscription } from '../../operations/subscriptions.js';
import type { Pagination } from '../../domain/pagination.js';
import { portalPrincipal } from '../../services/portal-sessions.js';
import { dispatch } from '../dispatch.js';
import type { Runtime } from '../runtime.js';

/**
 * Everything the portal reads or changes, as calls of the operation catalogue — so a page sees
 * exactly what the API would show, and a change the customer makes goes through the same
 * validation and lands in the activity log (door `portal`, actor type `portal`). Each method is
 * bound to the session's customer: lists are filtered by it, and an object named in the address
 * bar that belongs to anyone else is reported as not found, exactly like one that does not exist.
 */

export type InvoiceOut = z.output<typeof Invoice>;
export type CreditNoteOut = z.output<typeof CreditNote>;
export type PaymentOut = z.output<typeof Payment>;
export type CustomerOut = z.output<typeof Customer>;
export type OrganizationOut = z.output<typeof Organization>;
export type SubscriptionOut = z.output<typeof Subscription>;
export type PlanOut = z.output<typeof Plan>;
export type MetricUsageOut = z.output<typeof MetricUsage>;

export interface BalanceOut {
  currency: string;
  invoices_count: number;
  amount_due_cents: number;
  overdue_amount_cents: number;
  overdue_invoices: string[];
}

export interface CustomerUsageOut {
  from: string;
  to: string;
  timezone: string;
  metrics: MetricUsageOut[];
}

/** The fields the profile form may change; nothing else of the customer can be written here. */
export const PROFILE_FIELDS = [
  'email',
  'address_line1',
  'address_line2',
  'city',
  'state',
  'zipcode',
  'country',
] as const;
export type ProfilePatch = Partial<Record<(typeof PROFILE_FIELDS)[number], string | null>>;

/** A call the catalogue refused; `error` is its error body (code, message, details). */
export class CatalogueError extends Error {
  constructor(readonly error: ErrorBody) {
    super(error.message);
  }
}

function notYours(what: string): CatalogueError {
  return new CatalogueError(new BillfoldError('NOT_FOUND', `no such ${what}`, {}).toBody());
}

export class CustomerCatalogue {
  constructor(
    private readonly rt: Runtime,
    readonly session: PortalSessionsTable,
  ) {}

  get customerId(): string {
    return this.session.customer_id;
  }

  private async call<T>(operation: string, args: Record<string, unknown>): Promise<T> {
    const { outcome } = await dispatch(this.rt, {
      principal: portalPrincipal(this.session),
      door: 'portal',
      operation,
      args,
      client: 'billfold-portal',
    });
    if (!outcome.ok) throw new CatalogueError(outcome.error);
    return outcome.output as T;
  }

  async customer(): Promise<CustomerOut> {
    return (await this.call<{ customer: CustomerOut }>('get_customer', { customer_id: this.customerId }))
      .customer;
  }

  async organization(): Promise<OrganizationOut> {
    return (await this.call<{ organization: OrganizationOut }>('get_organization', {})).organization;
  }

  /** Issued invoices (drafts are not the customer's yet), newest first. */
  invoices(page: number, perPage: number): Promise<{ invoices: InvoiceOut[]; pagination: Pagination }> {
    return this.call('list_invoices', {
      customer_id: this.customerId,
      status: 'finalized',
      page,
      per_page: perPage,
    });
  }

  /** What is still due on the customer's issued invoices, per currency (get_accounts_receivable). */
  async balances(): Promise<BalanceOut[]> {
    const r = await this.call<{ balances: BalanceOut[] }>('get_accounts_receivable', {
      customer_id: this.customerId,
    });
    return r.balances;
  }

  /** One issued (or voided) invoice of this customer, with its payments and credit notes. */
  async invoice(
    ref: string,
  ): Promise<{ invoice: InvoiceOut; payments: PaymentOut[]; credit_notes: CreditNoteOut[] }> {
    const out = await this.call<{
      invoice: InvoiceOut;
      payments: PaymentOut[];
      credit_notes: CreditNoteOut[];
    }>('get_invoice', { invoice_id: ref }).catch((e: unknown) => {
      throw e instanceof CatalogueError && e.error.code === 'VALIDATION_ERROR' ? notYours('invoice') : e;
    });
    if (out.invoice.customer_id !== this.customerId || out.invoice.status === 'draft')
      throw notYours('invoice');
    return out;
  }

  /** The texts of the invoice's QR codes (get_invoice_qr_codes), for one of this customer's invoices. */
  async codes(invoiceId: string): Promise<{ verification_code: string | null; epc_code: string | null }> {
    return this.call('get_invoice_qr_codes', { invoice_id: invoiceId });
  }

  async creditNotesOf(invoiceId: string): Promise<CreditNoteOut[]> {
    const r = await this.call<{ credit_notes: CreditNoteOut[] }>('list_credit_notes', {
      invoice_id: invoiceId,
      per_page: 100,
    });
    return r.credit_notes;
  }

  async creditNote(ref: string): Promise<CreditNoteOut> {
    const { credit_note } = await this.call<{ credit_note: CreditNoteOut }>('get_credit_note', {
      credit_note_id: ref,
    }).catch((e: unknown) => {
      throw e instanceof CatalogueError && e.error.code === 'VALIDATION_ERROR' ? notYours('credit note') : e;
    });
    if (credit_note.customer_id !== this.customerId) throw notYours('credit note');
    return credit_note;
  }

  /** The invoice's PDF, as the catalogue's `invoice_pdf` resource renders it. */
  async invoicePdf(ref: string): Promise<{ pdf: Buffer; invoice: InvoiceOut }> {
    const { invoice } = await this.invoice(ref);
    return { pdf: await this.readBlob('invoice_pdf', { invoice_id: invoice.id }), invoice };
  }

  async creditNotePdf(ref: string): Promise<{ pdf: Buffer; creditNote: CreditNoteOut }> {
    const creditNote = await this.creditNote(ref);
    return { pdf: await this.readBlob('credit_note_pdf', { credit_note_id: creditNote.id }), creditNote };
  }

  private async readBlob(resource: string, params: Record<string, string>): Promise<Buffer> {
    const def = this.rt.catalogue.resources.find((r) => r.name === resource);
    if (!def) throw new Error(`the catalogue has no resource ${resource}`);
    try {
      const out = await runRead(
        {
          env: this.rt,
          principal: portalPrincipal(this.session),
          door: 'portal',
          requestId: newId('api_log'),
        },
        def.scope,
        def.title,
        (ctx) => def.read(ctx, params),
      );
      if (!('blob' in out)) throw new Error(`resource ${resource} is not a document`);
      return out.blob;
    } catch (e) {
      if (e instanceof BillfoldError) throw new CatalogueError(e.toBody());
      throw e;
    }
  }

  async subscriptions(): Promise<SubscriptionOut[]> {
    const r = await this.call<{ subscriptions: SubscriptionOut[] }>('list_subscriptions', {
      customer_id: this.customerId,
      per_page: 100,
    });
    return r.subscriptions;
  }

  async plan(code: string): Promise<PlanOut> {
    return (await this.call<{ plan: PlanOut }>('get_plan', { plan_code: code })).plan;
  }

  /** What the subscription's next invoice will be (preview_invoice: nothing is written). */
  preview(subscriptionId: string): Promise<{ invoice: InvoiceOut; billing_at: string }> {
    return this.call('preview_invoice', { subscription_id: subscriptionId, customer_id: this.customerId });
  }

  usage(range: { from?: string; to?: string } = {}): Promise<CustomerUsageOut> {
    return this.call('get_customer_usage', { customer_id: this.customerId, ...range });
  }

  async updateProfile(patch: ProfilePatch): Promise<CustomerOut> {
    const args: Record<string, unknown> = { customer_id: this.customerId };
    for (const f of PROFILE_FIELDS) if (patch[f] !== undefined) args[f] = patch[f];
    return (await this.call<{ customer: CustomerOut }>('update_customer', args)).customer;
  }
}
