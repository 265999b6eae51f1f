import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';
import type { Database } from './schema.js';

/**
 * A query compiled once and run many times with new values. Kysely builds and compiles a
 * query on every call — tens of microseconds, more than SQLite takes to run a small indexed
 * read — so the hottest reads are written as `prepared(...)`: the builder runs once per dialect
 * with placeholder values, and each call only binds the real ones.
 *
 *   const byId = prepared((db, p: { org: string; id: string }) =>
 *     db.selectFrom('customers').selectAll().where('organization_id', '=', p.org).where('id', '=', p.id));
 *   const rows = await byId(ctx.db, { org, id });
 *
 * Every value passed through `p` must be bound as a query parameter (as `where`, `limit` and
 * `values` do); using one to shape the SQL itself (a column name, a branch) would be frozen at
 * the first call, and is refused.
 */
const MARK = '\u0000billfold-param:';

export function prepared<P extends Record<string, unknown>, R>(
  build: (db: Kysely<Database>, p: P) => Compilable<R>,
): (db: Kysely<Database>, values: P) => Promise<R[]> {
  const run = compiledOnce(build);
  return async (db, values) => (await run(db, values)).rows;
}

/**
 * An update, delete or insert compiled once, like `prepared`, that answers how many rows it
 * changed: for a write conditional on what was read (a compare-and-set), which must know
 * whether it won.
 */
export function preparedWrite<P extends Record<string, unknown>>(
  build: (db: Kysely<Database>, p: P) => Compilable<unknown>,
): (db: Kysely<Database>, values: P) => Promise<number> {
  const run = compiledOnce(build);
  return async (db, values) => Number((await run(db, values)).numAffectedRows ?? 0n);
}

function compiledOnce<P extends Record<string, unknown>, R>(
  build: (db: Kysely<Database>, p: P) => Compilable<R>,
): (db: Kysely<Database>, values: P) => Promise<QueryResult<R>> {
  const compiled = new Map<string, { sql: string; slots: Array<{ name: string } | { value: unknown }> }>();
  return async (db, values) => {
    const key = db.getExecutor().adapter.constructor.name;
    let c = compiled.get(key);
    if (!c) {
      const placeholders = new Proxy({} as P, { get: (_t, name) => `${MARK}${String(name)}` });
      const query = build(db, placeholders).compile();
      if (query.sql.includes(MARK))
        throw new Error('a prepared query used a parameter outside a bound value');
      c = {
        sql: query.sql,
        slots: query.parameters.map((v) =>
          typeof v === 'string' && v.startsWith(MARK) ? { name: v.slice(MARK.length) } : { value: v },
        ),
      };
      compiled.set(key, c);
    }
    const parameters = c.slots.map((s) => ('name' in s ? values[s.name] : s.value));
    return db.executeQuery<R>(CompiledQuery.raw(c.sql, parameters));
  };
}

/**
 * An insert of one row of `table`, compiled once: `columns` names every column (a record, so the
 * type checker sees that none is missing). For rows written on every request, where building
 * and compiling the insert would cost more than SQLite takes to store it.
 */
export function preparedInsert<T extends keyof Database>(
  table: T,
  columns: Record<keyof Database[T] & string, true>,
): (db: Kysely<Database>, row: Database[T]) => Promise<unknown> {
  const names = Object.keys(columns) as Array<keyof Database[T] & string>;
  return prepared((db, p: Record<string, unknown>) =>
    db.insertInto(table).values(Object.fromEntries(names.map((c) => [c, p[c]])) as never),
  ) as (db: Kysely<Database>, row: Database[T]) => Promise<unknown>;
}
