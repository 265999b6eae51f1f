import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeDatabases } from '../harness/suite.js';

/**
 * Ingestion across processes: the same batch retried at once through two servers on one
 * database is stored once, and a server killed with SIGKILL mid-ingestion has kept every event
 * it acknowledged.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

async function serve(database: string, key: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src/interfaces/cli/main.ts'), 'serve', '--port', '0'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        BILLFOLD_DATABASE: database,
        BILLFOLD_LOG_LEVEL: 'warn',
        BILLFOLD_BOOTSTRAP_API_KEY: key,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /MCP \(Streamable HTTP\)\s+(http:\/\/\S+)\/mcp/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited early (${code}): ${out}${err}`)));
  });
  return { url, child };
}

function client(url: string, key: string) {
  return async (op: string, args: unknown): Promise<any> => {
    const res = await fetch(`${url}/api/v1/${op}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(args),
    });
    const body = await res.json();
    if (res.status !== 200) throw new Error(`${op} ${res.status}: ${JSON.stringify(body)}`);
    return body;
  };
}

const keyFor = (db: string) => `bfk_durability_${db}_${Date.now().toString(36)}_0123456789`;

describeDatabases('ingestion across processes', (t) => {
  it(
    'stores a batch retried concurrently through two processes exactly once',
    { timeout: 120_000 },
    async () => {
      const key = keyFor(t.db);
      const [a, b] = await Promise.all([serve(t.env.database, key), serve(t.env.database, key)]);
      const callA = client(a.url, key);
      const callB = client(b.url, key);
      await callA('create_customer', { external_id: 'dup-cust' });
      await callA('create_billable_metric', {
        code: 'dup_units',
        name: 'Units',
        aggregation_type: 'sum_agg',
        field_name: 'n',
      });
      const events = Array.from({ length: 400 }, (_, i) => ({
        transaction_id: `dup-${i}`,
        customer_id: 'dup-cust',
        code: 'dup_units',
        timestamp: '2026-05-10T10:00:00Z',
        properties: { n: '1.25' },
      }));
      const replies = await Promise.all(
        [1, 2, 3].flatMap(() => [callA, callB].map((c) => c('record_usage_batch', { events }))),
      );
      let created = 0;
      for (const r of replies) {
        expect(r.summary.failed).toBe(0);
        expect(r.summary.created + r.summary.duplicates).toBe(400);
        created += r.summary.created;
      }
      expect(created).toBe(400);
      const { count } = await t.env.rt.db.kysely
        .selectFrom('usage_events')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('transaction_id', 'like', 'dup-%')
        .executeTakeFirstOrThrow();
      expect(Number(count)).toBe(400);
      const usage = await callB('get_customer_usage', {
        customer_id: 'dup-cust',
        from: '2026-05-01',
        to: '2026-06-01',
      });
      expect(usage.metrics[0]).toMatchObject({ units: '500', event_count: 400 });
    },
  );

  it(
    'loses no acknowledged event when the process is killed with SIGKILL during ingestion',
    { timeout: 120_000 },
    async () => {
      const key = keyFor(`${t.db}_kill`);
      const server = await serve(t.env.database, key);
      const call = client(server.url, key);
      await call('create_customer', { external_id: 'kill-cust' });
      await call('create_billable_metric', {
        code: 'kill_calls',
        name: 'Calls',
        aggregation_type: 'count_agg',
      });
      const acknowledged: string[] = [];
      let stop = false;
      const writers = [0, 1, 2, 3].map(async (w) => {
        for (let batch = 0; !stop; batch++) {
          const events = Array.from({ length: 100 }, (_, i) => ({
            transaction_id: `kill-${w}-${batch}-${i}`,
            customer_id: 'kill-cust',
            code: 'kill_calls',
            timestamp: '2026-05-10T10:00:00Z',
          }));
          try {
            const r = await call('record_usage_batch', { events });
            if (r.summary.created === 100) acknowledged.push(...events.map((e) => e.transaction_id));
          } catch {
            return;
          }
        }
      });
      await new Promise((r) => setTimeout(r, 1500));
      server.child.kill('SIGKILL');
      stop = true;
      await Promise.all(writers);
      // Killed by a signal, a child keeps exitCode null: signalCode says it is gone.
      const gone = () => server.child.exitCode !== null || server.child.signalCode !== null;
      await new Promise((r) => (gone() ? r(null) : server.child.once('exit', r)));
      expect(acknowledged.length).toBeGreaterThan(0);
      const stored = new Set(
        (
          await t.env.rt.db.kysely
            .selectFrom('usage_events')
            .select('transaction_id')
            .where('transaction_id', 'like', 'kill-%')
            .execute()
        ).map((r) => r.transaction_id),
      );
      const lost = acknowledged.filter((id) => !stored.has(id));
      expect(lost).toEqual([]);
      // The aggregates committed with the events: they count exactly what is stored.
      const bucket = await t.env.rt.db.kysely
        .selectFrom('usage_buckets')
        .innerJoin('billable_metrics', 'billable_metrics.id', 'usage_buckets.metric_id')
        .select((eb) => eb.fn.sum<number>('usage_buckets.event_count').as('n'))
        .where('billable_metrics.code', '=', 'kill_calls')
        .executeTakeFirstOrThrow();
      expect(Number(bucket.n)).toBe(stored.size);
    },
  );
});
