import {
  sql,
  type Expression,
  type Kysely,
  type OperationNodeSource,
  type RawBuilder,
  type SelectQueryBuilder,
} from 'kysely';
import type { DialectName } from './connection.js';

/**
 * Fewer round trips to PostgreSQL. Each statement sent costs the server and Node a socket
 * write and a wake-up each way — on a virtual machine more CPU than an indexed read or a small
 * upsert itself — so a batch that asks a dozen questions is bound by their number. Reads that
 * do not depend on each other go out as one SELECT (`lookUpTogether`); writes that do not read
 * each other's results go out as one statement (`writeTogether`).
 */

/**
 * A read split in two: its queries, and what to make of their rows. Written this way, reads
 * that do not depend on each other can share one round trip (`lookUpTogether`) while each keeps
 * one definition that also runs on its own (`lookUp`).
 */
export interface Lookup<T> {
  /** null: nothing to ask (an empty list of keys); `read` gets no rows for it. */
  readonly queries: ReadonlyArray<Query<unknown> | null>;
  readonly read: (rows: unknown[][]) => T;
}

type Query<R> = SelectQueryBuilder<any, any, R>;

export function lookup<A, T>(queries: [Query<A> | null], read: (rows: [A[]]) => T): Lookup<T>;
export function lookup<A, B, T>(
  queries: [Query<A> | null, Query<B> | null],
  read: (rows: [A[], B[]]) => T,
): Lookup<T>;
export function lookup(queries: Array<Query<unknown> | null>, read: (rows: any) => unknown): Lookup<unknown> {
  return { queries, read };
}

export async function lookUp<T>(db: Kysely<any>, l: Lookup<T>): Promise<T> {
  const rows: unknown[][] = [];
  for (const q of l.queries) rows.push(q ? (await db.executeQuery(q.compile())).rows : []);
  return l.read(rows);
}

type Results<L extends readonly Lookup<unknown>[]> = {
  [K in keyof L]: L[K] extends Lookup<infer T> ? T : never;
};

/**
 * Runs independent lookups. On PostgreSQL every query becomes a JSON array in one SELECT. Rows
 * come back as JSON: only for tables of text and integer columns (JSON numbers are exact for
 * them), as Billfold's are. SQLite runs them one after another, in process.
 */
export async function lookUpTogether<L extends readonly Lookup<unknown>[]>(
  db: Kysely<any>,
  dialect: DialectName,
  lookups: L,
): Promise<Results<L>> {
  if (dialect !== 'postgres') {
    const out: unknown[] = [];
    for (const l of lookups) out.push(await lookUp(db, l));
    return out as Results<L>;
  }
  const asked: Expression<unknown>[] = [];
  for (const l of lookups)
    for (const q of l.queries)
      if (q) asked.push(sql`(SELECT coalesce(json_agg(t), '[]'::json) FROM ${q} AS t)`);
  if (asked.length === 0) return lookups.map((l) => l.read(l.queries.map(() => []))) as Results<L>;
  const { rows } = await sql<Record<string, unknown[]>>`SELECT ${sql.join(
    asked.map((e, i) => sql`${e} AS ${sql.ref(`r${i}`)}`),
  )}`.execute(db);
  const row = rows[0]!;
  let i = 0;
  return lookups.map((l) => l.read(l.queries.map((q) => (q ? row[`r${i++}`]! : [])))) as Results<L>;
}

/**
 * `column IN (values)`, written so that the statement's text is the same whatever the number of
 * values: PostgreSQL takes them as one array (`= ANY(array)`), which a prepared statement needs;
 * SQLite as one JSON array (`IN (SELECT value FROM json_each(?))`), so that its statement cache
 * serves every batch and binding a thousand values costs one string.
 */
export function inList(dialect: DialectName, column: string, values: readonly string[]) {
  return dialect === 'postgres'
    ? sql<boolean>`${sql.ref(column)} = ANY(${[...values]}::text[])`
    : sql<boolean>`${sql.ref(column)} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`;
}

/**
 * Runs PostgreSQL writes as one statement: each a data-modifying WITH query, all run to
 * completion on one snapshot. Only for writes that neither read what another of them writes
 * nor change the same row. A write is raw SQL or an unexecuted query builder.
 */
export async function writeTogether(
  db: Kysely<any>,
  statements: ReadonlyArray<RawBuilder<unknown> | OperationNodeSource>,
): Promise<void> {
  if (statements.length === 0) return;
  if (statements.length === 1) {
    await sql`${statements[0]!}`.execute(db);
    return;
  }
  await sql`WITH ${sql.join(statements.map((s, i) => sql`${sql.ref(`w${i}`)} AS (${s})`))} SELECT 1`.execute(
    db,
  );
}
