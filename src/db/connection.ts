import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { SqliteDialect } from './sqlite-driver.js';
import { PREPARED_PLANS, PreparingClient } from './pg-statements.js';
import { startCheckpointer, type CheckpointerOptions } from './checkpointer.js';
import { createRequire } from 'node:module';

export type DialectName = 'sqlite' | 'postgres';

/** An open database: the typed query builder plus what a few hot paths need from the driver. */
export interface Db {
  readonly kysely: Kysely<Database>;
  readonly dialect: DialectName;
  /** Where it is, without credentials: a file path or postgres://host:port/name. */
  readonly location: string;
  /** The raw better-sqlite3 handle (SQLite only), for bulk paths that bypass the builder. */
  readonly sqlite?: BetterSqlite3.Database;
  /** The pg pool (PostgreSQL only). */
  readonly pool?: pg.Pool;
  /**
   * SQLite only: how many times this process's written work has been undone (a rollback, a
   * failed commit). Whoever keeps in memory what the database holds compares it to know that
   * what it kept may be gone.
   */
  writesUndone?(): number;
  ping(): Promise<void>;
  /** Settles once background work on the database has started (SQLite's checkpointer). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /** Prepare statements once per PostgreSQL connection (pg-statements.ts; default true). */
  pgPreparedStatements?: boolean;
  /** SQLite `synchronous` pragma: FULL makes every commit survive power loss, NORMAL a process crash. */
  sqliteSynchronous?: 'FULL' | 'NORMAL';
  /**
   * SQLite page cache in MiB (default 32). Ingestion touches the right-hand edges of its indexes
   * and the current hour's aggregates, a small working set; more cache mostly adds memory.
   */
  sqliteCacheMb?: number;
  /** SQLite WAL checkpoints (checkpointer.ts); tests shrink them to see a rewind quickly. */
  sqliteCheckpoints?: CheckpointerOptions;
}

export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

export function redactUrl(location: string): string {
  if (!isPostgresUrl(location)) return location;
  try {
    const u = new URL(location);
    u.password = '';
    u.username = u.username ? u.username : '';
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'postgres://…';
  }
}

export function openDatabase(location: string, options: OpenOptions = {}): Db {
  return isPostgresUrl(location) ? openPostgres(location, options) : openSqlite(location, options);
}

function openSqlite(file: string, options: OpenOptions): Db {
  const path = file === ':memory:' ? file : resolve(file);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const raw = new BetterSqlite3(path);
  raw.pragma('journal_mode = WAL');
  raw.pragma(`synchronous = ${options.sqliteSynchronous ?? 'FULL'}`);
  raw.pragma('busy_timeout = 10000');
  raw.pragma('foreign_keys = ON');
  raw.pragma(`cache_size = -${(options.sqliteCacheMb ?? 32) * 1024}`);
  raw.pragma('temp_store = MEMORY');
  // WAL checkpoints run on a worker thread (see checkpointer.ts), not inside a request's COMMIT.
  const checkpointer =
    path === ':memory:'
      ? undefined
      : startCheckpointer(
          path,
          createRequire(import.meta.url).resolve('better-sqlite3'),
          options.sqliteSynchronous ?? 'FULL',
          options.sqliteCheckpoints,
        );
  if (checkpointer) raw.pragma('wal_autocheckpoint = 0');
  // After a burst has grown the log past this, its next rewind gives the space back.
  raw.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  let undone = 0;
  const kysely = new Kysely<Database>({
    dialect: new SqliteDialect(
      raw,
      checkpointer && (() => checkpointer.pauseForRestart()),
      () => void undone++,
    ),
  });
  return {
    kysely,
    dialect: 'sqlite',
    location: path,
    sqlite: raw,
    writesUndone: () => undone,
    async ping() {
      raw.prepare('select 1').get();
    },
    async ready() {
      await checkpointer?.ready();
    },
    async close() {
      await kysely.destroy();
      await checkpointer?.stop();
    },
  };
}

// BIGINT columns hold epoch milliseconds, minor-unit amounts and counts: all well inside
// Number.MAX_SAFE_INTEGER, so read them as numbers instead of pg's default strings.
const INT8_OID = 20;
function pgTypes() {
  return {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === INT8_OID) return (v: string) => Number(v);
      return pg.types.getTypeParser(oid, format as 'text');
    },
  };
}

function openPostgres(url: string, options: OpenOptions): Db {
  const prepare = options.pgPreparedStatements !== false;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    types: pgTypes() as unknown as pg.CustomTypesConfig,
    connectionTimeoutMillis: 5000,
    // Statements are prepared once per connection (pg-statements.ts).
    ...(prepare ? { Client: PreparingClient } : {}),
  });
  // A pool client that errors while idle (server restart) must not crash the process.
  pool.on('error', () => {});
  // Prepared statements are planned for their actual values every time (PREPARED_PLANS); the
  // setting goes first in the new connection's queue.
  if (prepare) pool.on('connect', (client) => void client.query(PREPARED_PLANS).catch(() => {}));
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    kysely,
    dialect: 'postgres',
    location: redactUrl(url),
    pool,
    async ping() {
      await sql`select 1`.execute(kysely);
    },
    async ready() {},
    async close() {
      await kysely.destroy();
    },
  };
}
