import { BillfoldError, HTTP_STATUS, type ErrorBody } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { invokeOperation, type Outcome } from '../operations/invoke.js';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { recordApiLog, responseSummary, secretKeyTest, type ApiLogEntry } from '../services/api-logs.js';
import type { Door, Principal } from '../services/context.js';
import type { Runtime } from './runtime.js';

/**
 * The one entrance every door uses to run an operation: it adds what belongs to serving —
 * rate limits, the request log line, metrics and the organization's API log — around
 * invokeOperation, which does the work.
 */
export interface Call {
  principal: Principal;
  door: Door;
  operation: string;
  args: unknown;
  requestId?: string;
  /** The calling program (User-Agent, or the MCP client's name and version). */
  client?: string | null;
  /** How it arrived over HTTP, for the API log; absent for stdio and the CLI. */
  http?: { method: string; path: string; origin: string | null };
}

export interface Dispatched {
  outcome: Outcome;
  requestId: string;
  /** The HTTP status this outcome maps to (200, or the error code's status). */
  status: number;
  retryAfterSeconds?: number;
}

function apiLogEntry(
  call: Call,
  operation: string,
  requestId: string,
  status: number,
  ms: number,
  errorCode: string | null,
  response: unknown,
  now: number,
): ApiLogEntry {
  return {
    logged_at: now,
    id: requestId,
    organization_id: call.principal.organizationId,
    api_key_id: call.principal.actor.type === 'api_key' ? call.principal.actor.id : null,
    token_subject: call.principal.actor.type === 'token' ? call.principal.actor.id : null,
    door: call.door,
    operation,
    http_method: (call.http?.method ?? 'post').toLowerCase(),
    http_status: status,
    request_path: call.http?.path ?? `${call.door}:${operation}`,
    request_origin: call.http?.origin ?? null,
    client: call.client ?? null,
    api_version: 'v1',
    duration_ms: Math.round(ms),
    error_code: errorCode,
    request_body: call.args,
    response_body: response,
  };
}

export function statusOf(error: ErrorBody): number {
  return HTTP_STATUS[error.code];
}

export async function dispatch(rt: Runtime, call: Call): Promise<Dispatched> {
  const started = performance.now();
  const requestId = call.requestId ?? newId('api_log');
  const op = rt.catalogue.get(call.operation);
  let outcome: Outcome;
  let retryAfterSeconds: number | undefined;
  if (!op) {
    const suggestions = rt.catalogue.suggest(call.operation);
    outcome = {
      ok: false,
      error: new BillfoldError(
        'NOT_FOUND',
        `there is no operation named '${call.operation}'`,
        { operation: call.operation, suggestions },
        suggestions.length
          ? `Did you mean ${suggestions.join(' or ')}?`
          : 'List the operations with tools/list or GET /api/v1/openapi.json.',
      ).toBody(),
    };
  } else {
    // Toolsets and read-only mode bind the doors assistants and programs use, not the
    // operator's own CLI, nor the customer portal, whose pages call their own fixed list.
    const refused = call.door === 'cli' || call.door === 'portal' ? null : rt.exposure.refusal(op);
    const limited = refused
      ? { ok: true as const }
      : rt.rateLimiter.take(call.principal.actor.id ?? call.principal.organizationId);
    if (refused) {
      outcome = { ok: false, error: refused.toBody() };
    } else if (!limited.ok) {
      retryAfterSeconds = limited.retryAfterSeconds;
      outcome = {
        ok: false,
        error: new BillfoldError(
          'RATE_LIMITED',
          `too many requests for this API key; retry in ${limited.retryAfterSeconds} s`,
          { retry_after_seconds: limited.retryAfterSeconds, limit_per_minute: rt.config.rateLimitPerMinute },
          'Slow down, or batch work (record_usage_batch takes up to 1,000 events per call).',
        ).toBody(),
      };
    } else {
      const writeLog = op.annotations.readOnlyHint
        ? undefined
        : (db: Kysely<Database>, output: Record<string, unknown>) =>
            recordApiLog(
              db,
              apiLogEntry(
                call,
                op.name,
                requestId,
                200,
                performance.now() - started,
                null,
                responseSummary(output, op.secretOutput),
                rt.now(),
              ),
              secretKeyTest(rt.config.apiLogRedact),
            );
      outcome = await invokeOperation(
        { env: rt, principal: call.principal, door: call.door, requestId },
        op,
        call.args,
        writeLog,
      );
    }
  }
  const status = outcome.ok ? 200 : statusOf(outcome.error);
  const ms = performance.now() - started;
  const result = outcome.ok ? 'ok' : outcome.error.code;
  rt.metrics.recordCall(op ? op.name : 'unknown', call.door, result, ms / 1000);
  rt.logger.info(
    {
      request_id: requestId,
      door: call.door,
      operation: call.operation,
      organization_id: call.principal.organizationId,
      actor: call.principal.actor.id,
      outcome: result,
      duration_ms: Math.round(ms * 100) / 100,
    },
    'operation',
  );
  if (op && !op.annotations.readOnlyHint && !outcome.ok) {
    // A failed change is logged on its own (a successful one was logged in its transaction);
    // a failure to write it is logged, never the caller's problem.
    await recordApiLog(
      rt.db.kysely,
      apiLogEntry(
        call,
        op.name,
        requestId,
        status,
        ms,
        outcome.error.code,
        { error: outcome.error },
        rt.now(),
      ),
      secretKeyTest(rt.config.apiLogRedact),
    ).catch((err: unknown) =>
      rt.logger.warn({ request_id: requestId, err: (err as Error).message }, 'api log not written'),
    );
  }
  return { outcome, requestId, status, ...(retryAfterSeconds ? { retryAfterSeconds } : {}) };
}
