import { parseArgs } from 'node:util';
import { loadConfig } from '../../config.js';
import { deliverDue, type DeliveryRun } from '../../services/webhooks/dispatcher.js';
import { raiseNotices, type NoticeRun } from '../../services/webhooks/notices.js';
import { onOutboxWritten } from '../../services/webhooks/outbox.js';
import { bootstrap } from '../bootstrap.js';
import { createRuntime, type Runtime } from '../runtime.js';
import { CliError } from './args.js';

/** How often the scheduler looks for overdue invoices, ended trials and reached usage alerts. */
const NOTICE_INTERVAL_MS = 60_000;

/**
 * `billfold webhooks deliver [--database D]`: raises what the scheduler would (overdue invoices,
 * ended trials, usage alerts), then sends every delivery that is due, once, and prints what
 * happened as JSON — for a cron job or a script, or where `billfold serve` runs with
 * BILLFOLD_WEBHOOK_POLL_MS=0. Exit code 1 when a delivery failed for good.
 */
export async function webhooksCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'deliver') throw new CliError('webhooks needs a subcommand: deliver');
  const { values } = parseArgs({
    args: rest,
    options: { database: { type: 'string' } },
    allowPositionals: false,
  });
  const config = loadConfig(process.env, values.database ? { database: values.database } : {});
  const rt = await createRuntime(config);
  try {
    await bootstrap(rt, { createAdminKey: false });
    const notices = await raiseNotices(rt);
    const delivered = await deliverDue(rt);
    process.stdout.write(`${JSON.stringify({ notices, deliveries: delivered }, null, 2)}\n`);
    return delivered.failed ? 1 : 0;
  } finally {
    await rt.close();
  }
}

/**
 * Inside `billfold serve`: the dispatcher runs every BILLFOLD_WEBHOOK_POLL_MS, and at once when
 * this process commits a change with deliveries; the scheduler's notices every minute. Several
 * instances may run both at once: each delivery is claimed by one, each notice raised once.
 */
export function startWebhookDispatcher(rt: Runtime): void {
  const pollMs = rt.config.webhookPollMs;
  if (pollMs === 0) return;
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        const r: DeliveryRun = await deliverDue(rt);
        if (r.attempted || r.failed)
          rt.logger.info(
            {
              attempted: r.attempted,
              succeeded: r.succeeded,
              retrying: r.retrying,
              failed: r.failed,
              endpoints_disabled: r.endpoints_disabled,
            },
            'webhook deliveries',
          );
      } while (again && !stopped);
    })()
      .catch((e: unknown) => rt.logger.error({ err: e }, 'webhook dispatch failed'))
      .finally(() => {
        running = null;
      });
  };
  let noticing: Promise<NoticeRun | void> | null = null;
  const notice = () => {
    if (noticing || stopped) return;
    noticing = raiseNotices(rt)
      .then((n) => {
        if (n.invoices_overdue || n.trials_ended || n.usage_alerts_triggered) {
          rt.logger.info(n, 'webhook notices');
          tick();
        }
      })
      .catch((e: unknown) => rt.logger.error({ err: e }, 'webhook notices failed'))
      .finally(() => {
        noticing = null;
      });
  };
  const timer = setInterval(tick, pollMs);
  timer.unref();
  const noticeTimer = setInterval(notice, NOTICE_INTERVAL_MS);
  noticeTimer.unref();
  const unsubscribe = onOutboxWritten(() => setImmediate(tick));
  tick();
  notice();
  rt.disposers.push(async () => {
    stopped = true;
    clearInterval(timer);
    clearInterval(noticeTimer);
    unsubscribe();
    await running;
    await noticing;
  });
}
