import type { IncomingMessage, ServerResponse } from 'node:http';
import { BillfoldError, HTTP_STATUS, type ErrorBody } from '../../domain/errors.js';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

export function sendError(
  res: ServerResponse,
  error: ErrorBody,
  headers: Record<string, string> = {},
  status?: number,
): void {
  const extra: Record<string, string> = { ...headers };
  if (error.code === 'UNAUTHORIZED' && !extra['www-authenticate'])
    extra['www-authenticate'] = 'Bearer realm="billfold"';
  sendJson(res, status ?? HTTP_STATUS[error.code], { error }, extra);
}

export class BodyTooLargeError extends Error {}

/** Reads the whole body, refusing more than `limit` bytes as soon as it is exceeded. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLargeError();
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

export function tooLarge(limit: number): ErrorBody {
  return new BillfoldError(
    'VALIDATION_ERROR',
    `the request body is larger than the ${Math.round(limit / 1024)} KiB limit`,
    { limit_bytes: limit },
    'Send fewer records per call (record_usage_batch takes up to 1,000), or raise BILLFOLD_MAX_BODY_BYTES.',
  ).toBody();
}

/** Parses a JSON body; an empty body is an empty object. */
export function parseJsonBody(buf: Buffer): { ok: true; value: unknown } | { ok: false; error: ErrorBody } {
  if (buf.length === 0) return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(buf.toString('utf8')) };
  } catch (e) {
    return {
      ok: false,
      error: new BillfoldError(
        'VALIDATION_ERROR',
        `the request body is not valid JSON: ${(e as Error).message}`,
        {},
        'Send a JSON object with Content-Type: application/json.',
      ).toBody(),
    };
  }
}
