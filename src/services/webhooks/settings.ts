import type { ServiceEnv } from '../context.js';

/** How this process sends webhooks (from BILLFOLD_WEBHOOK_* in the runtime). */
export interface WebhookSettings {
  /** Private, loopback and link-local destinations allowed (destinations.ts). */
  allowPrivate: boolean;
  /** One deadline for a request's whole exchange. */
  timeoutMs: number;
  /** The wait after the 1st, 2nd, … failed attempt; the last repeats until RETRY_WINDOW_MS. */
  retrySchedule: readonly number[];
  /** Requests in flight at once in this process. */
  concurrency: number;
}

/** How long failed deliveries are retried, and how long an endpoint may fail before it is disabled. */
export const RETRY_WINDOW_MS = 3 * 86_400_000;

export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = {
  allowPrivate: false,
  timeoutMs: 15_000,
  retrySchedule: [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000],
  concurrency: 32,
};

export function webhookSettings(env: ServiceEnv): WebhookSettings {
  return env.webhooks ?? DEFAULT_WEBHOOK_SETTINGS;
}
