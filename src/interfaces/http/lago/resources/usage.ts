import { Decimal } from '../../../../domain/decimal.js';
import { taxBreakdown } from '../../../../domain/invoice-math.js';
import { lagoId } from '../ids.js';
import type { LagoCall } from '../call.js';
import { invalidFields, LagoError } from '../errors.js';
import type { LagoRoute } from '../router.js';
import { lagoTime } from '../shapes.js';

function lastSecond(iso: string): string {
  return lagoTime(new Date(Date.parse(iso) - 1000).toISOString());
}

/**
 * Lago's current usage of a subscription: the usage charges of the invoice its current period
 * will get, read from preview_invoice (the billing engine's own lines, amounts rounded where the
 * invoice rounds them) and taxed by the invoice's own tax rule over those lines only.
 */
async function currentUsage(call: LagoCall, customerRef: string) {
  const q = call.query;
  const subRef = q.str('external_subscription_id');
  const applyTaxes = q.bool('apply_taxes') ?? true;
  q.done();
  if (!subRef)
    throw invalidFields({ external_subscription_id: 'is required: the subscription whose usage to show' });
  const { subscription } = await call.op('get_subscription', { subscription_id: subRef }, 'subscription');
  if (subscription.customer_external_id !== customerRef && subscription.customer_id !== customerRef)
    throw new LagoError(
      404,
      'subscription_not_found',
      `customer '${customerRef}' has no subscription '${subRef}'`,
    );
  if (!subscription.current_period)
    throw new LagoError(
      405,
      'no_active_subscription',
      `subscription '${subRef}' is ${subscription.status}: only an active subscription has current usage`,
    );
  const { invoice, billing_at } = await call.op(
    'preview_invoice',
    { subscription_id: subscription.id, at: new Date(call.rt.now()).toISOString() },
    'subscription',
  );
  const from = subscription.current_period.from as string;
  const lines = (invoice.lines as Array<Record<string, any>>).filter(
    (l) =>
      l.charge_id &&
      (l.details?.kind === 'charge' || l.details?.kind === 'charge_minimum') &&
      l.from === from,
  );
  const metrics = new Map<string, Record<string, any>>();
  const byCharge = new Map<string, Array<Record<string, any>>>();
  for (const l of lines) {
    const list = byCharge.get(l.charge_id) ?? [];
    list.push(l);
    byCharge.set(l.charge_id, list);
  }
  const charges = [];
  for (const [chargeId, chargeLines] of byCharge) {
    const code = chargeLines[0]!.details.billable_metric_code as string;
    let metric = metrics.get(code);
    if (!metric) {
      metric = (await call.op('get_billable_metric', { code }, 'billable_metric')).billable_metric as Record<
        string,
        any
      >;
      metrics.set(code, metric);
    }
    const usageLines = chargeLines.filter((l) => l.details.kind === 'charge');
    let units = Decimal.ZERO;
    let events = 0;
    for (const l of usageLines) {
      units = units.add(Decimal.parse(l.details.units as string));
      events += l.details.event_count as number;
    }
    charges.push({
      units: units.toString(),
      total_aggregated_units: units.toString(),
      events_count: events,
      amount_cents: chargeLines.reduce((s, l) => s + (l.amount_cents as number), 0),
      amount_currency: invoice.currency,
      charge: {
        lago_id: lagoId(chargeId),
        charge_model: usageLines[0]?.details.charge_model ?? null,
        invoice_display_name: null,
      },
      billable_metric: {
        lago_id: lagoId(metric.id),
        name: metric.name,
        code: metric.code,
        aggregation_type: metric.aggregation_type,
      },
      filters: usageLines
        .filter((l) => l.details.filter)
        .map((l) => ({
          units: l.details.units,
          amount_cents: l.amount_cents,
          events_count: l.details.event_count,
          invoice_display_name: l.description,
          values: l.details.filter,
        })),
      grouped_usage: [],
    });
  }
  const amounts = lines.map((l) => BigInt(l.amount_cents as number));
  const taxes = applyTaxes
    ? taxBreakdown(
        amounts,
        lines.map((l) =>
          (l.taxes as Array<{ code: string; name: string; rate: string }>).map((t) => ({
            ...t,
            rate: Decimal.parse(t.rate),
          })),
        ),
      ).taxes
    : 0n;
  const amount = amounts.reduce((a, b) => a + b, 0n);
  return {
    customer_usage: {
      from_datetime: lagoTime(from),
      to_datetime: lastSecond(subscription.current_period.to as string),
      issuing_date: (billing_at as string).slice(0, 10),
      lago_invoice_id: null,
      currency: invoice.currency,
      amount_cents: Number(amount),
      taxes_amount_cents: Number(taxes),
      total_amount_cents: Number(amount + taxes),
      charges_usage: charges,
    },
  };
}

export const usageRoutes: LagoRoute[] = [
  {
    method: 'GET',
    path: '/customers/{external_customer_id}/current_usage',
    handle: (call, [customer]) => currentUsage(call, customer!),
  },
];
