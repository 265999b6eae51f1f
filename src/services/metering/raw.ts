import type BetterSqlite3 from 'better-sqlite3';
import type { ServiceContext } from '../context.js';
import { registerSqliteFunctions } from './sql-functions.js';

/**
 * The ingestion hot path skips the query builder. On SQLite it runs prepared statements on the
 * raw better-sqlite3 handle: the process has one connection, so inside a writing operation they
 * run in that operation's transaction. PostgreSQL paths use `sql` on the transaction (`ctx.db`).
 */
const statements = new WeakMap<BetterSqlite3.Database, Map<string, BetterSqlite3.Statement>>();

export function sqliteHandle(ctx: ServiceContext): BetterSqlite3.Database | null {
  const raw = ctx.dialect === 'sqlite' ? ctx.env.db.sqlite : undefined;
  if (!raw) return null;
  registerSqliteFunctions(raw);
  return raw;
}

export function prepared(db: BetterSqlite3.Database, text: string): BetterSqlite3.Statement {
  let cache = statements.get(db);
  if (!cache) {
    cache = new Map();
    statements.set(db, cache);
  }
  let stmt = cache.get(text);
  if (!stmt) {
    stmt = db.prepare(text);
    cache.set(text, stmt);
  }
  return stmt;
}
