import type { AnyOperation, PromptDefinition, ResourceDefinition } from './define.js';
import { agentOperations } from './agents.js';
import { aiCostOperations } from './ai-costs.js';
import { billableMetricOperations } from './billable-metrics.js';
import { billingPrompts, billingResources } from './billing-resources.js';
import { billingOperations } from './billing.js';
import { couponOperations } from './coupons.js';
import { creditNoteOperations } from './credit-notes.js';
import { customerOperations } from './customers.js';
import { collectionResources } from './collection-resources.js';
import { financeOperations } from './finance.js';
import { financePrompts, financeResources } from './finance-resources.js';
import { invoiceOperations } from './invoices.js';
import { invoiceCodeOperations } from './invoice-codes.js';
import { invoicePrompts } from './invoice-prompts.js';
import { invoiceResources } from './invoice-resources.js';
import { logOperations } from './logs.js';
import { registerObjectKeys } from './objects.js';
import { meteringPrompts, meteringResources } from './metering-resources.js';
import { orderOperations } from './orders.js';
import { organizationOperations } from './organization.js';
import { planOperations } from './plans.js';
import { portalSessionOperations } from './portal-sessions.js';
import { productOperations } from './products.js';
import { revenueOperations } from './revenue.js';
import { signingKeyOperations } from './signing-keys.js';
import { customerResources } from './resources.js';
import { billfoldPrompts } from './prompts.js';
import { taxOperations } from './taxes.js';
import { subscriptionOperations } from './subscriptions.js';
import { systemOperations } from './system.js';
import { usageEventOperations } from './usage-events.js';
import { usageAlertOperations } from './usage-alerts.js';
import { walletOperations } from './wallets.js';
import { webhookOperations } from './webhooks.js';

/** Everything Billfold can do, in the order README and tools/list present it. */
export interface Catalogue {
  operations: readonly AnyOperation[];
  resources: readonly ResourceDefinition[];
  prompts: readonly PromptDefinition[];
  get(name: string): AnyOperation | undefined;
  /** Close names for a mistyped one ("get_custmer" → get_customer). */
  suggest(name: string): string[];
}

export function buildCatalogue(): Catalogue {
  const operations: AnyOperation[] = [
    ...systemOperations,
    ...customerOperations,
    ...logOperations,
    ...organizationOperations,
    ...signingKeyOperations,
    ...productOperations,
    ...taxOperations,
    ...invoiceOperations,
    ...invoiceCodeOperations,
    ...creditNoteOperations,
    ...orderOperations,
    ...billableMetricOperations,
    ...usageEventOperations,
    ...usageAlertOperations,
    ...subscriptionOperations,
    ...aiCostOperations,
    ...agentOperations,
    ...planOperations,
    ...couponOperations,
    ...walletOperations,
    ...billingOperations,
    ...revenueOperations,
    ...financeOperations,
    ...portalSessionOperations,
    ...webhookOperations,
  ];
  registerObjectKeys(operations);
  const byName = new Map<string, AnyOperation>();
  for (const op of operations) {
    if (byName.has(op.name)) throw new Error(`operation ${op.name} is defined twice`);
    if (!/^[a-z]+(_[a-z0-9]+)*$/.test(op.name))
      throw new Error(`operation name ${op.name} is not snake_case`);
    byName.set(op.name, op);
  }
  return {
    operations,
    resources: [
      ...customerResources,
      ...invoiceResources,
      ...meteringResources,
      ...billingResources,
      ...collectionResources,
      ...financeResources,
    ],
    prompts: [
      ...billfoldPrompts,
      ...invoicePrompts,
      ...meteringPrompts,
      ...billingPrompts,
      ...financePrompts,
    ],
    get: (name) => byName.get(name),
    suggest: (name) => suggestNames(name, [...byName.keys()]),
  };
}

/**
 * Verbs other systems use for what Billfold calls create_, get_, update_, delete_ and list_
 * (seed 003's add_customer, seed 004's get_invoice_details): a name rewritten with them that
 * is an operation comes first among the suggestions, before names that are merely close.
 */
const VERB_REWRITES: ReadonlyArray<[RegExp, string]> = [
  [/^(?:add|new|make|insert|register)_/, 'create_'],
  [/^(?:fetch|show|retrieve|read|find|view|describe)_/, 'get_'],
  [/^(?:edit|modify|change|patch|set)_/, 'update_'],
  [/^(?:remove|destroy|erase)_/, 'delete_'],
  [/^(?:search|find_all|get_all|all)_/, 'list_'],
  [/_(?:details|detail|info|information|by_id)$/, ''],
  [/pricing_plan/, 'plan'], // MarginFront's create_pricing_plan
];

function verbRewrites(name: string): string[] {
  const forms = new Set<string>([name]);
  for (const [pattern, replacement] of VERB_REWRITES)
    for (const f of [...forms]) if (pattern.test(f)) forms.add(f.replace(pattern, replacement));
  for (const f of [...forms]) {
    if (!/^(?:get|create|update|delete|list)_/.test(f)) forms.add(`get_${f}`); // invoice_details → get_invoice
    if (/^get_\w+s$/.test(f)) forms.add(f.replace(/^get_/, 'list_')); // get_invoices → list_invoices
  }
  forms.delete(name);
  return [...forms];
}

function suggestNames(name: string, names: string[]): string[] {
  const known = new Set(names);
  const rewritten = verbRewrites(name).filter((n) => known.has(n));
  const scored = names
    .filter((n) => !rewritten.includes(n))
    .map((n) => ({ n, d: editDistance(name, n) }))
    .filter(({ n, d }) => d <= Math.max(2, Math.floor(n.length / 4)) || n.includes(name) || name.includes(n))
    .sort((a, b) => a.d - b.d);
  return [...rewritten, ...scored.map((s) => s.n)].slice(0, 3);
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}
