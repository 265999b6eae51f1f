import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { openDatabase, type Db } from '../../src/db/connection.js';
import { PG_URL } from '../harness/environment.js';

/**
 * Statements prepared once per PostgreSQL connection (pg-statements.ts): reused, bounded per
 * connection, and still correct when a table changes under a prepared `SELECT *`.
 */
describe.skipIf(!PG_URL)('PostgreSQL prepared statements', () => {
  let db: Db;
  let k: Kysely<any>;
  const table = `stmt_test_${Date.now().toString(36)}`;
  beforeAll(async () => {
    // One connection, so every query below meets the statements the earlier ones prepared.
    db = openDatabase(PG_URL!, { poolSize: 1 });
    k = db.kysely as unknown as Kysely<any>;
    await sql`CREATE TABLE ${sql.table(table)} (id int PRIMARY KEY, name text NOT NULL)`.execute(k);
    await k.insertInto(table).values({ id: 1, name: 'one' }).execute();
  });
  afterAll(async () => {
    await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(k);
    await db.close();
  });

  const prepared = async () =>
    (
      await sql<{
        name: string;
        statement: string;
      }>`SELECT name, statement FROM pg_prepared_statements`.execute(k)
    ).rows;

  it('plans every run for its values: a generic plan cannot size the arrays statements unnest', async () => {
    const { rows } = await sql<{ plan_cache_mode: string }>`SHOW plan_cache_mode`.execute(k);
    expect(rows[0]!.plan_cache_mode).toBe('force_custom_plan');
  });

  it('prepares a statement once and runs it again with new values', async () => {
    for (const id of [1, 2, 1]) await k.selectFrom(table).select('name').where('id', '=', id).execute();
    const mine = (await prepared()).filter((p) => p.statement.includes(`from "${table}" where "id" = $1`));
    expect(mine).toHaveLength(1);
    expect(await k.selectFrom(table).select('name').where('id', '=', 1).execute()).toEqual([{ name: 'one' }]);
  });

  it('keeps at most 256 statements on a connection (and 16 awaiting deallocation), dropping the least recently used', async () => {
    for (let n = 1; n <= 300; n++) {
      const ids = Array.from({ length: n }, (_, i) => i);
      await k.selectFrom(table).select('id').where('id', 'in', ids).execute();
    }
    const all = await prepared();
    expect(all.length).toBeLessThanOrEqual(256 + 16);
    expect(all.length).toBeGreaterThan(200);
    // The most recent list is kept, the first ones are gone.
    const lists = all.filter((p) => p.statement.includes(`where "id" in (`));
    expect(lists.some((p) => p.statement.includes('$300)'))).toBe(true);
    expect(lists.some((p) => p.statement.endsWith('in ($1)'))).toBe(false);
  });

  it('runs a SELECT * again when its table gained a column, outside a transaction', async () => {
    expect(await k.selectFrom(table).selectAll().where('id', '=', 1).execute()).toEqual([
      { id: 1, name: 'one' },
    ]);
    await sql`ALTER TABLE ${sql.table(table)} ADD COLUMN note text DEFAULT 'n'`.execute(k);
    expect(await k.selectFrom(table).selectAll().where('id', '=', 1).execute()).toEqual([
      { id: 1, name: 'one', note: 'n' },
    ]);
  });

  it('inside a transaction, the refused statement fails that transaction only; the next call prepares it again', async () => {
    expect(await k.selectFrom(table).selectAll().where('id', '=', 1).execute()).toHaveLength(1);
    await sql`ALTER TABLE ${sql.table(table)} ADD COLUMN extra int DEFAULT 7`.execute(k);
    await expect(
      k.transaction().execute(async (trx) => {
        await trx.updateTable(table).set({ name: 'uno' }).where('id', '=', 1).execute();
        return trx.selectFrom(table).selectAll().where('id', '=', 1).execute();
      }),
    ).rejects.toThrow(/cached plan must not change result type/);
    // Rolled back: the name is unchanged, and the statement works again.
    expect(await k.selectFrom(table).selectAll().where('id', '=', 1).execute()).toEqual([
      { id: 1, name: 'one', note: 'n', extra: 7 },
    ]);
  });
});

describe('BILLFOLD_PG_PREPARED_STATEMENTS', () => {
  it('is on by default, takes 1 or 0, and names itself when given anything else', () => {
    expect(loadConfig({}).pgPreparedStatements).toBe(true);
    expect(loadConfig({ BILLFOLD_PG_PREPARED_STATEMENTS: '0' }).pgPreparedStatements).toBe(false);
    expect(loadConfig({ BILLFOLD_PG_PREPARED_STATEMENTS: 'true' }).pgPreparedStatements).toBe(true);
    expect(() => loadConfig({ BILLFOLD_PG_PREPARED_STATEMENTS: 'yes' })).toThrow(ConfigError);
    expect(() => loadConfig({ BILLFOLD_PG_PREPARED_STATEMENTS: 'yes' })).toThrow(
      /BILLFOLD_PG_PREPARED_STATEMENTS must be 1 or 0/,
    );
  });

  it.skipIf(!PG_URL)('when off, prepares nothing (for a pooler that cannot keep statements)', async () => {
    const db = openDatabase(PG_URL!, { poolSize: 1, pgPreparedStatements: false });
    try {
      const k = db.kysely as unknown as Kysely<any>;
      for (let i = 0; i < 3; i++)
        await k.selectFrom('pg_class').select('relname').where('oid', '=', i).execute();
      const { rows } = await sql<{
        n: string;
      }>`SELECT count(*)::text AS n FROM pg_prepared_statements`.execute(k);
      expect(rows[0]!.n).toBe('0');
    } finally {
      await db.close();
    }
  });
});
