import type { ErrorBody } from '../../../domain/errors.js';

/**
 * Lago's error body — `{ status, error, code, error_details }` with Lago's status codes — plus
 * Billfold's own `message` (and `hint`), which Lago's Rust client reads and a person needs: the
 * field, the value and what would work.
 */
export interface LagoErrorBody {
  status: number;
  error: string;
  code?: string;
  error_details?: Record<string, unknown>;
  message: string;
  hint?: string;
}

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

export class LagoError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly hint?: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'LagoError';
  }

  body(): LagoErrorBody {
    const b: LagoErrorBody = { status: this.status, error: REASON[this.status] ?? 'Error', message: '' };
    if (this.code) b.code = this.code;
    if (this.details) b.error_details = this.details;
    b.message = this.message;
    if (this.hint) b.hint = this.hint;
    return b;
  }
}

/** A 422 about fields, as Lago writes it: `error_details: { field: [problem] }`. */
export function invalidFields(fields: Record<string, string>, hint?: string): LagoError {
  const details: Record<string, string[]> = {};
  for (const [f, m] of Object.entries(fields)) details[f] = [m];
  const message = Object.entries(fields)
    .map(([f, m]) => `${f}: ${m}`)
    .join('; ');
  return new LagoError(422, 'validation_errors', message, details, hint);
}

/** A Billfold field name in an error, as the Lago request called it. */
export type FieldNames = Record<string, string>;

function lagoField(field: string, names: FieldNames | undefined): string {
  if (!names) return field;
  for (const [from, to] of Object.entries(names)) {
    if (field === from) return to;
    if (field.startsWith(`${from}.`) || field.startsWith(`${from}[`)) return to + field.slice(from.length);
  }
  return field;
}

/**
 * A Billfold error as Lago answers it. `resource` names the object of a 404's code
 * (`customer_not_found`); `names` maps Billfold's field names back to the request's.
 */
export function fromBillfold(
  error: ErrorBody,
  resource: string,
  names?: FieldNames,
  retryAfterSeconds?: number,
): LagoError {
  const message = names
    ? Object.entries(names).reduce(
        // Only a field path at the start of a problem ("amount: …", "; amount must …"), never a
        // name inside another path (charges[0].properties.amount).
        (m, [from, to]) =>
          m.replace(new RegExp(`(^|; )${from.replace(/[.[\]]/g, '\\$&')}(?=[:\\s.[])`, 'g'), `$1${to}`),
        error.message,
      )
    : error.message;
  switch (error.code) {
    case 'NOT_FOUND': {
      const what = typeof error.details.resource === 'string' ? error.details.resource : resource;
      return new LagoError(
        404,
        `${what.replace(/[^a-z0-9]+/gi, '_').toLowerCase()}_not_found`,
        message,
        undefined,
        error.hint,
      );
    }
    case 'VALIDATION_ERROR':
    case 'CONFLICT': {
      const issues = Array.isArray(error.details.issues)
        ? (error.details.issues as Array<{ field?: string; message?: string }>)
        : [];
      const details: Record<string, string[]> = {};
      for (const i of issues) {
        const f = lagoField(i.field ?? 'base', names);
        (details[f] ??= []).push(i.message ?? 'invalid');
      }
      if (!issues.length) details.base = [error.code === 'CONFLICT' ? 'value_already_exist' : message];
      return new LagoError(422, 'validation_errors', message, details, error.hint);
    }
    case 'INVALID_STATUS':
      return new LagoError(405, 'not_allowed', message, undefined, error.hint);
    case 'UNAUTHORIZED':
      return new LagoError(401, undefined, message, undefined, error.hint);
    case 'FORBIDDEN':
      return new LagoError(403, 'forbidden', message, undefined, error.hint);
    case 'RATE_LIMITED':
      return new LagoError(429, 'too_many_requests', message, undefined, error.hint, retryAfterSeconds);
    default:
      return new LagoError(500, 'internal_error', message, undefined, error.hint);
  }
}
