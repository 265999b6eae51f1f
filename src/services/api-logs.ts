import type { Kysely } from 'kysely';
import type { ApiLogsTable, Database } from '../db/schema.js';
import { BillfoldError } from '../domain/errors.js';
import { MAX_JSON_DEPTH } from '../domain/json-depth.js';
import { secretKeyMatcher } from '../domain/redaction.js';
import { pageOffset, pagination, type PageRequest, type Pagination } from '../domain/pagination.js';
import { toIso } from '../domain/time.js';
import { countAll, escapeLike } from '../db/sql.js';
import { sql, type Expression, type SqlBool } from 'kysely';
import { ACTIVITY_RESOURCE_TYPES } from './activity.js';
import { preparedInsert } from '../db/prepared.js';
import type { ServiceContext } from './context.js';

/**
 * The organization's record of the changes requested through its API keys (Lago's API logs):
 * every call of a writing operation, through any door, with its outcome. The request body is
 * kept, cut to a few kilobytes and with the values of secret-looking keys redacted, for the
 * organization's own debugging; of a successful response
 * only what it points at (the ids of the objects it returned) — the objects themselves are one
 * lookup away and would double what each change writes. Readable with the admin scope only;
 * never written to the process log.
 */
const MAX_BODY_CHARS = 8192;

export type ApiLogEntry = Omit<ApiLogsTable, 'request_body' | 'response_body'> & {
  request_body: unknown;
  response_body: unknown;
};

/** Long arrays (a batch of a thousand usage events) are cut before serializing, not after. */
const MAX_ARRAY_ITEMS = 20;

/** What the log keeps of an output field the caller sees only once. */
const SECRET = '(secret)';

/** Whether a key's value is a secret the log must not keep (BILLFOLD_API_LOG_REDACT). */
export type SecretKeyTest = (key: string) => boolean;

const matchers = new WeakMap<readonly string[], SecretKeyTest>();

/** The test for a configured list of patterns, built once per list. */
export function secretKeyTest(patterns: readonly string[]): SecretKeyTest {
  let test = matchers.get(patterns);
  if (!test) {
    test = secretKeyMatcher(patterns);
    matchers.set(patterns, test);
  }
  return test;
}

/**
 * The copy of a body the log stores: the values of secret-looking keys replaced by
 * `(redacted)` at any depth, arrays cut to their first items, and nothing deeper than the input
 * depth limit (a refused body may nest far deeper, and serializing it would exhaust the
 * stack), so this recursion is bounded.
 */
function logCopy(value: unknown, depth: number, isSecret: SecretKeyTest): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_JSON_DEPTH) return `…(nested deeper than ${MAX_JSON_DEPTH} levels)`;
  if (Array.isArray(value)) {
    const out = value.slice(0, MAX_ARRAY_ITEMS).map((v) => logCopy(v, depth + 1, isSecret));
    if (value.length > MAX_ARRAY_ITEMS) out.push(`…(${value.length - MAX_ARRAY_ITEMS} more)`);
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    out[k] = v != null && v !== SECRET && isSecret(k) ? '(redacted)' : logCopy(v, depth + 1, isSecret);
  return out;
}

/**
 * A successful response as the log keeps it: each object it returned as its id (and number or
 * code when it has one), each list as its length, small values as they are, and the fields the
 * operation shows only once (`secret`) as `(secret)`.
 */
export function responseSummary(
  output: Record<string, unknown>,
  secret: readonly string[] = [],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(output)) {
    if (secret.includes(k)) out[k] = SECRET;
    else if (Array.isArray(v)) out[k] = { count: v.length };
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.id === 'string') {
        const ref: Record<string, unknown> = { id: o.id };
        for (const name of ['number', 'code', 'external_id', 'transaction_id', 'status'])
          if (o[name] != null) ref[name] = o[name];
        out[k] = ref;
      } else {
        const text = JSON.stringify(v);
        out[k] = text.length <= 512 ? v : '(omitted)';
      }
    } else out[k] = v;
  }
  return out;
}

function clip(value: unknown, isSecret: SecretKeyTest): string | null {
  if (value === undefined) return null;
  const text = JSON.stringify(logCopy(value, 0, isSecret));
  return text.length > MAX_BODY_CHARS ? `${text.slice(0, MAX_BODY_CHARS)}…(truncated)` : text;
}

const insertApiLog = preparedInsert('api_logs', {
  id: true,
  organization_id: true,
  api_key_id: true,
  token_subject: true,
  door: true,
  operation: true,
  http_method: true,
  http_status: true,
  request_path: true,
  request_origin: true,
  client: true,
  api_version: true,
  duration_ms: true,
  error_code: true,
  request_body: true,
  response_body: true,
  logged_at: true,
});

/** Written for every call of a writing operation, so compiled once (preparedInsert). */
export async function recordApiLog(
  db: Kysely<Database>,
  entry: ApiLogEntry,
  isSecret: SecretKeyTest,
): Promise<void> {
  await insertApiLog(db, {
    ...entry,
    request_body: clip(entry.request_body, isSecret),
    response_body: clip(entry.response_body, isSecret),
  });
}

export interface ApiLogView {
  request_id: string;
  api_version: string;
  door: string;
  operation: string;
  client: string | null;
  api_key_id: string | null;
  token_subject: string | null;
  http_method: string;
  http_status: number;
  request_origin: string | null;
  request_path: string;
  duration_ms: number;
  error_code: string | null;
  request_body: unknown;
  request_response: unknown;
  logged_at: string;
}

function parseBody(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function view(row: ApiLogsTable): ApiLogView {
  return {
    request_id: row.id,
    api_version: row.api_version,
    door: row.door,
    operation: row.operation,
    client: row.client,
    api_key_id: row.api_key_id,
    token_subject: row.token_subject ?? null,
    http_method: row.http_method,
    http_status: row.http_status,
    request_origin: row.request_origin,
    request_path: row.request_path,
    duration_ms: row.duration_ms,
    error_code: row.error_code,
    request_body: parseBody(row.request_body),
    request_response: parseBody(row.response_body),
    logged_at: toIso(row.logged_at),
  };
}

export async function getApiLog(ctx: ServiceContext, requestId: string): Promise<ApiLogView> {
  const row = await ctx.db
    .selectFrom('api_logs')
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where('id', '=', requestId)
    .executeTakeFirst();
  if (!row) {
    throw new BillfoldError(
      'NOT_FOUND',
      `request_id: no API log has the id '${requestId}'`,
      { resource: 'api_log', ref: requestId },
      'list_api_logs shows recent requests with their request_id.',
    );
  }
  return view(row);
}

/**
 * Resources whose writing operations do not carry their name: Lago's `POST /events` is
 * Billfold's record_usage, a payment is recorded by mark_invoice_paid.
 */
const OPERATIONS_OF: Record<string, readonly string[]> = {
  event: ['record_usage', 'record_usage_batch'],
  usage_event: ['record_usage', 'record_usage_batch'],
  payment: ['mark_invoice_paid'],
};

/** The resources a request path may name: those the activity log knows, and payments and events. */
export const API_LOG_RESOURCES: readonly string[] = [
  ...new Set([...ACTIVITY_RESOURCE_TYPES, ...Object.keys(OPERATIONS_OF)]),
].sort();

/** What a request_paths value matches: one exact path, or every request about one resource. */
type PathMatch = { exact: string } | { resource: string; lagoPrefix: string; whole: boolean };

const DOOR_PATH = /^\/(mcp|sse)(\/[a-z0-9_-]+)?$|^\/messages$/;
const OPERATION_PATH = /^\/api\/v1\/[a-z]+(_[a-z0-9]+)+$/;
const STDIO_PATH = /^[a-z_]+:[a-z]+(_[a-z0-9]+)+$/;

/**
 * Reads a request_paths value. A door's own path (`/mcp`, `/api/v1/create_invoice`,
 * `mcp_stdio:create_invoice`) matches exactly; a resource path — `/invoices`, Lago's
 * `/api/v1/billable_metrics/storage_gb` or Billfold's `/lago/api/v1/customers` — matches every
 * request about that resource through any door: the operations whose name has the resource's
 * word (create_invoice, mark_invoice_paid, …) and the Lago door's requests below its path.
 * A path that can never match is refused by name, never answered with an empty list.
 */
export function requestPathMatch(path: string): PathMatch | { error: string } {
  const p = path.trim();
  if (DOOR_PATH.test(p) || STDIO_PATH.test(p)) return { exact: p };
  if (!p.startsWith('/'))
    return {
      error: `must be a path starting with / such as /invoices or /api/v1/create_invoice (got '${path}')`,
    };
  const rest = p.replace(/^\/lago(?=\/)/, '').replace(/^\/api\/v1(?=\/)/, '');
  const word = rest.split('/')[1]?.toLowerCase() ?? '';
  const singular = API_LOG_RESOURCES.includes(word) ? word : word.replace(/s$/, '');
  if (API_LOG_RESOURCES.includes(singular))
    return { resource: singular, lagoPrefix: `/lago/api/v1${rest}`, whole: rest.split('/').length === 2 };
  if (OPERATION_PATH.test(p)) return { exact: p };
  return {
    error: `names no resource Billfold logs requests for (got '${path}'); give a resource path such as /invoices (resources: ${API_LOG_RESOURCES.join(', ')}) or a door's path such as /mcp or /api/v1/create_invoice`,
  };
}

function pathCondition(m: PathMatch): Expression<SqlBool> {
  if ('exact' in m) return sql<SqlBool>`${sql.ref('request_path')} = ${m.exact}`;
  const ors: Expression<SqlBool>[] = [
    sql<SqlBool>`${sql.ref('request_path')} like ${`${escapeLike(m.lagoPrefix)}%`} escape '\\'`,
  ];
  // A path below one object (/invoices/INV-7) is only the Lago door's: other doors' paths name
  // the operation, not the object.
  if (!m.whole) return ors[0]!;
  // The operation name as words: _create_billable_metric_ has _billable_metric_.
  for (const word of [m.resource, `${m.resource}s`])
    ors.push(
      sql<SqlBool>`('_' || ${sql.ref('operation')} || '_') like ${`%\\_${escapeLike(word)}\\_%`} escape '\\'`,
    );
  const named = OPERATIONS_OF[m.resource];
  if (named) ors.push(sql<SqlBool>`${sql.ref('operation')} in (${sql.join(named)})`);
  return sql<SqlBool>`(${sql.join(ors, sql` or `)})`;
}

export interface ApiLogFilter {
  http_methods?: string[];
  /** Numeric codes ("404") or outcomes ("succeeded", "failed"). */
  http_statuses?: string[];
  api_version?: string;
  request_paths?: string[];
  operations?: string[];
  doors?: string[];
  from?: number;
  to?: number;
}

export async function listApiLogs(
  ctx: ServiceContext,
  f: ApiLogFilter,
  page: PageRequest,
): Promise<{ api_logs: ApiLogView[]; pagination: Pagination }> {
  let q = ctx.db.selectFrom('api_logs').where('organization_id', '=', ctx.organizationId);
  if (f.http_methods?.length) q = q.where('http_method', 'in', f.http_methods);
  if (f.http_statuses?.length) {
    const codes = f.http_statuses.filter((s) => /^\d{3}$/.test(s)).map(Number);
    const outcomes = new Set(f.http_statuses.filter((s) => s === 'succeeded' || s === 'failed'));
    q = q.where((eb) => {
      const ors = [];
      if (codes.length) ors.push(eb('http_status', 'in', codes));
      if (outcomes.has('succeeded')) ors.push(eb('http_status', '<', 400));
      if (outcomes.has('failed')) ors.push(eb('http_status', '>=', 400));
      return eb.or(ors);
    });
  }
  if (f.api_version) q = q.where('api_version', '=', f.api_version);
  if (f.request_paths?.length) {
    const matches = f.request_paths.map((p, i) => {
      const m = requestPathMatch(p);
      if ('error' in m)
        throw new BillfoldError('VALIDATION_ERROR', `request_paths[${i}] ${m.error}`, {
          issues: [{ field: `request_paths[${i}]`, message: `request_paths[${i}] ${m.error}` }],
        });
      return m;
    });
    q = q.where(() => sql<SqlBool>`(${sql.join(matches.map(pathCondition), sql` or `)})`);
  }
  if (f.operations?.length) q = q.where('operation', 'in', f.operations);
  if (f.doors?.length) q = q.where('door', 'in', f.doors);
  if (f.from !== undefined) q = q.where('logged_at', '>=', f.from);
  if (f.to !== undefined) q = q.where('logged_at', '<', f.to);
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll()
    .orderBy('id', 'desc')
    .limit(page.per_page)
    .offset(pageOffset(page))
    .execute();
  return { api_logs: rows.map(view), pagination: pagination(page, Number(count)) };
}

/** Drops entries older than the retention window; run by the server's housekeeping timer. */
export async function pruneApiLogs(db: Kysely<Database>, olderThan: number): Promise<number> {
  const r = await db.deleteFrom('api_logs').where('logged_at', '<', olderThan).executeTakeFirst();
  return Number(r.numDeletedRows);
}
