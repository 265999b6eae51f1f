import type { HttpRoute } from '../http/routes.js';
import { CatalogueError, type InvoiceOut, type PlanOut, type SubscriptionOut } from './customer-catalogue.js';
import { dayOf, money, period } from './format.js';
import { html, type Html } from './html.js';
import { sendPage, withSession, type PortalPage } from './session.js';

/**
 * The customer's subscriptions: plan, status, the period running now, trial and end dates, and
 * the next invoice as preview_invoice computes it (usage so far; nothing is written).
 */

const STATUS_LABEL: Record<SubscriptionOut['status'], string> = {
  active: 'Active',
  pending: 'Starts later',
  terminated: 'Ended',
  canceled: 'Cancelled',
};

const PER: Record<PlanOut['interval'], string> = {
  weekly: 'week',
  monthly: 'month',
  quarterly: 'quarter',
  yearly: 'year',
};

async function nextInvoice(p: PortalPage, sub: SubscriptionOut): Promise<Html> {
  let preview: { invoice: InvoiceOut; billing_at: string };
  try {
    preview = await p.catalogue.preview(sub.id);
  } catch (e) {
    // No invoice is to come (it ends before another period), or the plan cannot be previewed.
    if (e instanceof CatalogueError && e.error.code !== 'INTERNAL_ERROR')
      return html`<p class="muted">No further invoice is planned.</p>`;
    throw e;
  }
  const inv = preview.invoice;
  const m = (cents: number) => money(cents, inv.currency);
  return html`<h3>Next invoice</h3>
    <p>
      <span class="figure">${m(inv.total_amount_cents)}</span> on ${dayOf(preview.billing_at, sub.timezone)}
    </p>
    <table>
      <caption class="muted">
        So far, with the usage recorded until now
      </caption>
      <thead>
        <tr>
          <th scope="col">Line</th>
          <th scope="col" class="num">Amount</th>
        </tr>
      </thead>
      <tbody>
        ${inv.lines.map(
          (l) =>
            html`<tr>
              <td>${l.description}</td>
              <td class="num">${m(l.amount_cents)}</td>
            </tr>`,
        )}
        ${
          inv.taxes_amount_cents
            ? html`<tr>
                <td>Taxes</td>
                <td class="num">${m(inv.taxes_amount_cents)}</td>
              </tr>`
            : ''
        }
        ${
          inv.coupons_amount_cents
            ? html`<tr>
                <td>Discounts</td>
                <td class="num">−${m(inv.coupons_amount_cents)}</td>
              </tr>`
            : ''
        }
      </tbody>
    </table>`;
}

function planLabel(plan: PlanOut | undefined, sub: SubscriptionOut): string {
  return plan?.invoice_display_name ?? plan?.name ?? sub.plan_code;
}

async function card(p: PortalPage, sub: SubscriptionOut, plan: PlanOut | undefined): Promise<Html> {
  const tz = sub.timezone;
  const live = sub.status === 'active' || sub.status === 'pending';
  const fee = plan ? `${money(plan.amount_cents, plan.currency)} per ${PER[plan.interval]}` : '';
  return html`<article class="card" aria-labelledby="sub-${sub.id}">
    <h2 id="sub-${sub.id}">${planLabel(plan, sub)}</h2>
    ${sub.name ? html`<p class="muted">${sub.name}</p>` : ''}
    <dl class="facts">
      <dt>Status</dt>
      <dd>${STATUS_LABEL[sub.status]}</dd>
      ${
        plan && plan.amount_cents > 0
          ? html`<dt>Base fee</dt>
              <dd>${fee}</dd>`
          : ''
      }
      <dt>Started</dt>
      <dd>${dayOf(sub.started_at, tz)}</dd>
      ${
        sub.current_period
          ? html`<dt>Current period</dt>
              <dd>${period(sub.current_period.from, sub.current_period.to, tz)}</dd>`
          : ''
      }
      ${
        sub.trial_ends_at
          ? html`<dt>Trial ${Date.parse(sub.trial_ends_at) > p.rt.now() ? 'ends' : 'ended'}</dt>
              <dd>${dayOf(sub.trial_ends_at, tz)}</dd>`
          : ''
      }
      ${
        sub.ending_at && !sub.terminated_at
          ? html`<dt>Ends</dt>
              <dd>${dayOf(sub.ending_at, tz)}</dd>`
          : ''
      }
      ${
        sub.terminated_at
          ? html`<dt>Ended</dt>
              <dd>${dayOf(sub.terminated_at, tz)}</dd>`
          : ''
      }
      ${
        sub.next_plan_code && sub.next_plan_at
          ? html`<dt>Changes plan</dt>
              <dd>on ${dayOf(sub.next_plan_at, tz)}</dd>`
          : ''
      }
    </dl>
    ${live ? await nextInvoice(p, sub) : ''}
  </article>`;
}

async function subscriptionsPage(p: PortalPage): Promise<number> {
  const subs = await p.catalogue.subscriptions();
  // A plan change continues a subscription under a new row; the customer sees the one it became.
  const continued = new Set(subs.map((s) => s.previous_subscription_id).filter(Boolean));
  const shown = subs.filter((s) => !continued.has(s.id));
  const codes = [...new Set(shown.map((s) => s.plan_code))];
  const plans = new Map<string, PlanOut>();
  await Promise.all(
    codes.map(async (code) => {
      try {
        plans.set(code, await p.catalogue.plan(code));
      } catch (e) {
        if (!(e instanceof CatalogueError && e.error.code === 'NOT_FOUND')) throw e;
      }
    }),
  );
  const live = shown.filter((s) => s.status === 'active' || s.status === 'pending');
  const ended = shown.filter((s) => !live.includes(s));
  const cards = async (list: SubscriptionOut[]) =>
    Promise.all(list.map((s) => card(p, s, plans.get(s.plan_code))));
  const body = html`<h1>Subscriptions</h1>
    ${live.length ? html`<div class="cards">${await cards(live)}</div>` : html`<p>You have no running subscription.</p>`}
    ${
      ended.length
        ? html`<h2>Ended subscriptions</h2>
            <div class="cards">${await cards(ended)}</div>`
        : ''
    }`;
  return sendPage(p, 200, 'Subscriptions', body);
}

export const portalSubscriptionsRoute: HttpRoute = {
  method: 'GET',
  pattern: /^\/portal\/subscriptions$/,
  auth: false,
  name: 'portal_subscriptions',
  handle: (rt, req, res) => withSession(rt, req, res, 'subscriptions', subscriptionsPage),
};
