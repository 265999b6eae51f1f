import type { ErrorBody } from '../../../domain/errors.js';

/** Shape helpers the profiles share: names in errors, camelCase keys, limit/offset paging. */

/**
 * Rewrites the Billfold field names an operation's error speaks of into the seed's names
 * (`customer_id` → `external_customer_id`, `events[2].input_tokens` → `records[2].inputTokens`):
 * in the validation issues, in `details.field` and where the message starts with a field path,
 * which is how Billfold words every field error.
 */
export function renameFields(error: ErrorBody, fields: Readonly<Record<string, string>> = {}): ErrorBody {
  if (Object.keys(fields).length === 0) return error;
  const details = { ...error.details };
  let message = error.message;
  const issues = Array.isArray(details.issues)
    ? (details.issues as Array<{ field?: unknown; message?: unknown }>)
    : undefined;
  if (issues) {
    const renamed = issues.map((i) => {
      if (typeof i.field !== 'string') return i;
      const field = renamePath(i.field, fields);
      const text =
        typeof i.message === 'string' && i.message.startsWith(i.field)
          ? field + i.message.slice(i.field.length)
          : i.message;
      return { ...i, field, message: text };
    });
    details.issues = renamed;
    if (
      error.code === 'VALIDATION_ERROR' &&
      issues.length > 0 &&
      message === issues.map((i) => i.message).join('; ')
    )
      message = renamed.map((i) => i.message).join('; ');
  }
  if (typeof details.field === 'string') {
    const field = renamePath(details.field, fields);
    if (message.startsWith(details.field)) message = field + message.slice(details.field.length);
    details.field = field;
  }
  const lead = /^([A-Za-z_][\w]*(?:\[\d+\]|\.[A-Za-z_]\w*)*)(?=[: ])/.exec(message);
  if (lead && lead[1] !== renamePath(lead[1]!, fields)) {
    message = renamePath(lead[1]!, fields) + message.slice(lead[1]!.length);
  }
  return { ...error, message, details };
}

/** Renames each name in a path (`events[0].services[1].input_tokens`); a whole-path entry wins. */
export function renamePath(path: string, fields: Readonly<Record<string, string>>): string {
  if (fields[path] !== undefined) return fields[path]!;
  return path.replace(/[A-Za-z_]\w*/g, (name) => fields[name] ?? name);
}

export function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** Every key of a JSON value in camelCase (values untouched), for systems that speak camelCase. */
export function camelKeys(value: unknown): any {
  if (Array.isArray(value)) return value.map(camelKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    // Maps the caller filled (metadata, properties) keep the caller's own keys.
    out[camelCase(k)] = k === 'metadata' || k === 'properties' ? v : camelKeys(v);
  }
  return out;
}

/**
 * A window of `limit` items from `offset` as Billfold pages: one page when the offset falls on a
 * page boundary, else the two pages that hold the window, sliced.
 */
export async function offsetWindow<T>(
  limit: number,
  offset: number,
  fetchPage: (page: number, perPage: number) => Promise<{ items: T[]; total: number }>,
): Promise<{ items: T[]; total: number }> {
  const first = Math.floor(offset / limit) + 1;
  const a = await fetchPage(first, limit);
  const skip = offset % limit;
  if (skip === 0) return a;
  // The window runs into the next page, unless this one was the last.
  const b = a.items.length < limit ? { items: [] } : await fetchPage(first + 1, limit);
  return { items: [...a.items, ...b.items].slice(skip, skip + limit), total: a.total };
}

/** The keys of `input` among `keys` that are set: a seed's fields passed on under the same names. */
export function present(input: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (input[k] !== undefined) out[k] = input[k];
  return out;
}
