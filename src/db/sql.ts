import { sql, type Expression, type SqlBool } from 'kysely';

/** LIKE treats % and _ as wildcards; a search for "50%" means those characters. */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** `column LIKE '%text%'` with the text taken literally, on SQLite and PostgreSQL alike. */
export function containsText(column: string, text: string): Expression<SqlBool> {
  return sql<SqlBool>`${sql.ref(column)} like ${`%${escapeLike(text)}%`} escape '\\'`;
}

/** `count(*)` as a number on both dialects. */
export const countAll = () => sql<number>`count(*)`.as('count');

/** True for a unique-constraint violation on either database. */
export function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/**
 * Rows that match any of several keys (a customer's id or external_id), one query per key, in
 * the order given. Written as one query, `id IN (…) OR external_id IN (…)`, SQLite's planner
 * prefers the index on organization_id alone and walks every row of the organization.
 */
export async function rowsByAnyKey<C extends string, R>(
  columns: readonly C[],
  rowsBy: (column: C) => Promise<R[]>,
): Promise<R[]> {
  const out: R[] = [];
  for (const column of columns) out.push(...(await rowsBy(column)));
  return out;
}
