import { meta, type LagoCall } from '../call.js';
import { invalidFields, LagoError } from '../errors.js';
import { billfoldRef, idInstant, lagoId } from '../ids.js';
import { Fields } from '../request.js';
import type { LagoRoute } from '../router.js';
import { lagoTime } from '../shapes.js';
import { BILLING_ENTITY_CODE } from './customers.js';

/**
 * Lago's wallets and wallet transactions over Billfold's (create_wallet, top_up_wallet and the
 * rest). Lago's wallet `code` is Billfold's external_id. Paid credits wait for their invoice to
 * be paid in both (Lago's only behaviour; Billfold's default); Lago's
 * `invoice_requires_successful_payment: true` — the invoice held open until a payment
 * succeeds — has no counterpart, since Billfold issues a top-up's invoice at once.
 */

/** Payments are recorded by hand in Billfold (mark_invoice_paid): Lago's manual payment method. */
const PAYMENT_METHOD = { payment_method_id: null, payment_method_type: 'manual' };

/** Billfold's reason for a transaction as Lago's transaction_status. */
const TRANSACTION_STATUS: Record<string, string> = {
  purchased: 'purchased',
  granted: 'granted',
  invoice: 'invoiced',
};

const NAMES = { customer_id: 'external_customer_id', external_id: 'code' };

export function recurringRuleObject(r: Record<string, any>): Record<string, unknown> {
  return {
    lago_id: lagoId(r.id),
    paid_credits: r.paid_credits,
    granted_credits: r.granted_credits,
    grants_target_top_up: false,
    interval: r.interval,
    method: r.method,
    started_at: lagoTime(r.started_at),
    expiration_at: null,
    status: 'active',
    target_ongoing_balance: r.target_ongoing_balance,
    threshold_credits: r.threshold_credits,
    trigger: r.trigger,
    // A rule is made with its id (the rules are replaced as a whole when they change).
    created_at: lagoTime(idInstant(r.id)),
    invoice_requires_successful_payment: false,
    transaction_metadata: [],
    transaction_name: null,
    purchase_order_number: null,
    ignore_paid_top_up_limits: false,
    applied_invoice_custom_sections: [],
    payment_method: PAYMENT_METHOD,
  };
}

/** Billfold's wallet (get_wallet's) as Lago's wallet object. */
export function walletObject(w: Record<string, any>): Record<string, unknown> {
  return {
    lago_id: lagoId(w.id),
    lago_customer_id: lagoId(w.customer_id),
    external_customer_id: w.external_customer_id,
    billing_entity_code: BILLING_ENTITY_CODE,
    status: w.status,
    currency: w.currency,
    name: w.name,
    code: w.external_id,
    purchase_order_number: null,
    rate_amount: w.rate_amount,
    credits_balance: w.credits_balance,
    credits_ongoing_balance: w.credits_ongoing_balance,
    credits_ongoing_usage_balance: w.credits_ongoing_usage_balance,
    balance_cents: w.balance_cents,
    ongoing_balance_cents: w.ongoing_balance_cents,
    ongoing_usage_balance_cents: w.ongoing_usage_balance_cents,
    consumed_credits: w.consumed_credits,
    created_at: lagoTime(w.created_at),
    expiration_at: lagoTime(w.expiration_at),
    last_balance_sync_at: null,
    last_consumed_credit_at: lagoTime(w.last_consumed_credit_at),
    terminated_at: lagoTime(w.terminated_at),
    invoice_requires_successful_payment: false,
    paid_top_up_min_amount_cents: null,
    paid_top_up_max_amount_cents: null,
    priority: w.priority,
    recurring_transaction_rules: (w.recurring_transaction_rules as Record<string, any>[]).map(
      recurringRuleObject,
    ),
    // Unlimited: a wallet pays the whole of what a subscription invoices.
    applies_to: { fee_types: [], billable_metric_codes: [] },
    applied_invoice_custom_sections: [],
    payment_method: PAYMENT_METHOD,
  };
}

/** Billfold's wallet transaction as Lago's. */
export function walletTransactionObject(t: Record<string, any>): Record<string, unknown> {
  return {
    lago_id: lagoId(t.id),
    lago_wallet_id: lagoId(t.wallet_id),
    lago_invoice_id: lagoId(t.invoice_id),
    lago_credit_note_id: null,
    lago_voided_invoice_id: null,
    billing_entity_code: BILLING_ENTITY_CODE,
    // pending, settled, failed — and Billfold's voided: taken back when its invoice was voided.
    status: t.status,
    source: t.source,
    transaction_status: TRANSACTION_STATUS[t.reason] ?? t.reason,
    transaction_type: t.transaction_type,
    amount: t.amount,
    credit_amount: t.credits,
    // Billfold keeps a wallet's balance, not what is left of each top-up.
    remaining_amount_cents: null,
    remaining_credit_amount: null,
    priority: 50,
    purchase_order_number: null,
    settled_at: lagoTime(t.settled_at),
    failed_at: lagoTime(t.failed_at),
    created_at: lagoTime(t.created_at),
    invoice_requires_successful_payment: false,
    metadata: [],
    name: null,
    payment_method: PAYMENT_METHOD,
  };
}

/** Copies the fields that are present and not null (Lago's clients send null for "not given"). */
function given(f: Fields, out: Record<string, unknown>, names: readonly string[], as?: string): void {
  for (const name of names) {
    const v = f.get(name);
    if (v !== undefined && v !== null) out[as ?? name] = v;
  }
}

function requiresSuccessfulPayment(f: Fields): void {
  if (f.bool('invoice_requires_successful_payment') === true)
    throw invalidFields({
      [`${f.path}.invoice_requires_successful_payment`]:
        "true is not supported: Billfold issues a top-up's invoice at once and settles the paid credits when it is paid (Lago's false), it does not hold the invoice open until a payment succeeds",
    });
}

/**
 * Lago's settings of features Billfold does not have, accepted only when they ask for nothing.
 * `limits` names Lago's flag that skips the paid top-up limits: Billfold sets no limits, so it
 * changes nothing either way.
 */
function inertExtras(f: Fields, limits: string): void {
  f.bool(limits);
  f.inert('purchase_order_number');
  const sections = f.obj('invoice_custom_section');
  if (sections) {
    sections.inert('skip_invoice_custom_sections', false);
    sections.inert('invoice_custom_section_codes');
    sections.done();
  }
  const method = f.obj('payment_method');
  if (method) {
    method.inert('payment_method_type', 'manual');
    method.inert('payment_method_id');
    method.done();
  }
}

function ruleIn(r: Fields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  given(r, out, [
    'trigger',
    'method',
    'interval',
    'started_at',
    'threshold_credits',
    'paid_credits',
    'granted_credits',
    'target_ongoing_balance',
  ]);
  // Billfold replaces a wallet's rules as a whole, as Lago ends the rules a request leaves out;
  // a rule's lago_id names the rule it replaces, which gets a new id.
  r.get('lago_id');
  requiresSuccessfulPayment(r);
  r.inert('grants_target_top_up', false);
  r.inert('expiration_at');
  r.inert('transaction_metadata');
  r.inert('transaction_name');
  r.inert('status', 'active');
  inertExtras(r, 'ignore_paid_top_up_limits');
  r.done();
  return out;
}

/** The fields create_wallet and update_wallet share. */
function walletIn(f: Fields, args: Record<string, unknown>): void {
  f.copy(args, 'name');
  given(f, args, ['priority']);
  f.copy(args, 'expiration_at');
  const rules = f.list('recurring_transaction_rules');
  if (rules) args.recurring_transaction_rules = rules.map(ruleIn);
  requiresSuccessfulPayment(f);
  f.inert('billing_entity_code', BILLING_ENTITY_CODE);
  f.inert('transaction_name');
  f.inert('transaction_metadata');
  f.inert('metadata');
  f.inert('paid_top_up_min_amount_cents');
  f.inert('paid_top_up_max_amount_cents');
  const applies = f.obj('applies_to');
  if (applies) {
    applies.inert('fee_types');
    applies.inert('billable_metric_codes');
    applies.done();
  }
  inertExtras(f, 'ignore_paid_top_up_limits_on_creation');
  f.done();
}

/** A failure as Lago answers it for wallets: an unknown customer or a terminated wallet is a field's error. */
async function asLago<T>(run: Promise<T>): Promise<T> {
  try {
    return await run;
  } catch (e) {
    if (!(e instanceof LagoError)) throw e;
    if (e.code === 'customer_not_found')
      throw new LagoError(422, 'validation_errors', e.message, { customer: ['customer_not_found'] }, e.hint);
    if (e.code === 'not_allowed' && /is terminated/.test(e.message))
      throw new LagoError(
        422,
        'validation_errors',
        e.message,
        { wallet_id: ['wallet_is_terminated'] },
        e.hint,
      );
    throw e;
  }
}

const walletRef = (id: string) => billfoldRef('wallet', id);

async function listWallets(call: LagoCall, customer: string | undefined) {
  const q = call.query;
  const args: Record<string, unknown> = { ...q.page() };
  const c = customer ?? q.str('external_customer_id');
  if (c) args.customer_id = c;
  q.inert('billing_entity_codes', BILLING_ENTITY_CODE);
  q.done();
  const out = await call.op('list_wallets', args, 'wallet', NAMES);
  return { wallets: out.wallets.map(walletObject), meta: meta(out.pagination) };
}

export const walletRoutes: LagoRoute[] = [
  {
    method: 'POST',
    path: '/wallets',
    async handle(call) {
      const f = Fields.root(call.body, 'wallet');
      const args: Record<string, unknown> = {};
      given(f, args, ['external_customer_id'], 'customer_id');
      given(f, args, ['code'], 'external_id');
      given(f, args, ['rate_amount', 'currency', 'paid_credits', 'granted_credits']);
      walletIn(f, args);
      const out = await asLago(call.op('create_wallet', args, 'wallet', NAMES));
      return { wallet: walletObject(out.wallet) };
    },
  },
  {
    method: 'PUT',
    path: '/wallets/{lago_id}',
    async handle(call, [id]) {
      const f = Fields.root(call.body, 'wallet');
      const args: Record<string, unknown> = { wallet_id: walletRef(id!) };
      const code = f.str('code');
      if (code !== undefined) {
        const { wallet } = await call.op('get_wallet', { wallet_id: args.wallet_id }, 'wallet');
        if (code !== wallet.external_id)
          throw invalidFields({
            'wallet.code': `Billfold keeps a wallet's code (it is ${wallet.external_id === null ? 'not set' : `'${wallet.external_id}'`})`,
          });
      }
      walletIn(f, args);
      const out = await call.op('update_wallet', args, 'wallet', NAMES);
      return { wallet: walletObject(out.wallet) };
    },
  },
  {
    method: 'GET',
    path: '/wallets/{lago_id}',
    async handle(call, [id]) {
      call.query.done();
      const out = await call.op('get_wallet', { wallet_id: walletRef(id!) }, 'wallet');
      return { wallet: walletObject(out.wallet) };
    },
  },
  {
    method: 'DELETE',
    path: '/wallets/{lago_id}',
    async handle(call, [id]) {
      call.query.done();
      const out = await call.op('terminate_wallet', { wallet_id: walletRef(id!) }, 'wallet');
      return { wallet: walletObject(out.wallet) };
    },
  },
  { method: 'GET', path: '/wallets', handle: (call) => listWallets(call, undefined) },
  {
    method: 'GET',
    path: '/customers/{external_customer_id}/wallets',
    handle: (call, [customer]) => listWallets(call, customer),
  },
  {
    method: 'POST',
    path: '/wallet_transactions',
    async handle(call) {
      const f = Fields.root(call.body, 'wallet_transaction');
      const wallet = f.str('wallet_id');
      if (wallet === undefined)
        throw invalidFields({
          'wallet_transaction.wallet_id': 'is required: the lago_id of the wallet to top up',
        });
      const args: Record<string, unknown> = { wallet_id: walletRef(wallet) };
      given(f, args, ['paid_credits', 'granted_credits']);
      for (const name of ['voided_credits', 'voided_transaction_id']) {
        const v = f.get(name);
        if (v === undefined || v === null || v === '' || /^0+(\.0+)?$/.test(String(v))) continue;
        throw invalidFields(
          {
            [`wallet_transaction.${name}`]:
              'is not supported: Billfold does not void credits by hand; credits leave a wallet only to pay invoices, voiding the invoice that bought them takes them back, and terminating the wallet ends them',
          },
          'Top up with paid_credits or granted_credits; void_invoice or DELETE /wallets/{lago_id} take credits back.',
        );
      }
      requiresSuccessfulPayment(f);
      f.inert('name');
      f.inert('metadata');
      f.inert('priority', 50);
      inertExtras(f, 'ignore_paid_top_up_limits');
      f.done();
      const out = await asLago(call.op('top_up_wallet', args, 'wallet'));
      return { wallet_transactions: out.wallet_transactions.map(walletTransactionObject) };
    },
  },
  {
    method: 'GET',
    path: '/wallets/{lago_id}/wallet_transactions',
    async handle(call, [id]) {
      const q = call.query;
      const args: Record<string, unknown> = { wallet_id: walletRef(id!), ...q.page() };
      const status = q.str('status');
      if (status) args.status = status;
      const type = q.str('transaction_type');
      if (type) args.transaction_type = type;
      q.inert('transaction_status');
      q.done();
      const out = await call.op('list_wallet_transactions', args, 'wallet');
      return {
        wallet_transactions: out.wallet_transactions.map(walletTransactionObject),
        meta: meta(out.pagination),
      };
    },
  },
];
