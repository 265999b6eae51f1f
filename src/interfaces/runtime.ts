import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { openDatabase, type Db } from '../db/connection.js';
import { migrateToLatest } from '../db/migrate.js';
import { buildCatalogue, type Catalogue } from '../operations/catalogue.js';
import type { ServiceEnv } from '../services/context.js';
import { createMailer } from '../services/mailer.js';
import { pdfFonts } from '../services/pdf-fonts.js';
import { VERSION } from '../version.js';
import { createExposure, type Exposure } from './exposure.js';
import { lagoWebhookBody } from './http/lago/webhooks.js';
import { createLogger } from './logging.js';
import { Metrics } from './metrics.js';
import { ownAudiences } from './oauth/protected-resource.js';
import { createTokenVerifier, type TokenVerifier } from './oauth/tokens.js';
import { RateLimiter } from './rate-limit.js';

/**
 * The composition root: one per process. Every door gets the same runtime — database,
 * catalogue, logger, metrics — and nothing else holds global state.
 */
export interface Runtime extends ServiceEnv {
  readonly config: Config;
  readonly catalogue: Catalogue;
  readonly metrics: Metrics;
  readonly rateLimiter: RateLimiter;
  /** The toolsets and read-only mode this process serves (every door, every profile). */
  readonly exposure: Exposure;
  /** Verifies bearer JWTs; null when only API keys are accepted (no issuer configured). */
  readonly tokens: TokenVerifier | null;
  /** Work to stop when the process stops (timers, schedulers). */
  readonly disposers: Array<() => Promise<void> | void>;
  /** Tells the runtime where its HTTP server listens (a port of 0 is only known then). */
  servingAt(url: string): void;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Run migrations before returning (the default). */
  migrate?: boolean;
  logger?: Logger;
  now?: () => number;
  db?: Db;
}

export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const catalogue = buildCatalogue();
  // Before the database opens: a toolset that does not exist stops the start, naming the variable.
  const exposure = createExposure(catalogue, { toolsets: config.toolsets, readOnly: config.readOnly });
  // Before the database opens: a public key that does not parse stops the start, naming its variable.
  let publicUrl = () => '';
  const tokens = createTokenVerifier(config.tokens, () => ownAudiences(publicUrl()));
  // Before the database opens: a font path that does not work stops the start, naming its variable.
  const fonts = pdfFonts({ regular: config.pdfFont, bold: config.pdfFontBold });
  const db =
    options.db ??
    openDatabase(config.database, {
      poolSize: config.pgPoolSize,
      pgPreparedStatements: config.pgPreparedStatements,
      sqliteSynchronous: config.sqliteSynchronous,
      sqliteCacheMb: config.sqliteCacheMb,
    });
  if (options.migrate !== false) {
    const applied = await migrateToLatest(db);
    if (applied.length) logger.info({ migrations: applied, database: db.dialect }, 'database migrated');
  }
  const disposers: Array<() => Promise<void> | void> = [];
  const mailer = createMailer({
    smtpUrl: config.smtpUrl,
    outboxDir: config.outboxDir,
    from: config.mailFrom,
  });
  disposers.push(() => mailer.close());
  let servedUrl: string | undefined;
  const rt: Runtime = {
    config,
    db,
    logger,
    now: options.now ?? Date.now,
    version: VERSION,
    mailer,
    pdfFonts: fonts,
    publicUrl: () =>
      (config.publicUrl ?? servedUrl ?? `http://${urlHost(config.host)}:${config.port}`).replace(/\/+$/, ''),
    servingAt(url) {
      servedUrl = url;
    },
    webhooks: {
      allowPrivate: config.webhookAllowPrivate,
      timeoutMs: config.webhookTimeoutSeconds * 1000,
      retrySchedule: config.webhookRetrySchedule,
      concurrency: config.webhookConcurrency,
    },
    payloadFormats: { lago: lagoWebhookBody },
    services: {},
    catalogue,
    exposure,
    tokens,
    metrics: new Metrics(),
    rateLimiter: new RateLimiter(config.rateLimitPerMinute),
    disposers,
    async close() {
      for (const d of disposers.splice(0).reverse()) await d();
      await db.close();
      logger.flush?.();
    },
  };
  publicUrl = () => rt.publicUrl();
  return rt;
}

/** A host as it is written in a URL: IPv6 addresses in brackets. */
function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
