import type * as z from 'zod';
import type { AnyOperation } from './define.js';

/**
 * Which objects in an operation's output are exactly what a get_ operation returns: the same
 * key, typed by the very same schema (create_invoice's `invoice` is get_invoice's `invoice`).
 * A webhook event about that object reuses it instead of reading it again at commit.
 */
const objectKeys = new WeakMap<AnyOperation, readonly string[]>();

export function registerObjectKeys(operations: readonly AnyOperation[]): void {
  const bySchema = new Map<string, z.ZodType>();
  for (const op of operations) {
    // get_invoice's object is its `invoice` (beside it come the invoice's payments and notes).
    const key = op.name.startsWith('get_') ? op.name.slice(4) : null;
    if (key && key in op.output.shape) bySchema.set(key, op.output.shape[key] as z.ZodType);
  }
  for (const op of operations) {
    const shape = op.output.shape as Record<string, z.ZodType>;
    objectKeys.set(
      op,
      Object.keys(shape).filter((k) => bySchema.get(k) === shape[k]),
    );
  }
}

/** The objects of `output` a get_ operation would return as they are, by key. */
export function objectsOf(
  op: AnyOperation,
  output: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const keys = objectKeys.get(op);
  if (!keys?.length) return undefined;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (output[k] !== undefined) out[k] = output[k];
  return out;
}
