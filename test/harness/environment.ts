import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig, type Config } from '../../src/config.js';
import { createApiKey } from '../../src/services/api-keys.js';
import type { Scope } from '../../src/services/context.js';
import { createOrganization } from '../../src/services/organizations.js';
import { bootstrap } from '../../src/interfaces/bootstrap.js';
import { createHttpServer, listen, type RunningHttpServer } from '../../src/interfaces/http/server.js';
import { createRuntime, type Runtime } from '../../src/interfaces/runtime.js';
import { createLogger } from '../../src/interfaces/logging.js';
import type { SurfaceProvider } from '../../src/interfaces/mcp/server.js';

export type DbName = 'sqlite' | 'postgres';
export const PG_URL = process.env.BILLFOLD_TEST_POSTGRES_URL;

/**
 * A real Billfold for one test file: its own database (a temporary SQLite file, or a fresh
 * PostgreSQL database), migrated, served over HTTP on a free loopback port.
 */
export interface TestEnvironment {
  db: DbName;
  /** What BILLFOLD_DATABASE must be for another process to use this database. */
  database: string;
  /** Extra BILLFOLD_* variables this environment runs with; child processes get them too. */
  variables: Record<string, string>;
  rt: Runtime;
  http: RunningHttpServer;
  url: string;
  /** A new organization with an API key of the given scopes: isolates one suite from another. */
  newOrganization(scopes?: Scope[], name?: string): Promise<TestOrganization>;
  addKey(organizationId: string, scopes: Scope[], name?: string): Promise<string>;
  close(): Promise<void>;
}

export interface TestOrganization {
  id: string;
  key: string;
}

let counter = 0;

export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!PG_URL) throw new Error('BILLFOLD_TEST_POSTGRES_URL is not set');
  const name = `billfold_test_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** An empty database of either kind (a temporary SQLite file, or a new PostgreSQL database) and how to remove it. */
export async function scratchDatabase(db: DbName): Promise<{ database: string; drop(): Promise<void> }> {
  if (db === 'postgres') {
    const created = await createPostgresDatabase();
    return { database: created.url, drop: created.drop };
  }
  const dir = mkdtempSync(join(tmpdir(), 'billfold-test-'));
  return {
    database: join(dir, 'billfold.db'),
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function startEnvironment(
  db: DbName,
  options: {
    config?: Partial<Config>;
    mcpExtras?: readonly SurfaceProvider[];
    now?: () => number;
    variables?: Record<string, string>;
  } = {},
): Promise<TestEnvironment> {
  const { database, drop: cleanup } = await scratchDatabase(db);
  const variables = { ...options.variables };
  const config = loadConfig(
    { BILLFOLD_LOG_LEVEL: process.env.BILLFOLD_TEST_LOG_LEVEL ?? 'silent', ...variables },
    { database, port: 0, sqliteSynchronous: 'NORMAL', ...options.config },
  );
  const rt = await createRuntime(config, { logger: createLogger(config.logLevel), now: options.now });
  await bootstrap(rt, { createAdminKey: false });
  const http = await listen(rt, createHttpServer(rt, { mcpExtras: options.mcpExtras }), '127.0.0.1', 0);
  const addKey = async (organizationId: string, scopes: Scope[], name = 'test') =>
    (await createApiKey(rt.db.kysely, { organizationId, name, scopes, now: Date.now() })).key;
  return {
    db,
    database,
    variables,
    rt,
    http,
    url: http.url,
    addKey,
    async newOrganization(scopes = ['admin'], name = `Test org ${++counter}`) {
      const org = await createOrganization(rt.db.kysely, { name, now: Date.now() });
      return { id: org.id, key: await addKey(org.id, scopes) };
    },
    async close() {
      await http.close();
      await rt.close();
      await cleanup();
    },
  };
}
