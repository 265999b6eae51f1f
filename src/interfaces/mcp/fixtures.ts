import { setTimeout as sleep } from 'node:timers/promises';
import {
  inputRequired,
  ProtocolError,
  ProtocolErrorCode,
  type CallToolResult,
  type ElicitRequestFormParams,
  type GetPromptResult,
  type InputRequiredResult,
  type Prompt,
  type ReadResourceResult,
  type Resource,
  type ResourceTemplateType,
  type ServerContext,
  type Tool,
} from '@modelcontextprotocol/server';
import { templateMatcher } from './catalogue-surface.js';
import type { SurfaceProvider } from './server.js';
import type { McpSurface } from './surface.js';

/**
 * The MCP conformance suite's fixture tools, resources and prompts (test_simple_text,
 * test://static-text, test_simple_prompt, ...). They are served only when
 * BILLFOLD_CONFORMANCE_FIXTURES=1, on the real transports and auth, so the suite exercises the
 * same stack real clients use. Names, texts and shapes follow the suite's server
 * requirements; the suite checks several of them literally.
 */

/** A 1×1 red PNG. */
export const RED_PIXEL_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mP4z8AAAAMBAQD3A0FDAAAAAElFTkSuQmCC';
/** Eight samples of silence: 8 kHz, mono, 8-bit PCM WAV. */
export const SILENT_WAV = 'UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQgAAACAgICAgICAgA==';

const NO_ARGUMENTS = { type: 'object', properties: {} } as const;
const STEP_MS = 50;

type ToolResult = CallToolResult | InputRequiredResult;
type Handler = (args: Record<string, unknown>, ctx: ServerContext) => Promise<ToolResult>;

const text = (t: string): CallToolResult => ({ content: [{ type: 'text', text: t }] });

function requiredString(args: Record<string, unknown>, field: string): string | CallToolResult {
  const value = args[field];
  if (typeof value === 'string' && value.length > 0) return value;
  return {
    isError: true,
    content: [{ type: 'text', text: `${field} is required and must be a non-empty string` }],
  };
}

/**
 * Asks the client for input with a multi-round-trip `input_required` result rather than a push
 * request, so one definition serves both eras: 2026-07-28 clients answer and retry; on 2025-era
 * connections the SDK sends the request over the connection and re-enters the handler with the
 * answer. Stateless 2025 HTTP has no channel back, and the SDK answers with an error result.
 */
function elicit(
  ctx: ServerContext,
  params: ElicitRequestFormParams,
  done: (answer: { action?: unknown; content?: unknown }) => string,
): ToolResult {
  const answer = ctx.mcpReq.inputResponses?.elicitation as
    { action?: unknown; content?: unknown } | undefined;
  if (answer) return text(done(answer));
  return inputRequired({ inputRequests: { elicitation: inputRequired.elicit(params) } });
}

const elicitationOutcome = (answer: { action?: unknown; content?: unknown }) =>
  `action=${String(answer.action)}, content=${JSON.stringify(answer.content ?? {})}`;

interface FixtureTool {
  tool: Tool;
  handle: Handler;
}

const TOOLS: FixtureTool[] = [
  {
    tool: {
      name: 'test_simple_text',
      description: 'Returns a fixed text content block.',
      inputSchema: NO_ARGUMENTS,
    },
    handle: async () => text('This is a simple text response for testing.'),
  },
  {
    tool: {
      name: 'test_image_content',
      description: 'Returns an image content block (a 1x1 red PNG).',
      inputSchema: NO_ARGUMENTS,
    },
    handle: async () => ({ content: [{ type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' }] }),
  },
  {
    tool: {
      name: 'test_audio_content',
      description: 'Returns an audio content block (a short silent WAV).',
      inputSchema: NO_ARGUMENTS,
    },
    handle: async () => ({ content: [{ type: 'audio', data: SILENT_WAV, mimeType: 'audio/wav' }] }),
  },
  {
    tool: {
      name: 'test_embedded_resource',
      description: 'Returns an embedded text resource.',
      inputSchema: NO_ARGUMENTS,
    },
    handle: async () => ({
      content: [
        {
          type: 'resource',
          resource: {
            uri: 'test://embedded-resource',
            mimeType: 'text/plain',
            text: 'This is an embedded resource content.',
          },
        },
      ],
    }),
  },
  {
    tool: {
      name: 'test_multiple_content_types',
      description: 'Returns text, image and embedded resource content together.',
      inputSchema: NO_ARGUMENTS,
    },
    handle: async () => ({
      content: [
        { type: 'text', text: 'Multiple content types test:' },
        { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' },
        {
          type: 'resource',
          resource: {
            uri: 'test://mixed-content-resource',
            mimeType: 'application/json',
            text: JSON.stringify({ test: 'data', value: 123 }),
          },
        },
      ],
    }),
  },
  {
    tool: {
      name: 'test_tool_with_logging',
      description: 'Sends three info log notifications, 50 ms apart, while it runs.',
      inputSchema: NO_ARGUMENTS,
    },
    handle: async (_args, ctx) => {
      await ctx.mcpReq.log('info', 'Tool execution started', 'conformance');
      await sleep(STEP_MS);
      await ctx.mcpReq.log('info', 'Tool processing data', 'conformance');
      await sleep(STEP_MS);
      await ctx.mcpReq.log('info', 'Tool execution completed', 'conformance');
      return text('Logging tool finished: sent 3 log messages.');
    },
  },
  {
    tool: {
      name: 'test_tool_with_progress',
      description: 'Reports progress 0, 50 and 100 of 100, 50 ms apart, when the call has a progress token.',
      inputSchema: NO_ARGUMENTS,
    },
    handle: async (_args, ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      for (const progress of [0, 50, 100]) {
        if (progress > 0) await sleep(STEP_MS);
        if (progressToken !== undefined) {
          await ctx.mcpReq.notify({
            method: 'notifications/progress',
            params: { progressToken, progress, total: 100 },
          });
        }
      }
      return text('Progress tool finished.');
    },
  },
  {
    tool: {
      name: 'test_error_handling',
      description: 'Always fails with an error result.',
      inputSchema: NO_ARGUMENTS,
    },
    handle: async () => ({
      isError: true,
      content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }],
    }),
  },
  {
    tool: {
      name: 'test_sampling',
      description: "Asks the client's model to answer a prompt (sampling/createMessage).",
      inputSchema: {
        type: 'object',
        properties: { prompt: { type: 'string', description: 'The prompt to send to the model' } },
        required: ['prompt'],
      },
    },
    handle: async (args, ctx) => {
      const prompt = requiredString(args, 'prompt');
      if (typeof prompt !== 'string') return prompt;
      const answer = ctx.mcpReq.inputResponses?.sampling as { content?: unknown } | undefined;
      if (!answer) {
        return inputRequired({
          inputRequests: {
            sampling: inputRequired.createMessage({
              messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
              maxTokens: 100,
            }),
          },
        });
      }
      const blocks = Array.isArray(answer.content) ? answer.content : [answer.content];
      const reply = blocks
        .map((b) => (b && typeof b === 'object' && 'text' in b ? String(b.text) : ''))
        .join('');
      return text(`LLM response: ${reply}`);
    },
  },
  {
    tool: {
      name: 'test_elicitation',
      description: 'Asks the user for a username and an email (elicitation/create).',
      inputSchema: {
        type: 'object',
        properties: { message: { type: 'string', description: 'The message to show the user' } },
        required: ['message'],
      },
    },
    handle: async (args, ctx) => {
      const message = requiredString(args, 'message');
      if (typeof message !== 'string') return message;
      return elicit(
        ctx,
        {
          message,
          requestedSchema: {
            type: 'object',
            properties: {
              username: { type: 'string', description: "User's response" },
              email: { type: 'string', description: "User's email address" },
            },
            required: ['username', 'email'],
          },
        },
        (answer) => `User response: ${elicitationOutcome(answer)}`,
      );
    },
  },
  {
    tool: {
      name: 'test_elicitation_sep1034_defaults',
      description: 'Asks the user for input with a default for every primitive type (SEP-1034).',
      inputSchema: NO_ARGUMENTS,
    },
    handle: async (_args, ctx) =>
      elicit(
        ctx,
        {
          message: 'Please review and update the form fields with defaults',
          requestedSchema: {
            type: 'object',
            properties: {
              name: { type: 'string', description: 'User name', default: 'John Doe' },
              age: { type: 'integer', description: 'User age', default: 30 },
              score: { type: 'number', description: 'User score', default: 95.5 },
              status: {
                type: 'string',
                description: 'User status',
                enum: ['active', 'inactive', 'pending'],
                default: 'active',
              },
              verified: { type: 'boolean', description: 'Verification status', default: true },
            },
            required: [],
          },
        },
        (answer) => `Elicitation completed: ${elicitationOutcome(answer)}`,
      ),
  },
  {
    tool: {
      name: 'test_elicitation_sep1330_enums',
      description: 'Asks the user to choose from each enum form: titled, untitled, legacy, multi (SEP-1330).',
      inputSchema: NO_ARGUMENTS,
    },
    handle: async (_args, ctx) =>
      elicit(
        ctx,
        {
          message: 'Please choose from each kind of list',
          requestedSchema: {
            type: 'object',
            properties: {
              untitledSingle: {
                type: 'string',
                description: 'Pick one option',
                enum: ['option1', 'option2', 'option3'],
              },
              titledSingle: {
                type: 'string',
                description: 'Pick one titled option',
                oneOf: [
                  { const: 'value1', title: 'First Option' },
                  { const: 'value2', title: 'Second Option' },
                  { const: 'value3', title: 'Third Option' },
                ],
              },
              legacyEnum: {
                type: 'string',
                description: 'Pick one (legacy titles)',
                enum: ['opt1', 'opt2', 'opt3'],
                enumNames: ['Option One', 'Option Two', 'Option Three'],
              },
              untitledMulti: {
                type: 'array',
                description: 'Pick several options',
                items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
              },
              titledMulti: {
                type: 'array',
                description: 'Pick several titled options',
                items: {
                  anyOf: [
                    { const: 'value1', title: 'First Choice' },
                    { const: 'value2', title: 'Second Choice' },
                    { const: 'value3', title: 'Third Choice' },
                  ],
                },
              },
            },
            required: [],
          },
        },
        (answer) => `Elicitation completed: ${elicitationOutcome(answer)}`,
      ),
  },
  {
    tool: {
      name: 'json_schema_2020_12_tool',
      description: 'Has an input schema using JSON Schema 2020-12 keywords ($schema, $defs, $ref).',
      inputSchema: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        $defs: {
          address: {
            type: 'object',
            properties: { street: { type: 'string' }, city: { type: 'string' } },
          },
        },
        properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' } },
        additionalProperties: false,
      },
    },
    handle: async (args) => text(`Received: ${JSON.stringify(args)}`),
  },
];

const STATIC_RESOURCES: Array<Resource & { read: () => ReadResourceResult['contents'][number] }> = [
  {
    uri: 'test://static-text',
    name: 'Static Text Resource',
    description: 'A static text resource for testing',
    mimeType: 'text/plain',
    read: () => ({
      uri: 'test://static-text',
      mimeType: 'text/plain',
      text: 'This is the content of the static text resource.',
    }),
  },
  {
    uri: 'test://static-binary',
    name: 'Static Binary Resource',
    description: 'A static binary resource (image) for testing',
    mimeType: 'image/png',
    read: () => ({ uri: 'test://static-binary', mimeType: 'image/png', blob: RED_PIXEL_PNG }),
  },
  {
    uri: 'test://watched-resource',
    name: 'Watched Resource',
    description: 'A resource that can be subscribed to',
    mimeType: 'text/plain',
    read: () => ({
      uri: 'test://watched-resource',
      mimeType: 'text/plain',
      text: 'Watched resource content',
    }),
  },
];

const DATA_TEMPLATE: ResourceTemplateType = {
  uriTemplate: 'test://template/{id}/data',
  name: 'Resource Template',
  description: 'A resource template with parameter substitution',
  mimeType: 'application/json',
};
const matchDataTemplate = templateMatcher(DATA_TEMPLATE.uriTemplate);

interface FixturePrompt {
  prompt: Prompt;
  render: (args: Record<string, string>) => GetPromptResult;
}

const PROMPTS: FixturePrompt[] = [
  {
    prompt: { name: 'test_simple_prompt', description: 'A simple prompt without arguments' },
    render: () => ({
      messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
    }),
  },
  {
    prompt: {
      name: 'test_prompt_with_arguments',
      description: 'A prompt with required arguments',
      arguments: [
        { name: 'arg1', description: 'First test argument', required: true },
        { name: 'arg2', description: 'Second test argument', required: true },
      ],
    },
    render: ({ arg1, arg2 }) => ({
      messages: [
        {
          role: 'user',
          content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` },
        },
      ],
    }),
  },
  {
    prompt: {
      name: 'test_prompt_with_embedded_resource',
      description: 'A prompt that embeds a resource',
      arguments: [{ name: 'resourceUri', description: 'URI of the resource to embed', required: true }],
    },
    render: ({ resourceUri }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'resource',
            resource: {
              uri: resourceUri!,
              mimeType: 'text/plain',
              text: 'Embedded resource content for testing.',
            },
          },
        },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ],
    }),
  },
  {
    prompt: { name: 'test_prompt_with_image', description: 'A prompt that includes an image' },
    render: () => ({
      messages: [
        { role: 'user', content: { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' } },
        { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
      ],
    }),
  },
];

/** Completion candidates for the fixtures' prompt arguments and template variable. */
const COMPLETIONS: Record<string, string[]> = {
  'test_prompt_with_arguments/arg1': ['hello', 'help', 'test', 'testing'],
  'test_prompt_with_arguments/arg2': ['world', 'work', 'test', 'testing'],
  'test://template/{id}/data/id': ['1', '2', '3', '123'],
};

function fixtureSurface(): McpSurface {
  const tools = new Map(TOOLS.map((t) => [t.tool.name, t]));
  const prompts = new Map(PROMPTS.map((p) => [p.prompt.name, p]));
  return {
    tools: TOOLS.map((t) => t.tool),
    callTool(name, args, ctx) {
      return tools.get(name)?.handle(args, ctx) ?? null;
    },
    resources: STATIC_RESOURCES.map(({ read: _read, ...resource }) => resource),
    resourceTemplates: [DATA_TEMPLATE],
    readResource(uri) {
      const fixed = STATIC_RESOURCES.find((r) => r.uri === uri);
      if (fixed) return Promise.resolve({ contents: [fixed.read()] });
      const vars = matchDataTemplate(uri);
      if (!vars) return null;
      const id = vars.id!;
      return Promise.resolve({
        contents: [
          {
            uri,
            mimeType: 'application/json',
            text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
          },
        ],
      });
    },
    prompts: PROMPTS.map((p) => p.prompt),
    getPrompt(name, args) {
      const fixture = prompts.get(name);
      if (!fixture) return null;
      const missing = (fixture.prompt.arguments ?? []).filter((a) => a.required && !args[a.name]);
      if (missing.length) {
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          `prompt ${name} needs ${missing.map((a) => a.name).join(', ')}`,
        );
      }
      return Promise.resolve(fixture.render(args));
    },
    complete(ref, argument) {
      const candidates = COMPLETIONS[`${ref.name ?? ref.uri}/${argument.name}`];
      if (!candidates) return null;
      return Promise.resolve({ values: candidates.filter((c) => c.startsWith(argument.value)) });
    },
  };
}

export const conformanceSurfaces: SurfaceProvider[] = [fixtureSurface];
