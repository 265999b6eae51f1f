/**
 * What bounds ingestion on this machine, layer by layer, without HTTP:
 *
 *   operation  record_usage_batch through the operation catalogue (validation, pricing, event
 *              rows, aggregates, durable commit), one batch after another, and with
 *              BENCH_IN_FLIGHT batches at a time (concurrent batches share a commit: see
 *              db/sqlite-driver.ts): everything bench/ingest measures except HTTP.
 *   storage    the very rows that run stored, inserted again into a fresh database by the
 *              statement ingestion uses, a batch per durable transaction: no aggregates, no
 *              validation, no lookups. Nothing that stores these events with these indexes is
 *              cheaper.
 *   keys only  the same, with only the table and its unique keys (id, transaction id): what the
 *              secondary indexes that list_events, get_needs_attention and unique counts read
 *              cost.
 *
 * SQLite has one writer, the main thread: a writer needing C µs of CPU per event stores at most
 * 1,000,000 / C events a second on its core, however many cores help it (the process's CPU, every
 * thread's, is shown beside: the WAL checkpointer and garbage collection run on others). PostgreSQL
 * spreads over both cores: its figure is the whole machine's CPU, and at most 2,000,000 / C a
 * second fit on two cores; beside it, this process's and its own PostgreSQL backends' CPU, which
 * other work on the machine does not move (PostgreSQL's shared WAL writer and checkpointer are
 * not in it).
 *
 *   node --import tsx bench/ingest-ceiling.ts
 *   BENCH_POSTGRES_URL=postgres://… node --import tsx bench/ingest-ceiling.ts
 *   BENCH_EVENTS=200000 BENCH_BATCHES=1000,100 BENCH_IN_FLIGHT=1,8 …
 *   BENCH_WATCH_THRESHOLDS=0 …   (without the usage-threshold watch billfold serve runs)
 */
import { cpus } from 'node:os';
import { openDatabase, type Db } from '../src/db/connection.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { UsageEventsTable } from '../src/db/schema.js';
import { watchThresholds } from '../src/services/billing/threshold-watch.js';
import { INSERT_COLUMNS, pgEventInsert, sqliteEventInsert } from '../src/services/metering/ingest.js';
import { cpuSeconds, inProcess, machineBusySeconds, scratchDatabase } from './scratch.js';
import { MIX_DESCRIPTION, mixBodies, setUpMix } from './usage-mix.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const BATCHES = (process.env.BENCH_BATCHES ?? '1000,100').split(',').map(Number);
/** Batches sent at once in the operation layer, one run each (concurrent ones share commits). */
const IN_FLIGHT = (process.env.BENCH_IN_FLIGHT ?? '1,8').split(',').map(Number);
const PG_URL = process.env.BENCH_POSTGRES_URL;
/** The cores the figure's CPU can spread over (see above). */
const CORES = PG_URL ? cpus().length : 1;

interface Timing {
  seconds: number;
  /** SQLite: the main thread's; PostgreSQL: the whole machine's. */
  cpuSeconds: number;
  /** SQLite: every thread of this process; PostgreSQL: this process and its backends. */
  ownCpuSeconds: number;
}

/** PostgreSQL: the server processes serving this process's connections to `db`. */
async function backendPids(db: Db | undefined): Promise<number[]> {
  if (!db?.pool) return [];
  const { rows } = await db.pool.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
  );
  return rows.map((r) => r.pid);
}

function cpuOf(pids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      out.set(pid, cpuSeconds(pid));
    } catch {
      // Gone meanwhile (a pool connection closed): its time is lost to the figure.
    }
  }
  return out;
}

async function timed(db: Db | undefined, work: () => Promise<void> | void): Promise<Timing> {
  const cpu0 = process.cpuUsage();
  const machine0 = machineBusySeconds();
  const main0 = cpuSeconds(process.pid, process.pid);
  const backends0 = cpuOf(await backendPids(db));
  const t0 = performance.now();
  await work();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const processCpu = (cpu.user + cpu.system) / 1e6;
  let backends = 0;
  for (const [pid, s] of cpuOf(await backendPids(db))) backends += s - (backends0.get(pid) ?? 0);
  return {
    seconds,
    cpuSeconds: PG_URL ? machineBusySeconds() - machine0 : cpuSeconds(process.pid, process.pid) - main0,
    ownCpuSeconds: processCpu + backends,
  };
}

function line(layer: string, batch: number, events: number, t: Timing): string {
  const cpuPerEvent = (t.cpuSeconds * 1e6) / events;
  const own = ((t.ownCpuSeconds * 1e6) / events).toFixed(1).padStart(5);
  const cpu = PG_URL
    ? `whole machine ${cpuPerEvent.toFixed(1).padStart(5)} (this process and its backends ${own})`
    : `writer thread ${cpuPerEvent.toFixed(1).padStart(5)} (process ${own})`;
  const where = CORES === 1 ? 'on one core' : `on ${CORES} cores`;
  return `${layer.padEnd(14)} batch ${String(batch).padStart(4)}: ${Math.round(events / t.seconds)
    .toLocaleString('en-US')
    .padStart(7)} events/s; CPU ${cpu} µs/event → at most ${Math.round((CORES * 1e6) / cpuPerEvent)
    .toLocaleString('en-US')
    .padStart(7)} events/s ${where}`;
}

/** Drops every index on usage_events that is not a unique key. */
async function dropSecondaryIndexes(db: Db): Promise<void> {
  if (db.sqlite) {
    const names = db.sqlite
      .prepare(
        `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'usage_events' AND sql LIKE 'CREATE INDEX%'`,
      )
      .pluck()
      .all() as string[];
    for (const name of names) db.sqlite.exec(`DROP INDEX ${name}`);
    return;
  }
  const { rows } = await db.pool!.query<{ indexname: string }>(
    `SELECT indexname FROM pg_indexes WHERE tablename = 'usage_events' AND indexdef NOT LIKE 'CREATE UNIQUE%'`,
  );
  for (const r of rows) await db.pool!.query(`DROP INDEX ${r.indexname}`);
}

/** Inserts `rows` into a freshly migrated database, `batch` rows per durable transaction. */
async function storeAgain(location: string, rows: UsageEventsTable[], batch: number, keysOnly: boolean) {
  const db = openDatabase(location);
  try {
    await migrateToLatest(db);
    await db.ready();
    if (keysOnly) await dropSecondaryIndexes(db);
    const raw = db.sqlite;
    // The statement's parameters, made before the clock starts (ingestion has them at hand).
    const params = raw ? rows.map((r) => INSERT_COLUMNS.map((c) => r[c])) : [];
    const t = await timed(db, async () => {
      if (raw) {
        const insert = sqliteEventInsert(raw);
        const begin = raw.prepare('BEGIN');
        const commit = raw.prepare('COMMIT');
        for (let i = 0; i < rows.length; i += batch) {
          begin.run();
          for (let j = i; j < Math.min(rows.length, i + batch); j++) insert.run(params[j]!);
          commit.run();
        }
      } else {
        // One statement per batch outside a transaction: PostgreSQL commits each durably.
        for (let i = 0; i < rows.length; i += batch) await pgEventInsert(db.kysely, rows.slice(i, i + batch));
      }
    });
    const { count } = await db.kysely
      .selectFrom('usage_events')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    if (Number(count) !== rows.length) throw new Error(`stored ${count} of ${rows.length} rows`);
    return t;
  } finally {
    await db.close();
  }
}

async function main() {
  const scratch = await scratchDatabase('billfold-ceiling', PG_URL);
  const { rt, call } = await inProcess(scratch.database);
  // As billfold serve does: each committed batch tells the usage-threshold watch its customers
  // (BENCH_WATCH_THRESHOLDS=0 leaves it off, to compare).
  if (process.env.BENCH_WATCH_THRESHOLDS !== '0') rt.disposers.push(watchThresholds(rt));
  try {
    await setUpMix(call);
    await rt.db.ready();
    const dialect = PG_URL ? 'PostgreSQL (CPU of the whole machine)' : 'SQLite (synchronous=FULL)';
    console.log(
      `billfold ingest ceiling — ${dialect}; ${EVENTS.toLocaleString('en-US')} events per run; ${cpus().length} CPUs (${cpus()[0]?.model}); Node ${process.version}`,
    );
    console.log(`events: ${MIX_DESCRIPTION}`);
    for (const batch of BATCHES) {
      let first: string | undefined;
      for (const inFlight of IN_FLIGHT) {
        const run = `c${batch}x${inFlight}-${Date.now().toString(36)}`;
        first ??= run;
        const bodies = mixBodies(run, EVENTS, batch).map((b) => JSON.parse(b) as { events: unknown[] });
        let next = 0;
        const op = await timed(rt.db, () =>
          Promise.all(
            Array.from({ length: inFlight }, async () => {
              while (next < bodies.length) {
                const body = bodies[next++]!;
                const out = await call('record_usage_batch', body);
                if (out.summary.created !== body.events.length)
                  throw new Error(`batch: ${JSON.stringify(out.summary)}`);
              }
            }),
          ).then(() => {}),
        );
        console.log(line(`operation ×${inFlight}`, batch, EVENTS, op));
      }
      // The rows the first run stored, in the order it stored them.
      const rows = (await rt.db.kysely
        .selectFrom('usage_events')
        .select([...INSERT_COLUMNS])
        .where('transaction_id', 'like', `${first}-%`)
        .orderBy('created_at')
        .orderBy('id')
        .execute()) as UsageEventsTable[];
      const storage = await storeAgain(await scratch.another(`storage${batch}`), rows, batch, false);
      console.log(line('storage', batch, rows.length, storage));
      const keys = await storeAgain(await scratch.another(`keys${batch}`), rows, batch, true);
      console.log(line('keys only', batch, rows.length, keys));
    }
  } finally {
    await rt.close();
    await scratch.cleanup();
  }
}

await main();
