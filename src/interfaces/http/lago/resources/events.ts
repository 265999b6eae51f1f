import { lagoId } from '../ids.js';
import { meta, type LagoCall } from '../call.js';
import { invalidFields, LagoError } from '../errors.js';
import { Fields } from '../request.js';
import type { LagoRoute } from '../router.js';
import { lagoTime } from '../shapes.js';

/** Lago's event body as a Billfold usage event (record_usage's input). */
function eventInput(f: Fields): Record<string, unknown> {
  const e: Record<string, unknown> = {};
  f.copy(e, 'transaction_id');
  f.copy(e, 'external_subscription_id');
  f.copy(e, 'external_customer_id', 'customer_id');
  f.copy(e, 'code');
  f.copy(e, 'timestamp');
  f.copy(e, 'properties');
  if (e.properties === null) delete e.properties;
  // Lago's dynamic charge model prices an event by the amount it carries; Billfold has none.
  f.inert('precise_total_amount_cents');
  f.done();
  return e;
}

/**
 * The batch's hot path: an event with only Lago's plain fields is mapped without the field
 * reader; anything else (an unknown field, a dynamic amount) goes through eventInput, which
 * words the refusal.
 */
function fastEventInput(raw: Record<string, unknown>, path: string): Record<string, unknown> {
  const e: Record<string, unknown> = {};
  for (const k in raw) {
    const v = raw[k];
    switch (k) {
      case 'transaction_id':
      case 'external_subscription_id':
      case 'code':
      case 'timestamp':
        if (v !== undefined) e[k] = v;
        break;
      case 'properties':
        if (v !== undefined && v !== null) e.properties = v;
        break;
      case 'external_customer_id':
        if (v !== undefined) e.customer_id = v;
        break;
      case 'precise_total_amount_cents':
        if (v === undefined || v === null) break;
        return eventInput(new Fields(raw, path));
      default:
        return eventInput(new Fields(raw, path));
    }
  }
  return e;
}

const NAMES = { customer_id: 'external_customer_id' };

export function eventObject(e: Record<string, any>): Record<string, unknown> {
  return {
    lago_id: lagoId(e.id),
    transaction_id: e.transaction_id,
    lago_customer_id: lagoId(e.customer_id),
    external_customer_id: e.external_customer_id,
    code: e.code,
    timestamp: lagoTime(e.timestamp),
    precise_total_amount_cents: null,
    properties: e.properties,
    lago_subscription_id: null,
    external_subscription_id: e.external_subscription_id,
    created_at: lagoTime(e.created_at),
  };
}

export const eventRoutes: LagoRoute[] = [
  {
    method: 'POST',
    path: '/events',
    async handle(call) {
      const input = eventInput(Fields.root(call.body, 'event'));
      const { event } = await call.op('record_usage', input, 'event', NAMES);
      return { event: eventObject(event) };
    },
  },
  {
    method: 'POST',
    path: '/events/batch',
    async handle(call) {
      const root = (call.body ?? {}) as Record<string, unknown>;
      const list = root.events;
      if (!Array.isArray(list) || list.length === 0)
        throw new LagoError(
          400,
          undefined,
          'param is missing or the value is empty: events',
          undefined,
          'Send {"events": [{…}, …]}.',
        );
      for (const k of Object.keys(root))
        if (k !== 'events') throw invalidFields({ [k]: 'unknown field beside events' });
      const events = list.map((item, i) => {
        if (!item || typeof item !== 'object' || Array.isArray(item))
          throw invalidFields({ [`events[${i}]`]: 'must be an object' });
        return fastEventInput(item as Record<string, unknown>, `events[${i}]`);
      });
      // One operation for the whole batch: the same path, idempotency and speed as
      // record_usage_batch.
      const out = await call.op<{ results: Array<Record<string, any>> }>(
        'record_usage_batch',
        { events },
        'event',
        NAMES,
      );
      const failed = out.results.filter((r) => !r.ok);
      if (failed.length) {
        const details: Record<string, unknown> = {};
        for (const r of failed) {
          const issues =
            (r.error?.details?.issues as Array<{ field: string; message: string }> | undefined) ?? [];
          details[String(r.index)] = issues.length
            ? Object.fromEntries(issues.map((i) => [NAMES[i.field as 'customer_id'] ?? i.field, [i.message]]))
            : { base: [r.error?.message ?? 'failed'] };
        }
        throw new LagoError(
          422,
          'validation_errors',
          `${failed.length} of ${out.results.length} events were refused (${failed
            .slice(0, 3)
            .map((r) => `#${r.index}: ${r.error?.message}`)
            .join('; ')}); the others were recorded`,
          details,
          'Fix the refused events and send the batch again: events already recorded are recognized by transaction_id and not counted twice.',
        );
      }
      const now = lagoTime(new Date(call.rt.now()).toISOString());
      return {
        events: out.results.map((r, i) => ({
          lago_id: lagoId(r.event_id as string),
          transaction_id: r.transaction_id,
          lago_customer_id: null,
          external_customer_id: events[i]!.customer_id ?? null,
          code: events[i]!.code,
          timestamp: lagoTime(r.timestamp as string),
          precise_total_amount_cents: null,
          properties: events[i]!.properties ?? {},
          lago_subscription_id: null,
          external_subscription_id: events[i]!.external_subscription_id ?? null,
          created_at: now,
        })),
      };
    },
  },
  {
    method: 'GET',
    path: '/events/{transaction_id}',
    async handle(call, [transactionId]) {
      call.query.done();
      const { event } = await call.op('get_event', { event_id: transactionId }, 'event');
      return { event: eventObject(event) };
    },
  },
  {
    method: 'GET',
    path: '/events',
    async handle(call: LagoCall) {
      const q = call.query;
      const args: Record<string, unknown> = { ...q.page() };
      const code = q.str('code');
      if (code) args.code = code;
      const customer = q.str('external_customer_id');
      if (customer) args.customer_id = customer;
      const from = q.str('timestamp_from');
      if (from) args.from = from;
      const to = q.str('timestamp_to');
      if (to) args.to = to;
      const sub = q.str('external_subscription_id');
      if (sub) args.external_subscription_id = sub;
      q.inert('timestamp_from_started_at', 'false');
      q.done();
      const out = await call.op('list_events', args, 'event', {
        customer_id: 'external_customer_id',
        from: 'timestamp_from',
        to: 'timestamp_to',
      });
      return { events: out.events.map(eventObject), meta: meta(out.pagination) };
    },
  },
];
