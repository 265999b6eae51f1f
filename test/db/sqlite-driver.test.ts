import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/connection.js';

/**
 * Group commit (sqlite-driver.ts): write transactions queued behind each other share one COMMIT;
 * a member that fails must lose only its own work, whether it opened the group (no savepoint)
 * or joined it (in a savepoint).
 */
describe('SQLite group commit', () => {
  let dir: string;
  let db: Db;
  let k: Kysely<any>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'billfold-driver-'));
    db = openDatabase(join(dir, 'driver.db'));
    k = db.kysely as unknown as Kysely<any>;
    await sql`CREATE TABLE items (name text PRIMARY KEY)`.execute(k);
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const insert = (name: string, fail = false) =>
    k.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ name }).execute();
      // A turn of the event loop between the write and the failure, as a handler would have.
      await new Promise((r) => setImmediate(r));
      if (fail) throw new Error(`${name} fails`);
      return name;
    });
  const names = async () =>
    (await k.selectFrom('items').select('name').orderBy('name').execute()).map((r) => r.name as string);

  it('keeps the work of every member but the one that fails, first or later in the group', async () => {
    const results = await Promise.allSettled([
      insert('a1', true),
      insert('a2'),
      insert('a3', true),
      insert('a4'),
      insert('a5'),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    expect(await names()).toEqual(['a2', 'a4', 'a5']);
  });

  it('commits a group whose first member succeeded and a later one failed', async () => {
    const results = await Promise.allSettled([insert('b1'), insert('b2', true), insert('b3')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await names()).filter((n) => n.startsWith('b'))).toEqual(['b1', 'b3']);
  });

  it('answers a member only once the shared commit is done: a reader on another connection sees it', async () => {
    const other = openDatabase(join(dir, 'driver.db'));
    try {
      await Promise.all(['c1', 'c2', 'c3'].map((n) => insert(n)));
      const seen = await (other.kysely as unknown as Kysely<any>)
        .selectFrom('items')
        .select('name')
        .where('name', 'like', 'c%')
        .execute();
      expect(seen.map((r) => r.name).sort()).toEqual(['c1', 'c2', 'c3']);
    } finally {
      await other.close();
    }
  });
});

/** Runs a script of fixtures/ in its own process on a new database file, to its end or the timeout. */
function runScript(name: string, timeout: number) {
  const dir = mkdtempSync(join(tmpdir(), 'billfold-script-'));
  try {
    return spawnSync(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures', name), join(dir, 'script.db')],
      { encoding: 'utf8', timeout },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The checkpointer (checkpointer.ts) must rewind the write-ahead log while writes keep coming:
 * with PASSIVE checkpoints alone the log never starts over under steady writes and grows by
 * every page written.
 */
describe('SQLite write-ahead log under sustained writes', () => {
  it('stays bounded, and every acknowledged row is in the database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'billfold-wal-'));
    const file = join(dir, 'wal.db');
    // Rewind past 64 frames (256 KiB), checked every 10 ms, so a few MiB of writes show it.
    const db = openDatabase(file, { sqliteCheckpoints: { intervalMs: 10, restartFrames: 64 } });
    try {
      const k = db.kysely as unknown as Kysely<any>;
      // Its worker takes a while to start on a busy machine; without it the log grows meanwhile.
      await db.ready();
      await sql`CREATE TABLE blobs (id integer PRIMARY KEY, body text NOT NULL)`.execute(k);
      const body = 'x'.repeat(1000);
      const walBytes = () => (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);
      let next = 0;
      let maxWal = 0;
      const started = performance.now();
      // Eight writers, as concurrent requests, each committing 20 rows at a time, until ~16 MB
      // have been written (and at least two seconds have passed, for the worker's turns).
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < 16_000 || performance.now() - started < 2000) {
            const ids = Array.from({ length: 20 }, () => next++);
            await k.transaction().execute((trx) =>
              trx
                .insertInto('blobs')
                .values(ids.map((id) => ({ id, body })))
                .execute(),
            );
            maxWal = Math.max(maxWal, walBytes());
          }
        }),
      );
      const written = next * body.length;
      expect(written).toBeGreaterThanOrEqual(16_000_000);
      // Without rewinds the log would hold every page written: more than `written`. With them it
      // stays far below (a few MiB here; the margin is for a machine busy with other tests).
      expect(maxWal).toBeLessThan(written / 3);
      const [{ n }] = (await sql<{ n: number }>`SELECT count(*) AS n FROM blobs`.execute(k)).rows as [
        { n: number },
      ];
      expect(n).toBe(next);
      const check = await sql<{ integrity_check: string }>`PRAGMA integrity_check`.execute(k);
      expect(check.rows[0]?.integrity_check).toBe('ok');
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps a script alive while it waits for a rewind: it ends only when its work is done', () => {
    const run = runScript('sustained-writes.ts', 60_000);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('stored 3000');
  });

  it('lets a process that leaves the database open exit once its work is done', () => {
    const run = runScript('open-and-leave.ts', 30_000);
    // Killed at the timeout, the status would be null: the checkpointer kept the process alive.
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('written');
  });
});
