import {
  CLIENT_INFO_META_KEY,
  ProtocolError,
  ProtocolErrorCode,
  ResourceNotFoundError,
  type ResourceTemplateType,
  type CallToolResult,
  type ServerContext,
  type Tool,
} from '@modelcontextprotocol/server';
import * as z from 'zod';
import { BillfoldError } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import type { Catalogue } from '../../operations/catalogue.js';
import type { ResourceDefinition } from '../../operations/define.js';
import { runRead } from '../../operations/invoke.js';
import { listedResources } from '../../operations/resource-listing.js';
import { completeArgument, completes } from '../../services/completions.js';
import type { Door, Principal } from '../../services/context.js';
import { type Call } from '../dispatch.js';
import { dispatch } from '../dispatch.js';
import type { Runtime } from '../runtime.js';
import type { McpSurface } from './surface.js';

/**
 * The catalogue as MCP tools, resources and prompts. Tool schemas are converted from zod once
 * per process; a per-request server only closes over the caller.
 */
interface StaticSurface {
  tools: Tool[];
  outputSchemas: Map<string, Record<string, unknown>>;
  templates: ResourceTemplateType[];
  matchers: Array<{ def: ResourceDefinition; match: (uri: string) => Record<string, string> | null }>;
}

const cache = new WeakMap<Catalogue, StaticSurface>();

export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
}

function staticSurface(catalogue: Catalogue): StaticSurface {
  let s = cache.get(catalogue);
  if (s) return s;
  const outputSchemas = new Map<string, Record<string, unknown>>();
  const tools: Tool[] = catalogue.operations.map((op) => {
    const outputSchema = jsonSchemaOf(op.output, 'output');
    outputSchemas.set(op.name, outputSchema);
    return {
      name: op.name,
      title: op.title,
      description: op.description,
      inputSchema: jsonSchemaOf(op.input, 'input') as Tool['inputSchema'],
      outputSchema: outputSchema as Tool['outputSchema'],
      annotations: { title: op.title, ...op.annotations },
    };
  });
  const templates = catalogue.resources.map((r) => ({
    uriTemplate: r.uriTemplate,
    name: r.name,
    title: r.title,
    description: r.description,
    mimeType: r.mimeType,
  }));
  const matchers = catalogue.resources.map((def) => ({ def, match: templateMatcher(def.uriTemplate) }));
  s = { tools, outputSchemas, templates, matchers };
  cache.set(catalogue, s);
  return s;
}

/**
 * Matches a URI against an RFC 6570 template and returns its variables: simple `{name}`
 * segments, and a trailing form-style query `{?status,page}` whose parameters are optional.
 * Every query parameter of the URI is returned, also one the template does not name, so that
 * the reader refuses it by name rather than ignoring a filter.
 */
export function templateMatcher(template: string): (uri: string) => Record<string, string> | null {
  const names: string[] = [];
  const query = /\{\?[\w,]+\}$/.exec(template);
  const path = query ? template.slice(0, query.index) : template;
  const pattern = path
    .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
    .replace(/\\?\{(\w+)\\?\}|\{(\w+)\}/g, (_m, a, b) => {
      names.push(a ?? b);
      return '([^/?]+)';
    });
  const re = new RegExp(`^${pattern}${query ? '(?:\\?(.*))?' : ''}$`);
  return (uri) => {
    const m = re.exec(uri);
    if (!m) return null;
    const params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
    if (query && m[names.length + 1])
      for (const [k, v] of new URLSearchParams(m[names.length + 1])) params[k] = v;
    return params;
  };
}

/** The variables of a template, path and query alike: `billfold://invoices/{invoice_id}{?page}`. */
export function templateVariables(template: string): string[] {
  return [...template.matchAll(/\{\??([\w,]+)\}/g)].flatMap((m) => m[1]!.split(','));
}

const offered = new WeakMap<Runtime['exposure'], Tool[]>();

/** The tools this process offers (its toolsets, read-only mode), computed once per process. */
export function offeredTools(rt: Runtime): Tool[] {
  let tools = offered.get(rt.exposure);
  if (!tools) {
    const all = staticSurface(rt.catalogue).tools;
    tools = rt.catalogue.operations.every((op) => rt.exposure.offers(op.group, op.annotations.readOnlyHint))
      ? all
      : all.filter((_, i) => {
          const op = rt.catalogue.operations[i]!;
          return rt.exposure.offers(op.group, op.annotations.readOnlyHint);
        });
    offered.set(rt.exposure, tools);
  }
  return tools;
}

export function clientName(ctx: ServerContext, fallback?: string): string | null {
  const envelope = ctx.mcpReq.envelope as
    Record<string, { name?: string; version?: string } | undefined> | undefined;
  const info = envelope?.[CLIENT_INFO_META_KEY] ?? envelope?.clientInfo;
  if (info?.name) return `${info.name}/${info.version ?? '?'}`;
  return fallback ?? null;
}

/**
 * Runs one catalogue operation as an MCP tool call. `json` is the output serialized once: the
 * result's text, and what the direct tools/call path (direct-tool-call.ts) writes again as
 * structuredContent instead of serializing the object a second time.
 */
export async function callCatalogueTool(
  rt: Runtime,
  call: Call,
): Promise<{ result: CallToolResult; json: string | null }> {
  const { outcome } = await dispatch(rt, call);
  if (outcome.ok) {
    const json = JSON.stringify(outcome.output);
    return {
      result: { content: [{ type: 'text', text: json }], structuredContent: outcome.output },
      json,
    };
  }
  // The error travels as JSON text, not structuredContent: clients of the 2025 SDKs validate
  // any structuredContent against the tool's output schema, errors included.
  return {
    result: { content: [{ type: 'text', text: JSON.stringify({ error: outcome.error }) }], isError: true },
    json: null,
  };
}

export function catalogueSurface(
  rt: Runtime,
  principal: Principal,
  door: Door,
  legacyClient: () => string | undefined,
  httpPath?: string,
): McpSurface {
  const s = staticSurface(rt.catalogue);
  const invocation = () => ({ env: rt, principal, door, requestId: newId('api_log') });
  const toProtocolError = (e: unknown, uri?: string): never => {
    if (e instanceof BillfoldError && e.code === 'NOT_FOUND' && uri)
      throw new ResourceNotFoundError(uri, e.message);
    if (e instanceof BillfoldError) {
      throw new ProtocolError(
        e.code === 'INTERNAL_ERROR' ? ProtocolErrorCode.InternalError : ProtocolErrorCode.InvalidParams,
        e.message,
        { error: e.toBody() },
      );
    }
    throw e;
  };
  return {
    tools: offeredTools(rt),
    callTool(name, args, ctx) {
      if (!rt.catalogue.get(name)) {
        const suggestions = rt.catalogue.suggest(name);
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          `Unknown tool '${name}'.${suggestions.length ? ` Did you mean ${suggestions.join(' or ')}?` : ' tools/list shows the available tools.'}`,
          { tool: name, suggestions },
        );
      }
      return callCatalogueTool(rt, {
        principal,
        door,
        operation: name,
        args,
        client: clientName(ctx, legacyClient()),
        http: httpPath ? { method: 'post', path: httpPath, origin: null } : undefined,
      }).then((r) => r.result);
    },
    resources: [],
    listResources() {
      return runRead(invocation(), 'read', 'resources/list', async (ctx) =>
        (await listedResources(ctx, rt.catalogue.resources)).map(({ uri, def }) => ({
          uri,
          name: def.name,
          title: def.title,
          description: def.description,
          mimeType: def.mimeType,
        })),
      ).catch((e: unknown) => toProtocolError(e));
    },
    resourceTemplates: s.templates,
    complete(ref, argument) {
      // Only the arguments of this catalogue's prompts and resource templates.
      const known =
        ref.type === 'ref/prompt'
          ? rt.catalogue.prompts.some(
              (p) => p.name === ref.name && p.arguments.some((a) => a.name === argument.name),
            )
          : ref.type === 'ref/resource'
            ? rt.catalogue.resources.some(
                (r) => r.uriTemplate === ref.uri && templateVariables(r.uriTemplate).includes(argument.name),
              )
            : false;
      if (!known || !completes(argument.name)) return null;
      return runRead(invocation(), 'read', `completion of ${argument.name}`, (ctx) =>
        completeArgument(ctx, argument.name, argument.value),
      ).then(
        (values) => ({ values }),
        (e: unknown) => toProtocolError(e),
      );
    },
    readResource(uri) {
      for (const { def, match } of s.matchers) {
        const params = match(uri);
        if (!params) continue;
        return runRead(invocation(), def.scope, `resource ${def.name}`, (ctx) => def.read(ctx, params)).then(
          (content) => ({
            contents: [
              'text' in content
                ? { uri, mimeType: def.mimeType, text: content.text }
                : { uri, mimeType: def.mimeType, blob: content.blob.toString('base64') },
            ],
          }),
          (e: unknown) => toProtocolError(e, uri),
        );
      }
      return null;
    },
    prompts: rt.catalogue.prompts.map((p) => ({
      name: p.name,
      title: p.title,
      description: p.description,
      arguments: p.arguments,
    })),
    getPrompt(name, args) {
      const def = rt.catalogue.prompts.find((p) => p.name === name);
      if (!def) return null;
      const missing = def.arguments.filter((a) => a.required && !args[a.name]).map((a) => a.name);
      if (missing.length) {
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          `prompt ${name} needs ${missing.join(', ')}`,
        );
      }
      return runRead(invocation(), def.scope, `prompt ${name}`, (ctx) => def.render(ctx, args)).then(
        (text) => ({
          description: def.description,
          messages: [{ role: 'user' as const, content: { type: 'text' as const, text } }],
        }),
        (e: unknown) => toProtocolError(e),
      );
    },
  };
}

export function outputSchemaOf(rt: Runtime, name: string): Record<string, unknown> | undefined {
  return staticSurface(rt.catalogue).outputSchemas.get(name);
}
