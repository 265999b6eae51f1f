/**
 * What the benchmarks share: a database of their own that is gone afterwards, Billfold in process,
 * and CPU and memory readings from /proc.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { bootstrap, localPrincipal } from '../src/interfaces/bootstrap.js';
import { dispatch } from '../src/interfaces/dispatch.js';
import { createRuntime, type Runtime } from '../src/interfaces/runtime.js';

export interface ScratchDatabase {
  /** A SQLite file path or a postgres:// URL, for BILLFOLD_DATABASE or openDatabase. */
  database: string;
  /** A second, empty one beside it (same server or directory); dropped by cleanup too. */
  another(name: string): Promise<string>;
  /**
   * A copy of the main one as it is now, beside it (the file copied; on PostgreSQL a database
   * made from it as template, so nothing may be connected to it); dropped by cleanup too.
   */
  copy(name: string): Promise<string>;
  cleanup(): Promise<void>;
}

/** A new SQLite file in a temporary directory, or a new database on the PostgreSQL server of `pgUrl`. */
export async function scratchDatabase(prefix: string, pgUrl?: string): Promise<ScratchDatabase> {
  if (!pgUrl) {
    const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
    return {
      database: join(dir, 'billfold.db'),
      another: async (name) => join(dir, `${name}.db`),
      copy: async (name) => {
        const file = join(dir, `${name}.db`);
        copyFileSync(join(dir, 'billfold.db'), file);
        return file;
      },
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const names: string[] = [];
  const stamp = Date.now().toString(36);
  const nameOf = (suffix: string) => `${prefix.replace(/\W/g, '_')}_${stamp}_${suffix}`;
  const create = async (suffix: string, template?: string) => {
    const name = nameOf(suffix);
    await admin(pgUrl, `CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
    names.push(name);
    const u = new URL(pgUrl);
    u.pathname = `/${name}`;
    return u.toString();
  };
  return {
    database: await create('main'),
    another: (name) => create(name.replace(/\W/g, '_')),
    copy: (name) => create(name.replace(/\W/g, '_'), nameOf('main')),
    cleanup: async () => {
      for (const name of names.splice(0)) await admin(pgUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function admin(pgUrl: string, statement: string): Promise<void> {
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  try {
    await c.query(statement);
  } finally {
    await c.end();
  }
}

/** CPU seconds the whole machine has been busy so far (every process, PostgreSQL's included), from /proc/stat. */
export function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
  const busy = fields.slice(0, 8).reduce((a, b) => a + b, 0) - fields[3]! - fields[4]!;
  return busy / 100;
}

/**
 * CPU seconds a process has used so far (all its threads: user + system), from /proc; with
 * `thread`, that thread's alone (a process's main thread has the process's id).
 */
export function cpuSeconds(pid: number, thread?: number): number {
  const stat = readFileSync(
    thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`,
    'utf8',
  );
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** An operation's name and input → its output; throws with the error's message. */
export type Call = (operation: string, args: unknown) => Promise<any>;

/**
 * Billfold in this process on `database` (migrated, an organization bootstrapped) and a `call`
 * that runs operations through the catalogue as the HTTP API does (validation, service, output).
 */
export async function inProcess(database: string): Promise<{ rt: Runtime; call: Call }> {
  const rt = await createRuntime(loadConfig({ BILLFOLD_LOG_LEVEL: 'warn' }, { database }));
  const boot = await bootstrap(rt, { createAdminKey: false });
  const principal = localPrincipal(boot.organizationId);
  const call: Call = async (operation, args) => {
    const { outcome } = await dispatch(rt, { principal, door: 'http_api', operation, args });
    if (!outcome.ok) throw new Error(`${operation}: ${outcome.error.message}`);
    return outcome.output;
  };
  return { rt, call };
}
