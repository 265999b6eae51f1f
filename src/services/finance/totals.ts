import { sql, type Kysely } from 'kysely';
import { addToRows, insertRows } from '../../db/bulk.js';
import type { DialectName } from '../../db/connection.js';
import type {
  CreditNotesTable,
  Database,
  FinanceCustomerFlowsTable,
  FinanceFlowsTable,
  FinanceReceivablesTable,
  FinanceTaxFlowsTable,
  InvoicesTable,
  PaymentsTable,
} from '../../db/schema.js';
import { inRevenue } from '../billing/revenue.js';
import type { ServiceContext } from '../context.js';
import type { StoredTaxLine } from '../invoice-views.js';
import { SPANS, bucketStart } from './buckets.js';

/**
 * The totals financial reports read instead of every invoice, credit note and payment:
 *
 * - finance_flows: per currency and bucket (buckets.ts), what get_financial_summary counts —
 *   finalized invoices by issue date, finalized credit notes (and refunds) by issue date,
 *   payments by payment date;
 * - finance_tax_flows: the same invoices' and credit notes' tax breakdowns per code, rate, name;
 * - finance_customer_flows: invoiced and credited net per customer (the dashboard's top customers);
 * - finance_receivables: today's open balance (finalized, amount due > 0) per due date.
 *
 * Each is what the rows contribute (`contribute` below, the one definition), and every writer
 * that changes a contributing row adds the difference — after less before — in its own
 * transaction (invoice finalized or voided, payment recorded, credit note issued or voided,
 * and the invoice balances those move). The increments are done by the database
 * (INSERT … ON CONFLICT DO UPDATE SET x = x + excluded.x), never read-modify-write, so
 * concurrent writers on one PostgreSQL lose nothing. `rebuildFinanceTotals` recomputes them from
 * the rows: the migration that created them backfills with it.
 */

type Row<T> = Omit<T, 'organization_id'>;

class Changes {
  readonly flows = new Map<string, Row<FinanceFlowsTable>>();
  readonly taxes = new Map<string, Row<FinanceTaxFlowsTable>>();
  readonly customers = new Map<string, Row<FinanceCustomerFlowsTable>>();
  readonly receivables = new Map<string, Row<FinanceReceivablesTable>>();

  flow(at: number, currency: string, add: Partial<Row<FinanceFlowsTable>>, sign: number) {
    for (const span of SPANS) {
      const b = bucketStart(span, at);
      const key = `${span}|${b}|${currency}`;
      let r = this.flows.get(key);
      if (!r)
        this.flows.set(
          key,
          (r = {
            span,
            bucket_start: b,
            currency,
            invoice_count: 0,
            invoiced_net_cents: 0,
            invoiced_tax_cents: 0,
            invoiced_total_cents: 0,
            credit_note_count: 0,
            credit_notes_net_cents: 0,
            credit_notes_tax_cents: 0,
            credit_notes_total_cents: 0,
            refund_count: 0,
            refunds_cents: 0,
            payment_count: 0,
            payments_cents: 0,
            top_up_count: 0,
            top_up_total_cents: 0,
          }),
        );
      addInto(r, add, sign);
    }
  }

  tax(at: number, currency: string, line: StoredTaxLine, credit: boolean, sign: number) {
    const rate = String(line.rate);
    const name = line.name ?? '';
    for (const span of SPANS) {
      const b = bucketStart(span, at);
      const key = `${span}|${b}|${currency}|${line.code}|${rate}|${name}`;
      let r = this.taxes.get(key);
      if (!r)
        this.taxes.set(
          key,
          (r = {
            span,
            bucket_start: b,
            currency,
            tax_code: line.code,
            rate,
            name,
            invoice_lines: 0,
            taxable_cents: 0,
            tax_cents: 0,
            credit_lines: 0,
            credited_taxable_cents: 0,
            credited_tax_cents: 0,
          }),
        );
      addInto(
        r,
        credit
          ? {
              credit_lines: 1,
              credited_taxable_cents: Number(line.taxable_amount_cents),
              credited_tax_cents: Number(line.amount_cents),
            }
          : {
              invoice_lines: 1,
              taxable_cents: Number(line.taxable_amount_cents),
              tax_cents: Number(line.amount_cents),
            },
        sign,
      );
    }
  }

  customer(
    at: number,
    customerId: string,
    currency: string,
    add: Partial<Row<FinanceCustomerFlowsTable>>,
    sign: number,
  ) {
    for (const span of SPANS) {
      const b = bucketStart(span, at);
      const key = `${span}|${b}|${customerId}|${currency}`;
      let r = this.customers.get(key);
      if (!r)
        this.customers.set(
          key,
          (r = {
            span,
            bucket_start: b,
            customer_id: customerId,
            currency,
            invoice_count: 0,
            invoiced_net_cents: 0,
            credit_note_count: 0,
            credit_notes_net_cents: 0,
          }),
        );
      addInto(r, add, sign);
    }
  }

  receivable(currency: string, dueDate: string | null, cents: number, sign: number) {
    const key = `${currency}|${dueDate ?? ''}`;
    let r = this.receivables.get(key);
    if (!r)
      this.receivables.set(key, (r = { currency, due_date: dueDate ?? '', open_count: 0, open_cents: 0 }));
    addInto(r, { open_count: 1, open_cents: cents }, sign);
  }
}

function addInto<T extends object>(row: T, add: Partial<T>, sign: number) {
  for (const [k, v] of Object.entries(add)) (row as any)[k] += sign * (v as number);
}

type InvoiceFigures = Pick<
  InvoicesTable,
  | 'customer_id'
  | 'currency'
  | 'status'
  | 'issued_at'
  | 'due_date'
  | 'sub_total_amount_cents'
  | 'coupons_amount_cents'
  | 'taxes_amount_cents'
  | 'total_amount_cents'
  | 'amount_due_cents'
  | 'tax_breakdown'
  | 'invoice_type'
>;
type CreditNoteFigures = Pick<
  CreditNotesTable,
  | 'customer_id'
  | 'currency'
  | 'status'
  | 'credit_note_type'
  | 'issued_at'
  | 'sub_total_amount_cents'
  | 'taxes_amount_cents'
  | 'total_amount_cents'
  | 'tax_breakdown'
> & {
  /** The credited invoice's type: notes on wallet top-ups are no revenue, like the top-ups. */
  invoice_type: string;
};
type PaymentFigures = Pick<PaymentsTable, 'currency' | 'amount_cents' | 'paid_at'>;

/** What one row counts for in the totals, times `sign` (+1 to add it, −1 to take it back). */
const contribute = {
  invoice(c: Changes, inv: InvoiceFigures, sign: number) {
    if (inv.status !== 'finalized') return;
    const net = Number(inv.sub_total_amount_cents) - Number(inv.coupons_amount_cents);
    if (inv.issued_at !== null) {
      const at = Number(inv.issued_at);
      if (inRevenue(inv.invoice_type)) {
        c.flow(
          at,
          inv.currency,
          {
            invoice_count: 1,
            invoiced_net_cents: net,
            invoiced_tax_cents: Number(inv.taxes_amount_cents),
            invoiced_total_cents: Number(inv.total_amount_cents),
          },
          sign,
        );
        for (const line of JSON.parse(inv.tax_breakdown) as StoredTaxLine[])
          c.tax(at, inv.currency, line, false, sign);
        c.customer(at, inv.customer_id, inv.currency, { invoice_count: 1, invoiced_net_cents: net }, sign);
      } else {
        // A wallet top-up sells a balance, not revenue (and carries no tax: the invoices the
        // credits pay do): counted apart, as prepaid credits invoiced.
        c.flow(
          at,
          inv.currency,
          { top_up_count: 1, top_up_total_cents: Number(inv.total_amount_cents) },
          sign,
        );
      }
      // Owed from its issue on (finalization always dates an invoice), top-ups as any invoice.
      if (Number(inv.amount_due_cents) > 0)
        c.receivable(inv.currency, inv.due_date, Number(inv.amount_due_cents), sign);
    }
  },
  creditNote(c: Changes, cn: CreditNoteFigures, sign: number) {
    if (cn.status !== 'finalized') return;
    const at = Number(cn.issued_at);
    const refund = cn.credit_note_type === 'refund';
    // Money paid back is counted whatever it credits; a note on a top-up takes back no revenue.
    const refunded = {
      refund_count: refund ? 1 : 0,
      refunds_cents: refund ? Number(cn.total_amount_cents) : 0,
    };
    if (!inRevenue(cn.invoice_type)) {
      c.flow(at, cn.currency, refunded, sign);
      return;
    }
    c.flow(
      at,
      cn.currency,
      {
        credit_note_count: 1,
        credit_notes_net_cents: Number(cn.sub_total_amount_cents),
        credit_notes_tax_cents: Number(cn.taxes_amount_cents),
        credit_notes_total_cents: Number(cn.total_amount_cents),
        ...refunded,
      },
      sign,
    );
    for (const line of JSON.parse(cn.tax_breakdown) as StoredTaxLine[])
      c.tax(at, cn.currency, line, true, sign);
    c.customer(
      at,
      cn.customer_id,
      cn.currency,
      { credit_note_count: 1, credit_notes_net_cents: Number(cn.sub_total_amount_cents) },
      sign,
    );
  },
  payment(c: Changes, p: PaymentFigures, sign: number) {
    c.flow(Number(p.paid_at), p.currency, { payment_count: 1, payments_cents: Number(p.amount_cents) }, sign);
  },
};

const FLOW_KEY = ['organization_id', 'span', 'bucket_start', 'currency'] as const;
const FLOW_ADDED = [
  'invoice_count',
  'invoiced_net_cents',
  'invoiced_tax_cents',
  'invoiced_total_cents',
  'credit_note_count',
  'credit_notes_net_cents',
  'credit_notes_tax_cents',
  'credit_notes_total_cents',
  'refund_count',
  'refunds_cents',
  'payment_count',
  'payments_cents',
  'top_up_count',
  'top_up_total_cents',
] as const;
const TAX_KEY = ['organization_id', 'span', 'bucket_start', 'currency', 'tax_code', 'rate', 'name'] as const;
const TAX_ADDED = [
  'invoice_lines',
  'taxable_cents',
  'tax_cents',
  'credit_lines',
  'credited_taxable_cents',
  'credited_tax_cents',
] as const;
const CUSTOMER_KEY = ['organization_id', 'span', 'bucket_start', 'customer_id', 'currency'] as const;
const CUSTOMER_ADDED = [
  'invoice_count',
  'invoiced_net_cents',
  'credit_note_count',
  'credit_notes_net_cents',
] as const;
const RECEIVABLE_KEY = ['organization_id', 'currency', 'due_date'] as const;
const RECEIVABLE_ADDED = ['open_count', 'open_cents'] as const;

/** The changed rows of each table, keyed and in key order, without those that change nothing. */
function tables(c: Changes, organizationId: string) {
  const rows = <T>(m: Map<string, Row<T>>, added: readonly string[]) =>
    [...m.entries()]
      .filter(([, r]) => added.some((k) => (r as any)[k] !== 0))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, r]) => ({ organization_id: organizationId, ...r }) as T);
  return {
    flows: rows<FinanceFlowsTable>(c.flows, FLOW_ADDED),
    taxes: rows<FinanceTaxFlowsTable>(c.taxes, TAX_ADDED),
    customers: rows<FinanceCustomerFlowsTable>(c.customers, CUSTOMER_ADDED),
    receivables: rows<FinanceReceivablesTable>(c.receivables, RECEIVABLE_ADDED),
  };
}

/** Adds the changes to the totals, in the caller's transaction; tables always in this order. */
async function apply(ctx: ServiceContext, c: Changes): Promise<void> {
  const t = tables(c, ctx.organizationId);
  const db = ctx.db;
  await addToRows(db, ctx.dialect, 'finance_flows', FLOW_KEY, FLOW_ADDED, t.flows);
  await addToRows(db, ctx.dialect, 'finance_tax_flows', TAX_KEY, TAX_ADDED, t.taxes);
  await addToRows(db, ctx.dialect, 'finance_customer_flows', CUSTOMER_KEY, CUSTOMER_ADDED, t.customers);
  await addToRows(db, ctx.dialect, 'finance_receivables', RECEIVABLE_KEY, RECEIVABLE_ADDED, t.receivables);
}

/** An invoice changed from `before` (null: it did not exist) to `after`. */
export async function recordInvoiceChange(
  ctx: ServiceContext,
  before: InvoiceFigures | null,
  after: InvoiceFigures,
): Promise<void> {
  const c = new Changes();
  if (before) contribute.invoice(c, before, -1);
  contribute.invoice(c, after, +1);
  await apply(ctx, c);
}

/** A credit note on an invoice of `invoiceType` changed from `before` (null: it did not exist) to `after`. */
export async function recordCreditNoteChange(
  ctx: ServiceContext,
  invoiceType: string,
  before: Omit<CreditNoteFigures, 'invoice_type'> | null,
  after: Omit<CreditNoteFigures, 'invoice_type'>,
): Promise<void> {
  const c = new Changes();
  if (before) contribute.creditNote(c, { ...before, invoice_type: invoiceType }, -1);
  contribute.creditNote(c, { ...after, invoice_type: invoiceType }, +1);
  await apply(ctx, c);
}

export async function recordPaymentReceived(ctx: ServiceContext, payment: PaymentFigures): Promise<void> {
  const c = new Changes();
  contribute.payment(c, payment, +1);
  await apply(ctx, c);
}

const PAGE = 5_000;
const BATCH = 500;

/**
 * Recomputes an organization's totals (every organization's without one) from its invoices,
 * credit notes and payments. For a database nothing writes to meanwhile: the migration that
 * creates the tables, a bulk load (the finance benchmark), a check that the maintained totals
 * are right.
 */
export async function rebuildFinanceTotals(
  db: Kysely<Database>,
  dialect: DialectName,
  organizationId?: string,
): Promise<void> {
  const orgs = organizationId
    ? [organizationId]
    : (await db.selectFrom('organizations').select('id').execute()).map((o) => o.id);
  for (const org of orgs) {
    const c = new Changes();
    // Paged by (organization, id), every status: contribute() counts what counts. A status
    // filter here would make SQLite sort the organization's invoices for every page.
    for (let after = ''; ;) {
      const page = await db
        .selectFrom('invoices')
        .select([
          'id',
          'customer_id',
          'currency',
          'status',
          'issued_at',
          'due_date',
          'sub_total_amount_cents',
          'coupons_amount_cents',
          'taxes_amount_cents',
          'total_amount_cents',
          'amount_due_cents',
          'tax_breakdown',
          'invoice_type',
        ])
        .where('organization_id', '=', org)
        .where('id', '>', after)
        .orderBy('id')
        .limit(PAGE)
        .execute();
      for (const inv of page) contribute.invoice(c, inv, +1);
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
    }
    for (let after = ''; ;) {
      const page = await db
        .selectFrom('credit_notes')
        .innerJoin('invoices', 'invoices.id', 'credit_notes.invoice_id')
        .select([
          'credit_notes.id',
          'credit_notes.customer_id',
          'credit_notes.currency',
          'credit_notes.status',
          'credit_notes.credit_note_type',
          'credit_notes.issued_at',
          'credit_notes.sub_total_amount_cents',
          'credit_notes.taxes_amount_cents',
          'credit_notes.total_amount_cents',
          'credit_notes.tax_breakdown',
          'invoices.invoice_type',
        ])
        .where('credit_notes.organization_id', '=', org)
        .where('credit_notes.id', '>', after)
        .orderBy('credit_notes.id')
        .limit(PAGE)
        .execute();
      for (const cn of page) contribute.creditNote(c, cn, +1);
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
    }
    for (let after = ''; ;) {
      const page = await db
        .selectFrom('payments')
        .select(['id', 'currency', 'amount_cents', 'paid_at'])
        .where('organization_id', '=', org)
        .where('id', '>', after)
        .orderBy('id')
        .limit(PAGE)
        .execute();
      for (const p of page) contribute.payment(c, p, +1);
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
    }
    const t = tables(c, org);
    for (const table of [
      'finance_flows',
      'finance_tax_flows',
      'finance_customer_flows',
      'finance_receivables',
    ] as const)
      await db.deleteFrom(table).where('organization_id', '=', org).execute();
    const insert = async <T extends keyof Database & string>(table: T, rows: Database[T][]) => {
      for (let i = 0; i < rows.length; i += BATCH)
        await insertRows(db, dialect, table, rows.slice(i, i + BATCH));
    };
    await insert('finance_flows', t.flows);
    await insert('finance_tax_flows', t.taxes);
    await insert('finance_customer_flows', t.customers);
    await insert('finance_receivables', t.receivables);
  }
}
