import { BillfoldError } from './errors.js';

/**
 * How deeply a JSON input may nest. Serializing, hashing, copying and validating a value all
 * recurse, and a few kilobytes of `[[[[…]]]]` are enough to exhaust the stack of any of them;
 * so every input is measured here first, by a loop that never recurses, and refused past the
 * limit. No billing object needs more than a handful of levels; 32 leaves free-form fields
 * (usage `properties`, charge properties) ample room.
 */
export const MAX_JSON_DEPTH = 32;

export interface DepthExcess {
  /** The path from the input's root to the first container past the limit. */
  path: Array<string | number>;
  limit: number;
}

/**
 * Null when `value` nests at most `limit` containers deep (`{}` is one level, `{"a":[]}` two),
 * otherwise where it first goes deeper. Depth-first with an explicit stack of at most `limit`
 * frames, so neither the stack nor memory grows with the input's depth.
 */
export function jsonDepthExcess(value: unknown, limit = MAX_JSON_DEPTH): DepthExcess | null {
  if (value === null || typeof value !== 'object') return null;
  // One frame per open container: the container, its keys (objects only) and the next index.
  const containers: object[] = [value];
  const keys: Array<string[] | null> = [Array.isArray(value) ? null : Object.keys(value)];
  const next: number[] = [0];
  while (containers.length > 0) {
    const top = containers.length - 1;
    const container = containers[top]!;
    const names = keys[top]!;
    const i = next[top]!;
    const size = names ? names.length : (container as unknown[]).length;
    if (i >= size) {
      containers.pop();
      keys.pop();
      next.pop();
      continue;
    }
    next[top] = i + 1;
    const child = names ? (container as Record<string, unknown>)[names[i]!] : (container as unknown[])[i];
    if (child === null || typeof child !== 'object') continue;
    if (containers.length >= limit) {
      const path: Array<string | number> = [];
      for (let f = 0; f <= top; f++) {
        const at = next[f]! - 1;
        path.push(keys[f] ? keys[f]![at]! : at);
      }
      return { path, limit };
    }
    containers.push(child);
    keys.push(Array.isArray(child) ? null : Object.keys(child));
    next.push(0);
  }
  return null;
}

/** `events[0].properties.p[0][0]`: the form validation messages name fields in. */
export function formatJsonPath(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${p}` : p;
  }
  return out;
}

/** The first segments name the field; the full path is in the details. */
const FIELD_SEGMENTS = 4;

/** VALIDATION_ERROR naming the field that nests too deep and the limit. */
export function depthError(excess: DepthExcess): BillfoldError {
  const full = formatJsonPath(excess.path);
  const field =
    excess.path.length > FIELD_SEGMENTS ? `${formatJsonPath(excess.path.slice(0, FIELD_SEGMENTS))}…` : full;
  const message = `${field} nests deeper than ${excess.limit} levels of objects and arrays; at most ${excess.limit} are accepted`;
  return new BillfoldError(
    'VALIDATION_ERROR',
    message,
    { issues: [{ field, message, code: 'too_deep' }], max_depth: excess.limit, path: full },
    'Flatten the value, or send deeply structured data as one JSON string.',
  );
}
