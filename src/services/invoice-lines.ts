import { prepared } from '../db/prepared.js';
import type {
  CustomersTable,
  InvoiceLinesTable,
  InvoicesTable,
  ProductsTable,
  TaxesTable,
} from '../db/schema.js';
import { Decimal } from '../domain/decimal.js';
import { BillfoldError, validation } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { computeInvoice, type DiscountInput, type TaxRate } from '../domain/invoice-math.js';
import type { ServiceContext } from './context.js';
import { displayName } from './customers.js';
import type { InvoiceLineInput } from './invoices.js';
import { organizationTaxes, requireTaxCodes, taxRateOf } from './taxes.js';

/**
 * An invoice's lines and totals: products and taxes resolved for each line, then the exact
 * arithmetic of domain/invoice-math filled into the invoice row and its line rows.
 */

export interface ResolvedLine {
  input: InvoiceLineInput;
  product: ProductsTable | null;
  description: string;
  quantity: Decimal;
  unitAmount: Decimal;
  unitLabel: string | null;
  taxes: TaxRate[];
}

const productByRef = prepared((db, p: { org: string; ref: string }) =>
  db
    .selectFrom('products')
    .selectAll()
    .where('organization_id', '=', p.org)
    .where((eb) => eb.or([eb('code', '=', p.ref), eb('id', '=', p.ref)])),
);

/** The products lines name, by code and by id: one compiled lookup per distinct reference. */
async function loadProducts(ctx: ServiceContext, refs: string[]): Promise<Map<string, ProductsTable>> {
  const map = new Map<string, ProductsTable>();
  for (const ref of new Set(refs)) {
    if (map.has(ref)) continue;
    for (const r of await productByRef(ctx.db, { org: ctx.organizationId, ref })) {
      map.set(r.code, r);
      map.set(r.id, r);
    }
  }
  return map;
}

function defaultTaxes(
  all: readonly TaxesTable[],
  customer: CustomersTable,
  product: ProductsTable | null,
): TaxesTable[] {
  if (product) {
    const codes = JSON.parse(product.tax_codes) as string[];
    const level = all.filter(
      (t) => codes.includes(t.code) || (JSON.parse(t.product_codes) as string[]).includes(product.code),
    );
    if (level.length) return level;
  }
  const forCustomer = all.filter((t) => (JSON.parse(t.customer_ids) as string[]).includes(customer.id));
  if (forCustomer.length) return forCustomer;
  return all.filter((t) => t.applied_to_organization === 1);
}

export async function resolveLines(
  ctx: ServiceContext,
  customer: CustomersTable,
  currency: string,
  lines: readonly InvoiceLineInput[],
): Promise<ResolvedLine[]> {
  const products = await loadProducts(
    ctx,
    lines.map((l) => l.product_code).filter((c): c is string => Boolean(c)),
  );
  const needTaxes = lines.some((l) => !l.taxes && (l.tax_codes === undefined || l.tax_codes.length > 0));
  const taxes = needTaxes ? await organizationTaxes(ctx) : [];
  return lines.map((l, i) => {
    const field = `lines[${i}]`;
    let product: ProductsTable | null = null;
    if (l.product_code) {
      product = products.get(l.product_code) ?? null;
      if (!product) {
        throw new BillfoldError(
          'VALIDATION_ERROR',
          `${field}.product_code: no product has the code '${l.product_code}'`,
          { issues: [{ field: `${field}.product_code`, message: `unknown product '${l.product_code}'` }] },
          'list_products shows the codes; or describe the line with description and unit_amount instead.',
        );
      }
      if (product.active !== 1 && !l.agreed) {
        throw new BillfoldError(
          'VALIDATION_ERROR',
          `${field}.product_code: product '${product.code}' is archived`,
          { issues: [{ field: `${field}.product_code`, message: 'archived product' }] },
          'Reactivate it with update_product (active: true), or bill another product.',
        );
      }
      if (l.unit_amount === undefined && product.currency !== currency) {
        throw new BillfoldError(
          'VALIDATION_ERROR',
          `${field}.unit_amount: product '${product.code}' is priced in ${product.currency} and the invoice is in ${currency}`,
          { issues: [{ field: `${field}.unit_amount`, message: 'currency mismatch' }] },
          `Give unit_amount in ${currency} for this line, or invoice in ${product.currency}.`,
        );
      }
    }
    const description = l.description ?? product?.name;
    if (!description)
      throw validation(`${field}.description`, 'is required when the line names no product_code');
    const unitAmount = l.unit_amount ?? (product ? Decimal.parse(product.unit_amount) : undefined);
    if (unitAmount === undefined)
      throw validation(`${field}.unit_amount`, 'is required when the line names no product_code');
    let lineTaxes: TaxRate[];
    if (l.taxes) lineTaxes = l.taxes;
    else if (l.tax_codes !== undefined)
      lineTaxes = requireTaxCodes(taxes, l.tax_codes, `${field}.tax_codes`).map(taxRateOf);
    else lineTaxes = defaultTaxes(taxes, customer, product).map(taxRateOf);
    return {
      input: l,
      product,
      description,
      quantity: l.quantity ?? Decimal.ONE,
      unitAmount,
      unitLabel: l.unit_label !== undefined ? l.unit_label : (product?.unit_label ?? null),
      taxes: lineTaxes,
    };
  });
}

/** Computes the totals and fills them into the row; returns the line rows to insert. */
export function priceInvoice(
  row: InvoicesTable,
  resolved: readonly ResolvedLine[],
  discounts: readonly DiscountInput[],
): InvoiceLinesTable[] {
  const totals = computeInvoice(
    row.currency,
    resolved.map((l) => ({ quantity: l.quantity, unitAmount: l.unitAmount, taxes: l.taxes })),
    discounts,
  );
  row.sub_total_amount_cents = Number(totals.sub_total_amount_cents);
  row.coupons_amount_cents = Number(totals.coupons_amount_cents);
  row.taxes_amount_cents = Number(totals.taxes_amount_cents);
  row.total_amount_cents = Number(totals.total_amount_cents);
  row.amount_due_cents = row.total_amount_cents;
  row.tax_breakdown = JSON.stringify(
    totals.tax_breakdown.map((t) => ({
      ...t,
      taxable_amount_cents: Number(t.taxable_amount_cents),
      amount_cents: Number(t.amount_cents),
    })),
  );
  row.discounts = JSON.stringify(
    totals.discounts.map((d) => ({ ...d, amount_cents: Number(d.amount_cents) })),
  );
  return resolved.map((l, i) => ({
    id: newId('invoice_line'),
    organization_id: row.organization_id,
    invoice_id: row.id,
    position: i + 1,
    product_id: l.product?.id ?? null,
    product_code: l.product?.code ?? null,
    description: l.description,
    quantity: l.quantity.toString(),
    unit_amount: l.unitAmount.toString(),
    unit_label: l.unitLabel,
    amount_cents: Number(totals.lines[i]!.amount_cents),
    discount_amount_cents: Number(totals.lines[i]!.discount_amount_cents),
    taxes: JSON.stringify(l.taxes.map((t) => ({ code: t.code, name: t.name, rate: t.rate.toString() }))),
    from_at: l.input.from ?? null,
    to_at: l.input.to ?? null,
    charge_id: l.input.charge_id ?? null,
    details: l.input.details ? JSON.stringify(l.input.details) : null,
  }));
}

export function searchText(
  row: InvoicesTable,
  customer: CustomersTable,
  lines: readonly InvoiceLinesTable[],
): string {
  const meta = Object.values(JSON.parse(row.metadata) as Record<string, string>);
  return [
    row.number,
    row.external_id,
    displayName(customer),
    customer.email,
    customer.external_id,
    row.memo,
    ...lines.map((l) => l.description),
    ...meta,
  ]
    .filter(Boolean)
    .join(' ')
    .toLowerCase();
}
