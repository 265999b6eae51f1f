import { Migrator, type MigrationResultSet } from 'kysely';
import type { Db } from './connection.js';
import { migrationsFor } from './migrations/index.js';

function migrator(db: Db): Migrator {
  return new Migrator({
    db: db.kysely,
    provider: { getMigrations: async () => migrationsFor({ dialect: db.dialect }) },
    migrationTableName: 'billfold_migrations',
    migrationLockTableName: 'billfold_migrations_lock',
    // Migrations are numbered as they are written and may be released in another order: a
    // database that has run 012 still gets a later-released 010, after it. So a migration
    // never depends on one numbered after it.
    allowUnorderedMigrations: true,
  });
}

/**
 * Brings the schema up to date. Safe to run from several instances at once: Kysely's migrator
 * takes an advisory lock on PostgreSQL and a write lock on SQLite.
 */
export async function migrateToLatest(db: Db): Promise<string[]> {
  return outcome(await migrator(db).migrateToLatest());
}

/** Brings the schema up to the named migration and no further (a database as an older release left it). */
export async function migrateTo(db: Db, name: string): Promise<string[]> {
  return outcome(await migrator(db).migrateTo(name));
}

function outcome(result: MigrationResultSet): string[] {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    const reason = result.error instanceof Error ? result.error.message : String(result.error);
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${reason}`);
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
