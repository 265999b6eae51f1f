import * as z from 'zod';
import * as notes from '../services/credit-notes.js';
import { CREATE, READ, defineOperation } from './define.js';
import { CustomerRef, InvoiceRef, Pagination, PositiveMoney, page, text } from './schemas/common.js';
import { CreditNote, CreditNoteReason, CreditNoteType, Invoice } from './schemas/invoice.js';

const group = 'credit_notes';
const CreditNoteRef = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .describe('The credit note: its Billfold id (cn_…) or its number (e.g. INV-202604-0001-CN001)');

export const createCreditNote = defineOperation({
  name: 'create_credit_note',
  title: 'Issue a credit note',
  description:
    'Corrects a finalized invoice. type credit takes the amount off what is still due; type refund records ' +
    'money given back from what was paid. Give `items` ([{invoice_line_id, amount}], amounts before tax; taxes ' +
    'are added at each line’s rates) or one `amount` including tax. It can never exceed what is left: per ' +
    'line, its amount less earlier credits; in all, the amount due (credit) or paid and not yet refunded ' +
    '(refund). Numbered from its invoice: INV-202604-0001-CN001.',
  group,
  scope: 'write',
  annotations: CREATE,
  input: z.strictObject({
    invoice_id: InvoiceRef,
    type: CreditNoteType.describe('credit: reduce what is due; refund: money returned'),
    reason: CreditNoteReason,
    description: text(1000).min(1).optional(),
    items: z
      .array(
        z.strictObject({
          invoice_line_id: z.string().trim().min(1).describe('The line id (il_…) from get_invoice'),
          amount: PositiveMoney.describe('Amount of the line to credit, before tax'),
        }),
      )
      .min(1)
      .max(500)
      .optional(),
    amount: PositiveMoney.optional().describe('Amount to credit, tax included (instead of items)'),
  }),
  output: z.object({ credit_note: CreditNote, invoice: Invoice }),
  handler: (ctx, input) => notes.createCreditNote(ctx, input),
});

export const getCreditNote = defineOperation({
  name: 'get_credit_note',
  title: 'Get a credit note',
  description:
    'Returns one credit note with its items, tax breakdown and totals, its type (credit or refund), reason and ' +
    'status. `credit_note_id` is its Billfold id (cn_…) or its number.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({ credit_note_id: CreditNoteRef }),
  output: z.object({ credit_note: CreditNote }),
  handler: async (ctx, input) => ({ credit_note: await notes.getCreditNote(ctx, input.credit_note_id) }),
});

export const listCreditNotes = defineOperation({
  name: 'list_credit_notes',
  title: 'List credit notes',
  description: 'Lists credit notes, newest first; filter by invoice_id, customer_id, status, type or reason.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    invoice_id: InvoiceRef.optional(),
    customer_id: CustomerRef.optional(),
    status: z.enum(['finalized', 'voided']).optional(),
    type: CreditNoteType.optional(),
    reason: CreditNoteReason.optional(),
    ...page,
  }),
  output: z.object({ credit_notes: z.array(CreditNote), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, ...filter }) =>
    notes.listCreditNotes(ctx, filter, { page: p, per_page }),
});

export const voidCreditNote = defineOperation({
  name: 'void_credit_note',
  title: 'Void a credit note',
  description:
    'Cancels a credit note: its effect on the invoice is undone (a voided credit is due again; a voided refund no longer counts as returned).',
  group,
  scope: 'write',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  input: z.strictObject({ credit_note_id: CreditNoteRef }),
  output: z.object({ credit_note: CreditNote, invoice: Invoice }),
  handler: (ctx, input) => notes.voidCreditNote(ctx, input.credit_note_id),
});

export const creditNoteOperations = [createCreditNote, getCreditNote, listCreditNotes, voidCreditNote];
