import type { Kysely } from 'kysely';
import * as z from 'zod';
import type { Database } from '../db/schema.js';
import { isUniqueViolation } from '../db/sql.js';
import { BillfoldError, type ErrorBody } from '../domain/errors.js';
import { depthError, jsonDepthExcess } from '../domain/json-depth.js';
import {
  createServiceContext,
  hasScope,
  runCommitHooks,
  type CommitHooks,
  type Door,
  type Principal,
  type Scope,
  type ServiceContext,
  type ServiceEnv,
} from '../services/context.js';
import type { AnyOperation } from './define.js';
import { objectsOf } from './objects.js';
import { deferWebhookEvents, flushWebhookEvents } from '../services/webhooks/outbox.js';
import { validationErrorFrom, type SchemaLookup } from './validation.js';

/**
 * Runs one operation for one caller: scope check, input validation, the handler inside a
 * transaction when it writes, output validation. Every door calls this; none repeats it.
 */

export type Outcome = { ok: true; output: Record<string, unknown> } | { ok: false; error: ErrorBody };

export interface Invocation {
  env: ServiceEnv;
  principal: Principal;
  door: Door;
  requestId: string;
}

/**
 * `alsoInTransaction` runs inside a writing operation's transaction after its handler succeeded
 * (the API log entry), so one commit — one disk sync — covers both.
 */
export async function invokeOperation(
  inv: Invocation,
  op: AnyOperation,
  args: unknown,
  alsoInTransaction?: (db: Kysely<Database>, output: Record<string, unknown>) => Promise<void>,
): Promise<Outcome> {
  try {
    if (!hasScope(inv.principal.scopes, op.scope)) {
      const granted = [...inv.principal.scopes].join(', ') || 'none';
      const token = inv.principal.actor.type === 'token';
      throw new BillfoldError(
        'FORBIDDEN',
        `${op.name} needs the ${op.scope} scope; this ${token ? 'token grants' : 'key has'} ${granted}`,
        { operation: op.name, required_scope: op.scope, granted_scopes: [...inv.principal.scopes] },
        op.scope === 'platform'
          ? "Only the installation's operator has it: a key made on the server's machine with `billfold keys create --platform`."
          : token
            ? `Get a token that grants the ${op.scope} scope (named by BILLFOLD_OAUTH_SCOPE_${op.scope.toUpperCase()}).`
            : `Use a key with the ${op.scope} scope (billfold keys create --scopes ${op.scope}).`,
      );
    }
    // Measured before anything recursive (validation, hashing, serializing) touches it.
    const excess = jsonDepthExcess(args);
    if (excess) throw depthError(excess);
    const parsed = op.input.safeParse(args ?? {}, { reportInput: true });
    if (!parsed.success) throw validationErrorFrom(parsed.error, schemaLookup(op.input));
    const db = inv.env.db.kysely;
    const hooks: CommitHooks = [];
    const run = async (conn: Kysely<Database>) => {
      // A writing operation's webhook deliveries are written with its change, just before it
      // commits, reusing the objects its output already holds (services/webhooks/outbox.ts).
      if (conn.isTransaction) deferWebhookEvents(conn);
      const result = await op.handler(
        createServiceContext(inv.env, conn, inv.principal, inv.door, inv.requestId, hooks),
        parsed.data,
      );
      const output = checkOutput(inv, op, result);
      if (conn.isTransaction) await flushWebhookEvents(conn, objectsOf(op, output));
      if (alsoInTransaction) await alsoInTransaction(conn, output);
      return output;
    };
    const output =
      op.transactions === 'steps'
        ? // The handler commits its own steps (ctx.transaction) around work that must not hold
          // the database, such as talking to a mail server; the API log follows on its own.
          await run(db)
        : !op.annotations.readOnlyHint
          ? await db.transaction().execute(run)
          : inv.env.db.dialect === 'sqlite'
            ? await db.transaction().setAccessMode('read only').execute(run)
            : // On PostgreSQL BEGIN and COMMIT would be two more round trips for a single-snapshot
              // benefit most reads do not need.
              await run(db);
    runCommitHooks(hooks);
    return { ok: true, output };
  } catch (e) {
    return { ok: false, error: toErrorBody(e, inv, op.name) };
  }
}

/**
 * Runs read-only work that is not an operation (an MCP resource or prompt) with the same scope
 * check and error mapping; throws a BillfoldError on failure.
 */
export async function runRead<T>(
  inv: Invocation,
  scope: Scope,
  what: string,
  fn: (ctx: ServiceContext) => Promise<T>,
): Promise<T> {
  if (!hasScope(inv.principal.scopes, scope)) {
    throw new BillfoldError('FORBIDDEN', `${what} needs the ${scope} scope`, { required_scope: scope });
  }
  try {
    return await fn(createServiceContext(inv.env, inv.env.db.kysely, inv.principal, inv.door, inv.requestId));
  } catch (e) {
    const body = toErrorBody(e, inv, what);
    throw new BillfoldError(body.code, body.message, body.details, body.hint);
  }
}

function checkOutput(inv: Invocation, op: AnyOperation, result: unknown): Record<string, unknown> {
  const output = op.output.safeParse(result);
  if (!output.success) {
    inv.env.logger.error(
      { operation: op.name, request_id: inv.requestId, issues: output.error.issues.slice(0, 5) },
      'operation produced output that does not match its schema',
    );
    throw new BillfoldError(
      'INTERNAL_ERROR',
      `${op.name} produced an invalid result (request ${inv.requestId})`,
      {
        request_id: inv.requestId,
      },
    );
  }
  return output.data as Record<string, unknown>;
}

/** Maps anything thrown to the error contract; unexpected errors are logged with their stack. */
export function toErrorBody(
  e: unknown,
  inv: Pick<Invocation, 'env' | 'requestId'>,
  operation: string,
): ErrorBody {
  if (e instanceof BillfoldError) return e.toBody();
  const err = e as { code?: string; message?: string };
  if (isUniqueViolation(err)) {
    return new BillfoldError(
      'CONFLICT',
      'another object already uses one of these unique values',
      { request_id: inv.requestId },
      'Retry; if it persists, look the existing object up by its external_id or code.',
    ).toBody();
  }
  if (isDatabaseUnavailable(err)) {
    inv.env.logger.error({ operation, request_id: inv.requestId, err: err.message }, 'database unavailable');
    return new BillfoldError(
      'INTERNAL_ERROR',
      'the database is unavailable; nothing was changed',
      { request_id: inv.requestId, retryable: true },
      'Retry in a moment; GET /health shows when the database is back.',
    ).toBody();
  }
  inv.env.logger.error({ operation, request_id: inv.requestId, err }, 'unexpected error');
  return new BillfoldError('INTERNAL_ERROR', `unexpected error (request ${inv.requestId})`, {
    request_id: inv.requestId,
  }).toBody();
}

function isDatabaseUnavailable(err: { code?: string; message?: string } | undefined): boolean {
  if (!err) return false;
  const codes = [
    'ECONNREFUSED',
    'ECONNRESET',
    'ETIMEDOUT',
    'EPIPE',
    '57P01',
    '55000',
    '3D000',
    '57P02',
    '57P03',
    '08006',
    '08001',
    '08003',
    'SQLITE_BUSY',
    'SQLITE_CANTOPEN',
    'SQLITE_IOERR',
  ];
  if (err.code && codes.includes(err.code)) return true;
  return /connection terminated|timeout exceeded when trying to connect|is not currently accepting connections|terminating connection|database connection is not open|Client has encountered a connection error/i.test(
    err.message ?? '',
  );
}

/** Answers questions about the input schema at an issue's path, to word the message. */
export function schemaLookup(schema: z.ZodType): SchemaLookup {
  const at = (path: readonly PropertyKey[]): z.ZodType | undefined => {
    let current: z.ZodType | undefined = schema;
    for (const seg of path) {
      current = unwrap(current);
      if (current instanceof z.ZodObject) current = current.shape[seg as string] as z.ZodType | undefined;
      else if (current instanceof z.ZodArray) current = current.element as z.ZodType;
      else if (current instanceof z.ZodRecord) current = current.valueType as z.ZodType;
      else return undefined;
    }
    return unwrap(current);
  };
  return {
    fieldsAt(path) {
      const s = at(path);
      return s instanceof z.ZodObject ? Object.keys(s.shape) : undefined;
    },
    isIntegerAt(path) {
      const s = at(path);
      return s instanceof z.ZodNumber && s.isInt === true;
    },
  };
}

function unwrap(s: z.ZodType | undefined): z.ZodType | undefined {
  let cur = s;
  for (let i = 0; i < 10 && cur; i++) {
    if (cur instanceof z.ZodOptional || cur instanceof z.ZodNullable || cur instanceof z.ZodDefault) {
      cur = cur.unwrap() as z.ZodType;
    } else if (cur instanceof z.ZodPipe) {
      cur = cur.in as z.ZodType;
    } else break;
  }
  return cur;
}
