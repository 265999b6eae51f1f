import { Migrator } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/connection.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { migrationsFor } from '../../src/db/migrations/index.js';
import { newId } from '../../src/domain/ids.js';
import { createSigningKey } from '../../src/services/signing-keys.js';
import { PG_URL, scratchDatabase, type DbName } from '../harness/environment.js';

/**
 * Migration 016 on a database of every other migration: each organization that exists gets its
 * first signing key, a different one each, and an organization never has two active keys; 020
 * leaves those keys unrevoked, so the codes they signed keep validating.
 */
for (const db of ['sqlite', 'postgres'] as DbName[]) {
  describe.skipIf(db === 'postgres' && !PG_URL)(`migration 016 on an existing database [${db}]`, () => {
    let drop: () => Promise<void>;
    let old: Db;

    beforeAll(async () => {
      const scratch = await scratchDatabase(db);
      drop = scratch.drop;
      const database = scratch.database;
      old = openDatabase(database);
      const all = migrationsFor({ dialect: old.dialect });
      delete all['016_signing_keys'];
      // 020 adds to the table 016 makes.
      delete all['020_signing_key_revocation'];
      const result = await new Migrator({
        db: old.kysely,
        provider: { getMigrations: async () => all },
        migrationTableName: 'billfold_migrations',
        migrationLockTableName: 'billfold_migrations_lock',
      }).migrateToLatest();
      expect(result.error).toBeUndefined();
    });
    afterAll(async () => {
      await old?.close();
      await drop?.();
    });

    it('gives every existing organization one key of its own', async () => {
      const now = Date.now();
      const orgs = [newId('organization'), newId('organization')];
      for (const id of orgs) {
        await old.kysely
          .insertInto('organizations')
          .values({ id, name: id, created_at: now, updated_at: now } as never)
          .execute();
      }
      expect(await migrateToLatest(old)).toEqual(['016_signing_keys', '020_signing_key_revocation']);
      const keys = await old.kysely
        .selectFrom('signing_keys')
        .selectAll()
        .orderBy('organization_id')
        .execute();
      expect(keys.map((k) => k.organization_id)).toEqual([...orgs].sort());
      expect(
        keys.every(
          (k) =>
            k.retired_at === null &&
            k.revoked_at === null &&
            Buffer.from(k.secret, 'base64url').length === 32,
        ),
      ).toBe(true);
      expect(new Set(keys.map((k) => k.secret)).size).toBe(2);

      // A second creator (two processes at once) adds nothing: one active key per organization.
      await createSigningKey(old.kysely, orgs[0]!, now);
      const after = await old.kysely
        .selectFrom('signing_keys')
        .select('id')
        .where('organization_id', '=', orgs[0]!)
        .execute();
      expect(after).toHaveLength(1);
    });
  });
}
