import { Decimal } from '../../domain/decimal.js';
import { validation } from '../../domain/errors.js';
import { formatMinor, fromMinor } from '../../domain/money.js';
import { robustScore } from '../../domain/robust-score.js';
import { toIso } from '../../domain/time.js';
import type { ServiceContext } from '../context.js';
import { displayName, resolveCustomer } from '../customers.js';

/**
 * Patterns in invoices, payments and credit notes worth a human look — not proof of fraud,
 * each finding says why it was raised and names the records:
 * - duplicate_invoice: the same customer, currency, total and lines, issued within N days;
 * - overpayment: payments on an invoice above its total less credit notes;
 * - reference_pattern_change: a payment whose reference has another shape than all of the
 *   customer's earlier ones (TRX-000123 → 8812-AB);
 * - unusual_amount: an invoice far from the customer's usual amounts (robust z-score);
 * - credit_after_payment: a credit note issued within N days after a payment on its invoice;
 * - round_amount_new_customer: a round total (a multiple of 100, at least 1,000) from a
 *   customer created in the 30 days before.
 */

export const ANOMALY_KINDS = [
  'duplicate_invoice',
  'overpayment',
  'reference_pattern_change',
  'unusual_amount',
  'credit_after_payment',
  'round_amount_new_customer',
] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

export interface AnomalyRecord {
  type: 'invoice' | 'payment' | 'credit_note';
  id: string;
  number: string | null;
  amount_cents: number;
  amount: string;
  currency: string;
  date: string;
}

export interface Finding {
  kind: AnomalyKind;
  reason: string;
  customer: { id: string; external_id: string | null; name: string };
  score: string | null;
  records: AnomalyRecord[];
}

export interface DetectInput {
  days?: number;
  threshold?: number;
  duplicate_days?: number;
  customer_id?: string;
}

const DAY = 86_400_000;
/** Earlier invoices a customer needs before an amount can be called unusual for them. */
const MIN_HISTORY = 5;
/** Earlier payments with references a customer needs before a new shape stands out. */
const MIN_REFERENCES = 3;
const NEW_CUSTOMER_DAYS = 30;

/** A reference's shape: letters → A, digits → 9, runs collapsed ("TRX-000123" → "A-9"). */
export function referenceShape(reference: string): string {
  return reference
    .trim()
    .toUpperCase()
    .replace(/\p{L}+/gu, 'A')
    .replace(/\p{N}+/gu, '9')
    .replace(/\s+/g, ' ');
}

export async function detectAnomalies(ctx: ServiceContext, input: DetectInput) {
  const days = input.days ?? 90;
  const threshold = Decimal.parse(String(input.threshold ?? 3.5));
  const duplicateDays = input.duplicate_days ?? 7;
  if (!threshold.gt(0)) throw validation('threshold', 'must be greater than 0', 'The usual cut-off is 3.5.');
  const to = ctx.now();
  const from = to - days * DAY;
  const customerId = input.customer_id ? (await resolveCustomer(ctx, input.customer_id)).id : undefined;

  let invQ = ctx.db
    .selectFrom('invoices')
    .select([
      'id',
      'number',
      'customer_id',
      'currency',
      'total_amount_cents',
      'credited_amount_cents',
      'refunded_amount_cents',
      'issued_at',
    ])
    .where('organization_id', '=', ctx.organizationId)
    .where('status', '=', 'finalized')
    .where('issued_at', '<', to);
  if (customerId) invQ = invQ.where('customer_id', '=', customerId);
  const invoices = (await invQ.orderBy('issued_at').orderBy('id').execute()).map((r) => ({
    ...r,
    total: Number(r.total_amount_cents),
    at: Number(r.issued_at),
  }));
  const recent = invoices.filter((i) => i.at >= from);
  const byId = new Map(invoices.map((i) => [i.id, i]));

  let payQ = ctx.db
    .selectFrom('payments')
    .select(['id', 'invoice_id', 'customer_id', 'amount_cents', 'currency', 'reference', 'paid_at'])
    .where('organization_id', '=', ctx.organizationId)
    .where('paid_at', '<', to);
  if (customerId) payQ = payQ.where('customer_id', '=', customerId);
  const payments = (await payQ.orderBy('paid_at').orderBy('id').execute()).map((p) => ({
    ...p,
    at: Number(p.paid_at),
    cents: Number(p.amount_cents),
  }));
  let noteQ = ctx.db
    .selectFrom('credit_notes')
    .select(['id', 'number', 'invoice_id', 'customer_id', 'total_amount_cents', 'currency', 'issued_at'])
    .where('organization_id', '=', ctx.organizationId)
    .where('status', '=', 'finalized')
    .where('issued_at', '>=', from)
    .where('issued_at', '<', to);
  if (customerId) noteQ = noteQ.where('customer_id', '=', customerId);
  const notes = await noteQ.execute();

  const invoiceRecord = (i: (typeof invoices)[number]): AnomalyRecord => ({
    type: 'invoice',
    id: i.id,
    number: i.number,
    amount_cents: i.total,
    amount: formatMinor(i.total, i.currency),
    currency: i.currency,
    date: toIso(i.at),
  });
  const paymentRecord = (p: (typeof payments)[number]): AnomalyRecord => ({
    type: 'payment',
    id: p.id,
    number: p.reference,
    amount_cents: p.cents,
    amount: formatMinor(p.cents, p.currency),
    currency: p.currency,
    date: toIso(p.at),
  });
  const raw: Array<Omit<Finding, 'customer'> & { customerId: string }> = [];

  // Duplicates: same customer, currency, total and lines, close in time.
  const sameTotal = new Map<string, typeof recent>();
  for (const i of recent) {
    const key = `${i.customer_id}|${i.currency}|${i.total}`;
    sameTotal.set(key, [...(sameTotal.get(key) ?? []), i]);
  }
  const candidates = [...sameTotal.values()].filter((g) => g.length > 1).flat();
  if (candidates.length) {
    const signature = new Map<string, string[]>();
    for (let k = 0; k < candidates.length; k += 500) {
      const lines = await ctx.db
        .selectFrom('invoice_lines')
        .select(['invoice_id', 'position', 'description', 'quantity', 'unit_amount'])
        .where('organization_id', '=', ctx.organizationId)
        .where(
          'invoice_id',
          'in',
          candidates.slice(k, k + 500).map((c) => c.id),
        )
        .orderBy('invoice_id')
        .orderBy('position')
        .execute();
      for (const l of lines)
        signature.set(l.invoice_id, [
          ...(signature.get(l.invoice_id) ?? []),
          `${l.description.trim().toLowerCase()}|${Decimal.parse(l.quantity).toString()}|${Decimal.parse(l.unit_amount).toString()}`,
        ]);
    }
    const groups = new Map<string, typeof recent>();
    for (const i of candidates) {
      const key = `${i.customer_id}|${i.currency}|${i.total}|${(signature.get(i.id) ?? []).join('\n')}`;
      groups.set(key, [...(groups.get(key) ?? []), i]);
    }
    for (const g of groups.values()) {
      g.sort((a, b) => a.at - b.at);
      let cluster = [g[0]!];
      const flush = () => {
        if (cluster.length > 1) {
          const first = cluster[0]!;
          raw.push({
            kind: 'duplicate_invoice',
            customerId: first.customer_id,
            score: null,
            reason:
              `${cluster.length} invoices of ${formatMinor(first.total, first.currency)} ${first.currency} with the same ` +
              `lines for the same customer within ${duplicateDays} days (${cluster.map((c) => c.number).join(', ')})`,
            records: cluster.map(invoiceRecord),
          });
        }
      };
      for (const i of g.slice(1)) {
        if (i.at - cluster[cluster.length - 1]!.at <= duplicateDays * DAY) cluster.push(i);
        else {
          flush();
          cluster = [i];
        }
      }
      flush();
    }
  }

  // Overpayments: what was paid (less refunds) above what was owed (total less credit).
  const paidOn = new Map<string, typeof payments>();
  for (const p of payments) paidOn.set(p.invoice_id, [...(paidOn.get(p.invoice_id) ?? []), p]);
  for (const [invoiceId, ps] of paidOn) {
    const inv = byId.get(invoiceId);
    if (!inv || !ps.some((p) => p.at >= from)) continue;
    const paid = ps.reduce((s, p) => s + p.cents, 0) - Number(inv.refunded_amount_cents);
    const owed = inv.total - Number(inv.credited_amount_cents);
    if (paid > owed)
      raw.push({
        kind: 'overpayment',
        customerId: inv.customer_id,
        score: null,
        reason:
          `${formatMinor(paid, inv.currency)} ${inv.currency} paid on ${inv.number}, which asks for ` +
          `${formatMinor(owed, inv.currency)}: ${formatMinor(paid - owed, inv.currency)} too much`,
        records: [invoiceRecord(inv), ...ps.map(paymentRecord)],
      });
  }

  // A reference of a new shape after a run of references of one shape.
  const byCustomer = new Map<string, typeof payments>();
  for (const p of payments) byCustomer.set(p.customer_id, [...(byCustomer.get(p.customer_id) ?? []), p]);
  for (const [cid, ps] of byCustomer) {
    const shapes: string[] = [];
    for (const p of ps) {
      const shape = p.reference ? referenceShape(p.reference) : null;
      const earlier = new Set(shapes);
      if (p.at >= from && shapes.length >= MIN_REFERENCES && earlier.size === 1 && shape !== shapes[0]) {
        const prior = ps.filter((x) => x.at < p.at && x.reference).slice(-3);
        raw.push({
          kind: 'reference_pattern_change',
          customerId: cid,
          score: null,
          reason: p.reference
            ? `payment reference '${p.reference}' (shape ${shape}) differs from the customer's ${shapes.length} earlier ones, all shaped ${shapes[0]} (e.g. '${prior[prior.length - 1]!.reference}')`
            : `a payment without a reference after ${shapes.length} payments that all had one, shaped ${shapes[0]}`,
          records: [paymentRecord(p), ...prior.map(paymentRecord)],
        });
      }
      if (shape) shapes.push(shape);
    }
  }

  // Amounts far from the customer's usual, against their earlier invoices in the currency.
  const history = new Map<string, Decimal[]>();
  for (const i of invoices) {
    const key = `${i.customer_id}|${i.currency}`;
    const earlier = history.get(key) ?? [];
    if (i.at >= from && earlier.length >= MIN_HISTORY) {
      const x = fromMinor(i.total, i.currency);
      const { median, score } = robustScore(x, earlier);
      if (score === null || score.abs().gt(threshold))
        raw.push({
          kind: 'unusual_amount',
          customerId: i.customer_id,
          score: score?.toFixed(2) ?? null,
          reason:
            `${i.number} is ${formatMinor(i.total, i.currency)} ${i.currency}; the customer's ${earlier.length} earlier ` +
            `invoices have a median of ${median.round(2).toString()} ` +
            (score === null
              ? '(all of them exactly that)'
              : `(robust z-score ${score.toFixed(2)}, above ${threshold.toString()})`),
          records: [invoiceRecord(i)],
        });
    }
    earlier.push(fromMinor(i.total, i.currency));
    history.set(key, earlier);
  }

  // Credit notes issued soon after a payment on the same invoice.
  for (const n of notes) {
    const issued = Number(n.issued_at);
    const before = (paidOn.get(n.invoice_id) ?? []).filter((p) => p.at <= issued);
    const last = before[before.length - 1];
    if (!last || issued - last.at > duplicateDays * DAY) continue;
    const inv = byId.get(n.invoice_id);
    const total = Number(n.total_amount_cents);
    const hours = Math.round((issued - last.at) / 3_600_000);
    raw.push({
      kind: 'credit_after_payment',
      customerId: n.customer_id,
      score: null,
      reason: `credit note ${n.number} (${formatMinor(total, n.currency)} ${n.currency}) issued ${hours} hours after a payment on ${inv?.number ?? n.invoice_id}`,
      records: [
        {
          type: 'credit_note',
          id: n.id,
          number: n.number,
          amount_cents: total,
          amount: formatMinor(total, n.currency),
          currency: n.currency,
          date: toIso(issued),
        },
        paymentRecord(last),
        ...(inv ? [invoiceRecord(inv)] : []),
      ],
    });
  }

  // Round totals from customers created shortly before.
  const customerIds = [...new Set([...raw.map((f) => f.customerId), ...recent.map((i) => i.customer_id)])];
  const customers = new Map<
    string,
    { id: string; external_id: string | null; name: string; created: number }
  >();
  for (let k = 0; k < customerIds.length; k += 500) {
    const rows = await ctx.db
      .selectFrom('customers')
      .select(['id', 'external_id', 'name', 'legal_name', 'firstname', 'lastname', 'email', 'created_at'])
      .where('organization_id', '=', ctx.organizationId)
      .where('id', 'in', customerIds.slice(k, k + 500))
      .execute();
    for (const c of rows)
      customers.set(c.id, {
        id: c.id,
        external_id: c.external_id,
        name: displayName(c),
        created: Number(c.created_at),
      });
  }
  for (const i of recent) {
    const c = customers.get(i.customer_id);
    if (!c || i.at - c.created > NEW_CUSTOMER_DAYS * DAY) continue;
    const major = fromMinor(i.total, i.currency);
    if (major.lt(1000) || !major.div(100, 12, 'half_up').eq(major.div(100, 0, 'down'))) continue;
    raw.push({
      kind: 'round_amount_new_customer',
      customerId: i.customer_id,
      score: null,
      reason: `${i.number} is a round ${formatMinor(i.total, i.currency)} ${i.currency} from a customer created ${Math.floor((i.at - c.created) / DAY)} days before it`,
      records: [invoiceRecord(i)],
    });
  }

  const findings: Finding[] = raw
    .map(({ customerId: cid, ...f }) => {
      const c = customers.get(cid);
      return { ...f, customer: { id: cid, external_id: c?.external_id ?? null, name: c?.name ?? cid } };
    })
    .sort(
      (a, b) =>
        ANOMALY_KINDS.indexOf(a.kind) - ANOMALY_KINDS.indexOf(b.kind) ||
        a.records[0]!.date.localeCompare(b.records[0]!.date),
    );
  return {
    from: toIso(from),
    to: toIso(to),
    threshold: threshold.toString(),
    duplicate_days: duplicateDays,
    counts: Object.fromEntries(
      ANOMALY_KINDS.map((k) => [k, findings.filter((f) => f.kind === k).length]),
    ) as Record<AnomalyKind, number>,
    findings,
  };
}
