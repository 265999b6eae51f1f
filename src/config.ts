import { DEFAULT_REDACTED_KEYS } from './domain/redaction.js';
import { parseDurations } from './domain/durations.js';

/**
 * Configuration from the environment; command-line flags override it. README documents each
 * variable; this is the one place that reads them.
 */
export interface Config {
  /** A SQLite file path or a postgres:// URL. */
  database: string;
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Sets the first admin key instead of generating one (for scripts and containers). */
  bootstrapApiKey: string | undefined;
  /** Extra Host names accepted besides loopback (DNS-rebinding protection). */
  allowedHosts: string[];
  /** Browser origins allowed to call the API (CORS), besides the allowed hosts. */
  allowedOrigins: string[];
  maxBodyBytes: number;
  /** How long a verified API key is trusted before it is looked up again (0: every request). */
  authCacheMs: number;
  /** Requests per minute per API key on one instance; 0 turns limiting off. */
  rateLimitPerMinute: number;
  /** The public base URL (links in emails and portal sessions); defaults to http://host:port. */
  publicUrl: string | undefined;
  sqliteSynchronous: 'FULL' | 'NORMAL';
  /** SQLite page cache of the serving connection, in MiB. */
  sqliteCacheMb: number;
  pgPoolSize: number;
  /** Prepare statements once per PostgreSQL connection (off behind a pooler that cannot keep them). */
  pgPreparedStatements: boolean;
  apiLogRetentionDays: number;
  /** Key names whose values the API log stores as (redacted); see domain/redaction.ts. */
  apiLogRedact: readonly string[];
  /** smtp(s)://user:pass@host:port for outgoing email; unset, mail is written to outboxDir. */
  smtpUrl: string | undefined;
  /** Where .eml files go when no SMTP server is configured. */
  outboxDir: string;
  /** The From address of invoices sent by email (default: the organization's email). */
  mailFrom: string | undefined;
  /** Comma-separated TrueType/OpenType files PDFs try before the shipped Noto Sans (pdf-fonts.ts). */
  pdfFont: string | undefined;
  pdfFontBold: string | undefined;
  /** Seconds between the billing runs `billfold serve` starts by itself; 0 turns them off. */
  billingIntervalSeconds: number;
  /** Failed portal link or cookie checks allowed per client address and minute, on one instance. */
  portalGuessesPerMinute: number;
  /** Behind a reverse proxy: the client's address is the last hop of X-Forwarded-For. */
  trustProxy: boolean;
  /** Registers the MCP conformance suite's fixture tools (tests only). */
  conformanceFixtures: boolean;
  /**
   * The tool surface `billfold stdio` serves: `billfold` (the catalogue) or a replaced system's
   * profile (lago, orvion, marginfront, customers, cegid). Over HTTP every profile has its own path.
   */
  profile: string;
  /** Only these toolsets (operation groups) are exposed; null: all of them. */
  toolsets: string[] | null;
  /** Expose and accept only tools that read, whatever a key's scopes. */
  readOnly: boolean;
  /** Lets webhooks go to private, loopback and link-local addresses (tests, internal receivers). */
  webhookAllowPrivate: boolean;
  /** How long a receiver has to answer a webhook request in full. */
  webhookTimeoutSeconds: number;
  /** Milliseconds to wait after the 1st, 2nd, … failed attempt; the last repeats (for 3 days). */
  webhookRetrySchedule: number[];
  /** How often `billfold serve` looks for deliveries that are due; 0 turns its dispatcher off. */
  webhookPollMs: number;
  /** Webhook requests in flight at once per process (a quarter of them per endpoint). */
  webhookConcurrency: number;
  /** How long deliveries that are over (succeeded, failed) are kept. */
  webhookRetentionDays: number;
  /** Bearer tokens (JWT) besides API keys: see interfaces/oauth/. */
  tokens: TokenSettings;
}

/** Billfold's three scopes, as the scope names tokens carry for them. */
export interface ScopeNames {
  read: string;
  write: string;
  admin: string;
}

/**
 * How bearer tokens are verified. An OAuth authorization server (`oauthIssuer`: its keys found
 * through its metadata, and advertised to MCP clients in the protected-resource metadata) and a
 * service that mints its own JWTs (`jwtIssuer` with a public key or JWKS) may both be trusted;
 * a token's `iss` says which one signed it.
 */
export interface TokenSettings {
  oauthIssuer: string | undefined;
  /** Where the authorization server's keys are, when its metadata does not say (or to skip it). */
  oauthJwksUrl: string | undefined;
  jwtIssuer: string | undefined;
  /** A PEM public key, or a JWK / JWK Set as JSON. */
  jwtPublicKey: string | undefined;
  jwtJwksUrl: string | undefined;
  /** Accepted `aud` values; empty: Billfold's own resource URLs (protected-resource.ts). */
  audience: string[];
  /** The claim that names the organization (its id, or its external_id). */
  orgClaim: string;
  scopeNames: ScopeNames;
  /** Signature algorithms accepted; asymmetric ones only. */
  algorithms: string[];
  /** Leeway for exp and nbf, in seconds. */
  clockToleranceSeconds: number;
}

/**
 * Only asymmetric algorithms: a token signed with HS256 would be verified with a secret that
 * every party holding the "public" key knows, and `none` is not a signature at all.
 */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

export class ConfigError extends Error {}

function int(
  name: string,
  value: string | undefined,
  fallback: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max} (got '${value}')`);
  }
  return n;
}

function flag(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (value === '1' || value.toLowerCase() === 'true') return true;
  if (value === '0' || value.toLowerCase() === 'false') return false;
  throw new ConfigError(`${name} must be 1 or 0 (got '${value}')`);
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Unset: the default list; `none`: nothing redacted; otherwise the list replaces the default. */
function redactList(value: string | undefined): readonly string[] {
  if (value === undefined || value.trim() === '') return DEFAULT_REDACTED_KEYS;
  if (value.trim().toLowerCase() === 'none') return [];
  return list(value);
}

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

const DEFAULT_RETRY_SCHEDULE = '5s,5m,30m,2h,5h,10h';

function durations(name: string, value: string | undefined, fallback: string): number[] {
  const parsed = parseDurations(value === undefined || value === '' ? fallback : value);
  if (!parsed) {
    throw new ConfigError(
      `${name} must be a comma-separated list of durations such as ${fallback} (units ms, s, m, h, d; got '${value}')`,
    );
  }
  return parsed;
}

/** An https:// URL, or http:// on a loopback host (a test or a local authorization server). */
function issuerUrl(name: string, value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${name} must be a URL such as https://auth.example.com/ (got '${value}')`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ConfigError(
      `${name} must be an https:// URL (http:// only on localhost or 127.0.0.1); got '${value}'`,
    );
  }
  if (url.hash || url.search)
    throw new ConfigError(`${name} must not have a query or fragment (got '${value}')`);
  return text;
}

function scopeName(name: string, value: string | undefined, fallback: string): string {
  const text = value === undefined || value.trim() === '' ? fallback : value.trim();
  if (!/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(text)) {
    throw new ConfigError(`${name} must be one scope name without spaces or quotes (got '${value}')`);
  }
  return text;
}

function tokenSettings(env: NodeJS.ProcessEnv): TokenSettings {
  const algorithms = list(env.BILLFOLD_OAUTH_ALGORITHMS);
  for (const a of algorithms) {
    if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(a)) {
      throw new ConfigError(
        `BILLFOLD_OAUTH_ALGORITHMS: '${a}' is not accepted; use asymmetric algorithms only (${ASYMMETRIC_ALGORITHMS.join(', ')}): ` +
          'HS* would let anyone holding the verification key mint tokens, and none is no signature',
      );
    }
  }
  const scopeNames = {
    read: scopeName('BILLFOLD_OAUTH_SCOPE_READ', env.BILLFOLD_OAUTH_SCOPE_READ, 'billfold:read'),
    write: scopeName('BILLFOLD_OAUTH_SCOPE_WRITE', env.BILLFOLD_OAUTH_SCOPE_WRITE, 'billfold:write'),
    admin: scopeName('BILLFOLD_OAUTH_SCOPE_ADMIN', env.BILLFOLD_OAUTH_SCOPE_ADMIN, 'billfold:admin'),
  };
  if (new Set(Object.values(scopeNames)).size !== 3) {
    throw new ConfigError(
      `BILLFOLD_OAUTH_SCOPE_READ, _WRITE and _ADMIN must be three different names (got ${Object.values(scopeNames).join(', ')})`,
    );
  }
  const settings: TokenSettings = {
    oauthIssuer: issuerUrl('BILLFOLD_OAUTH_ISSUER', env.BILLFOLD_OAUTH_ISSUER),
    oauthJwksUrl: issuerUrl('BILLFOLD_OAUTH_JWKS_URL', env.BILLFOLD_OAUTH_JWKS_URL),
    jwtIssuer: env.BILLFOLD_JWT_ISSUER?.trim() || undefined,
    jwtPublicKey: env.BILLFOLD_JWT_PUBLIC_KEY?.trim() || undefined,
    jwtJwksUrl: issuerUrl('BILLFOLD_JWT_JWKS_URL', env.BILLFOLD_JWT_JWKS_URL),
    audience: list(env.BILLFOLD_OAUTH_AUDIENCE),
    orgClaim: env.BILLFOLD_OAUTH_ORG_CLAIM?.trim() || 'org_id',
    scopeNames,
    algorithms: algorithms.length ? algorithms : [...ASYMMETRIC_ALGORITHMS],
    clockToleranceSeconds: int(
      'BILLFOLD_OAUTH_CLOCK_TOLERANCE_SECONDS',
      env.BILLFOLD_OAUTH_CLOCK_TOLERANCE_SECONDS,
      30,
      0,
      300,
    ),
  };
  if (settings.oauthJwksUrl && !settings.oauthIssuer) {
    throw new ConfigError(
      'BILLFOLD_OAUTH_JWKS_URL needs BILLFOLD_OAUTH_ISSUER: the issuer whose keys these are',
    );
  }
  const jwtKeys = [settings.jwtPublicKey, settings.jwtJwksUrl].filter(Boolean).length;
  if (settings.jwtIssuer && jwtKeys !== 1) {
    throw new ConfigError(
      'BILLFOLD_JWT_ISSUER needs exactly one of BILLFOLD_JWT_PUBLIC_KEY (a PEM public key or a JWK Set) and BILLFOLD_JWT_JWKS_URL',
    );
  }
  if (!settings.jwtIssuer && jwtKeys > 0) {
    throw new ConfigError(
      'BILLFOLD_JWT_PUBLIC_KEY and BILLFOLD_JWT_JWKS_URL need BILLFOLD_JWT_ISSUER: the iss value of the tokens they sign',
    );
  }
  if (settings.jwtIssuer && settings.jwtIssuer === settings.oauthIssuer) {
    throw new ConfigError(
      'BILLFOLD_JWT_ISSUER and BILLFOLD_OAUTH_ISSUER name the same issuer; set BILLFOLD_OAUTH_JWKS_URL instead to give its keys',
    );
  }
  return settings;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const logLevel = (env.BILLFOLD_LOG_LEVEL ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`BILLFOLD_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got '${logLevel}')`);
  }
  const sync = (env.BILLFOLD_SQLITE_SYNCHRONOUS ?? 'FULL').toUpperCase();
  if (sync !== 'FULL' && sync !== 'NORMAL') {
    throw new ConfigError(`BILLFOLD_SQLITE_SYNCHRONOUS must be FULL or NORMAL (got '${sync}')`);
  }
  const base: Config = {
    database: env.BILLFOLD_DATABASE || './data/billfold.db',
    host: env.BILLFOLD_HOST || '127.0.0.1',
    port: int('BILLFOLD_PORT', env.BILLFOLD_PORT, 8787, 0, 65535),
    logLevel: logLevel as Config['logLevel'],
    bootstrapApiKey: env.BILLFOLD_BOOTSTRAP_API_KEY || undefined,
    allowedHosts: list(env.BILLFOLD_ALLOWED_HOSTS),
    allowedOrigins: list(env.BILLFOLD_ALLOWED_ORIGINS),
    maxBodyBytes: int('BILLFOLD_MAX_BODY_BYTES', env.BILLFOLD_MAX_BODY_BYTES, 8 * 1024 * 1024, 1024),
    rateLimitPerMinute: int('BILLFOLD_RATE_LIMIT', env.BILLFOLD_RATE_LIMIT, 0),
    authCacheMs: int('BILLFOLD_AUTH_CACHE_MS', env.BILLFOLD_AUTH_CACHE_MS, 1000, 0, 60_000),
    publicUrl: env.BILLFOLD_PUBLIC_URL || undefined,
    sqliteSynchronous: sync,
    sqliteCacheMb: int('BILLFOLD_SQLITE_CACHE_MB', env.BILLFOLD_SQLITE_CACHE_MB, 32, 1, 65_536),
    pgPoolSize: int('BILLFOLD_PG_POOL_SIZE', env.BILLFOLD_PG_POOL_SIZE, 10, 1, 1000),
    pgPreparedStatements: flag('BILLFOLD_PG_PREPARED_STATEMENTS', env.BILLFOLD_PG_PREPARED_STATEMENTS, true),
    apiLogRetentionDays: int('BILLFOLD_API_LOG_RETENTION_DAYS', env.BILLFOLD_API_LOG_RETENTION_DAYS, 30, 1),
    apiLogRedact: redactList(env.BILLFOLD_API_LOG_REDACT),
    conformanceFixtures: env.BILLFOLD_CONFORMANCE_FIXTURES === '1',
    portalGuessesPerMinute: int(
      'BILLFOLD_PORTAL_GUESSES_PER_MINUTE',
      env.BILLFOLD_PORTAL_GUESSES_PER_MINUTE,
      10,
      1,
      100_000,
    ),
    trustProxy: flag('BILLFOLD_TRUST_PROXY', env.BILLFOLD_TRUST_PROXY, false),
    billingIntervalSeconds: int(
      'BILLFOLD_BILLING_INTERVAL_SECONDS',
      env.BILLFOLD_BILLING_INTERVAL_SECONDS,
      60,
      0,
      86_400,
    ),
    smtpUrl: env.BILLFOLD_SMTP_URL || undefined,
    outboxDir: env.BILLFOLD_OUTBOX_DIR || './data/outbox',
    mailFrom: env.BILLFOLD_MAIL_FROM || undefined,
    pdfFont: env.BILLFOLD_PDF_FONT || undefined,
    pdfFontBold: env.BILLFOLD_PDF_FONT_BOLD || undefined,
    profile: (env.BILLFOLD_PROFILE || 'billfold').trim().toLowerCase(),
    // Checked against the catalogue's groups when the runtime starts (exposure.ts).
    toolsets: env.BILLFOLD_TOOLSETS?.trim() ? list(env.BILLFOLD_TOOLSETS) : null,
    readOnly: flag('BILLFOLD_READ_ONLY', env.BILLFOLD_READ_ONLY, false),
    webhookAllowPrivate: flag('BILLFOLD_WEBHOOK_ALLOW_PRIVATE', env.BILLFOLD_WEBHOOK_ALLOW_PRIVATE, false),
    webhookTimeoutSeconds: int(
      'BILLFOLD_WEBHOOK_TIMEOUT_SECONDS',
      env.BILLFOLD_WEBHOOK_TIMEOUT_SECONDS,
      15,
      1,
      60,
    ),
    webhookRetrySchedule: durations(
      'BILLFOLD_WEBHOOK_RETRY_SCHEDULE',
      env.BILLFOLD_WEBHOOK_RETRY_SCHEDULE,
      DEFAULT_RETRY_SCHEDULE,
    ),
    webhookPollMs: int('BILLFOLD_WEBHOOK_POLL_MS', env.BILLFOLD_WEBHOOK_POLL_MS, 1000, 0, 600_000),
    webhookConcurrency: int('BILLFOLD_WEBHOOK_CONCURRENCY', env.BILLFOLD_WEBHOOK_CONCURRENCY, 32, 1, 1024),
    webhookRetentionDays: int('BILLFOLD_WEBHOOK_RETENTION_DAYS', env.BILLFOLD_WEBHOOK_RETENTION_DAYS, 30, 4),
    tokens: tokenSettings(env),
  };
  const merged = {
    ...base,
    ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)),
  };
  if (merged.smtpUrl !== undefined && !/^smtps?:\/\//i.test(merged.smtpUrl)) {
    throw new ConfigError('BILLFOLD_SMTP_URL must be an smtp:// or smtps:// URL');
  }
  if (merged.publicUrl !== undefined && !isHttpUrl(merged.publicUrl)) {
    throw new ConfigError(
      `BILLFOLD_PUBLIC_URL must be an http:// or https:// URL such as https://billing.example.com (got '${merged.publicUrl}')`,
    );
  }
  if (merged.bootstrapApiKey !== undefined && merged.bootstrapApiKey.length < 24) {
    throw new ConfigError('BILLFOLD_BOOTSTRAP_API_KEY must be at least 24 characters long');
  }
  return merged;
}
