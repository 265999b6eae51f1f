import type { ExpressionBuilder, Expression, SqlBool } from 'kysely';
import type { Database } from '../../db/schema.js';
import { HOUR_MS } from '../../domain/usage.js';

/**
 * `timestamp` in [from, to) for usage events, written so the hour indexes are used: the hour
 * range narrows the index scan and the exact bounds are checked on the rows.
 */
export function inTimeRange(
  eb: ExpressionBuilder<Database, 'usage_events'>,
  from: number | undefined,
  to: number | undefined,
): Expression<SqlBool> {
  const parts: Expression<SqlBool>[] = [];
  if (from !== undefined) {
    parts.push(eb('hour', '>=', Math.floor(from / HOUR_MS)));
    parts.push(eb('timestamp', '>=', from));
  }
  if (to !== undefined) {
    parts.push(eb('hour', '<=', Math.floor((to - 1) / HOUR_MS)));
    parts.push(eb('timestamp', '<', to));
  }
  return eb.and(parts);
}
