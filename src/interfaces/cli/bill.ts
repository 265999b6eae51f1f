import { parseArgs } from 'node:util';
import { loadConfig } from '../../config.js';
import { parseInstant, toIso } from '../../domain/time.js';
import { runBilling, type RunProgress, type RunSummary } from '../../services/billing/run.js';
import { runWalletSchedule } from '../../services/wallets/recurring.js';
import { bootstrap } from '../bootstrap.js';
import { createRuntime, type Runtime } from '../runtime.js';
import { CliError } from './args.js';

/**
 * `billfold bill [--at TIMESTAMP] [--database D]`: one billing run, then the wallet schedule
 * (expirations, recurring top-ups). Progress goes to stderr (a
 * bar on a terminal, a line per tenth otherwise); the summary, as JSON, to stdout. Exit code 1
 * when any subscription failed to bill.
 */
export async function bill(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { at: { type: 'string' }, database: { type: 'string' } },
    allowPositionals: false,
  });
  let at: number | undefined;
  if (values.at !== undefined) {
    const parsed = parseInstant(values.at);
    if (parsed === null)
      throw new CliError(
        `--at must be an ISO 8601 date or date-time with offset (2026-04-01T00:00:00Z), or Unix seconds (got '${values.at}')`,
      );
    at = parsed;
  }
  const config = loadConfig(process.env, values.database ? { database: values.database } : {});
  const rt = await createRuntime(config);
  try {
    await bootstrap(rt, { createAdminKey: false });
    const summary = await runBilling(rt, at ?? rt.now(), { onProgress: progressReporter(process.stderr) });
    // Wallets after the invoices that drew on them: expirations and recurring top-ups.
    const wallets = await runWalletSchedule(rt, at ?? rt.now());
    process.stdout.write(`${JSON.stringify({ ...summary, wallets }, null, 2)}\n`);
    return summary.errors.length || wallets.errors.length ? 1 : 0;
  } finally {
    await rt.close();
  }
}

const BAR_WIDTH = 30;

/** A bar redrawn in place on a terminal; plain lines (every 10 %) for logs and pipes. */
export function progressReporter(stream: NodeJS.WriteStream): (p: RunProgress) => void {
  let lastDecile = -1;
  let lastDraw = 0;
  return (p) => {
    const fraction = p.total === 0 ? 1 : p.done / p.total;
    if (stream.isTTY) {
      const now = performance.now();
      if (p.done !== p.total && now - lastDraw < 50) return;
      lastDraw = now;
      const filled = Math.round(fraction * BAR_WIDTH);
      stream.write(
        `\rbilling [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${p.done}/${p.total} subscriptions`,
      );
      if (p.done === p.total) stream.write('\n');
      return;
    }
    const decile = Math.floor(fraction * 10);
    if (decile === lastDecile) return;
    lastDecile = decile;
    stream.write(`billing: ${p.done}/${p.total} subscriptions (${decile * 10}%)\n`);
  };
}

/**
 * Inside `billfold serve`: a billing run at the current time every `intervalSeconds` (0: never),
 * followed by the wallet schedule.
 * Several instances may run it at once; the billing ledger keeps each period to one invoice.
 */
export function startBillingScheduler(rt: Runtime): void {
  const seconds = rt.config.billingIntervalSeconds;
  if (seconds === 0) return;
  let running: Promise<RunSummary | void> | null = null;
  const tick = () => {
    if (running) return;
    running = runBilling(rt, rt.now())
      .then(async (s) => {
        const w = await runWalletSchedule(rt, rt.now());
        if (w.expired || w.topped_up || w.errors.length)
          rt.logger.info(
            { expired: w.expired, topped_up: w.topped_up, errors: w.errors.length },
            'wallet schedule',
          );
        if (s.subscriptions_examined || s.errors.length)
          rt.logger.info(
            {
              at: s.at,
              examined: s.subscriptions_examined,
              created: s.invoices_created,
              refreshed: s.invoices_refreshed,
              skipped: s.skipped,
              errors: s.errors.length,
              duration_ms: s.duration_ms,
            },
            'billing run',
          );
      })
      .catch((e: unknown) => rt.logger.error({ err: e }, 'billing run failed'))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, seconds * 1000);
  timer.unref();
  tick();
  rt.disposers.push(async () => {
    clearInterval(timer);
    await running;
  });
  rt.logger.debug({ every_seconds: seconds, first: toIso(rt.now()) }, 'billing scheduler started');
}
