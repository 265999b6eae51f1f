import { BillfoldError, validation } from '../../domain/errors.js';
import { periodContaining } from '../../domain/periods.js';
import { toIso } from '../../domain/time.js';
import type { ServiceContext } from '../context.js';
import { resolveCustomer } from '../customers.js';
import { getInvoice } from '../invoices.js';
import type { InvoiceView } from '../invoice-views.js';
import type { BillingSubject } from './build.js';
import { AlreadyBilled, billingSubject, invoiceItems, type BillingOutcome } from './engine.js';
import { loadSubscription } from './load.js';
import {
  itemsAt,
  nextBillingMoment,
  periodAt,
  periodInstants,
  periodItems,
  type BillingItem,
} from './schedule.js';
import type { PeriodInstants } from './lines.js';

/** generate_invoice and preview_invoice. */

export interface InvoiceRequest {
  /** Optional: the subscription names its customer; when given, they must agree. */
  customer_id?: string;
  subscription_id: string;
  period?: { from: string; to: string };
  at?: number;
}

async function subjectFor(ctx: ServiceContext, req: InvoiceRequest): Promise<BillingSubject> {
  const customer = req.customer_id === undefined ? null : await resolveCustomer(ctx, req.customer_id);
  const sub = await loadSubscription(ctx, req.subscription_id);
  if (customer && sub.customerId !== customer.id) {
    throw validation(
      'subscription_id',
      `subscription '${sub.externalId}' belongs to another customer than '${customer.external_id ?? customer.id}'`,
      "list_subscriptions with customer_id shows this customer's subscriptions.",
    );
  }
  // A pending subscription has periods ahead of it (its draft is refreshed once they come);
  // a canceled one never started.
  if (sub.status === 'canceled') {
    throw new BillfoldError(
      'INVALID_STATUS',
      `subscription '${sub.externalId}' is canceled: it never started, so it has no period to invoice`,
      { subscription_id: sub.id, status: sub.status },
      'list_subscriptions with customer_id shows the live subscription under this external_id.',
    );
  }
  if (req.period && req.at !== undefined) throw validation('period', 'give either period or at, not both');
  return billingSubject(ctx, sub);
}

/** The billing period asked for: exactly one of the subscription's periods. */
function chosenPeriod(ctx: ServiceContext, s: BillingSubject, req: InvoiceRequest): PeriodInstants {
  const { sub, plan } = s;
  let p: PeriodInstants;
  if (req.period) {
    const actual = periodContaining(req.period.from, plan.interval, sub.billingTime, sub.anchorDate);
    if (actual.from !== req.period.from || actual.to !== req.period.to) {
      throw validation(
        'period',
        `${req.period.from}–${req.period.to} is not a billing period of subscription '${sub.externalId}' (${plan.interval}, ${sub.billingTime}); the period holding ${req.period.from} is ${actual.from}–${actual.to}`,
        `Give period {from: "${actual.from}", to: "${actual.to}"}, or at with any instant inside the period you want.`,
      );
    }
    p = periodInstants(actual, sub.timezone);
  } else {
    let at = req.at ?? ctx.now();
    // An ended subscription's current period is its last one.
    if (req.at === undefined && s.end !== null && at >= s.end) at = s.end - 1;
    p = periodAt(sub, plan, at);
  }
  if (p.to <= sub.startedAt || (s.end !== null && p.from >= s.end)) {
    throw validation(
      req.period ? 'period' : 'at',
      `subscription '${sub.externalId}' is not active in ${p.period.from}–${p.period.to} (it runs from ${toIso(sub.startedAt)}${s.end !== null ? ` to ${toIso(s.end)}` : ''})`,
      'Choose a period while the subscription runs.',
    );
  }
  return p;
}

function conflict(s: BillingSubject, p: PeriodInstants, outcome: BillingOutcome | null): BillfoldError {
  return new BillfoldError(
    'CONFLICT',
    outcome?.invoiceId
      ? `period ${p.period.from}–${p.period.to} of subscription '${s.sub.externalId}' is already invoiced on finalized invoice ${outcome.invoiceId}`
      : `period ${p.period.from}–${p.period.to} of subscription '${s.sub.externalId}' was being invoiced by another request at the same moment`,
    { subscription_id: s.sub.id, period_from: p.period.from, invoice_id: outcome?.invoiceId ?? null },
    outcome?.invoiceId
      ? 'get_invoice shows it; a finalized invoice is corrected with create_credit_note.'
      : 'Retry: the retry returns that invoice.',
  );
}

function nothingToInvoice(s: BillingSubject, p: PeriodInstants): BillfoldError {
  return new BillfoldError(
    'INVALID_STATUS',
    `period ${p.period.from}–${p.period.to} of subscription '${s.sub.externalId}' has nothing to invoice: no fee is due for it (trial, or paid in advance already) and its plan has no charges`,
    { subscription_id: s.sub.id, period_from: p.period.from },
    'get_plan shows the plan; preview_invoice shows the next invoice.',
  );
}

/** Builds (or refreshes) the draft invoice of one billing period of a subscription. */
export async function generateInvoice(ctx: ServiceContext, req: InvoiceRequest): Promise<InvoiceView> {
  const s = await subjectFor(ctx, req);
  const p = chosenPeriod(ctx, s, req);
  const items = periodItems(s.sub, s.plan, p, s.end);
  let outcome: BillingOutcome;
  try {
    outcome = await invoiceItems(ctx, s, items, { finalize: false });
  } catch (e) {
    if (e instanceof AlreadyBilled) throw conflict(s, p, null);
    throw e;
  }
  if (outcome.action === 'skipped') throw conflict(s, p, outcome);
  if (!outcome.invoiceId) throw nothingToInvoice(s, p);
  return getInvoice(ctx, outcome.invoiceId);
}

class Rollback extends Error {
  constructor(readonly result: { invoice: InvoiceView; billing_at: string }) {
    super('preview rolled back');
  }
}

/** How many billing moments a preview looks ahead for one that invoices something. */
const PREVIEW_LOOKAHEAD = 24;

/**
 * What generate_invoice (with a period) or the next billing run (without) would produce, built
 * in a transaction that is rolled back: nothing is written.
 */
export async function previewInvoice(
  ctx: ServiceContext,
  req: InvoiceRequest,
): Promise<{ invoice: InvoiceView; billing_at: string }> {
  try {
    await ctx.transaction(async (trx) => {
      const s = await subjectFor(trx, req);
      const attempt = async (items: BillingItem[], at: number) => {
        const o = await invoiceItems(trx, s, items, { finalize: false });
        if (o.invoiceId && o.action !== 'skipped')
          throw new Rollback({ invoice: await getInvoice(trx, o.invoiceId), billing_at: toIso(at) });
        return o;
      };
      if (req.period || req.at !== undefined) {
        const p = chosenPeriod(trx, s, req);
        const o = await attempt(periodItems(s.sub, s.plan, p, s.end), Math.min(p.to, s.end ?? p.to));
        if (o.action === 'skipped') throw conflict(s, p, o);
        throw nothingToInvoice(s, p);
      }
      let at = s.sub.row.next_billing_at ?? nextBillingMoment(s.sub, s.plan, trx.now(), s.end);
      for (let i = 0; at !== null && i < PREVIEW_LOOKAHEAD; i++) {
        const items = itemsAt(s.sub, s.plan, at, s.end);
        if (items.length) await attempt(items, at);
        at = nextBillingMoment(s.sub, s.plan, at + 1, s.end);
      }
      throw new BillfoldError(
        'INVALID_STATUS',
        `subscription '${s.sub.externalId}' has no invoice to come${s.end !== null ? ` (it ends ${toIso(s.end)})` : ''}`,
        { subscription_id: s.sub.id },
        'Give a period to preview the invoice of a past period.',
      );
    });
  } catch (e) {
    if (e instanceof Rollback) return e.result;
    throw e;
  }
  throw new Error('preview ended without a result');
}
