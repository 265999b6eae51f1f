import { join } from 'node:path';
import { Client, SSEClientTransport, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { httpApiDoor, type Door } from './doors.js';
import {
  PG_URL,
  startEnvironment,
  type DbName,
  type TestEnvironment,
  type TestOrganization,
} from './environment.js';
import { DATABASES, environment, environmentVariables } from './suite.js';

/**
 * A profile (a replaced system's tool surface) spoken to over MCP as its users' assistants
 * would: Streamable HTTP at /mcp/<profile> in both protocol eras, legacy SSE at /sse/<profile>,
 * and `billfold stdio --profile <profile>`. Results come back as the seed's JSON, whatever its
 * shape; each call also checks that the text content is that JSON and, on success, that the
 * structured content is the same object.
 */
export type ProfileDoorName = 'mcp_http' | 'mcp_http_2025' | 'mcp_sse' | 'mcp_stdio';
export const PROFILE_DOORS: ProfileDoorName[] = ['mcp_http', 'mcp_http_2025', 'mcp_sse', 'mcp_stdio'];

export interface ProfileDoor {
  name: ProfileDoorName;
  client: Client;
  /** Calls a tool; `body` is the JSON the tool returned (the seed's success or error shape). */
  call(tool: string, args?: Record<string, unknown>): Promise<{ isError: boolean; body: any }>;
  /** Calls and expects success. */
  ok(tool: string, args?: Record<string, unknown>): Promise<any>;
  /** Calls and expects a tool error; returns its body. */
  fail(tool: string, args?: Record<string, unknown>): Promise<any>;
  close(): Promise<void>;
}

const ROOT = join(import.meta.dirname, '..', '..');

export async function openProfileDoor(
  env: TestEnvironment,
  profile: string,
  name: ProfileDoorName,
  key: string,
  extraEnv: Record<string, string> = {},
  clock?: number,
): Promise<ProfileDoor> {
  const headers = { authorization: `Bearer ${key}` };
  let client: Client;
  if (name === 'mcp_stdio') {
    client = new Client({ name: 'billfold-profile-tests-stdio', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [
          '--import',
          'tsx',
          ...(clock ? ['--import', join(ROOT, 'test/harness/fixed-clock.ts')] : []),
          join(ROOT, 'src/interfaces/cli/main.ts'),
          'stdio',
          '--profile',
          profile,
        ],
        cwd: ROOT,
        env: {
          ...(process.env as Record<string, string>),
          BILLFOLD_DATABASE: env.database,
          BILLFOLD_LOG_LEVEL: 'warn',
          ...env.variables,
          BILLFOLD_API_KEY: key,
          ...(clock ? { BILLFOLD_TEST_CLOCK: String(clock) } : {}),
          ...extraEnv,
        },
        stderr: 'pipe',
      }),
    );
  } else if (name === 'mcp_sse') {
    client = new Client(
      { name: 'billfold-profile-tests-sse', version: '1.0.0' },
      { supportedProtocolVersions: ['2024-11-05'] },
    );
    await client.connect(
      new SSEClientTransport(new URL(`${env.url}/sse/${profile}`), {
        requestInit: { headers },
        eventSourceInit: {
          fetch: (url, init) =>
            fetch(url, { ...init, headers: { ...(init?.headers as object), ...headers } }),
        },
      }),
    );
  } else {
    client = new Client(
      { name: 'billfold-profile-tests', version: '1.0.0' },
      name === 'mcp_http' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {},
    );
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${env.url}/mcp/${profile}`), { requestInit: { headers } }),
    );
  }
  const call: ProfileDoor['call'] = async (tool, args = {}) => {
    const result = (await client.callTool({ name: tool, arguments: args })) as {
      isError?: boolean;
      content: Array<{ type: string; text?: string }>;
      structuredContent?: unknown;
    };
    const text = result.content.find((c) => c.type === 'text')?.text;
    expect(text, `${tool} returned no text content`).toBeDefined();
    const body = JSON.parse(text!) as unknown;
    if (!result.isError) expect(result.structuredContent).toEqual(body);
    return { isError: result.isError === true, body };
  };
  return {
    name,
    client,
    call,
    async ok(tool, args) {
      const r = await call(tool, args);
      if (r.isError)
        throw new Error(`${name} ${profile}.${tool} failed: ${JSON.stringify(r.body).slice(0, 500)}`);
      return r.body;
    },
    async fail(tool, args) {
      const r = await call(tool, args);
      if (!r.isError)
        throw new Error(
          `${name} ${profile}.${tool} succeeded but should have failed: ${JSON.stringify(r.body).slice(0, 300)}`,
        );
      return r.body;
    },
    close: () => client.close(),
  };
}

export interface ProfileSuiteContext {
  db: DbName;
  env: TestEnvironment;
  org: TestOrganization;
  /** The profile over one MCP door. */
  door: ProfileDoor;
  /** Billfold's own catalogue over the HTTP API, for setting data up and checking it. */
  api: Door;
}

const clockEnvironments = new Map<string, Promise<TestEnvironment>>();
afterAll(async () => {
  for (const env of clockEnvironments.values()) await (await env).close();
  clockEnvironments.clear();
});

/** An environment whose clock starts at `clock` (shared by the file's suites with that clock). */
function environmentAt(db: DbName, clock: number): Promise<TestEnvironment> {
  const key = `${db}:${clock}`;
  let env = clockEnvironments.get(key);
  if (!env) {
    const startedAt = Date.now();
    env = startEnvironment(db, {
      now: () => clock + (Date.now() - startedAt),
      variables: environmentVariables,
    });
    clockEnvironments.set(key, env);
  }
  return env;
}

/**
 * Runs the same cases for a profile once per MCP door and database, each (database, door) with
 * its own organization and an admin key. `clock` (epoch ms) starts the server's clock — in
 * process and in the stdio child — at the time a seed's examples were written for.
 */
export function describeProfile(
  profile: string,
  body: (t: ProfileSuiteContext) => void,
  options: { doors?: ProfileDoorName[]; databases?: DbName[]; clock?: number } = {},
): void {
  for (const db of options.databases ?? DATABASES) {
    describe.skipIf(db === 'postgres' && !PG_URL)(`${profile} profile [${db}]`, () => {
      for (const doorName of options.doors ?? PROFILE_DOORS) {
        describe(doorName, () => {
          const t = { db } as ProfileSuiteContext;
          beforeAll(async () => {
            t.env = options.clock ? await environmentAt(db, options.clock) : await environment(db);
            t.org = await t.env.newOrganization(['admin']);
            t.api = httpApiDoor(t.env, t.org.key);
            t.door = await openProfileDoor(t.env, profile, doorName, t.org.key, {}, options.clock);
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
