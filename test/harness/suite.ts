import { afterAll, beforeAll, describe } from 'vitest';
import { ALL_DOORS, openDoor, type Door, type DoorName } from './doors.js';
import {
  PG_URL,
  startEnvironment,
  type DbName,
  type TestEnvironment,
  type TestOrganization,
} from './environment.js';

/**
 * `describeDoors('customers', (t) => { it(...) })` runs the same cases once per door and per
 * database. Each (database, door) pair gets its own organization, so cases see only their own
 * data; PostgreSQL runs when BILLFOLD_TEST_POSTGRES_URL is set and is reported as skipped
 * otherwise.
 */
export interface SuiteContext {
  door: Door;
  env: TestEnvironment;
  org: TestOrganization;
  db: DbName;
}

export const DATABASES: DbName[] = ['sqlite', 'postgres'];

const environments = new Map<DbName, Promise<TestEnvironment>>();

/**
 * Extra BILLFOLD_* variables for this file's environments (an SMTP server's URL, an outbox
 * folder): fill it in a top-level beforeAll, before the first suite starts its environment.
 */
export const environmentVariables: Record<string, string> = {};

/** The file's shared environment for a database, started on first use and closed after the file. */
export function environment(db: DbName): Promise<TestEnvironment> {
  let env = environments.get(db);
  if (!env) {
    env = startEnvironment(db, { variables: environmentVariables });
    environments.set(db, env);
  }
  return env;
}

afterAll(async () => {
  for (const env of environments.values()) await (await env).close();
  environments.clear();
});

export interface DescribeDoorsOptions {
  doors?: DoorName[];
  databases?: DbName[];
}

export function describeDoors(
  title: string,
  body: (t: SuiteContext) => void,
  options: DescribeDoorsOptions = {},
): void {
  for (const db of options.databases ?? DATABASES) {
    describe.skipIf(db === 'postgres' && !PG_URL)(`${title} [${db}]`, () => {
      for (const doorName of options.doors ?? ALL_DOORS) {
        describe(doorName, () => {
          const t = { db } as SuiteContext;
          beforeAll(async () => {
            t.env = await environment(db);
            t.org = await t.env.newOrganization(['admin']);
            t.door = await openDoor(t.env, doorName, t.org.key);
          });
          afterAll(async () => {
            await t.door?.close();
          });
          body(t);
        });
      }
    });
  }
}

/** Runs `body` once per database (for cases about one door or none), with the environment. */
export function describeDatabases(
  title: string,
  body: (t: { env: TestEnvironment; db: DbName }) => void,
): void {
  for (const db of DATABASES) {
    describe.skipIf(db === 'postgres' && !PG_URL)(`${title} [${db}]`, () => {
      const t = { db } as { env: TestEnvironment; db: DbName };
      beforeAll(async () => {
        t.env = await environment(db);
      });
      body(t);
    });
  }
}
