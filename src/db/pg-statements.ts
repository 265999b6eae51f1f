import pg from 'pg';

/**
 * A pg client that prepares each statement once per connection. Kysely sends every query as an
 * unnamed statement, so PostgreSQL parses, analyzes and rewrites it again on every call. A
 * named statement does that once per connection.
 *
 * It is still planned on every run, for the values it runs with (PREPARED_PLANS): PostgreSQL's
 * default would switch to a generic plan after five runs when that looks no costlier, and for
 * Billfold's statements over `unnest` of array parameters, whose sizes a generic plan cannot
 * know, that was a disaster — ingesting recurring unique counts went from 80 ms to 730 ms a
 * batch of 1,000.
 *
 * Statement texts that differ only in the length of an IN list are distinct statements, so
 * each connection keeps at most MAX_STATEMENTS and deallocates the least recently used, sixteen
 * at a time (one more round trip per sixteen).
 *
 * Only SELECT / INSERT / UPDATE / DELETE / WITH are prepared; DDL and transaction control run
 * as before. Should a table change under a prepared `SELECT *` (a migration by another
 * instance), PostgreSQL refuses to run it ("cached plan must not change result type"): the
 * statement is dropped, and a query outside a transaction is run again once.
 */

/** Run first on each connection of a preparing pool: a custom plan on every run (see above). */
export const PREPARED_PLANS = 'SET plan_cache_mode = force_custom_plan';

const MAX_STATEMENTS = 256;
const DEALLOCATE_BATCH = 16;
const PREPARABLE = /^\s*(select|insert|update|delete|with)\b/i;
const PLAN_CHANGED = '0A000';

type Callback = (err: Error | null, result?: pg.QueryResult) => void;

let nextName = 0;

export class PreparingClient extends pg.Client {
  /** Statement text → its name on this connection, least recently used first. */
  private readonly statements = new Map<string, string>();
  /** Evicted names still allocated on the server. */
  private evicted: string[] = [];

  override query(...args: unknown[]): any {
    const [text, values, callback] = args as [unknown, unknown, Callback | undefined];
    if (typeof text !== 'string' || !Array.isArray(values) || callback || !PREPARABLE.test(text)) {
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }
    // The transaction status before this query: outside a transaction a refused statement can be
    // run again; inside one the transaction is already aborted and the error must go up.
    const outside = (this as unknown as { _txStatus?: string })._txStatus === 'I';
    return this.named(text, values).catch((e: { code?: string }) => {
      if (e?.code !== PLAN_CHANGED) throw e;
      this.forget(text);
      if (!outside) throw e;
      return this.named(text, values);
    });
  }

  private named(text: string, values: unknown[]): Promise<pg.QueryResult> {
    let name = this.statements.get(text);
    if (name) {
      // Most recently used goes last.
      this.statements.delete(text);
    } else {
      name = `bf${(nextName++).toString(36)}`;
      if (this.statements.size >= MAX_STATEMENTS) this.forget(this.statements.keys().next().value as string);
    }
    this.statements.set(text, name);
    return super.query({ name, text, values }) as unknown as Promise<pg.QueryResult>;
  }

  /**
   * Stops using a statement; the server drops it with the next batch of evictions (queued
   * behind what this connection is running). A DEALLOCATE refused inside a failed transaction
   * leaves a few statements allocated until the connection closes, which is harmless.
   */
  private forget(text: string): void {
    const name = this.statements.get(text);
    if (!name) return;
    this.statements.delete(text);
    const parsed = (this as unknown as { connection: { parsedStatements: Record<string, string> } })
      .connection.parsedStatements;
    delete parsed[name];
    this.evicted.push(name);
    if (this.evicted.length < DEALLOCATE_BATCH) return;
    const names = this.evicted;
    this.evicted = [];
    super.query(names.map((n) => `DEALLOCATE ${n}`).join('; ')).catch(() => {});
  }
}
