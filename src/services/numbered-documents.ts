import type { Database } from '../db/schema.js';
import { looksLikeId, type IdKind } from '../domain/ids.js';
import type { ServiceContext } from './context.js';

/** Documents the caller may name by Billfold id, by number or by their own external_id. */
type NumberedTable = 'invoices' | 'orders';

/**
 * Finds an invoice or an order of the caller's organization by Billfold id, number or
 * external_id, preferring the number when a number and another document's external_id are the
 * same text. With `lock`, the row stays locked until the transaction ends (PostgreSQL), so two
 * calls that change one document take turns; SQLite's writer lock already serializes them.
 */
export async function findNumbered<T extends NumberedTable>(
  ctx: ServiceContext,
  table: T,
  kind: IdKind,
  ref: string,
  lock: boolean,
): Promise<Database[T] | undefined> {
  let q = ctx.db
    .selectFrom(table as NumberedTable)
    .selectAll()
    .where('organization_id', '=', ctx.organizationId)
    .where((eb) =>
      looksLikeId(kind, ref)
        ? eb('id', '=', ref)
        : eb.or([eb('number', '=', ref), eb('external_id', '=', ref)]),
    );
  if (lock && ctx.dialect === 'postgres') q = q.forUpdate();
  const rows = (await q.execute()) as unknown as Database[T][];
  if (rows.length <= 1) return rows[0];
  return rows.find((r) => r.number === ref) ?? rows[0];
}
