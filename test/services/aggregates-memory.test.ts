import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { localPrincipal } from '../../src/interfaces/bootstrap.js';
import { dispatch } from '../../src/interfaces/dispatch.js';
import { createLogger } from '../../src/interfaces/logging.js';
import { createRuntime, type Runtime } from '../../src/interfaces/runtime.js';
import { validateRecords } from '../../src/operations/usage-events.js';
import { createServiceContext } from '../../src/services/context.js';
import { recordEvents } from '../../src/services/metering/ingest.js';
import { describeDatabases } from '../harness/suite.js';

/**
 * SQLite ingestion writes aggregate rows from what it keeps in memory of them
 * (services/metering/stored-buckets.ts). Work that is undone, and batches another process
 * stores, must never be counted from that memory. The same cases run on PostgreSQL, which adds
 * up in the database.
 */
describeDatabases('aggregates and undone or foreign writes', (t) => {
  let other: Runtime;
  let org: string;
  let n = 0;
  beforeAll(async () => {
    org = (await t.env.newOrganization()).id;
    // A second server on the same database, as another process would be.
    const config = loadConfig(
      { BILLFOLD_LOG_LEVEL: 'silent' },
      { database: t.env.database, sqliteSynchronous: 'NORMAL' },
    );
    other = await createRuntime(config, { logger: createLogger('silent') });
  });
  afterAll(async () => {
    await other?.close();
  });

  const call = async (rt: Runtime, operation: string, args: unknown) => {
    const { outcome } = await dispatch(rt, {
      principal: localPrincipal(org),
      door: 'system',
      operation,
      args,
    });
    if (!outcome.ok) throw new Error(`${operation}: ${outcome.error.message}`);
    return outcome.output as any;
  };
  const events = (code: string, count: number, gb: string) =>
    Array.from({ length: count }, () => ({
      transaction_id: `mem-${++n}`,
      customer_id: 'mem-co',
      code,
      timestamp: '2026-03-10T12:30:00Z',
      properties: { gb },
    }));
  const usage = async (metric_code: string) =>
    (
      await call(t.env.rt, 'get_customer_usage', {
        customer_id: 'mem-co',
        metric_code,
        from: '2026-03-01T00:00:00Z',
        to: '2026-04-01T00:00:00Z',
      })
    ).metrics[0];
  /** Records in a transaction of its own that is then undone. */
  const recordAndUndo = (code: string, count: number, gb: string) =>
    t.env.rt.db.kysely.transaction().execute(async (trx) => {
      const ctx = createServiceContext(t.env.rt, trx, localPrincipal(org), 'system', 'undone');
      const outcomes = await recordEvents(ctx, validateRecords(events(code, count, gb)));
      expect(outcomes.every((o) => o.ok)).toBe(true);
      throw new Error('undo');
    });

  it('a batch rolled back after writing its aggregates is not counted, alone or in a shared commit', async () => {
    await call(t.env.rt, 'create_customer', { external_id: 'mem-co', name: 'Memory' });
    await call(t.env.rt, 'create_billable_metric', {
      code: 'mem_gb',
      name: 'GB',
      aggregation_type: 'sum_agg',
      field_name: 'gb',
    });
    await call(t.env.rt, 'record_usage_batch', { events: events('mem_gb', 3, '1.5') });
    await expect(recordAndUndo('mem_gb', 2, '100')).rejects.toThrow('undo');
    await call(t.env.rt, 'record_usage_batch', { events: events('mem_gb', 1, '0.25') });
    expect(await usage('mem_gb')).toMatchObject({ units: '4.75', event_count: 4 });

    // A batch that joins another's commit and is undone alone (its savepoint), while the other
    // commits: only the other counts.
    let undone: Promise<unknown> | undefined;
    await t.env.rt.db.kysely.transaction().execute(async (trx) => {
      const ctx = createServiceContext(t.env.rt, trx, localPrincipal(org), 'system', 'kept');
      await recordEvents(ctx, validateRecords(events('mem_gb', 2, '10')));
      // Queued behind this transaction: on SQLite it runs before the shared commit.
      undone = recordAndUndo('mem_gb', 5, '1000');
    });
    await expect(undone).rejects.toThrow('undo');
    await call(t.env.rt, 'record_usage_batch', { events: events('mem_gb', 1, '0.25') });
    expect(await usage('mem_gb')).toMatchObject({ units: '25', event_count: 7 });
  });

  it("counts another process's batches in the same rows", async () => {
    await call(t.env.rt, 'record_usage_batch', { events: events('mem_gb', 1, '1') });
    await call(other, 'record_usage_batch', { events: events('mem_gb', 2, '2') });
    await call(t.env.rt, 'record_usage_batch', { events: events('mem_gb', 1, '4') });
    expect(await usage('mem_gb')).toMatchObject({ units: '34', event_count: 11 });
  });
});
