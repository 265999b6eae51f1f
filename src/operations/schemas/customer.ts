import * as z from 'zod';
import { Country, Currency, Email, ExternalId, Iso, Metadata, TimeZone, Url, text } from './common.js';

export const CustomerType = z.enum(['individual', 'company']);
export const FinalizeZeroAmountInvoice = z.enum(['inherit', 'finalize', 'skip']);
export const CustomerStatus = z.enum(['active', 'disabled']);

export const Customer = z.object({
  id: z.string().describe('Billfold id, cus_…'),
  external_id: z.string().nullable().describe('Your own id for this customer, unique in the organization'),
  status: CustomerStatus,
  name: z.string().nullable(),
  display_name: z.string().describe('The name shown on documents: name, legal name, person or email'),
  firstname: z.string().nullable(),
  lastname: z.string().nullable(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  address_line1: z.string().nullable(),
  address_line2: z.string().nullable(),
  city: z.string().nullable(),
  state: z.string().nullable(),
  zipcode: z.string().nullable(),
  country: z.string().nullable(),
  url: z.string().nullable(),
  legal_name: z.string().nullable(),
  legal_number: z.string().nullable(),
  logo_url: z.string().nullable(),
  tax_identification_number: z.string().nullable(),
  timezone: z.string().nullable(),
  applicable_timezone: z.string().describe("The customer's time zone, else the organization's"),
  currency: z.string().nullable(),
  net_payment_term: z.int().nullable(),
  applicable_net_payment_term: z.int().describe("Days to pay: the customer's term, else the organization's"),
  customer_type: CustomerType.nullable(),
  finalize_zero_amount_invoice: FinalizeZeroAmountInvoice,
  metadata: z.record(z.string(), z.string()),
  created_at: Iso,
  updated_at: Iso,
});

/**
 * The editable fields (Lago's set plus metadata). In an update, null clears a field and an
 * absent field stays as it is.
 */
export const customerFields = {
  name: text().nullable().optional().describe('Display name, e.g. "Acme Corporation"'),
  firstname: text().nullable().optional(),
  lastname: text().nullable().optional(),
  email: Email.nullable().optional(),
  phone: text(50).nullable().optional(),
  address_line1: text().nullable().optional(),
  address_line2: text().nullable().optional(),
  city: text(100).nullable().optional(),
  state: text(100).nullable().optional().describe('State or region'),
  zipcode: text(20).nullable().optional().describe('ZIP or postal code'),
  country: Country.nullable().optional(),
  url: Url.nullable().optional().describe("The customer's website"),
  legal_name: text().nullable().optional(),
  legal_number: text(100).nullable().optional().describe('Company registration number'),
  logo_url: Url.nullable().optional(),
  tax_identification_number: text(100).nullable().optional().describe('VAT or tax id'),
  timezone: TimeZone.nullable().optional().describe("IANA time zone for the customer's billing periods"),
  currency: Currency.nullable().optional().describe("Default currency of the customer's invoices"),
  net_payment_term: z
    .int()
    .min(0)
    .max(365)
    .nullable()
    .optional()
    .describe('Days the customer has to pay an invoice'),
  customer_type: CustomerType.nullable().optional(),
  finalize_zero_amount_invoice: FinalizeZeroAmountInvoice.optional().describe(
    'Whether invoices totalling zero are finalized (finalize), skipped (skip) or follow the organization (inherit)',
  ),
  metadata: Metadata.optional(),
};

export const customerExternalId = ExternalId.describe(
  'Your own id for the customer (e.g. "acme-001"); unique per organization. Other tools accept it wherever they take customer_id.',
);
