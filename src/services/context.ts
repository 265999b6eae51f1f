import type { Kysely } from 'kysely';
import type { Db, DialectName } from '../db/connection.js';
import type { Database, OrganizationsTable } from '../db/schema.js';
import type { Logger } from 'pino';
import { prepared } from '../db/prepared.js';
import type { Mailer } from './mailer.js';
import type { PdfFonts } from './pdf-fonts.js';
import type { WebhookSettings } from './webhooks/settings.js';
import { deferWebhookEvents, flushWebhookEvents } from './webhooks/outbox.js';
import type { PayloadFormatter } from './webhooks/formats.js';

/** How a request reached Billfold; recorded in the activity and API logs. */
export type Door = 'mcp_stdio' | 'mcp_http' | 'mcp_sse' | 'http_api' | 'cli' | 'portal' | 'system';

/**
 * read < write < admin act within the caller's own organization. `platform` is above admin: the
 * installation's operator, who creates, lists and disables organizations; it is given only on
 * the server's machine (`billfold keys create --platform`), never by a scope list.
 */
export type Scope = 'read' | 'write' | 'admin' | 'platform';
export const SCOPES: readonly Scope[] = ['read', 'write', 'admin', 'platform'];

/**
 * Who acts: an API key, a bearer token's subject (id: its `sub`), the local operator (stdio,
 * CLI), a portal visitor, or Billfold itself.
 */
export interface Actor {
  type: 'api_key' | 'token' | 'local' | 'portal' | 'system';
  id: string | null;
  name: string | null;
}

/** An authenticated caller: the organization it acts for and what it may do there. */
export interface Principal {
  organizationId: string;
  actor: Actor;
  scopes: ReadonlySet<Scope>;
}

/** Services that need more than the database (mail, files, clocks) find them here. */
export interface ServiceEnv {
  readonly db: Db;
  readonly logger: Logger;
  readonly now: () => number;
  readonly version: string;
  /** Outgoing email: SMTP, or .eml files in the outbox folder. */
  readonly mailer: Mailer;
  /** The fonts invoice and credit note PDFs embed. */
  readonly pdfFonts: PdfFonts;
  /**
   * The base URL of links Billfold hands out (portal links), without a trailing slash:
   * BILLFOLD_PUBLIC_URL, else the address this process serves HTTP on, else host and port.
   */
  publicUrl(): string;
  /** Which tools this process offers (toolsets, read-only mode), for verify to report. */
  readonly exposure?: { readonly toolsets: readonly string[] | null; readonly readOnly: boolean };
  /** How webhooks are sent (BILLFOLD_WEBHOOK_*); defaults when absent. */
  readonly webhooks?: WebhookSettings;
  /** Webhook bodies other than Billfold's, by payload_format (Lago's: the Lago API writes it). */
  readonly payloadFormats?: Readonly<Record<string, PayloadFormatter>>;
  /** Extension point for later resources (mailer, PDF renderer, ...); keyed by name. */
  readonly services: Record<string, unknown>;
}

/**
 * What every service function receives: the database (a transaction when the operation
 * writes), the organization it acts for, who acts and through which door.
 */
export interface ServiceContext {
  readonly db: Kysely<Database>;
  readonly dialect: DialectName;
  readonly env: ServiceEnv;
  readonly organizationId: string;
  readonly actor: Actor;
  readonly scopes: ReadonlySet<Scope>;
  readonly door: Door;
  readonly requestId: string;
  now(): number;
  /** The organization row, read once per request. */
  organization(): Promise<OrganizationsTable>;
  /**
   * Runs `fn` in a write transaction with a context bound to it; inside one already, simply
   * runs it. For operations that commit in steps.
   */
  transaction<T>(fn: (ctx: ServiceContext) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` once what this context has written is committed: at once outside a transaction,
   * after the commit inside one. For in-memory knowledge of the database (what rows exist) that
   * must not outlive a rollback. Where the transaction's owner does not report its commit, `fn`
   * never runs, so the knowledge is only ever missing, never wrong.
   */
  afterCommit(fn: () => void): void;
}

/** What a transaction's owner runs once it has committed (see ServiceContext.afterCommit). */
export type CommitHooks = Array<() => void>;

const organizationById = prepared((db, p: { id: string }) =>
  db.selectFrom('organizations').selectAll().where('id', '=', p.id),
);

export function createServiceContext(
  env: ServiceEnv,
  db: Kysely<Database>,
  principal: Principal,
  door: Door,
  requestId: string,
  /** Given by whoever commits `db`'s transaction, which then runs them. */
  commitHooks?: CommitHooks,
): ServiceContext {
  let org: Promise<OrganizationsTable> | undefined;
  const ctx: ServiceContext = {
    db,
    dialect: env.db.dialect,
    env,
    organizationId: principal.organizationId,
    actor: principal.actor,
    scopes: principal.scopes,
    door,
    requestId,
    now: env.now,
    organization() {
      org ??= organizationById(db, { id: principal.organizationId }).then(([row]) => {
        if (!row) throw new Error(`organization ${principal.organizationId} does not exist`);
        return row;
      });
      return org;
    },
    transaction(fn) {
      if (db.isTransaction) return fn(ctx);
      const hooks: CommitHooks = [];
      return db
        .transaction()
        .execute(async (trx) => {
          // The change's webhook deliveries go in with it (services/webhooks/outbox.ts).
          deferWebhookEvents(trx);
          const result = await fn(createServiceContext(env, trx, principal, door, requestId, hooks));
          await flushWebhookEvents(trx);
          return result;
        })
        .then((result) => {
          runCommitHooks(hooks);
          return result;
        });
    },
    afterCommit(fn) {
      if (!db.isTransaction) fn();
      else commitHooks?.push(fn);
    },
  };
  return ctx;
}

export function runCommitHooks(hooks: CommitHooks): void {
  for (const fn of hooks.splice(0)) fn();
}

/** Billfold acting by itself in an organization (a billing run, the scheduler), with every scope. */
export function systemContext(
  env: ServiceEnv,
  organizationId: string,
  requestId: string,
  name: string,
): ServiceContext {
  const principal: Principal = {
    organizationId,
    actor: { type: 'system', id: null, name },
    scopes: new Set(['read', 'write', 'admin']),
  };
  return createServiceContext(env, env.db.kysely, principal, 'system', requestId);
}

/** Scopes nest: platform may do what admin may, admin what write may, write what read may. */
export function hasScope(granted: ReadonlySet<Scope>, required: Scope): boolean {
  const rank = SCOPES.indexOf(required);
  for (const g of granted) if (SCOPES.indexOf(g) >= rank) return true;
  return false;
}
