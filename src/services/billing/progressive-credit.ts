import { minorUnits } from '../../domain/currencies.js';
import { Decimal } from '../../domain/decimal.js';
import type { ServiceContext } from '../context.js';
import type { BillingLine } from './lines.js';

/**
 * What the invoices of a period that follow a progressive_billing invoice take off: its charge
 * lines' amounts (services/billing/progressive.ts says why and when).
 */

/** Identifies a charge line across the invoices of a period: its charge and its filter. */
function lineKey(chargeId: string | null, details: Record<string, unknown> | null): string {
  return `${chargeId ?? ''}\u0000${JSON.stringify(details?.filter ?? null)}`;
}

/** What progressive invoices of the period billed, per charge line, in minor units. */
export async function progressiveBilled(
  ctx: ServiceContext,
  subscriptionId: string,
  periodFrom: number,
): Promise<Map<string, bigint>> {
  const rows = await ctx.db
    .selectFrom('invoice_lines')
    .innerJoin('invoices', 'invoices.id', 'invoice_lines.invoice_id')
    .select(['invoice_lines.charge_id', 'invoice_lines.details', 'invoice_lines.amount_cents'])
    .where('invoices.organization_id', '=', ctx.organizationId)
    .where('invoices.status', '=', 'finalized')
    .where('invoices.id', 'in', (eb) =>
      eb
        .selectFrom('progressive_billings')
        .select('invoice_id')
        .where('organization_id', '=', ctx.organizationId)
        .where('subscription_id', '=', subscriptionId)
        .where('period_from', '=', periodFrom),
    )
    .execute();
  const out = new Map<string, bigint>();
  for (const r of rows) {
    const details = r.details === null ? null : (JSON.parse(r.details) as Record<string, unknown>);
    const k = lineKey(r.charge_id, details);
    out.set(k, (out.get(k) ?? 0n) + BigInt(r.amount_cents));
  }
  return out;
}

/**
 * Takes what `billed` holds off the period's charge lines (the lines keep the period's amount in
 * details). A billed line the period no longer prices (a charge removed from the plan) becomes
 * a line of its own taking its amount back, so nothing is billed twice.
 */
export function deductBilled(
  lines: readonly BillingLine[],
  billed: ReadonlyMap<string, bigint>,
  currency: string,
  window: { from: number; to: number },
  planCode: string,
): BillingLine[] {
  if (!billed.size) return [...lines];
  const units = minorUnits(currency);
  const left = new Map(billed);
  const out = lines.map((l) => {
    if (l.details.kind !== 'charge') return l;
    const k = lineKey(l.charge_id ?? null, l.details);
    const cents = left.get(k);
    if (cents === undefined) return l;
    left.delete(k);
    const done = Decimal.fromMinor(cents, units);
    const amount = l.unit_amount.sub(done);
    return {
      ...l,
      description: `${l.description} (less ${done.toFixed(units)} billed progressively)`,
      unit_amount: amount,
      amountMinor: l.amountMinor - cents,
      details: {
        ...l.details,
        period_amount: l.unit_amount.toString(),
        progressive_billed: done.toFixed(units),
      },
    };
  });
  for (const [k, cents] of left) {
    if (cents === 0n) continue;
    const chargeId = k.slice(0, k.indexOf('\u0000')) || null;
    const done = Decimal.fromMinor(cents, units);
    out.push({
      description: `Billed progressively on a charge no longer priced`,
      quantity: Decimal.ONE,
      unit_amount: done.neg(),
      from: window.from,
      to: window.to,
      charge_id: chargeId,
      details: { kind: 'charge', progressive_billed: done.toFixed(units), period_amount: '0' },
      amountMinor: -cents,
      plan_code: planCode,
      billable_metric_code: null,
    });
  }
  return out;
}
