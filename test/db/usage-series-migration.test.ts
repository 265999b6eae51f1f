import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/connection.js';
import { migrateTo } from '../../src/db/migrate.js';
import { newId } from '../../src/domain/ids.js';
import { HOUR_MS, seriesId } from '../../src/domain/usage.js';
import { localPrincipal } from '../../src/interfaces/bootstrap.js';
import { dispatch } from '../../src/interfaces/dispatch.js';
import { createLogger } from '../../src/interfaces/logging.js';
import { createRuntime, type Runtime } from '../../src/interfaces/runtime.js';
import { PG_URL, createPostgresDatabase, type DbName } from '../harness/environment.js';

/**
 * Migration 014 converts the events an older release stored: each gets the series of its
 * organization, customer key and code, usage_series lists every series, and the readers that
 * go through the series (event lists, edge hours, metric rebuilds) find the converted events.
 */
const at = (iso: string) => Date.parse(iso);
const EVENTS: Array<[string, string, string, Record<string, unknown>]> = [
  // [customer reference, code, timestamp, properties]
  ['acme', 'calls', '2026-01-05T10:00:00Z', {}],
  ['acme', 'calls', '2026-01-05T10:20:00Z', {}],
  ['acme', 'calls', '2026-01-05T11:05:00Z', {}],
  ['acme', 'users', '2026-01-05T10:30:00Z', { user_id: 'u-1' }],
  ['beta', 'calls', '2026-01-05T10:40:00Z', {}],
];

for (const db of ['sqlite', 'postgres'] as DbName[]) {
  describe.skipIf(db === 'postgres' && !PG_URL)(`migration 014 [${db}]`, () => {
    let database: string;
    let drop: () => Promise<void>;
    let rt: Runtime;
    const org = newId('organization');

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
      // The database as the release before 014 left it, with events stored by that release:
      // for customers that do not exist yet (they count once they do) and a metric code no metric has.
      const old = openDatabase(database);
      await migrateTo(old, '012_portal');
      const now = Date.now();
      await old.kysely
        .insertInto('organizations')
        .values({ id: org, name: 'Converted', created_at: now, updated_at: now } as never)
        .execute();
      await old.kysely
        .insertInto('usage_events')
        .values(
          EVENTS.map(([ref, code, ts, properties], i) => ({
            id: newId('event'),
            organization_id: org,
            transaction_id: `old-${i}`,
            payload_hash: `hash-${i}`,
            code,
            metric_id: null,
            customer_ref: ref,
            customer_id: null,
            customer_key: ref,
            external_subscription_id: null,
            timestamp: at(ts),
            hour: Math.floor(at(ts) / HOUR_MS),
            properties: JSON.stringify(properties),
            metadata: '{}',
            grp: '',
            created_at: now,
          })) as never,
        )
        .execute();
      await old.close();
      const config = loadConfig({ BILLFOLD_LOG_LEVEL: 'silent' }, { database, sqliteSynchronous: 'NORMAL' });
      rt = await createRuntime(config, { logger: createLogger('silent') });
    });
    afterAll(async () => {
      await rt?.close();
      await drop?.();
    });

    const call = async (operation: string, args: unknown) => {
      const { outcome } = await dispatch(rt, {
        principal: localPrincipal(org),
        door: 'system',
        operation,
        args,
      });
      if (!outcome.ok) throw new Error(`${operation}: ${outcome.error.message}`);
      return outcome.output as any;
    };

    it('gives every stored event the series of its triple and lists each series once', async () => {
      const rows = await rt.db.kysely
        .selectFrom('usage_events')
        .select(['organization_id', 'customer_key', 'code', 'series'])
        .execute();
      expect(rows).toHaveLength(EVENTS.length);
      for (const r of rows)
        expect(Number(r.series)).toBe(seriesId(r.organization_id, r.customer_key, r.code));
      const listed = await rt.db.kysely
        .selectFrom('usage_series')
        .selectAll()
        .orderBy('customer_key')
        .orderBy('code')
        .execute();
      expect(listed.map((s) => [s.customer_key, s.code, Number(s.id)])).toEqual([
        ['acme', 'calls', seriesId(org, 'acme', 'calls')],
        ['acme', 'users', seriesId(org, 'acme', 'users')],
        ['beta', 'calls', seriesId(org, 'beta', 'calls')],
      ]);
      const indexes =
        db === 'sqlite'
          ? await sql<{
              name: string;
            }>`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'usage_events'`.execute(
              rt.db.kysely,
            )
          : await sql<{
              name: string;
            }>`SELECT indexname AS name FROM pg_indexes WHERE tablename = 'usage_events'`.execute(
              rt.db.kysely,
            );
      const names = indexes.rows.map((r) => r.name);
      expect(names).toEqual(expect.arrayContaining(['usage_events_series', 'usage_events_series_unique']));
      expect(names).not.toContain('usage_events_customer');
      expect(names).not.toContain('usage_events_unique_value');
    });

    it('finds the converted events per customer: lists, metric rebuilds and partial hours', async () => {
      await call('create_customer', { external_id: 'acme', name: 'Acme', currency: 'USD' });
      // Creating the metrics rebuilds them from the events already stored, series by series.
      await call('create_billable_metric', { code: 'calls', name: 'Calls', aggregation_type: 'count_agg' });
      await call('create_billable_metric', {
        code: 'users',
        name: 'Users',
        aggregation_type: 'unique_count_agg',
        field_name: 'user_id',
      });
      const all = await call('list_events', { customer_id: 'acme' });
      expect(all.events).toHaveLength(4);
      const calls = await call('list_events', { customer_id: 'acme', code: 'calls' });
      expect(calls.events.map((e: { transaction_id: string }) => e.transaction_id).sort()).toEqual([
        'old-0',
        'old-1',
        'old-2',
      ]);
      const usage = async (metric_code: string, from: string, to: string) =>
        (await call('get_customer_usage', { customer_id: 'acme', metric_code, from, to })).metrics[0];
      // Both edges are partial hours, read event by event.
      expect((await usage('calls', '2026-01-05T10:10:00Z', '2026-01-05T11:30:00Z')).units).toBe('2');
      expect((await usage('calls', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z')).units).toBe('3');
      expect((await usage('users', '2026-01-05T10:10:00Z', '2026-01-05T11:30:00Z')).units).toBe('1');
      // New events of the same customer join the converted ones' series.
      await call('record_usage_batch', {
        events: [
          { transaction_id: 'new-0', customer_id: 'acme', code: 'calls', timestamp: '2026-01-05T10:50:00Z' },
        ],
      });
      expect((await usage('calls', '2026-01-05T10:10:00Z', '2026-01-05T11:30:00Z')).units).toBe('3');
    });
  });
}
