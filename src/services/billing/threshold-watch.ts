import type { Db } from '../../db/connection.js';
import type { ServiceEnv } from '../context.js';
import { runProgressiveBilling } from './progressive.js';

/**
 * Usage thresholds checked soon after usage arrives, not only at the next billing run: a process
 * that watches (billfold serve) hears of every committed batch of usage events (ingestion's
 * afterCommit: the customers it stored events for) and checks those customers' subscriptions
 * with thresholds a moment later, once for everything that arrived meanwhile. Ingestion itself
 * only adds the batch's customers to a set; the check runs after, off the request. The billing
 * run checks every such subscription too, so usage another process stored, or stored while this
 * one restarted, is billed at the next run at the latest.
 */

interface Watch {
  env: ServiceEnv;
  delayMs: number;
  pending: Map<string, Set<string>>;
  timer: NodeJS.Timeout | null;
  running: Promise<void> | null;
  stopped: boolean;
}

const watches = new WeakMap<Db, Watch>();

/** Whether this process checks thresholds as usage commits (so ingestion should say so). */
export function watchingThresholds(env: ServiceEnv): boolean {
  return watches.has(env.db);
}

/** Ingestion committed events of these customers in this organization. */
export function usageCommitted(env: ServiceEnv, organizationId: string, customerIds: Iterable<string>): void {
  const w = watches.get(env.db);
  if (!w || w.stopped) return;
  let set = w.pending.get(organizationId);
  if (!set) w.pending.set(organizationId, (set = new Set()));
  for (const id of customerIds) set.add(id);
  schedule(w);
}

function schedule(w: Watch): void {
  if (w.timer || w.running || w.stopped) return;
  w.timer = setTimeout(() => {
    w.timer = null;
    w.running = flush(w).finally(() => {
      w.running = null;
      if (w.pending.size) schedule(w);
    });
  }, w.delayMs);
  w.timer.unref();
}

async function flush(w: Watch): Promise<void> {
  const batch = w.pending;
  w.pending = new Map();
  for (const [organizationId, ids] of batch) {
    if (w.stopped) return;
    try {
      const run = await runProgressiveBilling(w.env, w.env.now(), { organizationId, customerIds: [...ids] });
      if (run.invoices_created)
        w.env.logger.info(
          { organization_id: organizationId, invoices_created: run.invoices_created },
          'progressive billing',
        );
    } catch (e) {
      w.env.logger.error({ err: e, organization_id: organizationId }, 'progressive billing check failed');
    }
  }
}

/**
 * Starts watching for this process's database; returns what stops it (and waits for a check
 * under way). `delayMs`: how long usage gathers before a check.
 */
export function watchThresholds(env: ServiceEnv, delayMs = 250): () => Promise<void> {
  const w: Watch = { env, delayMs, pending: new Map(), timer: null, running: null, stopped: false };
  watches.set(env.db, w);
  return async () => {
    w.stopped = true;
    if (w.timer) clearTimeout(w.timer);
    await w.running;
    if (watches.get(env.db) === w) watches.delete(env.db);
  };
}
