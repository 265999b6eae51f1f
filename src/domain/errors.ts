/**
 * The one error type every layer raises for an expected failure. Interfaces turn it into an
 * MCP tool error result, an HTTP status with a JSON body, or a CLI message, all carrying the
 * same `{ code, message, details, hint }`.
 */
export const ERROR_CODES = [
  'NOT_FOUND',
  'VALIDATION_ERROR',
  'CONFLICT',
  'INVALID_STATUS',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'INTERNAL_ERROR',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The HTTP API's status for each code (PRODUCT.md). */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  NOT_FOUND: 404,
  VALIDATION_ERROR: 422,
  CONFLICT: 409,
  INVALID_STATUS: 409,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
};

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details: Record<string, unknown>;
  hint?: string;
}

export class BillfoldError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, hint?: string) {
    super(message);
    this.name = 'BillfoldError';
    this.code = code;
    this.details = details;
    this.hint = hint;
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message, details: this.details };
    if (this.hint) body.hint = this.hint;
    return body;
  }
}

export const notFound = (resource: string, ref: string, hint?: string) =>
  new BillfoldError(
    'NOT_FOUND',
    `${resource} '${ref}' was not found`,
    { resource, ref },
    hint ?? `Check the id, or list ${resource}s to find it.`,
  );

export const validation = (
  field: string,
  message: string,
  hint?: string,
  extra: Record<string, unknown> = {},
) =>
  new BillfoldError(
    'VALIDATION_ERROR',
    `${field}: ${message}`,
    { issues: [{ field, message }], ...extra },
    hint,
  );

export const invalidStatus = (message: string, details: Record<string, unknown>, hint?: string) =>
  new BillfoldError('INVALID_STATUS', message, details, hint);

export const conflict = (message: string, details: Record<string, unknown>, hint?: string) =>
  new BillfoldError('CONFLICT', message, details, hint);
