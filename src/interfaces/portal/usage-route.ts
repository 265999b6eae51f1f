import { Decimal } from '../../domain/decimal.js';
import { roundToCurrency, toMinor } from '../../domain/money.js';
import {
  addDaysToDate,
  addMonthsToDate,
  dateInZone,
  daysBetween,
  startOfDayInZone,
} from '../../domain/time.js';
import type { HttpRoute } from '../http/routes.js';
import type { CustomerUsageOut, MetricUsageOut } from './customer-catalogue.js';
import { money, period } from './format.js';
import { html, type Html } from './html.js';
import { sendPage, withSession, type PortalPage } from './session.js';
import { barChart, units, type Bucket } from './usage-chart.js';

/**
 * This period's usage: per billable metric the units so far and what its charges amount to so
 * far, with a chart of the units by day (by week or month over longer periods). The period is
 * the running billing period of the subscription whose charges price the usage, else the
 * calendar month.
 * Only get_customer_usage is read, which carries no cost of the seller's: what usage costs the
 * seller (AI model prices) is never shown here.
 */

interface Slice {
  label: string;
  from: number;
  to: number;
}

const SHORT_DAY = (tz: string) =>
  new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: tz });
const MONTH = (tz: string) =>
  new Intl.DateTimeFormat('en-GB', { month: 'short', year: 'numeric', timeZone: tz });

/** The period cut into at most about 35 slices: days, else weeks, else months, in `tz`. */
export function slices(
  from: number,
  to: number,
  tz: string,
): { by: 'day' | 'week' | 'month'; slices: Slice[] } {
  const first = dateInZone(from, tz);
  const span = daysBetween(first, dateInZone(to - 1, tz)) + 1;
  const by = span <= 35 ? 'day' : span <= 120 ? 'week' : 'month';
  const step = by === 'day' ? { days: 1 } : by === 'week' ? { days: 7 } : { months: 1 };
  const fmt = 'months' in step ? MONTH(tz) : SHORT_DAY(tz);
  const out: Slice[] = [];
  for (let date = first, start = from; start < to && out.length < 400;) {
    date = 'months' in step ? addMonthsToDate(date, 1, 1) : addDaysToDate(date, step.days);
    const end = Math.min(startOfDayInZone(date, tz), to);
    if (end > start) out.push({ label: fmt.format(start), from: start, to: end });
    start = end;
  }
  return { by, slices: out };
}

/** A charge's amount so far as its invoice line will show it: rounded half-up to the currency. */
function amountsSoFar(metric: MetricUsageOut): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const c of metric.charges) {
    const cents = toMinor(roundToCurrency(Decimal.parse(c.amount), c.currency), c.currency);
    out.set(c.currency, (out.get(c.currency) ?? 0n) + cents);
  }
  return out;
}

function metricSection(
  metric: MetricUsageOut,
  by: string,
  buckets: Bucket[],
  range: CustomerUsageOut,
  index: number,
): Html {
  const amounts = [...amountsSoFar(metric)];
  const id = `m${index}`;
  return html`<section class="card" aria-labelledby="${id}-h">
    <h2 id="${id}-h">${metric.name}</h2>
    <dl class="facts">
      <dt>Used so far</dt>
      <dd><span class="figure">${units(Decimal.parse(metric.units))}</span></dd>
      ${amounts.map(
        ([currency, cents]) =>
          html`<dt>Amount so far</dt>
            <dd>${money(Number(cents), currency)} <span class="muted">before taxes</span></dd>`,
      )}
    </dl>
    ${barChart(id, `${metric.name} by ${by}`, `Units of ${metric.name} from ${period(range.from, range.to, range.timezone)}`, buckets)}
  </section>`;
}

async function usagePage(p: PortalPage): Promise<number> {
  // The period: the billing period of the subscription that prices the usage (its charges say
  // which), else the calendar month; several such subscriptions span their periods together.
  const month = await p.catalogue.usage();
  const charges = month.metrics.flatMap((m) => m.charges);
  const from = charges.length ? Math.min(...charges.map((c) => Date.parse(c.from))) : Date.parse(month.from);
  const to = charges.length ? Math.max(...charges.map((c) => Date.parse(c.to))) : Date.parse(month.to);
  const usage =
    from === Date.parse(month.from) && to === Date.parse(month.to)
      ? month
      : await p.catalogue.usage({ from: new Date(from).toISOString(), to: new Date(to).toISOString() });
  const metrics = usage.metrics.filter((m) => m.charges.length > 0 || !Decimal.parse(m.units).isZero());
  const now = p.rt.now();
  const { by, slices: parts } = slices(from, to, usage.timezone);
  // One read per slice that has begun, each with every metric in it.
  const perSlice = await Promise.all(
    parts.map((s) =>
      s.from > now || metrics.length === 0
        ? null
        : p.catalogue.usage({ from: new Date(s.from).toISOString(), to: new Date(s.to).toISOString() }),
    ),
  );
  const sections = metrics.map((m, i) =>
    metricSection(
      m,
      by,
      parts.map((s, j) => {
        const found = perSlice[j]?.metrics.find((x) => x.code === m.code);
        return { label: s.label, units: found ? Decimal.parse(found.units) : null };
      }),
      usage,
      i,
    ),
  );
  const body = html`<h1>Usage</h1>
    <p>
      This period: <strong>${period(usage.from, usage.to, usage.timezone)}</strong>. Figures are the usage
      recorded so far; the invoice at the end of the period counts it all.
    </p>
    ${sections.length ? html`<div class="stack-list">${sections}</div>` : html`<p>No usage has been recorded this period.</p>`}`;
  return sendPage(p, 200, 'Usage', body);
}

export const portalUsageRoute: HttpRoute = {
  method: 'GET',
  pattern: /^\/portal\/usage$/,
  auth: false,
  name: 'portal_usage',
  handle: (rt, req, res) => withSession(rt, req, res, 'usage', usagePage),
};
