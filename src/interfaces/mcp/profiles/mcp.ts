import {
  ProtocolError,
  ProtocolErrorCode,
  ResourceNotFoundError,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { Caller } from './define.js';
import { ProfileError } from './define.js';
import type { McpSurface } from '../surface.js';
import type { ToolSurface } from './surface.js';

/**
 * A profile's tool surface as MCP: its tools, resources and prompts, each call dispatched as
 * `caller(ctx)` — the connection's principal and door. Results carry the seed's JSON as text and,
 * when it is an object, as structured content; a failed call is a tool result with isError and
 * the seed's error JSON, so the model reads it and can correct itself.
 */
export function profileMcpSurface(surface: ToolSurface, caller: (ctx: ServerContext) => Caller): McpSurface {
  const toProtocolError = (e: unknown, uri?: string): never => {
    if (e instanceof ProfileError) {
      if (e.code === 'NOT_FOUND' && uri) throw new ResourceNotFoundError(uri, e.message);
      throw new ProtocolError(
        e.code === 'INTERNAL_ERROR' ? ProtocolErrorCode.InternalError : ProtocolErrorCode.InvalidParams,
        e.message,
        { error: e.toBody() },
      );
    }
    throw e;
  };
  return {
    tools: surface.tools,
    callTool(name, args, ctx) {
      const result = surface.callTool(name, args, caller(ctx));
      if (!result) {
        const suggestions = surface.suggest(name);
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          `Unknown tool '${name}' in the ${surface.profile.name} profile.${suggestions.length ? ` Did you mean ${suggestions.join(' or ')}?` : ' tools/list shows the available tools.'}`,
          { tool: name, profile: surface.profile.name, suggestions },
        );
      }
      return result.then((r) => {
        const text = JSON.stringify(r.body);
        if (!r.ok) return { isError: true, content: [{ type: 'text' as const, text }] };
        return { content: [{ type: 'text' as const, text }], structuredContent: r.body };
      });
    },
    resources: surface.resources.map((r) => ({
      uri: r.uri!,
      name: r.name,
      title: r.title,
      description: r.description,
      mimeType: r.mimeType,
    })),
    resourceTemplates: surface.resourceTemplates.map((r) => ({
      uriTemplate: r.uriTemplate!,
      name: r.name,
      title: r.title,
      description: r.description,
      mimeType: r.mimeType,
    })),
    readResource(uri, ctx) {
      const read = surface.readResource(uri, caller(ctx));
      if (!read) return null;
      return read.then(
        (content) => ({ contents: [content] }),
        (e: unknown) => toProtocolError(e, uri),
      );
    },
    prompts: surface.prompts,
    getPrompt(name, args, ctx) {
      const p = surface.getPrompt(name, args, caller(ctx));
      if (!p) return null;
      return p.then(
        ({ description, text }) => ({
          description,
          messages: [{ role: 'user' as const, content: { type: 'text' as const, text } }],
        }),
        (e: unknown) => toProtocolError(e),
      );
    },
  };
}
