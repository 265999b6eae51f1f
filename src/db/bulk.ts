import { CompiledQuery, type Kysely } from 'kysely';
import type { DialectName } from './connection.js';
import type { Database } from './schema.js';

/**
 * Multi-row INSERT without the query builder. Building a Kysely insert costs an operation-node
 * tree per value (170 nodes for ten invoice lines); on the invoicing hot path that cost more
 * than running the statement. The SQL text is cached per table, columns, row count and dialect,
 * so SQLite's statement cache and PostgreSQL's parser see the same text every time. Column
 * names come from the typed row, never from input.
 */
const textCache = new Map<string, string>();

export async function insertRows<T extends keyof Database & string>(
  db: Kysely<Database>,
  dialect: DialectName,
  table: T,
  rows: ReadonlyArray<Database[T]>,
): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!) as Array<keyof Database[T] & string>;
  const key = `${dialect}|${table}|${rows.length}|${columns.join(',')}`;
  let text = textCache.get(key);
  if (!text) {
    let n = 0;
    const tuple = () => `(${columns.map(() => (dialect === 'postgres' ? `$${++n}` : '?')).join(', ')})`;
    text = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${rows.map(tuple).join(', ')}`;
    if (textCache.size > 500) textCache.clear();
    textCache.set(key, text);
  }
  const params: unknown[] = [];
  for (const row of rows) for (const c of columns) params.push(row[c]);
  await db.executeQuery(CompiledQuery.raw(text, params));
}

/**
 * Multi-row INSERT … ON CONFLICT DO UPDATE that adds each row's `added` columns to the row
 * already there (maintained totals). The increment is done by the database under the row's lock,
 * so writers in concurrent transactions never lose each other's updates. Rows should come in
 * one order (sorted by key) so that two writers lock shared rows in the same order.
 */
export async function addToRows<T extends keyof Database & string>(
  db: Kysely<Database>,
  dialect: DialectName,
  table: T,
  key: ReadonlyArray<keyof Database[T] & string>,
  added: ReadonlyArray<keyof Database[T] & string>,
  rows: ReadonlyArray<Database[T]>,
): Promise<void> {
  if (rows.length === 0) return;
  const columns = [...key, ...added];
  const cacheKey = `add|${dialect}|${table}|${rows.length}|${columns.join(',')}`;
  let text = textCache.get(cacheKey);
  if (!text) {
    let n = 0;
    const tuple = () => `(${columns.map(() => (dialect === 'postgres' ? `$${++n}` : '?')).join(', ')})`;
    text =
      `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${rows.map(tuple).join(', ')} ` +
      `on conflict (${key.map((c) => `"${c}"`).join(', ')}) do update set ` +
      added.map((c) => `"${c}" = "${table}"."${c}" + excluded."${c}"`).join(', ');
    if (textCache.size > 500) textCache.clear();
    textCache.set(cacheKey, text);
  }
  const params: unknown[] = [];
  for (const row of rows) for (const c of columns) params.push(row[c]);
  await db.executeQuery(CompiledQuery.raw(text, params));
}
