import type { ActivityInput } from '../activity.js';

/**
 * The events Billfold sends to webhook endpoints, and where each comes from. Most are a change
 * someone made: they are derived from the change's activity entry (so every service that records
 * its changes produces its events without knowing about webhooks). The rest are the scheduler
 * noticing something no request did — a due date passing, a trial ending, usage crossing an
 * alert's threshold — and it records an activity entry for those too.
 *
 * Every payload's `data` holds one object under its name, as the get_ operation of that name
 * returns it: `{ invoice: {...} }` for invoice.*, `{ customer: {...} }` for customer.*.
 */

export interface EventTypeDefinition {
  type: string;
  /** The key of `data` and the kind of object it holds. */
  object: string;
  /** change: a request changed something; schedule: Billfold noticed a date or a threshold. */
  source: 'change' | 'schedule';
  description: string;
}

export const EVENT_TYPES: readonly EventTypeDefinition[] = [
  { type: 'customer.created', object: 'customer', source: 'change', description: 'A customer was created.' },
  {
    type: 'customer.updated',
    object: 'customer',
    source: 'change',
    description: 'A customer changed: its fields, or its status (disabled, activated).',
  },
  {
    type: 'customer.deleted',
    object: 'customer',
    source: 'change',
    description: 'A customer was deleted; data holds it as it was.',
  },
  {
    type: 'invoice.created',
    object: 'invoice',
    source: 'change',
    description: 'An invoice was created (a draft, or finalized at once), by a request or by a billing run.',
  },
  {
    type: 'invoice.updated',
    object: 'invoice',
    source: 'change',
    description: "A draft invoice's lines or fields, or an invoice's metadata, changed.",
  },
  {
    type: 'invoice.finalized',
    object: 'invoice',
    source: 'change',
    description: 'An invoice was finalized: it has its number and its amounts are final.',
  },
  {
    type: 'invoice.sent',
    object: 'invoice',
    source: 'change',
    description: 'An invoice was emailed to the customer.',
  },
  {
    type: 'invoice.paid',
    object: 'invoice',
    source: 'change',
    description: 'A payment brought what is due on an invoice to zero.',
  },
  {
    type: 'invoice.payment_overdue',
    object: 'invoice',
    source: 'schedule',
    description: 'A finalized invoice still has money due after its due date (sent once per invoice).',
  },
  {
    type: 'invoice.voided',
    object: 'invoice',
    source: 'change',
    description: 'A finalized invoice was voided.',
  },
  {
    type: 'invoice.deleted',
    object: 'invoice',
    source: 'change',
    description: 'A draft invoice was deleted; data holds it as it was.',
  },
  {
    type: 'credit_note.created',
    object: 'credit_note',
    source: 'change',
    description: 'A credit note was issued against an invoice.',
  },
  {
    type: 'credit_note.voided',
    object: 'credit_note',
    source: 'change',
    description: 'A credit note was voided.',
  },
  {
    type: 'payment.created',
    object: 'payment',
    source: 'change',
    description: 'A payment was recorded against an invoice (partial or in full).',
  },
  {
    type: 'subscription.created',
    object: 'subscription',
    source: 'change',
    description: 'A subscription was created (it may start later: see subscription.started).',
  },
  {
    type: 'subscription.started',
    object: 'subscription',
    source: 'change',
    description:
      'A subscription became active: at creation, at its start date, or as the continuation of a plan change.',
  },
  {
    type: 'subscription.updated',
    object: 'subscription',
    source: 'change',
    description:
      'A subscription changed without ending: its name, end date, overrides or a scheduled downgrade.',
  },
  {
    type: 'subscription.trial_ended',
    object: 'subscription',
    source: 'schedule',
    description: "An active subscription's free trial ended (sent once per subscription).",
  },
  {
    type: 'subscription.usage_threshold_reached',
    object: 'subscription',
    source: 'schedule',
    description:
      "A subscription's usage in its period reached a usage threshold of its plan: a progressive_billing invoice (invoice.created) bills it (once per threshold and period).",
  },
  {
    type: 'subscription.terminated',
    object: 'subscription',
    source: 'change',
    description:
      'A subscription ended: terminated, reached its ending_at, or replaced by a plan change (a subscription.started follows for the new plan).',
  },
  {
    type: 'subscription.canceled',
    object: 'subscription',
    source: 'change',
    description: 'A subscription that had not started yet was canceled.',
  },
  {
    type: 'usage.needs_attention',
    object: 'needs_attention',
    source: 'change',
    description:
      'A batch of usage stored events without a cost (an unknown model, or tokens or quantity missing): one event per batch, with its count; get_needs_attention shows what to fix.',
  },
  {
    type: 'usage.threshold_reached',
    object: 'usage_alert',
    source: 'schedule',
    description:
      "A usage alert's threshold was reached in the current period (sent once per alert and period).",
  },
  {
    type: 'wallet.created',
    object: 'wallet',
    source: 'change',
    description:
      'A prepaid wallet was created (its first top-up follows as wallet_transaction.created events).',
  },
  {
    type: 'wallet.updated',
    object: 'wallet',
    source: 'change',
    description:
      "A wallet's name, priority, expiration, invoice_requires_payment or recurring top-up rules changed.",
  },
  {
    type: 'wallet.terminated',
    object: 'wallet',
    source: 'change',
    description: 'A wallet ended: terminated, or its expiration_at came (its credits can no longer be used).',
  },
  {
    type: 'wallet_transaction.created',
    object: 'wallet_transaction',
    source: 'change',
    description:
      'Credits moved: a top-up (purchased: pending until its invoice is paid; granted: settled), by a request or a recurring rule, or an invoice paid from the wallet at finalization (outbound).',
  },
  {
    type: 'wallet_transaction.updated',
    object: 'wallet_transaction',
    source: 'change',
    description:
      "A wallet transaction's status changed: a purchase settled when its invoice was paid, failed when it was voided unpaid, or a transaction was voided with its invoice.",
  },
  {
    type: 'portal_session.redeemed',
    object: 'portal_session',
    source: 'change',
    description: 'A customer opened a one-time portal link.',
  },
];

export const EVENT_TYPE_NAMES: ReadonlySet<string> = new Set(EVENT_TYPES.map((e) => e.type));
const OBJECT_OF = new Map(EVENT_TYPES.map((e) => [e.type, e.object]));

/** The object kind an event type carries in `data`. */
export function objectOf(type: string): string {
  const object = OBJECT_OF.get(type);
  if (!object) throw new Error(`unknown webhook event type ${type}`);
  return object;
}

/** An event a change produces: which object it is about, and its data when the change carries it. */
export interface ChangeEvent {
  type: string;
  /** The object's kind (the key of `data`) and id, looked up when the change commits. */
  object: string;
  objectId: string;
  /** The object itself, for events whose object is the change (no get_ operation reads it back). */
  data?: Record<string, unknown>;
}

type Mapping = (a: ActivityInput) => ChangeEvent[];

const same =
  (type: string): Mapping =>
  (a) => [{ type, object: objectOf(type), objectId: a.resourceId }];

/** Activity type → the events it produces. An activity type not listed produces none. */
const FROM_ACTIVITY: Record<string, Mapping> = {
  'customer.created': same('customer.created'),
  'customer.updated': same('customer.updated'),
  'customer.disabled': same('customer.updated'),
  'customer.activated': same('customer.updated'),
  'customer.deleted': same('customer.deleted'),
  'invoice.created': same('invoice.created'),
  'invoice.updated': same('invoice.updated'),
  'invoice.finalized': same('invoice.finalized'),
  'invoice.sent': same('invoice.sent'),
  'invoice.payment_overdue': same('invoice.payment_overdue'),
  'invoice.voided': same('invoice.voided'),
  'invoice.deleted': same('invoice.deleted'),
  // A payment is recorded on its invoice: the entry names the invoice and the payment.
  'invoice.payment_recorded': (a) => paymentEvents(a),
  'invoice.paid': (a) => [
    ...paymentEvents(a),
    { type: 'invoice.paid', object: 'invoice', objectId: a.resourceId },
  ],
  'credit_note.created': same('credit_note.created'),
  'credit_note.voided': same('credit_note.voided'),
  'subscription.created': (a) => [
    { type: 'subscription.created', object: 'subscription', objectId: a.resourceId },
    ...(a.changes.status === 'active'
      ? [{ type: 'subscription.started', object: 'subscription', objectId: a.resourceId }]
      : []),
  ],
  'subscription.started': same('subscription.started'),
  // A plan change continues the subscription as a new row: the old one's entry is a termination.
  'subscription.upgraded': same('subscription.started'),
  'subscription.downgraded': same('subscription.started'),
  'subscription.updated': same('subscription.updated'),
  'subscription.downgrade_scheduled': same('subscription.updated'),
  'subscription.trial_ended': same('subscription.trial_ended'),
  'subscription.usage_threshold_reached': same('subscription.usage_threshold_reached'),
  'subscription.terminated': same('subscription.terminated'),
  'subscription.canceled': same('subscription.canceled'),
  'usage_events.recorded': (a) => {
    const summary = a.changes.needs_attention;
    if (!summary) return [];
    return [
      {
        type: 'usage.needs_attention',
        object: 'needs_attention',
        objectId: a.resourceId,
        data: { needs_attention: summary },
      },
    ];
  },
  'usage_alert.triggered': (a) => [
    {
      type: 'usage.threshold_reached',
      object: 'usage_alert',
      objectId: a.resourceId,
    },
  ],
  'portal_session.redeemed': same('portal_session.redeemed'),
  'wallet.created': same('wallet.created'),
  'wallet.updated': same('wallet.updated'),
  'wallet.terminated': same('wallet.terminated'),
  // A top-up's entry lists its transactions as "<id> <status>"; each is an event.
  'wallet.topped_up': (a) =>
    (Array.isArray(a.changes.wallet_transactions) ? (a.changes.wallet_transactions as unknown[]) : [])
      .map((t) => String(t).split(' ')[0]!)
      .map((id) => ({ type: 'wallet_transaction.created', object: 'wallet_transaction', objectId: id })),
  // The ledger's entries are the wallet's; the transaction they are about is in the changes.
  'wallet_transaction.created': (a) => walletTransactionEvent('wallet_transaction.created', a),
  'wallet_transaction.updated': (a) => walletTransactionEvent('wallet_transaction.updated', a),
};

function walletTransactionEvent(type: string, a: ActivityInput): ChangeEvent[] {
  const id = a.changes.wallet_transaction_id;
  return typeof id === 'string' ? [{ type, object: 'wallet_transaction', objectId: id }] : [];
}

function paymentEvents(a: ActivityInput): ChangeEvent[] {
  const id = a.changes.payment_id;
  return typeof id === 'string' ? [{ type: 'payment.created', object: 'payment', objectId: id }] : [];
}

/** The events a change's activity entries produce, in order. */
export function eventsOfActivities(entries: readonly ActivityInput[]): ChangeEvent[] {
  let out: ChangeEvent[] | undefined;
  for (const a of entries) {
    const map = FROM_ACTIVITY[a.type];
    if (!map) continue;
    const events = map(a);
    if (events.length) (out ??= []).push(...events);
  }
  return out ?? NONE;
}
const NONE: ChangeEvent[] = [];
