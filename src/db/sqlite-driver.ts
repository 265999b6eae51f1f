import type BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';

/**
 * Kysely's SQLite driver, reshaped for a server: prepared statements are cached by SQL text
 * (preparing costs more than running a simple indexed query), write transactions start with
 * BEGIN IMMEDIATE so two processes on one file queue on the lock instead of failing with
 * SQLITE_BUSY at commit, concurrent write transactions share one commit (see SqliteDriver),
 * and booleans bind as 0/1.
 */
export class SqliteDialect implements Dialect {
  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly pauseForRestart?: () => Promise<void> | undefined,
    /** Told each time written work is undone (a rollback, a failed commit); see Db.writesUndone. */
    private readonly undone?: () => void,
  ) {}
  createAdapter() {
    return new SqliteAdapter();
  }
  createDriver(): Driver {
    return new SqliteDriver(this.db, this.pauseForRestart, this.undone);
  }
  createQueryCompiler() {
    return new SqliteQueryCompiler();
  }
  createIntrospector(db: Kysely<any>) {
    return new SqliteIntrospector(db);
  }
}

const STATEMENT_CACHE_SIZE = 1000;

interface CachedStatement {
  stmt: BetterSqlite3.Statement;
  /** For statements that return rows: builds a row object from the raw value array. */
  toRow?: (values: unknown[]) => unknown;
}

class SqliteConnection {
  private readonly statements = new Map<string, CachedStatement>();
  constructor(readonly db: BetterSqlite3.Database) {}

  private prepare(sql: string): CachedStatement {
    let cached = this.statements.get(sql);
    if (!cached) {
      const stmt = this.db.prepare(sql);
      cached = { stmt };
      if (stmt.reader) {
        // better-sqlite3 builds each row object property by property, which costs more than the
        // query for a wide table; rows come back as arrays instead and one generated function
        // per statement shapes them (column names come from SQLite's own schema).
        stmt.raw(true);
        const names = stmt.columns().map((c) => c.name);
        cached.toRow = new Function(
          'v',
          `return {${names.map((n, i) => `${JSON.stringify(n)}: v[${i}]`).join(', ')}};`,
        ) as (values: unknown[]) => unknown;
      }
      if (this.statements.size >= STATEMENT_CACHE_SIZE) {
        const oldest = this.statements.keys().next().value as string;
        this.statements.delete(oldest);
      }
      this.statements.set(sql, cached);
    }
    return cached;
  }

  executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const params = compiled.parameters.map(toSqliteValue);
    const { stmt, toRow } = this.prepare(compiled.sql);
    if (toRow) return Promise.resolve({ rows: (stmt.all(params) as unknown[][]).map(toRow) as R[] });
    const { changes, lastInsertRowid } = stmt.run(params);
    return Promise.resolve({
      numAffectedRows: BigInt(changes),
      insertId: lastInsertRowid === undefined ? undefined : BigInt(lastInsertRowid),
      rows: [],
    });
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const { stmt, toRow } = this.prepare(compiled.sql);
    for (const values of stmt.iterate(compiled.parameters.map(toSqliteValue))) {
      yield { rows: [(toRow ? toRow(values as unknown[]) : values) as R] };
    }
  }
}

function toSqliteValue(v: unknown): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

/** SQLite has one connection per process; this mutex hands it to one holder at a time. */
class Mutex {
  private locked = false;
  private waiters: Array<() => void> = [];

  async lock(): Promise<void> {
    if (!this.locked) {
      this.locked = true;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  get contended(): boolean {
    return this.waiters.length > 0;
  }

  unlock(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.locked = false;
  }
}

/** How many write transactions may share one commit, and for how long the first may wait. */
const GROUP_MAX_MEMBERS = 32;
const GROUP_MAX_MS = 100;

/** One holder's use of the shared connection, from acquireConnection to releaseConnection. */
class Holding implements DatabaseConnection {
  inTransaction = false;
  /** In a read-only transaction: a plain snapshot that never joins a commit group. */
  readOnly = false;
  /** Handed the connection on while waiting for the group's COMMIT: no longer the holder. */
  handedOff = false;
  /** Its work sits in a savepoint: it joined a group that already holds others' work. */
  inSavepoint = false;
  constructor(
    readonly shared: SqliteConnection,
    private readonly beforeQuery: (h: Holding) => void,
  ) {}
  executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    this.beforeQuery(this);
    return this.shared.executeQuery(compiled);
  }
  streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    this.beforeQuery(this);
    return this.shared.streamQuery(compiled);
  }
}

/**
 * Group commit. With `synchronous = FULL` every COMMIT waits for the disk (a few milliseconds),
 * which caps a one-writer database at a few hundred commits a second. When write transactions
 * are queued behind the current one, it does not commit: its work stays in the open
 * transaction (inside a savepoint, so a failing member rolls back only its own work), it hands
 * the connection to the next holder, and it returns only when the shared COMMIT has reached
 * the disk. The last member of the group — or the first query outside a transaction that
 * finds a group open — commits for everyone. Nobody is answered before the data is durable,
 * a query outside the group never sees uncommitted work, and a failed COMMIT fails every member.
 */
class SqliteDriver implements Driver {
  private readonly mutex = new Mutex();
  private readonly connection: SqliteConnection;
  /** A physical transaction is open, holding released savepoints that wait for COMMIT. */
  private open = false;
  private openedAt = 0;
  private members: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];

  constructor(
    db: BetterSqlite3.Database,
    /** The checkpointer's request to rewind the WAL (checkpointer.ts), granted between groups. */
    private readonly pauseForRestart?: () => Promise<void> | undefined,
    private readonly undone: () => void = () => {},
  ) {
    this.connection = new SqliteConnection(db);
  }
  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    await this.mutex.lock();
    if (!this.open) {
      const paused = this.pauseForRestart?.();
      if (paused) await paused;
    }
    return new Holding(this.connection, (h) => {
      if (this.open && !h.inTransaction) this.commitGroup();
    });
  }
  async beginTransaction(conn: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const db = this.connection.db;
    const h = conn as Holding;
    if (settings.accessMode === 'read only') {
      // A read takes a snapshot of committed data without the write lock: its queries see one
      // consistent state (a list's count and its rows agree) and share one WAL read lock instead
      // of taking one each. It never waits for a group's disk sync.
      if (this.open) this.commitGroup();
      db.exec('begin deferred');
      h.inTransaction = true;
      h.readOnly = true;
      return;
    }
    if (!this.open) {
      // The first member has the transaction to itself: should it fail, rolling the whole
      // transaction back loses nobody else's work, so it needs no savepoint (whose page copies
      // cost a few microseconds per row written).
      db.exec('begin immediate');
      this.open = true;
      this.openedAt = performance.now();
    } else {
      db.exec('savepoint member');
      h.inSavepoint = true;
    }
    h.inTransaction = true;
  }
  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    const h = conn as Holding;
    if (h.readOnly) {
      this.connection.db.exec('commit');
      h.inTransaction = false;
      h.readOnly = false;
      return;
    }
    if (h.inSavepoint) this.connection.db.exec('release member');
    h.inTransaction = false;
    h.inSavepoint = false;
    // Let requests whose input has arrived meanwhile reach the queue, so they can join this
    // commit instead of each paying for their own.
    if (!this.mutex.contended) await new Promise<void>((resolve) => setImmediate(resolve));
    const joinable =
      this.mutex.contended &&
      this.members.length + 1 < GROUP_MAX_MEMBERS &&
      performance.now() - this.openedAt < GROUP_MAX_MS;
    if (!joinable) {
      this.commitGroup();
      return;
    }
    const committed = new Promise<void>((resolve, reject) => this.members.push({ resolve, reject }));
    h.handedOff = true;
    this.mutex.unlock();
    await committed;
  }
  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    const h = conn as Holding;
    if (h.readOnly) {
      if (this.connection.db.inTransaction) this.connection.db.exec('rollback');
      h.inTransaction = false;
      h.readOnly = false;
      return;
    }
    // A member whose shared COMMIT failed no longer holds the connection: nothing to undo here.
    if (h.handedOff) return;
    h.inTransaction = false;
    this.undone();
    const db = this.connection.db;
    if (!db.inTransaction) {
      // SQLite already rolled the whole transaction back (a failed COMMIT, SQLITE_FULL): every
      // waiting member's work went with it.
      this.failGroup(new Error('the shared transaction was rolled back'));
      return;
    }
    if (!h.inSavepoint) {
      // The group's first member: the transaction holds its work alone.
      db.exec('rollback');
      this.open = false;
      return;
    }
    h.inSavepoint = false;
    db.exec('rollback to member');
    db.exec('release member');
  }
  async releaseConnection(conn: DatabaseConnection): Promise<void> {
    const h = conn as Holding;
    if (h.handedOff) return;
    if (this.open && !this.mutex.contended) this.commitGroup();
    this.mutex.unlock();
  }
  async destroy(): Promise<void> {
    if (this.open) this.commitGroup();
    this.connection.db.close();
  }

  private commitGroup(): void {
    if (!this.open) return;
    const members = this.members;
    this.members = [];
    this.open = false;
    try {
      this.connection.db.exec('commit');
    } catch (e) {
      this.undone();
      if (this.connection.db.inTransaction) this.connection.db.exec('rollback');
      for (const m of members) m.reject(e);
      throw e;
    }
    for (const m of members) m.resolve();
  }

  private failGroup(e: unknown): void {
    const members = this.members;
    this.members = [];
    this.open = false;
    for (const m of members) m.reject(e);
  }
}
