import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client, SSEClientTransport, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { expect } from 'vitest';
import { ERROR_CODES, HTTP_STATUS, type ErrorBody } from '../../src/domain/errors.js';
import type { TestEnvironment } from './environment.js';

/**
 * One way into Billfold. Every door runs the same test cases; each also checks, on every
 * call, the promises its protocol makes (HTTP status matches the error code; MCP text content
 * is the same JSON as structuredContent), so a door that bends the contract fails every case.
 */
export type DoorName = 'http_api' | 'mcp_http' | 'mcp_http_2025' | 'mcp_sse' | 'mcp_stdio';
export const ALL_DOORS: DoorName[] = ['http_api', 'mcp_http', 'mcp_http_2025', 'mcp_sse', 'mcp_stdio'];

export type CallResult = { ok: true; data: any } | { ok: false; error: ErrorBody; status?: number };

export interface Door {
  name: DoorName;
  call(tool: string, args?: unknown): Promise<CallResult>;
  /** Calls and expects success; returns the output. */
  ok(tool: string, args?: unknown): Promise<any>;
  /** Calls and expects failure with `code`; returns the error. */
  fail(tool: string, args: unknown, code: ErrorBody['code']): Promise<ErrorBody>;
  /** MCP doors: reads a resource (text, or a base64 blob). */
  readResource?(uri: string): Promise<{ mimeType?: string; text?: string; blob?: string }>;
  close(): Promise<void>;
}

const ROOT = join(import.meta.dirname, '..', '..');

function withExpectations(name: DoorName, call: Door['call'], close: () => Promise<void>): Door {
  return {
    name,
    call,
    close,
    async ok(tool, args) {
      const r = await call(tool, args);
      if (!r.ok) throw new Error(`${name} ${tool} failed: ${r.error.code} ${r.error.message}`);
      return r.data;
    },
    async fail(tool, args, code) {
      const r = await call(tool, args);
      if (r.ok)
        throw new Error(
          `${name} ${tool} succeeded but should have failed with ${code}: ${JSON.stringify(r.data).slice(0, 300)}`,
        );
      expect(r.error.code, `${tool}: ${r.error.message}`).toBe(code);
      return r.error;
    },
  };
}

function checkErrorBody(body: unknown): ErrorBody {
  const e = (body as { error?: ErrorBody })?.error;
  expect(e, `error envelope: ${JSON.stringify(body)}`).toBeDefined();
  expect(ERROR_CODES).toContain(e!.code);
  expect(typeof e!.message).toBe('string');
  expect(e!.message.length).toBeGreaterThan(0);
  expect(typeof e!.details).toBe('object');
  return e!;
}

export function httpApiDoor(env: TestEnvironment, key: string): Door {
  const call: Door['call'] = async (tool, args = {}) => {
    const res = await fetch(`${env.url}/api/v1/${tool}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(args),
    });
    const body = (await res.json()) as unknown;
    expect(res.headers.get('x-request-id') ?? (res.status === 401 ? 'none' : null)).toBeTruthy();
    if (res.status === 200) return { ok: true, data: body };
    const error = checkErrorBody(body);
    expect(res.status, `${tool} ${error.code}`).toBe(HTTP_STATUS[error.code]);
    return { ok: false, error, status: res.status };
  };
  return withExpectations('http_api', call, async () => {});
}

function mcpDoor(name: DoorName, client: Client): Door {
  const call: Door['call'] = async (tool, args = {}) => {
    const result = (await client.callTool({ name: tool, arguments: args as Record<string, unknown> })) as {
      isError?: boolean;
      content: Array<{ type: string; text?: string }>;
      structuredContent?: unknown;
    };
    const text = result.content.find((c) => c.type === 'text')?.text;
    expect(text, `${tool} returned no text content`).toBeDefined();
    const parsed = JSON.parse(text!) as unknown;
    if (result.isError) return { ok: false, error: checkErrorBody(parsed) };
    // The text is the same JSON as the structured content, for clients that only read text.
    expect(parsed).toEqual(result.structuredContent);
    return { ok: true, data: result.structuredContent };
  };
  const door = withExpectations(name, call, () => client.close());
  door.readResource = async (uri) => {
    const r = await client.readResource({ uri });
    return r.contents[0] as { mimeType?: string; text?: string; blob?: string };
  };
  return door;
}

export async function mcpHttpDoor(env: TestEnvironment, key: string, era: 'modern' | '2025'): Promise<Door> {
  const client = new Client(
    { name: 'billfold-tests', version: '1.0.0' },
    era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {},
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${env.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    }),
  );
  expect(client.getNegotiatedProtocolVersion()).toBe(era === 'modern' ? '2026-07-28' : '2025-11-25');
  return mcpDoor(era === 'modern' ? 'mcp_http' : 'mcp_http_2025', client);
}

/** The legacy HTTP+SSE transport, spoken by a client that only knows protocol 2024-11-05. */
export async function mcpSseDoor(env: TestEnvironment, key: string): Promise<Door> {
  const client = new Client(
    { name: 'billfold-tests-sse', version: '1.0.0' },
    { supportedProtocolVersions: ['2024-11-05'] },
  );
  const headers = { authorization: `Bearer ${key}` };
  await client.connect(
    new SSEClientTransport(new URL(`${env.url}/sse`), {
      requestInit: { headers },
      eventSourceInit: {
        fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as object), ...headers } }),
      },
    }),
  );
  expect(client.getNegotiatedProtocolVersion()).toBe('2024-11-05');
  return mcpDoor('mcp_sse', client);
}

/** `billfold stdio` as a child process on the same database, acting for the key's organization. */
export async function mcpStdioDoor(
  env: TestEnvironment,
  key?: string,
  extraEnv: Record<string, string> = {},
): Promise<Door> {
  const client = new Client({ name: 'billfold-tests-stdio', version: '1.0.0' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', join(ROOT, 'src/interfaces/cli/main.ts'), 'stdio'],
    cwd: ROOT,
    env: {
      ...(process.env as Record<string, string>),
      BILLFOLD_DATABASE: env.database,
      BILLFOLD_LOG_LEVEL: 'warn',
      ...env.variables,
      ...(key ? { BILLFOLD_API_KEY: key } : {}),
      ...extraEnv,
    },
    stderr: 'pipe',
  });
  await client.connect(transport);
  return mcpDoor('mcp_stdio', client);
}

export async function openDoor(env: TestEnvironment, name: DoorName, key: string): Promise<Door> {
  switch (name) {
    case 'http_api':
      return httpApiDoor(env, key);
    case 'mcp_http':
      return mcpHttpDoor(env, key, 'modern');
    case 'mcp_http_2025':
      return mcpHttpDoor(env, key, '2025');
    case 'mcp_sse':
      return mcpSseDoor(env, key);
    case 'mcp_stdio':
      return mcpStdioDoor(env, key);
  }
}

/** Runs the CLI as a child process; resolves with its exit code and output. */
export function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/interfaces/cli/main.ts'), ...args],
      {
        cwd: ROOT,
        env: { ...process.env, BILLFOLD_LOG_LEVEL: 'warn', ...env },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
