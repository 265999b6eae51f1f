import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/interfaces/logging.js';
import { createRuntime, type Runtime } from '../../src/interfaces/runtime.js';
import type { TestEnvironment } from './environment.js';

/**
 * Other Billfold processes on a test's database: `billfold serve` children, for cases about
 * what several instances do at once (each runs its own threshold watch, scheduler and
 * dispatcher, as configured by `variables`).
 */
const ROOT = join(import.meta.dirname, '..', '..');

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** POST /api/v1/<operation> with this key; throws unless the answer is 200. */
  call(operation: string, args: unknown): Promise<any>;
  stop(): Promise<void>;
}

export function startServer(
  database: string,
  key: string,
  variables: Record<string, string> = {},
): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src/interfaces/cli/main.ts'), 'serve', '--port', '0'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        BILLFOLD_LOG_LEVEL: 'warn',
        BILLFOLD_BILLING_INTERVAL_SECONDS: '0',
        BILLFOLD_WEBHOOK_POLL_MS: '0',
        ...variables,
        BILLFOLD_DATABASE: database,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}${err}`)), 120_000);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /HTTP API\s+(http:\/\/[^/\s]+)\/api\/v1/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      const url = m[1]!;
      resolve({
        url,
        child,
        async call(operation, args) {
          const res = await fetch(`${url}/api/v1/${operation}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify(args),
          });
          const body = (await res.json()) as any;
          if (res.status !== 200) throw new Error(`${operation}: ${res.status} ${JSON.stringify(body)}`);
          return body;
        },
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const gone = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await gone;
        },
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (${code}): ${out}${err}`));
    });
  });
}

/**
 * A runtime of its own on the test's database, for the caller to close: its connections'
 * statistics (the deadlocks PostgreSQL detected and broke among them) are written when they end.
 */
export function separateRuntime(env: TestEnvironment): Promise<Runtime> {
  return createRuntime(
    loadConfig({ BILLFOLD_LOG_LEVEL: 'silent', ...env.variables }, { database: env.database }),
    { logger: createLogger('silent') },
  );
}

/** How many deadlocks PostgreSQL has detected in the test's database so far; 0 on SQLite. */
export async function deadlocksDetected(env: TestEnvironment): Promise<number> {
  if (env.db !== 'postgres') return 0;
  const { rows } = await sql<{
    deadlocks: string;
  }>`SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`.execute(env.rt.db.kysely);
  return Number(rows[0]!.deadlocks);
}
