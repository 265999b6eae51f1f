import { addOnRoutes } from './resources/add-ons.js';
import { couponRoutes } from './resources/coupons.js';
import { creditNoteRoutes } from './resources/credit-notes.js';
import { invoiceRoutes } from './resources/invoices.js';
import { logRoutes } from './resources/logs.js';
import { paymentRoutes } from './resources/payments.js';
import { planRoutes } from './resources/plans.js';
import { subscriptionRoutes } from './resources/subscriptions.js';
import { usageRoutes } from './resources/usage.js';
import { billableMetricRoutes } from './resources/billable-metrics.js';
import { customerRoutes } from './resources/customers.js';
import { eventRoutes } from './resources/events.js';
import { organizationRoutes } from './resources/organizations.js';
import { taxRoutes } from './resources/taxes.js';
import { walletRoutes } from './resources/wallets.js';
import { webhookEndpointRoutes } from './resources/webhook-endpoints.js';
import { lagoHandler, type LagoRoute } from './router.js';

export { LAGO_PREFIX } from './call.js';

/** Every Lago endpoint Billfold answers; the rest answer Lago's error naming what is missing. */
export const lagoRoutes: readonly LagoRoute[] = [
  ...customerRoutes,
  ...billableMetricRoutes,
  ...eventRoutes,
  ...taxRoutes,
  ...addOnRoutes,
  ...organizationRoutes,
  ...planRoutes,
  ...subscriptionRoutes,
  ...usageRoutes,
  ...couponRoutes,
  ...invoiceRoutes,
  ...creditNoteRoutes,
  ...paymentRoutes,
  ...logRoutes,
  ...webhookEndpointRoutes,
  ...walletRoutes,
];

export const handleLago = lagoHandler(lagoRoutes);
