import type { AnyOperation, PromptDefinition, ResourceDefinition } from './define.js';
import { agentOperations } from './agents.js';
import { aiCostOperations } from './ai-costs.js';
import { billableMetricOperations } from './billable-metrics.js';
import { billingPrompts, billingResources } from './billing-resources.js';
import { billingOperations } from './billing.js';
import { couponOperations } from './coupons.js';
import { creditNoteOperations } from './credit-notes.js';
import { customerOperations } from './customers.js';
import { invoiceOperations } from './invoices.js';
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
import { customerResources } from './resources.js';
import { billfoldPrompts } from './prompts.js';
import { taxOperations } from './taxes.js';
import { subscriptionOperations } from './subscriptions.js';
import { systemOperations } from './system.js';
import { usageEventOperations } from './usage-events.js';
import { usageAlertOperations } from './usage-alerts.js';
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
    ...productOperations,
    ...taxOperations,
    ...invoiceOperations,
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
    ...billingOperations,
    ...revenueOperations,
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
    resources: [...customerResources, ...invoiceResources, ...meteringResources, ...billingResources],
    prompts: [...billfoldPrompts, ...invoicePrompts, ...meteringPrompts, ...billingPrompts],
    get: (name) => byName.get(name),
    suggest: (name) => suggestNames(name, [...byName.keys()]),
  };
}

function suggestNames(name: string, names: string[]): string[] {
  const scored = names
    .map((n) => ({ n, d: editDistance(name, n) }))
    .filter(({ n, d }) => d <= Math.max(2, Math.floor(n.length / 4)) || n.includes(name) || name.includes(n))
    .sort((a, b) => a.d - b.d);
  return scored.slice(0, 3).map((s) => s.n);
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
