import { createHash } from 'node:crypto';
import * as z from 'zod';
import { schemaLookup } from '../../../operations/invoke.js';
import { validationErrorFrom } from '../../../operations/validation.js';
import { parseInstant, toIso } from '../../../domain/time.js';
import { defineTool, OperationFailed, ProfileError, type Operations, type Profile } from './define.js';
import {
  BILLING_CYCLES,
  DateInput,
  INVOICE_STATUS_FILTERS,
  Limit,
  MF_INVOICE_STATUSES,
  MF_SUBSCRIPTION_STATUSES,
  Page,
  SUBSCRIPTION_STATUS_FILTERS,
  TRANSACTION_NOTES,
  USAGE_FIELDS,
  UsageRecordInput,
  bucketOut,
  byTypeOut,
  customerOut,
  dayOf,
  endOf,
  eventOut,
  invoiceOut,
  invoiceStatus,
  occurrences,
  oneOf,
  paginationOut,
  planOut,
  portalSessionOut,
  serviceOut,
  statusNote,
  strategyOut,
  subscriptionOut,
  totalsOut,
  usageEventOf,
  type PlanInfo,
  type TransactionIdSource,
  type UsageRecord,
} from './marginfront-shapes.js';
import { camelKeys, renameFields } from './shapes.js';

/**
 * The MarginFront MCP server of seed 002: its 32 tools with its camelCase parameters, enum words
 * and defaults, over Billfold's catalogue. A MarginFront agent is a Billfold agent, a signal a
 * billable metric (signalName is its code), a pricing plan a plan and a pricing strategy one way
 * the plan charges. Ids MarginFront calls UUIDs are Billfold's prefixed ids, and every reference
 * also takes the caller's own code or external id, as the catalogue does.
 *
 * Errors are Billfold's `{ error: { code, message, details, hint } }` with MarginFront's parameter
 * names. To add a tool: a defineTool entry naming the operations it `uses`, its input in
 * MarginFront's names, a `run` that calls them and maps the result, and `fields` for errors.
 */

const Id = (what: string) => z.string().trim().min(1).max(255).describe(what);

type Row = Record<string, any>;

/** A list of one Billfold operation under one or several filter sets (a MarginFront status that is two of Billfold's), newest first. */
async function listWindow(
  ops: Operations,
  operation: string,
  key: string,
  args: Record<string, unknown>,
  filterSets: ReadonlyArray<Record<string, unknown>>,
  page: number,
  limit: number,
): Promise<{ items: Row[]; total: number }> {
  if (filterSets.length === 1) {
    const out = await ops.call(operation, { ...args, ...filterSets[0], page, per_page: limit });
    return { items: out[key] as Row[], total: out.pagination.total_count as number };
  }
  // Each set's first page × limit items hold the merged page; counted exactly by their totals.
  const want = page * limit;
  const all: Row[] = [];
  let total = 0;
  for (const filters of filterSets) {
    for (let p = 1; ; p++) {
      const out = await ops.call(operation, { ...args, ...filters, page: p, per_page: 100 });
      all.push(...(out[key] as Row[]).slice(0, want - (p - 1) * 100));
      if (p === 1) total += out.pagination.total_count as number;
      if (out.pagination.next_page === null || p * 100 >= want) break;
    }
  }
  all.sort((a, b) =>
    a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1,
  );
  return { items: all.slice((page - 1) * limit, want), total };
}

/** Every page of a Billfold list (lists MarginFront does not paginate). */
async function listAll(
  ops: Operations,
  operation: string,
  key: string,
  args: Record<string, unknown>,
): Promise<Row[]> {
  const items: Row[] = [];
  for (let p = 1; ; p++) {
    const out = await ops.call(operation, { ...args, page: p, per_page: 100 });
    items.push(...(out[key] as Row[]));
    if (out.pagination.next_page === null) return items;
  }
}

/** Plan names and cycles for subscriptions, one get_plan per plan; a deleted plan has none. */
async function plansOf(ops: Operations, codes: string[]): Promise<Map<string, PlanInfo>> {
  const plans = new Map<string, PlanInfo>();
  for (const code of new Set(codes)) {
    try {
      const { plan } = await ops.call('get_plan', { plan_code: code });
      plans.set(code, plan as PlanInfo);
    } catch (e) {
      if (!(e instanceof OperationFailed && e.error.code === 'NOT_FOUND')) throw e;
    }
  }
  return plans;
}

async function subscriptionsOut(ops: Operations, subs: Row[]) {
  const plans = await plansOf(
    ops,
    subs.map((s) => s.plan_code as string),
  );
  return subs.map((s) => subscriptionOut(s as never, plans.get(s.plan_code)));
}

/** An agent's code from MarginFront's agentId (Billfold id or code), as the analytics filter by code. */
async function agentCode(ops: Operations, agentId: string | undefined): Promise<string | undefined> {
  if (agentId === undefined) return undefined;
  const { agent } = await ops.call('get_agent', { agent_id: agentId });
  return agent.code as string;
}

/** A signal's code from MarginFront's signalId (the billable metric's Billfold id or its code). */
async function signalCode(ops: Operations, signalId: string | undefined): Promise<string | undefined> {
  if (signalId === undefined) return undefined;
  const { billable_metric } = await ops.call('get_billable_metric', { code: signalId });
  return billable_metric.code as string;
}

/** The MarginFront reply for one recorded event (record_usage, and each success of a batch). */
function recordedOut(
  r: {
    event_id: string;
    transaction_id: string;
    duplicate: boolean;
    timestamp: string;
    cost: string | null;
    cost_status: string | null;
    services?: Row[] | null;
    flags: string[];
  },
  source: TransactionIdSource,
) {
  const multi = Array.isArray(r.services);
  const note = [statusNote(r.cost_status), source === 'given' ? undefined : TRANSACTION_NOTES[source]]
    .filter(Boolean)
    .join(' ');
  return {
    eventId: r.event_id,
    transactionId: r.transaction_id,
    transactionIdSource: source,
    duplicate: r.duplicate,
    status: r.cost_status,
    ...(multi
      ? { totalCostUsd: r.cost, services: r.services!.map((s) => serviceOut(s as never)) }
      : { costUsd: r.cost }),
    flags: r.flags,
    timestamp: r.timestamp,
    ...(note ? { note } : {}),
  };
}

/** The catalogue fields of a MarginFront window, for errors. */
const WINDOW_FIELDS = { from: 'startDate', to: 'endDate' } as const;

/** A plan code from MarginFront's plan name (and the agent it is scoped to), stable across retries. */
function planCodeOf(name: string, agent: string | undefined): string {
  const slug = (s: string) =>
    s
      .normalize('NFKD')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '');
  const base = slug(name) || `plan-${createHash('sha256').update(name).digest('hex').slice(0, 10)}`;
  return agent
    ? `${base}-${slug(agent) || createHash('sha256').update(agent).digest('hex').slice(0, 10)}`
    : base;
}

const recordsLookup = schemaLookup(z.object({ records: z.array(UsageRecordInput) }));

export const marginfrontProfile: Profile = {
  name: 'marginfront',
  title: 'MarginFront MCP',
  seed: '002',
  instructions: [
    'MarginFront tools over Billfold: usage events of AI agents (record_usage, record_usage_batch), their cost from the service catalog, repair flows (get_needs_attention, map_model, get_missing_volume, fill_volume), invoices, analytics (usage, cost, revenue, MRR), pricing plans and strategies, subscriptions and one-time customer portal links.',
    'Call verify first. Parameters are camelCase; amounts are exact decimal strings (costs in USD). An agentCode is a Billfold agent, a signalName a billable metric code: create them with Billfold (create_agent, create_billable_metric) as you would in the MarginFront dashboard.',
    'record_usage needs no transaction id: with usageDate, Billfold derives one from the event so a retry is stored once; the result says how it was made. Never re-send an event whose status is NEEDS_COST_BACKFILL or MISSING_VOLUME_DATA: it is saved.',
    'A failed call returns isError with {error: {code, message, details, hint}}; the message names the parameter.',
  ].join('\n'),
  tools: [
    defineTool({
      name: 'verify',
      title: 'Verify the connection',
      description:
        'Checks that your API key is valid and shows which organization it belongs to. Call it first to make sure everything is wired up.',
      uses: ['verify'],
      input: z.strictObject({}),
      async run(ops) {
        const out = await ops.call('verify', {});
        return {
          verified: out.verified,
          organization: camelKeys(out.organization),
          apiKey: { id: out.principal.key_id, name: out.principal.key_name, scopes: out.principal.scopes },
          server: out.server,
          tools: camelKeys(out.tools),
        };
      },
    }),
    defineTool({
      name: 'list_customers',
      title: 'List customers',
      description:
        'Lists your customers, newest first, with optional search (by name, email or external ID) and pagination: their names, ids, external IDs and status.',
      uses: ['list_customers'],
      fields: { per_page: 'limit' },
      input: z.strictObject({
        page: Page,
        limit: Limit(20),
        search: z
          .string()
          .trim()
          .min(1)
          .max(200)
          .optional()
          .describe('Search by customer name or external ID'),
      }),
      async run(ops, input) {
        const out = await ops.call('list_customers', {
          ...(input.search ? { search: input.search } : {}),
          page: input.page,
          per_page: input.limit,
        });
        return {
          customers: (out.customers as Row[]).map((c) => customerOut(c as never)),
          pagination: paginationOut(input.page, input.limit, out.pagination.total_count),
        };
      },
    }),
    defineTool({
      name: 'get_customer',
      title: 'Get a customer',
      description:
        'Gets one customer with all their subscriptions: name, email, phone, external ID and status. customerId is the customer’s id (cus_…); its external ID works too.',
      uses: ['get_customer', 'list_subscriptions', 'get_plan'],
      fields: { customer_id: 'customerId' },
      input: z.strictObject({ customerId: Id('The customer’s id (cus_…) or its external ID') }),
      async run(ops, input) {
        const { customer } = await ops.call('get_customer', { customer_id: input.customerId });
        const subs = await listAll(ops, 'list_subscriptions', 'subscriptions', { customer_id: customer.id });
        return { customer: { ...customerOut(customer), subscriptions: await subscriptionsOut(ops, subs) } };
      },
    }),
    defineTool({
      name: 'list_invoices',
      title: 'List invoices',
      description:
        'Lists invoices, newest first, optionally by status — draft, pending (issued, not paid), paid, overdue or void — or customer: status, amounts, customer name and dates.',
      uses: ['list_invoices'],
      fields: { customer_id: 'customerId', per_page: 'limit' },
      input: z.strictObject({
        status: z
          .enum(MF_INVOICE_STATUSES)
          .optional()
          .describe('Filter by status: "draft", "pending", "paid", "overdue", or "void"'),
        customerId: Id('Filter by customer (its id or external ID)').optional(),
        page: Page,
        limit: Limit(20),
      }),
      async run(ops, input) {
        const { items, total } = await listWindow(
          ops,
          'list_invoices',
          'invoices',
          input.customerId ? { customer_id: input.customerId } : {},
          input.status ? INVOICE_STATUS_FILTERS[input.status] : [{}],
          input.page,
          input.limit,
        );
        return {
          invoices: items.map((i) => invoiceOut(i as never)),
          pagination: paginationOut(input.page, input.limit, total),
        };
      },
    }),
    defineTool({
      name: 'get_invoice',
      title: 'Get an invoice',
      description:
        'Gets one invoice with every line item and its payment history: amounts, payment status, customer and dates. invoiceId is its id (inv_…); its number works too.',
      uses: ['get_invoice'],
      fields: { invoice_id: 'invoiceId' },
      input: z.strictObject({ invoiceId: Id('The invoice’s id (inv_…) or number') }),
      async run(ops, input) {
        const out = await ops.call('get_invoice', { invoice_id: input.invoiceId });
        return { invoice: invoiceOut(out.invoice, out.payments) };
      },
    }),
    defineTool({
      name: 'list_events',
      title: 'List usage events',
      description:
        'Lists usage events, latest first: the model used, token counts, calculated cost (usageCost, USD), customer and timestamp. Filter by customerExternalId, agentId, signalId and a startDate/endDate window (a bare endDate includes that day).',
      uses: ['list_events', 'get_agent', 'get_billable_metric'],
      fields: {
        ...WINDOW_FIELDS,
        customer_id: 'customerExternalId',
        agent_id: 'agentId',
        code: 'signalId',
        per_page: 'limit',
      },
      input: z.strictObject({
        page: Page,
        limit: Limit(20),
        customerExternalId: Id(
          'Filter by customer external ID (the ID in your own system, e.g. "acme-001")',
        ).optional(),
        agentId: Id('Filter by agent (its id agt_… or code)').optional(),
        signalId: Id('Filter by signal (the billable metric’s id bm_… or code)').optional(),
        startDate: DateInput.optional().describe(
          'Only events at or after this date (ISO 8601, e.g. "2026-04-01")',
        ),
        endDate: DateInput.optional().describe('Only events before this date; a bare date includes that day'),
      }),
      async run(ops, input) {
        const agent = await agentCode(ops, input.agentId);
        const signal = await signalCode(ops, input.signalId);
        const out = await ops.call('list_events', {
          ...(input.customerExternalId ? { customer_id: input.customerExternalId } : {}),
          ...(agent ? { agent_code: agent } : {}),
          ...(signal ? { code: signal } : {}),
          ...(input.startDate ? { from: input.startDate } : {}),
          ...(input.endDate ? { to: endOf(input.endDate) } : {}),
          page: input.page,
          per_page: input.limit,
        });
        return {
          events: (out.events as Row[]).map((e) => eventOut(e as never)),
          pagination: paginationOut(input.page, input.limit, out.pagination.total_count),
        };
      },
    }),
    defineTool({
      name: 'get_usage_analytics',
      title: 'Usage analytics',
      description:
        'Aggregated usage for a date range: totals (total cost in USD, total events, total tokens) and a breakdown by agent, customer, signal, model or day (days in the organization’s time zone). A bare endDate includes that day.',
      uses: ['get_usage_analytics'],
      fields: { ...WINDOW_FIELDS, group_by: 'groupBy' },
      input: z.strictObject({
        startDate: DateInput.describe('Start of the date range (ISO 8601, e.g. "2026-04-01")'),
        endDate: DateInput.describe('End of the date range (ISO 8601, e.g. "2026-04-12"; that day included)'),
        groupBy: z
          .enum(['agent', 'customer', 'signal', 'model', 'day'])
          .optional()
          .describe('How to break down the data: "agent", "customer", "signal", "model", or "day"'),
      }),
      async run(ops, input) {
        const out = await ops.call('get_usage_analytics', {
          from: input.startDate,
          to: endOf(input.endDate),
          ...(input.groupBy ? { group_by: input.groupBy === 'signal' ? 'metric' : input.groupBy } : {}),
        });
        return {
          startDate: out.from,
          endDate: out.to,
          groupBy: input.groupBy ?? null,
          timezone: out.timezone,
          summary: totalsOut(out.totals),
          breakdown: (out.breakdown as Row[]).map(bucketOut),
        };
      },
    }),
    defineTool({
      name: 'list_subscriptions',
      title: 'List subscriptions',
      description:
        'Lists subscriptions, newest first: which customer is on which pricing plan, status, plan name, billing dates. status: active (every running subscription, in trial or past due included), canceled (ended), past_due, trialing.',
      uses: ['list_subscriptions', 'get_plan'],
      fields: { customer_id: 'customerId', per_page: 'limit' },
      input: z.strictObject({
        status: z
          .enum(MF_SUBSCRIPTION_STATUSES)
          .optional()
          .describe('Filter by status: "active", "canceled", "past_due", "trialing"'),
        customerId: Id('Filter by customer (its id or external ID)').optional(),
        page: Page,
        limit: Limit(20),
      }),
      async run(ops, input) {
        const { items, total } = await listWindow(
          ops,
          'list_subscriptions',
          'subscriptions',
          input.customerId ? { customer_id: input.customerId } : {},
          input.status ? SUBSCRIPTION_STATUS_FILTERS[input.status] : [{}],
          input.page,
          input.limit,
        );
        return {
          subscriptions: await subscriptionsOut(ops, items),
          pagination: paginationOut(input.page, input.limit, total),
        };
      },
    }),
    defineTool({
      name: 'record_usage',
      title: 'Record a usage event',
      description:
        'Records one usage event of a customer using your AI agent. Three shapes: an LLM call (model + modelProvider + inputTokens + outputTokens), a non-LLM service (model + modelProvider + quantity), or one outcome backed by several services (services[], each with its model, modelProvider and volume; top-level quantity is the signal-level count, default 1). Never both top-level model and services[], never neither. Returns the event ID, its cost in USD (costUsd, or totalCostUsd with per-service costs) and timestamp. No transaction id is needed: with usageDate Billfold derives one, so a retry is stored once; the result says how it was made. If the status is NEEDS_COST_BACKFILL or MISSING_VOLUME_DATA, do NOT re-send: the event is saved; use get_needs_attention and map_model, or fill_volume.',
      uses: ['record_usage'],
      fields: USAGE_FIELDS,
      input: UsageRecordInput,
      async run(ops, input) {
        const { event, source } = usageEventOf(input, 0, ops.now());
        const out = await ops.call('record_usage', event);
        const e = out.event;
        return recordedOut(
          {
            event_id: e.id,
            transaction_id: e.transaction_id,
            duplicate: out.duplicate,
            timestamp: e.timestamp,
            cost: e.cost,
            cost_status: e.cost_status,
            services: e.services,
            flags: e.flags,
          },
          source,
        );
      },
    }),
    defineTool({
      name: 'record_usage_batch',
      title: 'Record usage events in a batch',
      description:
        'Records 1 to 100 usage events at once, each with the fields of record_usage and its own shape (single-service or services[]). Every valid record is stored even when others fail; the result has a summary and per-record details. Records saved but not priced (NEEDS_COST_BACKFILL, MISSING_VOLUME_DATA) are flagged with saved: true — do NOT retry those; multi-service ones carry servicesStatus[] showing which service needs fixing.',
      uses: ['record_usage_batch'],
      fields: USAGE_FIELDS,
      input: z.strictObject({
        records: z
          .array(z.unknown())
          .min(1)
          .max(100)
          .meta({ items: z.toJSONSchema(UsageRecordInput, { io: 'input', unrepresentable: 'any' }) })
          .describe('An array of 1-100 usage records, each with the fields of record_usage'),
      }),
      async run(ops, input) {
        // Each record is checked on its own, so one bad record never stops the others.
        const checked = input.records.map((raw, index) => {
          const parsed = UsageRecordInput.safeParse(raw, { reportInput: true });
          if (parsed.success) return { index, record: parsed.data };
          for (const issue of parsed.error.issues)
            (issue as { path: PropertyKey[] }).path = ['records', index, ...issue.path];
          return { index, error: validationErrorFrom(parsed.error, recordsLookup).toBody() };
        });
        const valid = checked.filter((c): c is { index: number; record: UsageRecord } => 'record' in c);
        const nth = occurrences(valid.map((v) => v.record));
        const now = ops.now();
        const made = valid.map((v, i) => ({ index: v.index, ...usageEventOf(v.record, nth[i]!, now) }));
        const out = made.length
          ? await ops.call('record_usage_batch', { events: made.map((m) => m.event) })
          : { results: [] };
        const byIndex = new Map<number, Record<string, unknown>>();
        made.forEach((m, i) => {
          const r = (out.results as Row[])[i]!;
          if (!r.ok) {
            const error = renameFields(
              {
                ...r.error,
                // The batch sent only the valid records: name each by its place in `records`.
                message: String(r.error.message).replace(/^events\[\d+\]/, `records[${m.index}]`),
              },
              USAGE_FIELDS,
            );
            byIndex.set(m.index, { index: m.index, success: false, saved: false, error });
            return;
          }
          const recorded = recordedOut(r as never, m.source);
          const priced = r.cost_status === null || r.cost_status === 'PROCESSED';
          byIndex.set(m.index, {
            index: m.index,
            success: priced,
            saved: true,
            ...recorded,
            ...(!priced && r.services
              ? { servicesStatus: (r.services as Row[]).map((s) => serviceOut(s as never)) }
              : {}),
          });
        });
        for (const c of checked)
          if ('error' in c)
            byIndex.set(c.index, { index: c.index, success: false, saved: false, error: c.error });
        const results = input.records.map((_, i) => byIndex.get(i)!);
        return {
          summary: {
            total: results.length,
            succeeded: results.filter((r) => r.success).length,
            failed: results.filter((r) => !r.success).length,
            savedButNeedsAttention: results.filter((r) => !r.success && r.saved).length,
            notSaved: results.filter((r) => !r.saved).length,
            duplicates: results.filter((r) => r.duplicate === true).length,
          },
          results,
        };
      },
    }),
    defineTool({
      name: 'create_customer',
      title: 'Create a customer',
      description:
        'Creates a customer. Always set externalId (the ID you use in your own system, e.g. "acme-001"): usage events name the customer by it, and creating again with the same externalId updates that customer instead of making a duplicate (created says which).',
      uses: ['create_customer'],
      fields: { external_id: 'externalId' },
      input: z.strictObject({
        name: z.string().trim().min(1).max(255).describe('Customer’s display name, e.g. "Acme Corp"'),
        externalId: Id('Your system’s ID for this customer, e.g. "acme-001"').optional(),
        email: z.string().trim().min(1).max(254).optional().describe('Customer’s email address'),
        phone: z.string().trim().min(1).max(50).optional().describe('Customer’s phone number'),
      }),
      async run(ops, input) {
        const out = await ops.call('create_customer', {
          name: input.name,
          ...(input.externalId ? { external_id: input.externalId } : {}),
          ...(input.email ? { email: input.email } : {}),
          ...(input.phone ? { phone: input.phone } : {}),
        });
        return { customer: customerOut(out.customer), created: out.created };
      },
    }),
    defineTool({
      name: 'generate_invoice',
      title: 'Generate a draft invoice from usage',
      description:
        'Builds a draft invoice for a subscription’s billing period from its tracked usage and pricing strategies: line items and totals, ready to preview or send. Default: the current period. billingPeriodStart picks another period; with billingPeriodEnd (exclusive, or the period’s last day) it must be exactly one billing period. Generating again refreshes the same draft.',
      uses: ['generate_invoice'],
      fields: {
        customer_id: 'customerId',
        subscription_id: 'subscriptionId',
        period: 'billingPeriodStart',
        'period.from': 'billingPeriodStart',
        'period.to': 'billingPeriodEnd',
        at: 'billingPeriodStart',
      },
      input: z.strictObject({
        customerId: Id('The customer (its id or external ID)'),
        subscriptionId: Id('The subscription to bill for (its id or external ID)'),
        billingPeriodStart: DateInput.optional().describe(
          'ISO 8601 date. Defaults to the subscription’s current billing period start.',
        ),
        billingPeriodEnd: DateInput.optional().describe(
          'ISO 8601 date. Defaults to the subscription’s current billing period end.',
        ),
      }),
      async run(ops, input) {
        const base = { customer_id: input.customerId, subscription_id: input.subscriptionId };
        const { billingPeriodStart: start, billingPeriodEnd: end } = input;
        let out: Row;
        if (start !== undefined && end !== undefined) {
          const from = dayOf(start);
          const to = dayOf(end);
          try {
            out = await ops.call('generate_invoice', { ...base, period: { from, to } });
          } catch (e) {
            // MarginFront may name the period's last day where Billfold names the day after it.
            const notAPeriod =
              e instanceof OperationFailed &&
              e.error.code === 'VALIDATION_ERROR' &&
              e.error.message.includes('is not a billing period');
            if (!notAPeriod) throw e;
            out = await ops.call('generate_invoice', { ...base, period: { from, to: endOf(to) } });
          }
        } else if (start !== undefined) {
          out = await ops.call('generate_invoice', { ...base, at: start });
        } else if (end !== undefined) {
          // The instant before an exclusive end, or within an inclusive last day: its period either way.
          out = await ops.call('generate_invoice', { ...base, at: toIso(parseInstant(end)! - 1) });
        } else {
          out = await ops.call('generate_invoice', base);
        }
        return { invoice: invoiceOut(out.invoice) };
      },
    }),
    defineTool({
      name: 'send_invoice',
      title: 'Email an invoice',
      description:
        'Emails an invoice to the customer (its PDF attached), to the customer’s stored email or recipientEmail, with an optional subject and a message shown above the invoice details. A draft is issued (finalized) first. Returns the email’s message ID and the address it was sent to.',
      uses: ['send_invoice'],
      fields: { invoice_id: 'invoiceId', recipient_email: 'recipientEmail' },
      input: z.strictObject({
        invoiceId: Id('The invoice’s id (from list_invoices, get_invoice, or generate_invoice) or number'),
        recipientEmail: z
          .string()
          .trim()
          .min(1)
          .max(254)
          .optional()
          .describe('Override the destination address'),
        subject: z.string().trim().min(1).max(255).optional().describe('Custom subject line'),
        message: z
          .string()
          .trim()
          .min(1)
          .max(5000)
          .optional()
          .describe('Optional note shown in a callout above the invoice details'),
      }),
      async run(ops, input) {
        const out = await ops.call('send_invoice', {
          invoice_id: input.invoiceId,
          ...(input.recipientEmail ? { recipient_email: input.recipientEmail } : {}),
          ...(input.subject ? { subject: input.subject } : {}),
          ...(input.message ? { message: input.message } : {}),
        });
        return {
          sent: true,
          invoiceId: out.invoice.id,
          invoiceNumber: out.invoice.number,
          status: invoiceStatus(out.invoice),
          finalized: out.finalized,
          messageId: out.delivery.message_id,
          recipientEmail: out.delivery.recipient_email,
          subject: out.delivery.subject,
          transport: out.delivery.transport,
          sentAt: out.delivery.sent_at,
        };
      },
    }),
    defineTool({
      name: 'get_needs_attention',
      title: 'Events that need attention',
      description:
        'Finds saved usage events Billfold cannot price or count: model + provider pairs not in the pricing table (fix with map_model), events missing volume (fill_volume), and signals, customers or agents that do not exist yet — each with its event count. These events ARE saved; do NOT re-send them. Default window: the last 30 days.',
      uses: ['get_needs_attention'],
      fields: WINDOW_FIELDS,
      input: z.strictObject({
        startDate: DateInput.optional().describe(
          'Only events after this date (ISO 8601); default 30 days ago',
        ),
        endDate: DateInput.optional().describe('Only events before this date (ISO 8601); default now'),
      }),
      async run(ops, input) {
        const now = ops.now();
        const from = input.startDate ?? toIso(now - 30 * 86_400_000);
        const to = input.endDate ? endOf(input.endDate) : toIso(now);
        const out = await ops.call('get_needs_attention', { from, to });
        return {
          startDate: from,
          endDate: to,
          unknownModels: (out.unknown_models as Row[]).map((m) => ({
            model: m.model,
            modelProvider: m.provider,
            eventCount: m.event_count,
          })),
          missingVolume: { eventCount: out.missing_volume.event_count },
          unknownSignals: (out.unknown_metric_codes as Row[]).map((m) => ({
            signalName: m.code,
            eventCount: m.event_count,
          })),
          unknownCustomers: (out.unknown_customers as Row[]).map((c) => ({
            customerExternalId: c.external_customer_id,
            eventCount: c.event_count,
          })),
          unknownAgents: (out.unknown_agent_codes as Row[]).map((a) => ({
            agentCode: a.agent_code,
            eventCount: a.event_count,
          })),
          invalidValues: (out.invalid_values as Row[]).map((v) => ({
            signalName: v.code,
            eventCount: v.event_count,
            exampleError: v.example_error,
          })),
          totalEvents: out.total_events,
        };
      },
    }),
    defineTool({
      name: 'map_model',
      title: 'Map an unknown model to a priced one',
      description:
        'Maps an unknown model + provider to a known one in the pricing table and backfills the cost of every event waiting for it; future events are priced at once. Name the target by targetModel + targetProvider, or by targetPricingId (an id from list_catalog_services) — one or the other. Safe to run again.',
      uses: ['map_model'],
      fields: {
        source_model: 'sourceModel',
        source_provider: 'sourceProvider',
        target_model: 'targetModel',
        target_provider: 'targetProvider',
        target_price_id: 'targetPricingId',
      },
      input: z.strictObject({
        sourceModel: Id('The unknown model name to map FROM, e.g. "gpt-4o-2024-08-06"'),
        sourceProvider: Id('The unknown provider to map FROM, e.g. "openai"'),
        targetPricingId: Id(
          'Id of the target pricing row (list_catalog_services), e.g. "openai/gpt-4o"',
        ).optional(),
        targetModel: Id('Known model name to map TO, e.g. "gpt-4o"').optional(),
        targetProvider: Id('Known provider to map TO, e.g. "openai"').optional(),
      }),
      async run(ops, input) {
        const byName = input.targetModel !== undefined || input.targetProvider !== undefined;
        if (byName === (input.targetPricingId !== undefined)) {
          throw new ProfileError(
            'VALIDATION_ERROR',
            byName
              ? 'targetPricingId cannot come with targetModel/targetProvider: give one or the other, not both'
              : 'targetPricingId or targetModel + targetProvider is required: say what to price the model as',
            { field: byName ? 'targetPricingId' : 'targetModel' },
            'e.g. targetModel "gpt-4o" and targetProvider "openai"',
          );
        }
        const out = await ops.call('map_model', {
          source_model: input.sourceModel,
          source_provider: input.sourceProvider,
          ...(input.targetModel !== undefined ? { target_model: input.targetModel } : {}),
          ...(input.targetProvider !== undefined ? { target_provider: input.targetProvider } : {}),
          ...(input.targetPricingId !== undefined ? { target_price_id: input.targetPricingId } : {}),
        });
        return {
          mappingId: out.mapping.id,
          sourceModel: out.mapping.source_model,
          sourceProvider: out.mapping.source_provider,
          targetModel: out.mapping.target_model,
          targetProvider: out.mapping.target_provider,
          targetPricingId: out.mapping.target_price_id,
          created: out.created,
          backfilledEvents: out.backfilled_events,
        };
      },
    }),
    defineTool({
      name: 'get_missing_volume',
      title: 'Events missing volume data',
      description:
        'Lists usage events saved as MISSING_VOLUME_DATA: their service is priced but they came without tokens (LLM) or quantity (non-LLM). Each row has the event ID, customer, agent, signal and what it carries, so you can fill_volume it.',
      uses: ['get_missing_volume'],
      fields: { ...WINDOW_FIELDS, per_page: 'limit' },
      input: z.strictObject({
        startDate: DateInput.optional().describe('Only events with usageDate after this (ISO 8601)'),
        endDate: DateInput.optional().describe('Only events with usageDate before this (ISO 8601)'),
        page: Page,
        limit: Limit(100),
      }),
      async run(ops, input) {
        const out = await ops.call('get_missing_volume', {
          ...(input.startDate ? { from: input.startDate } : {}),
          ...(input.endDate ? { to: endOf(input.endDate) } : {}),
          page: input.page,
          per_page: input.limit,
        });
        return {
          events: (out.events as Row[]).map((e) => eventOut(e as never)),
          pagination: paginationOut(input.page, input.limit, out.pagination.total_count),
        };
      },
    }),
    defineTool({
      name: 'fill_volume',
      title: 'Fill in missing volume',
      description:
        'Supplies the missing tokens (LLM) or quantity (non-LLM) of a MISSING_VOLUME_DATA event; the event is priced (usageCost) and becomes PROCESSED. Safe to run again: an event already PROCESSED is returned as it is. serviceIndex (from 0) picks the service of a multi-service event when more than one lacks volume.',
      uses: ['fill_volume'],
      fields: {
        event_id: 'eventId',
        input_tokens: 'inputTokens',
        output_tokens: 'outputTokens',
        service_index: 'serviceIndex',
      },
      input: z.strictObject({
        eventId: Id('Id of the incomplete event (or its transaction id)'),
        inputTokens: z.int().min(0).optional().describe('LLM input tokens (for LLM events missing this)'),
        outputTokens: z.int().min(0).optional().describe('LLM output tokens (for LLM events missing this)'),
        quantity: z
          .union([z.number().min(0), z.string().trim().min(1)])
          .optional()
          .describe('Non-LLM quantity (for non-LLM events missing this)'),
        serviceIndex: z
          .int()
          .min(0)
          .optional()
          .describe('Billfold: which service of a multi-service event, from 0'),
      }),
      async run(ops, input) {
        const out = await ops.call('fill_volume', {
          event_id: input.eventId,
          ...(input.inputTokens !== undefined ? { input_tokens: input.inputTokens } : {}),
          ...(input.outputTokens !== undefined ? { output_tokens: input.outputTokens } : {}),
          ...(input.quantity !== undefined ? { quantity: input.quantity } : {}),
          ...(input.serviceIndex !== undefined ? { service_index: input.serviceIndex } : {}),
        });
        return { event: eventOut(out.event), changed: out.changed };
      },
    }),
    defineTool({
      name: 'get_customer_revenue',
      title: 'Revenue, cost and margin of a customer',
      description:
        'Revenue, cost and margin for one customer over a date range: revenue per currency (issued invoices net of discounts and credit notes, before tax) split into usage, recurring, seat and onetime; cost (USD) of their usage events; margin = revenue − cost in USD (null when the customer was not invoiced in USD). A bare endDate includes that day.',
      uses: ['get_customer_revenue'],
      fields: { ...WINDOW_FIELDS, customer_id: 'customerId' },
      input: z.strictObject({
        customerId: Id('The customer (its id or external ID)'),
        startDate: DateInput.describe('Window start (ISO 8601)'),
        endDate: DateInput.describe('Window end (ISO 8601)'),
      }),
      async run(ops, input) {
        const out = await ops.call('get_customer_revenue', {
          customer_id: input.customerId,
          from: input.startDate,
          to: endOf(input.endDate),
        });
        return {
          customerId: out.customer_id,
          customerExternalId: out.external_customer_id,
          startDate: out.from,
          endDate: out.to,
          revenue: (out.revenue as Row[]).map((r) => ({
            currency: r.currency,
            revenue: r.revenue,
            revenueCents: r.revenue_cents,
            invoiceCount: r.invoice_count,
            credited: r.credited,
            byType: byTypeOut(r.by_type),
          })),
          cost: out.cost,
          costCents: out.cost_cents,
          costCurrency: out.cost_currency,
          unpricedEventCount: out.unpriced_event_count,
          margin: out.margin,
          marginCents: out.margin_cents,
          marginPercent: out.margin_percent,
        };
      },
    }),
    defineTool({
      name: 'get_cost_metrics',
      title: 'Cost breakdown',
      description:
        'The cost (USD) of usage over a date range, for the organization or one customer or agent: total, event count, and breakdowns byAgent, byCustomer, bySignal, byDay, byPlan and byModel. byPlan counts each event for the plan of the subscription it bills against (the customer’s, or the agent’s when scoped to one, active at the event’s time; key: the plan id), and usage of no subscription under key null. includePriorWindow adds the preceding window of the same length and the change.',
      uses: ['get_cost_metrics', 'get_agent'],
      fields: {
        ...WINDOW_FIELDS,
        customer_id: 'customerId',
        agent_id: 'agentId',
        agent_code: 'agentId',
        include_prior_window: 'includePriorWindow',
      },
      input: z.strictObject({
        startDate: DateInput.describe('Window start (ISO 8601)'),
        endDate: DateInput.describe('Window end (ISO 8601)'),
        customerId: Id('Filter to a single customer (its id or external ID)').optional(),
        agentId: Id('Filter to a single agent (its id or code)').optional(),
        includePriorWindow: z
          .boolean()
          .optional()
          .describe('Compute prior-period cost + trend delta for the same window length'),
      }),
      async run(ops, input) {
        const agent = await agentCode(ops, input.agentId);
        const out = await ops.call('get_cost_metrics', {
          from: input.startDate,
          to: endOf(input.endDate),
          ...(input.customerId ? { customer_id: input.customerId } : {}),
          ...(agent ? { agent_code: agent } : {}),
          ...(input.includePriorWindow !== undefined
            ? { include_prior_window: input.includePriorWindow }
            : {}),
        });
        return {
          startDate: out.from,
          endDate: out.to,
          customerId: out.customer_id,
          agentCode: out.agent_code,
          timezone: out.timezone,
          ...totalsOut(out.totals),
          byAgent: (out.by_agent as Row[]).map(bucketOut),
          byCustomer: (out.by_customer as Row[]).map(bucketOut),
          bySignal: (out.by_metric as Row[]).map(bucketOut),
          byDay: (out.by_day as Row[]).map(bucketOut),
          byPlan: (out.by_plan as Row[]).map(bucketOut),
          byModel: (out.by_model as Row[]).map(bucketOut),
          prior: out.prior
            ? {
                startDate: out.prior.from,
                endDate: out.prior.to,
                ...totalsOut(out.prior.totals),
                costChange: out.prior.cost_change,
                costChangePercent: out.prior.cost_change_percent,
              }
            : null,
        };
      },
    }),
    defineTool({
      name: 'get_mrr',
      title: 'Monthly recurring revenue',
      description:
        'Monthly Recurring Revenue per currency, in one of three variants: canonical (default; the last completed month’s subscription invoicing), runRate (the last 30 days projected to a month), committed (the contractual floor of active subscriptions), with the breakdown by revenue type (usage, recurring, seat, onetime). Filter by customerId or subscriptionId.',
      uses: ['get_mrr'],
      fields: { customer_id: 'customerId', subscription_id: 'subscriptionId' },
      input: z.strictObject({
        variant: z
          .enum(['canonical', 'runRate', 'committed'])
          .default('canonical')
          .describe('One of: canonical (default), runRate, committed'),
        customerId: Id('Filter to a single customer (its id or external ID)').optional(),
        subscriptionId: Id('Filter to a single subscription (its id or external ID)').optional(),
      }),
      async run(ops, input) {
        const out = await ops.call('get_mrr', {
          variant: input.variant === 'runRate' ? 'run_rate' : input.variant,
          ...(input.customerId ? { customer_id: input.customerId } : {}),
          ...(input.subscriptionId ? { subscription_id: input.subscriptionId } : {}),
        });
        return {
          variant: input.variant,
          customerId: out.customer_id,
          subscriptionId: out.subscription_id,
          periodStart: out.from,
          periodEnd: out.to,
          mrr: (out.currencies as Row[]).map((c) => ({
            currency: c.currency,
            mrr: c.mrr,
            mrrCents: c.mrr_cents,
            subscriptionCount: c.subscription_count,
            byType: byTypeOut(c.by_type),
          })),
        };
      },
    }),
    defineTool({
      name: 'create_pricing_plan',
      title: 'Create a pricing plan',
      description:
        'Creates a pricing plan (a container for pricing strategies), optionally scoped to an agent, billed monthly unless billingCycle says yearly, in the organization’s currency. Its code comes from its name (and the agent’s code): creating it again with the same name, description and agent returns the same plan (created: false). Add pricing with create_pricing_strategy.',
      uses: ['create_plan', 'get_agent', 'attach_plan_to_agent'],
      fields: { code: 'name', interval: 'billingCycle', agent_id: 'agentId' },
      input: z.strictObject({
        name: z.string().trim().min(1).max(255).describe('Display name, e.g. "Growth Plan"'),
        description: z.string().trim().min(1).max(1000).optional().describe('What the plan covers'),
        agentId: Id('The agent this plan is scoped to (its id or code); leave empty for org-wide').optional(),
        billingCycle: z
          .enum(BILLING_CYCLES)
          .default('monthly')
          .describe(
            'Billfold: the plan’s billing cycle, monthly (default) or yearly; subscriptions follow it',
          ),
      }),
      async run(ops, input) {
        const agent = input.agentId ? (await ops.call('get_agent', { agent_id: input.agentId })).agent : null;
        const code = planCodeOf(input.name, agent?.code);
        const out = await ops.call('create_plan', {
          code,
          name: input.name,
          ...(input.description ? { description: input.description } : {}),
          interval: input.billingCycle,
          amount: '0',
        });
        let plan = out.plan;
        if (agent)
          plan = (await ops.call('attach_plan_to_agent', { plan_code: code, agent_id: agent.id })).plan;
        return { plan: planOut(plan, []), created: out.created };
      },
    }),
    defineTool({
      name: 'list_pricing_plans',
      title: 'List pricing plans',
      description:
        'Lists every pricing plan of the organization, optionally only those attached to an agent, each with its pricing strategies.',
      uses: ['list_plans', 'list_pricing_strategies'],
      fields: { agent_id: 'agentId' },
      input: z.strictObject({
        agentId: Id('Only plans attached to this agent (its id or code)').optional(),
      }),
      async run(ops, input) {
        const plans = await listAll(
          ops,
          'list_plans',
          'plans',
          input.agentId ? { agent_id: input.agentId } : {},
        );
        const out = [];
        for (const p of plans) {
          const { strategies } = await ops.call('list_pricing_strategies', { plan_code: p.id });
          out.push(planOut(p as never, strategies));
        }
        return { plans: out };
      },
    }),
    defineTool({
      name: 'get_pricing_plan',
      title: 'Get a pricing plan',
      description:
        'Returns one pricing plan with every pricing strategy: chargeType, pricingModel, rate, tiers, credit pool and minimum commitment. planId is its id (plan_…) or code.',
      uses: ['get_plan', 'list_pricing_strategies'],
      fields: { plan_code: 'planId' },
      input: z.strictObject({ planId: Id('The plan (its id plan_… or code)') }),
      async run(ops, input) {
        const { plan } = await ops.call('get_plan', { plan_code: input.planId });
        const { strategies } = await ops.call('list_pricing_strategies', { plan_code: plan.id });
        return { plan: planOut(plan, strategies) };
      },
    }),
    defineTool({
      name: 'create_pricing_strategy',
      title: 'Create a pricing strategy',
      description:
        'Adds a pricing strategy to a plan: for a signal, charge this way. chargeType usage or seat_based prices the signal (pricingModel flat: rate per unit; tiered or volume: tiers [{upTo, rate}], the last upTo null; credit_pool: includedCredits, creditsPerUnit, rate per credit beyond the pool); recurring sets the plan’s recurring fee to rate and onetime its one-time fee (both flat; they price the plan, not the signal). minimumCommitment is a minimum in units per period.',
      uses: ['create_pricing_strategy', 'get_billable_metric'],
      fields: {
        plan_code: 'planId',
        billable_metric_code: 'signalId',
        code: 'signalId',
        charge_type: 'chargeType',
        pricing_model: 'pricingModel',
        up_to: 'upTo',
        flat_amount: 'flatAmount',
        included_credits: 'includedCredits',
        credits_per_unit: 'creditsPerUnit',
        minimum_commitment: 'minimumCommitment',
      },
      input: z.strictObject({
        planId: Id('Parent plan (its id plan_… or code)'),
        signalId: Id('Signal (billable metric) this strategy applies to: its id bm_… or code'),
        chargeType: z
          .enum(['usage', 'recurring', 'seat_based', 'onetime'])
          .describe('One of: usage, recurring, seat_based, onetime'),
        pricingModel: z
          .enum(['flat', 'tiered', 'volume', 'credit_pool'])
          .describe('One of: flat, tiered, volume, credit_pool (only applies to usage)'),
        rate: z
          .union([z.number(), z.string().trim().min(1)])
          .describe(
            'Per-unit rate in dollars (for flat + recurring + seat_based + onetime; per credit for credit_pool)',
          ),
        tiers: z
          .array(
            z.strictObject({
              upTo: z
                .union([z.number(), z.string().trim().min(1), z.null()])
                .describe('Last unit of the tier; null: no limit'),
              rate: z.union([z.number(), z.string().trim().min(1)]).describe('Per-unit rate in the tier'),
              flatAmount: z.union([z.number(), z.string().trim().min(1)]).optional(),
            }),
          )
          .min(1)
          .max(100)
          .optional()
          .describe('Tier config for tiered/volume (array of {upTo, rate} objects)'),
        minimumCommitment: z
          .union([z.number(), z.string().trim().min(1)])
          .optional()
          .describe('Minimum number of units/seats committed (floor)'),
        includedCredits: z
          .union([z.number(), z.string().trim().min(1)])
          .optional()
          .describe('Billfold, credit_pool: credits included per period'),
        creditsPerUnit: z
          .union([z.number(), z.string().trim().min(1)])
          .optional()
          .describe('Billfold, credit_pool: credits one unit draws (default 1)'),
      }),
      async run(ops, input) {
        const fee = input.chargeType === 'recurring' || input.chargeType === 'onetime';
        const tiered = input.pricingModel === 'tiered' || input.pricingModel === 'volume';
        // A fee prices the plan, not a signal; tiers carry their own rates: those inputs are unused.
        const metric = fee ? undefined : await signalCode(ops, input.signalId);
        const out = await ops.call('create_pricing_strategy', {
          plan_code: input.planId,
          ...(metric ? { billable_metric_code: metric } : {}),
          charge_type: input.chargeType,
          pricing_model: input.pricingModel,
          ...(tiered && input.tiers ? {} : { rate: input.rate }),
          ...(input.tiers
            ? {
                tiers: input.tiers.map((t) => ({
                  up_to: t.upTo,
                  rate: t.rate,
                  ...(t.flatAmount !== undefined ? { flat_amount: t.flatAmount } : {}),
                })),
              }
            : {}),
          ...(input.minimumCommitment !== undefined ? { minimum_commitment: input.minimumCommitment } : {}),
          ...(input.includedCredits !== undefined ? { included_credits: input.includedCredits } : {}),
          ...(input.creditsPerUnit !== undefined ? { credits_per_unit: input.creditsPerUnit } : {}),
        });
        const unused = [fee ? 'signalId' : null, tiered && input.tiers ? 'rate' : null].filter(Boolean);
        return {
          strategy: strategyOut(out.strategy),
          strategies: (out.strategies as Row[]).map((s) => strategyOut(s as never)),
          ...(unused.length
            ? {
                note: `${unused.join(' and ')} ${unused.length > 1 ? 'were' : 'was'} not used: ${fee ? `a ${input.chargeType} strategy is the plan's own fee, for no one signal` : ''}${fee && unused.length > 1 ? '; ' : ''}${tiered && input.tiers ? 'tiers carry their own rates' : ''}.`,
              }
            : {}),
        };
      },
    }),
    defineTool({
      name: 'list_pricing_strategies',
      title: 'List a plan’s pricing strategies',
      description:
        'Lists every pricing strategy of a plan: its recurring and one-time fees and each signal’s pricing.',
      uses: ['list_pricing_strategies'],
      fields: { plan_code: 'planId' },
      input: z.strictObject({ planId: Id('The plan (its id plan_… or code)') }),
      async run(ops, input) {
        const out = await ops.call('list_pricing_strategies', { plan_code: input.planId });
        return {
          planCode: out.plan_code,
          strategies: (out.strategies as Row[]).map((s) => strategyOut(s as never)),
        };
      },
    }),
    defineTool({
      name: 'attach_plan_to_agent',
      title: 'Attach a pricing plan to an agent',
      description:
        'Attaches an existing pricing plan to an agent; an agent can be attached to several plans (each pricing different customer tiers). Attaching again changes nothing.',
      uses: ['attach_plan_to_agent'],
      fields: { plan_code: 'planId', agent_id: 'agentId' },
      input: z.strictObject({
        planId: Id('Plan to attach (its id plan_… or code)'),
        agentId: Id('Agent to attach to (its id agt_… or code)'),
      }),
      async run(ops, input) {
        const out = await ops.call('attach_plan_to_agent', {
          plan_code: input.planId,
          agent_id: input.agentId,
        });
        return {
          planId: out.plan.id,
          planCode: out.plan.code,
          agentCode: out.agent_code,
          attached: out.attached,
          agentCodes: out.plan.agent_codes,
        };
      },
    }),
    defineTool({
      name: 'create_subscription',
      title: 'Create a subscription',
      description:
        'Creates a subscription tying a customer to an agent and a pricing plan: events of that customer and agent then bill against the plan’s strategies. billingCycle must be the plan’s (create_pricing_plan sets it, monthly by default); billingModel (usage, recurring, seat_based, hybrid) must be what the plan’s strategies make it. startDate defaults to now.',
      uses: ['get_plan', 'create_subscription'],
      fields: {
        customer_id: 'customerId',
        agent_id: 'agentId',
        plan_code: 'planId',
        billing_model: 'billingModel',
        started_at: 'startDate',
      },
      input: z.strictObject({
        name: z.string().trim().min(1).max(255).describe('Display name (e.g. "Acme Corp: Growth Plan")'),
        customerId: Id('The customer (its id or external ID)'),
        agentId: Id('The agent (its id or code)'),
        planId: Id('The pricing plan (its id plan_… or code)'),
        billingCycle: z.enum(BILLING_CYCLES).describe('One of: monthly, yearly'),
        billingModel: z
          .enum(['usage', 'recurring', 'seat_based', 'hybrid'])
          .describe('One of: usage, recurring, seat_based, hybrid'),
        startDate: DateInput.optional().describe('When the subscription becomes active (defaults to now)'),
      }),
      async run(ops, input) {
        const { plan } = await ops.call('get_plan', { plan_code: input.planId });
        if (plan.interval !== input.billingCycle) {
          throw new ProfileError(
            'VALIDATION_ERROR',
            `billingCycle must be ${plan.interval}, the billing cycle of plan '${plan.name}' (got '${input.billingCycle}')`,
            { field: 'billingCycle', plan_billing_cycle: plan.interval },
            `In Billfold the billing cycle belongs to the plan: subscribe with billingCycle ${plan.interval}, or create a ${input.billingCycle} plan (create_pricing_plan with billingCycle ${input.billingCycle}).`,
          );
        }
        const out = await ops.call('create_subscription', {
          name: input.name,
          customer_id: input.customerId,
          agent_id: input.agentId,
          plan_code: plan.code,
          billing_model: input.billingModel,
          ...(input.startDate ? { started_at: input.startDate } : {}),
        });
        return {
          subscription: subscriptionOut(out.subscription, plan as PlanInfo),
          created: out.created,
        };
      },
    }),
    defineTool({
      name: 'create_portal_session',
      title: 'Create a customer portal link',
      description:
        'Mints a one-time portal link where a customer sees their own billing (invoices, subscriptions, usage, profile). The URL is good for one hour and is used up when the customer opens it. Name the customer by customerId or customerExternalId. Returns the session ID, the URL to send, the token, the customer and the expiry; the URL and token are shown only now.',
      uses: ['get_customer', 'create_portal_session'],
      fields: { customer_id: 'customerId', return_url: 'returnUrl' },
      input: z.strictObject({
        customerId: Id('The customer’s id (cus_…)').optional(),
        customerExternalId: Id('Your system’s customer ID').optional(),
        returnUrl: z
          .string()
          .trim()
          .min(1)
          .max(2048)
          .optional()
          .describe('Your site, shown as a "back" link'),
        features: z
          .array(z.enum(['invoices', 'subscriptions', 'usage', 'profile']))
          .min(1)
          .optional()
          .describe(
            'Subset of ["invoices", "subscriptions", "usage", "profile"]: the pages the link opens (default all four)',
          ),
      }),
      async run(ops, input) {
        oneOf(['customerId', input.customerId], ['customerExternalId', input.customerExternalId]);
        let customer = input.customerId ?? input.customerExternalId!;
        if (input.customerId && input.customerExternalId) {
          const [a, b] = await Promise.all([
            ops.call('get_customer', { customer_id: input.customerId }),
            ops.call('get_customer', { customer_id: input.customerExternalId }).catch((e: unknown) => {
              if (e instanceof OperationFailed)
                throw new OperationFailed(
                  e.operation,
                  renameFields(e.error, { customer_id: 'customerExternalId' }),
                );
              throw e;
            }),
          ]);
          if (a.customer.id !== b.customer.id) {
            throw new ProfileError(
              'VALIDATION_ERROR',
              `customerExternalId '${input.customerExternalId}' is another customer than customerId '${input.customerId}': give one of them`,
              { field: 'customerExternalId' },
            );
          }
          customer = a.customer.id;
        }
        const out = await ops.call('create_portal_session', {
          customer_id: customer,
          ...(input.returnUrl ? { return_url: input.returnUrl } : {}),
          ...(input.features ? { features: input.features } : {}),
        });
        return { ...portalSessionOut(out.portal_session), url: out.url, token: out.token };
      },
    }),
    defineTool({
      name: 'get_portal_session',
      title: 'Get a portal session',
      description:
        'Looks up one portal session: customer, expiry, and whether the link was opened (redeemed) or has expired. Never the token or URL, which are shown only at creation.',
      uses: ['get_portal_session'],
      fields: { portal_session_id: 'sessionId' },
      input: z.strictObject({ sessionId: Id('The portal session ID returned from create_portal_session') }),
      async run(ops, input) {
        const out = await ops.call('get_portal_session', { portal_session_id: input.sessionId });
        return { session: portalSessionOut(out.portal_session) };
      },
    }),
    defineTool({
      name: 'list_portal_sessions',
      title: 'List portal sessions',
      description:
        'Lists portal sessions, newest first, without their tokens. By default only links that still give access; includeExpired adds expired, used-up and revoked ones.',
      uses: ['list_portal_sessions'],
      fields: { customer_id: 'customerId', include_expired: 'includeExpired', per_page: 'limit' },
      input: z.strictObject({
        customerId: Id('Filter to one customer’s sessions (its id or external ID)').optional(),
        limit: z.int().min(1).max(100).default(10).describe('Max results (1-100, default 10)'),
        includeExpired: z
          .boolean()
          .default(false)
          .describe('Set true to include expired or already-used sessions'),
      }),
      async run(ops, input) {
        const out = await ops.call('list_portal_sessions', {
          ...(input.customerId ? { customer_id: input.customerId } : {}),
          include_expired: input.includeExpired,
          page: 1,
          per_page: input.limit,
        });
        return {
          sessions: (out.portal_sessions as Row[]).map((s) => portalSessionOut(s as never)),
          total: out.pagination.total_count,
          hasMore: out.pagination.next_page !== null,
        };
      },
    }),
    defineTool({
      name: 'revoke_portal_session',
      title: 'Revoke a portal session',
      description:
        'Immediately invalidates a portal link: unopened, it no longer opens; opened, its browser session ends on the next page. Billfold keeps the session on record with status revoked (rather than deleting it), so list_portal_sessions with includeExpired still shows it. Revoking again changes nothing.',
      uses: ['revoke_portal_session'],
      fields: { portal_session_id: 'sessionId' },
      input: z.strictObject({ sessionId: Id('The portal session ID to revoke') }),
      async run(ops, input) {
        const out = await ops.call('revoke_portal_session', { portal_session_id: input.sessionId });
        return { revoked: true, changed: out.changed, session: portalSessionOut(out.portal_session) };
      },
    }),
    defineTool({
      name: 'list_catalog_services',
      title: 'Browse the service price catalog',
      description:
        'Browses the price catalog of LLMs and non-LLM services Billfold can cost (your own prices first): filter by provider, serviceType, isApi or search to find the canonicalName (send it as model) and provider (send it as modelProvider) for record_usage, so the cost resolves at once. Costs are USD: per million tokens for LLMs (inputCost, outputCost), per costUnit for API services.',
      uses: ['list_catalog_services'],
      fields: { service_type: 'serviceType', is_api: 'isApi', per_page: 'limit' },
      input: z.strictObject({
        provider: z
          .string()
          .trim()
          .min(1)
          .max(200)
          .optional()
          .describe('Lowercase provider name, e.g. "openai", "anthropic", "google", "twilio"'),
        serviceType: z
          .string()
          .trim()
          .min(1)
          .max(200)
          .optional()
          .describe('Category, e.g. "LLM", "Embeddings", "Web Search", "SMS"'),
        isApi: z
          .boolean()
          .optional()
          .describe('true: only non-LLM API entries; false: LLM only; omit for both'),
        search: z
          .string()
          .trim()
          .min(1)
          .max(200)
          .optional()
          .describe('Case-insensitive search across canonicalName and displayName'),
        page: Page,
        limit: Limit(50),
      }),
      async run(ops, input) {
        const out = await ops.call('list_catalog_services', {
          ...(input.provider ? { provider: input.provider } : {}),
          ...(input.serviceType ? { service_type: input.serviceType } : {}),
          ...(input.isApi !== undefined ? { is_api: input.isApi } : {}),
          ...(input.search ? { search: input.search } : {}),
          page: input.page,
          per_page: input.limit,
        });
        return {
          services: (out.services as Row[]).map((s) => ({
            id: s.id,
            canonicalName: s.canonical_name,
            displayName: s.display_name,
            provider: s.provider,
            serviceType: s.service_type,
            isApi: s.is_api,
            inputCost: s.is_api ? s.unit_price : s.input_price_per_million,
            outputCost: s.is_api ? null : s.output_price_per_million,
            costUnit: s.is_api ? s.unit : '1M tokens',
            contextWindow: s.context_window,
            currency: s.currency,
            source: s.source,
          })),
          pricesAsOf: out.prices_as_of,
          pagination: paginationOut(input.page, input.limit, out.pagination.total_count),
        };
      },
    }),
  ],
};
