/** What every MCP client is told once, at connection, about how Billfold speaks. */
export const SERVER_INSTRUCTIONS = [
  'Billfold is a billing and invoicing engine: customers, products, invoices, payments, credit notes, usage metering (including LLM tokens and their cost), plans, subscriptions, coupons and revenue analytics.',
  'Ids carry a type prefix (cus_, inv_, pay_, evt_, sub_ ...) and sort by creation time. Wherever a tool takes a reference, pass either the Billfold id or your own external_id (customer_id: "acme-001" works); invoice_id also accepts the invoice number. Never look an id up just to pass it back.',
  'Money is exact: give amounts in major units as decimal strings ("12.50"; numbers work too). Results carry integer minor units (total_amount_cents) and the same amount as a decimal string (total_amount), always with the ISO 4217 currency. Quote those strings; do not recompute with floating point.',
  'Lists take page (from 1) and per_page (at most 100) and return pagination with next_page.',
  'Creating tools are safe to retry with the same external_id (or transaction_id for usage events): the retry returns the original instead of a duplicate.',
  'A failed call returns isError with {error: {code, message, details, hint}}; the message names the field that failed and what would work. Fix that and call again.',
].join('\n');
