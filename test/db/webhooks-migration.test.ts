import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Migrator } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/connection.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { migrationsFor } from '../../src/db/migrations/index.js';
import { newId } from '../../src/domain/ids.js';
import { PG_URL, createPostgresDatabase, type DbName } from '../harness/environment.js';

/**
 * Migration 010 on a database that has run every other migration, later ones included (a
 * release without webhooks): it still runs, and what was overdue or past its trial before it
 * counts as announced, so upgrading does not send events about the past.
 */
const DAY = 86_400_000;

for (const db of ['sqlite', 'postgres'] as DbName[]) {
  describe.skipIf(db === 'postgres' && !PG_URL)(`migration 010 on a later database [${db}]`, () => {
    let database: string;
    let drop: () => Promise<void>;
    let old: Db;

    beforeAll(async () => {
      if (db === 'postgres') {
        const created = await createPostgresDatabase();
        database = created.url;
        drop = created.drop;
      } else {
        const dir = mkdtempSync(join(tmpdir(), 'billfold-migration-'));
        database = join(dir, 'billfold.db');
        drop = async () => rmSync(dir, { recursive: true, force: true });
      }
      old = openDatabase(database);
      const all = migrationsFor({ dialect: old.dialect });
      delete all['010_webhooks'];
      // It alters 010's table: a release without webhooks has not run it either.
      delete all['021_webhook_payload_format'];
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

    it('runs after the later ones and leaves the past unannounced', async () => {
      const now = Date.now();
      const org = newId('organization');
      const customer = newId('customer');
      await old.kysely
        .insertInto('organizations')
        .values({ id: org, name: 'Upgraded', created_at: now, updated_at: now } as never)
        .execute();
      await old.kysely
        .insertInto('customers')
        .values({
          id: customer,
          organization_id: org,
          status: 'active',
          created_at: now,
          updated_at: now,
        } as never)
        .execute();
      const invoice = (id: string, status: string, due: number, dueCents: number) => ({
        id,
        organization_id: org,
        customer_id: customer,
        invoice_type: 'one_off',
        status,
        payment_status: 'pending',
        currency: 'EUR',
        due_at: due,
        sub_total_amount_cents: 1000,
        coupons_amount_cents: 0,
        taxes_amount_cents: 0,
        total_amount_cents: 1000,
        amount_due_cents: dueCents,
        created_at: now,
        updated_at: now,
      });
      const overdue = newId('invoice');
      const later = newId('invoice');
      const paid = newId('invoice');
      await old.kysely
        .insertInto('invoices')
        .values([
          invoice(overdue, 'finalized', now - 5 * DAY, 1000),
          invoice(later, 'finalized', now + 5 * DAY, 1000),
          invoice(paid, 'finalized', now - 5 * DAY, 0),
        ] as never)
        .execute();

      expect(await migrateToLatest(old)).toEqual(['010_webhooks', '021_webhook_payload_format']);
      const rows = await old.kysely.selectFrom('invoices').select(['id', 'overdue_noticed_at']).execute();
      const noticed = Object.fromEntries(rows.map((r) => [r.id, r.overdue_noticed_at]));
      expect(noticed[overdue]).toBe(now - 5 * DAY);
      expect(noticed[later]).toBeNull();
      expect(noticed[paid]).toBeNull();
      const tables = await old.kysely.selectFrom('webhook_deliveries').select('id').execute();
      expect(tables).toEqual([]);
    });
  });
}
