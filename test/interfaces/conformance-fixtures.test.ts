import { join } from 'node:path';
import { Client, SSEClientTransport, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformanceSurfaces } from '../../src/interfaces/mcp/fixtures.js';
import { startEnvironment, type TestEnvironment } from '../harness/environment.js';

/**
 * The conformance suite's fixtures, checked through the SDK's own client on the real HTTP
 * stack, so a change that breaks them fails here rather than only in `npm run conformance`.
 * The fixtures never touch the database, so SQLite is enough.
 */

type Era = '2025' | 'modern';

interface Answers {
  elicitations: Array<{ message: string; requestedSchema: Record<string, any> }>;
  samplings: unknown[];
}

let env: TestEnvironment;
let key: string;
const clients: Client[] = [];

beforeAll(async () => {
  env = await startEnvironment('sqlite', { mcpExtras: conformanceSurfaces });
  key = (await env.newOrganization(['read'])).key;
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await env?.close();
});

/** A client that answers elicitation and sampling requests the way the suite's client does. */
function newClient(era: Era | '2024-11-05'): { client: Client; answers: Answers } {
  const answers: Answers = { elicitations: [], samplings: [] };
  const client = new Client(
    { name: 'billfold-fixture-tests', version: '1.0.0' },
    {
      capabilities: { elicitation: {}, sampling: {} },
      ...(era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {}),
      ...(era === '2024-11-05' ? { supportedProtocolVersions: ['2024-11-05'] } : {}),
    },
  );
  client.setRequestHandler('elicitation/create', async (request) => {
    answers.elicitations.push(request.params as Answers['elicitations'][number]);
    return { action: 'accept', content: { username: 'testuser', email: 'test@example.com' } };
  });
  client.setRequestHandler('sampling/createMessage', async (request) => {
    answers.samplings.push(request.params);
    return {
      role: 'assistant',
      content: { type: 'text', text: 'a reply from the model' },
      model: 'test-model',
      stopReason: 'endTurn',
    };
  });
  clients.push(client);
  return { client, answers };
}

async function overHttp(era: Era, headers: Record<string, string> = { authorization: `Bearer ${key}` }) {
  const c = newClient(era);
  await c.client.connect(
    new StreamableHTTPClientTransport(new URL(`${env.url}/mcp`), { requestInit: { headers } }),
  );
  return c;
}

async function overLegacySse() {
  const c = newClient('2024-11-05');
  const headers = { authorization: `Bearer ${key}` };
  await c.client.connect(
    new SSEClientTransport(new URL(`${env.url}/sse`), {
      requestInit: { headers },
      eventSourceInit: {
        fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as object), ...headers } }),
      },
    }),
  );
  return c;
}

/** `billfold stdio` as a child process, with the fixtures switched on by the environment variable. */
async function overStdio() {
  const c = newClient('2025');
  await c.client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', join(import.meta.dirname, '../../src/interfaces/cli/main.ts'), 'stdio'],
      env: {
        ...(process.env as Record<string, string>),
        BILLFOLD_DATABASE: env.database,
        BILLFOLD_LOG_LEVEL: 'warn',
        BILLFOLD_API_KEY: key,
        BILLFOLD_CONFORMANCE_FIXTURES: '1',
      },
      stderr: 'pipe',
    }),
  );
  return c;
}

const textOf = (result: { content: unknown }) =>
  (result.content as Array<{ type: string; text?: string }>).find((c) => c.type === 'text')?.text;

describe('conformance fixtures over stateless 2025 Streamable HTTP (the suite’s path)', () => {
  let client: Client;
  beforeAll(async () => {
    ({ client } = await overHttp('2025'));
    expect(client.getNegotiatedProtocolVersion()).toBe('2025-11-25');
  });

  it('lists the fixtures beside the catalogue and returns each content type', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining(['get_customer', 'test_simple_text', 'json_schema_2020_12_tool']),
    );

    expect(textOf(await client.callTool({ name: 'test_simple_text' }))).toBe(
      'This is a simple text response for testing.',
    );
    const image = (await client.callTool({ name: 'test_image_content', arguments: {} })).content[0] as any;
    expect(image).toMatchObject({ type: 'image', mimeType: 'image/png' });
    expect(Buffer.from(image.data, 'base64').subarray(1, 4).toString()).toBe('PNG');
    const audio = (await client.callTool({ name: 'test_audio_content', arguments: {} })).content[0] as any;
    expect(audio).toMatchObject({ type: 'audio', mimeType: 'audio/wav' });
    expect(Buffer.from(audio.data, 'base64').subarray(8, 12).toString()).toBe('WAVE');
    const mixed = await client.callTool({ name: 'test_multiple_content_types', arguments: {} });
    expect((mixed.content as any[]).map((c) => c.type)).toEqual(['text', 'image', 'resource']);
    const failed = await client.callTool({ name: 'test_error_handling', arguments: {} });
    expect(failed.isError).toBe(true);
    expect(textOf(failed)).toBe('This tool intentionally returns an error for testing');
  });

  it('keeps the 2020-12 keywords of an input schema', async () => {
    const tool = (await client.listTools()).tools.find((t) => t.name === 'json_schema_2020_12_tool')!;
    expect(tool.inputSchema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $defs: { address: { type: 'object' } },
      additionalProperties: false,
    });
  });

  it('streams progress and log notifications during the call', async () => {
    const progress: number[] = [];
    await client.callTool(
      { name: 'test_tool_with_progress', arguments: {} },
      { onprogress: (p) => progress.push(p.progress) },
    );
    expect(progress).toEqual([0, 50, 100]);

    const logs: unknown[] = [];
    client.setNotificationHandler('notifications/message', (n) => {
      logs.push(n.params.data);
    });
    await client.setLoggingLevel('debug');
    await client.callTool({ name: 'test_tool_with_logging', arguments: {} });
    expect(logs).toEqual(['Tool execution started', 'Tool processing data', 'Tool execution completed']);
  });

  it('serves the fixture resources, template, prompts and completions', async () => {
    // The catalogue's own concrete resources (billfold://…) are listed beside the fixtures'.
    const uris = (await client.listResources()).resources
      .map((r) => r.uri)
      .filter((u) => u.startsWith('test://'));
    expect(uris).toEqual(['test://static-text', 'test://static-binary', 'test://watched-resource']);
    expect((await client.readResource({ uri: 'test://static-text' })).contents[0]).toEqual({
      uri: 'test://static-text',
      mimeType: 'text/plain',
      text: 'This is the content of the static text resource.',
    });
    expect((await client.readResource({ uri: 'test://static-binary' })).contents[0]).toMatchObject({
      mimeType: 'image/png',
      blob: expect.any(String),
    });
    const data = (await client.readResource({ uri: 'test://template/123/data' })).contents[0] as any;
    expect(JSON.parse(data.text)).toEqual({ id: '123', templateTest: true, data: 'Data for ID: 123' });
    await expect(client.readResource({ uri: 'test://nothing-here' })).rejects.toThrow(
      /test:\/\/nothing-here/,
    );

    const prompt = await client.getPrompt({
      name: 'test_prompt_with_arguments',
      arguments: { arg1: 'hello', arg2: 'world' },
    });
    expect(prompt.messages[0]!.content).toEqual({
      type: 'text',
      text: "Prompt with arguments: arg1='hello', arg2='world'",
    });
    await expect(client.getPrompt({ name: 'test_prompt_with_arguments', arguments: {} })).rejects.toThrow(
      /needs arg1, arg2/,
    );
    const completion = await client.complete({
      ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' },
      argument: { name: 'arg1', value: 'te' },
    });
    expect(completion.completion.values).toEqual(['test', 'testing']);
  });

  it('cannot ask the client for input: no session carries the request or the answer', async () => {
    // This is why the elicitation and sampling scenarios are in conformance-baseline.yml.
    const result = await client.callTool({
      name: 'test_elicitation',
      arguments: { message: 'Who are you?' },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/per-request legacy serving cannot receive server-to-client requests/);
  });
});

describe('conformance fixtures asking the client for input where a channel exists', () => {
  it('elicits over 2026-07-28 Streamable HTTP with an input_required round trip', async () => {
    const { client, answers } = await overHttp('modern');
    const result = await client.callTool({
      name: 'test_elicitation',
      arguments: { message: 'Please provide your information' },
    });
    expect(answers.elicitations[0]).toMatchObject({
      message: 'Please provide your information',
      requestedSchema: { required: ['username', 'email'] },
    });
    expect(textOf(result)).toBe(
      'User response: action=accept, content={"username":"testuser","email":"test@example.com"}',
    );

    await client.callTool({ name: 'test_elicitation_sep1330_enums', arguments: {} });
    const enums = answers.elicitations[1]!.requestedSchema.properties;
    expect(enums.titledSingle.oneOf[0]).toEqual({ const: 'value1', title: 'First Option' });
    expect(enums.legacyEnum.enumNames).toHaveLength(3);
    expect(enums.titledMulti.items.anyOf).toHaveLength(3);

    const sampled = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'Say hi' } });
    expect(answers.samplings[0]).toMatchObject({
      maxTokens: 100,
      messages: [{ role: 'user', content: { type: 'text', text: 'Say hi' } }],
    });
    expect(textOf(sampled)).toBe('LLM response: a reply from the model');
  });

  it('elicits with defaults and samples over the sessionful legacy SSE door', async () => {
    const { client, answers } = await overLegacySse();
    const result = await client.callTool({ name: 'test_elicitation_sep1034_defaults', arguments: {} });
    const props = answers.elicitations[0]!.requestedSchema.properties;
    expect(props.score).toMatchObject({ type: 'number', default: 95.5 });
    expect(props.status).toMatchObject({ enum: ['active', 'inactive', 'pending'], default: 'active' });
    expect(textOf(result)).toMatch(/^Elicitation completed: action=accept, content=\{/);

    const sampled = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'Say hi' } });
    expect(textOf(sampled)).toBe('LLM response: a reply from the model');
  });

  it('elicits over stdio, where a 2025 connection is a session', async () => {
    const { client, answers } = await overStdio();
    expect(client.getNegotiatedProtocolVersion()).toBe('2025-11-25');
    const result = await client.callTool({
      name: 'test_elicitation',
      arguments: { message: 'Who are you?' },
    });
    expect(answers.elicitations[0]?.message).toBe('Who are you?');
    expect(textOf(result)).toMatch(/^User response: action=accept/);
  });

  it('rejects a sampling call without its prompt as a tool error naming the field', async () => {
    const { client } = await overHttp('modern');
    const result = await client.callTool({ name: 'test_sampling', arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/prompt is required/);
  });
});

describe('conformance fixtures stay behind the real door', () => {
  it('still requires an API key', async () => {
    const res = await fetch(`${env.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(res.status).toBe(401);
  });

  it('are absent unless asked for', async () => {
    const plain = await startEnvironment('sqlite');
    try {
      const c = newClient('2025');
      const orgKey = (await plain.newOrganization(['read'])).key;
      await c.client.connect(
        new StreamableHTTPClientTransport(new URL(`${plain.url}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${orgKey}` } },
        }),
      );
      const names = (await c.client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('get_customer');
      expect(names.filter((n) => n.startsWith('test_'))).toEqual([]);
      const uris = (await c.client.listResources()).resources.map((r) => r.uri);
      expect(uris.filter((u) => !u.startsWith('billfold://'))).toEqual([]);
      await c.client.close();
    } finally {
      await plain.close();
    }
  });
});
