import {
  isInputRequiredResult,
  ProtocolError,
  ProtocolErrorCode,
  Server,
  type McpRequestContext,
  type McpServerFactory,
} from '@modelcontextprotocol/server';
import type { Door, Principal } from '../../services/context.js';
import type { Runtime } from '../runtime.js';
import { catalogueSurface, clientName, outputSchemaOf } from './catalogue-surface.js';
import { SERVER_INSTRUCTIONS } from './instructions.js';
import { profileMcpSurface } from './profiles/mcp.js';
import { DEFAULT_PROFILE } from './profiles/registry.js';
import { profileToolSurface } from './profiles/surface.js';
import type { McpSurface } from './surface.js';

/** Extra surfaces a deployment adds (the conformance fixtures, in tests). */
export type SurfaceProvider = (server: Server) => McpSurface;

/** The name a server gives itself (serverInfo), for the catalogue or a profile. */
export function serverInfo(
  rt: Runtime,
  profileTitle?: string,
): { name: string; title: string; version: string } {
  return {
    name: 'billfold',
    title: profileTitle ? `Billfold (${profileTitle} profile)` : 'Billfold',
    version: rt.version,
  };
}

/**
 * Builds one MCP server for one caller. It is cheap — handlers close over precomputed tool
 * lists — because Streamable HTTP builds one per request so that any instance can serve any
 * request. `profile` picks the tool surface: the catalogue (`billfold`) or a replaced system's
 * profile (profiles/registry.ts).
 */
export function buildMcpServer(
  rt: Runtime,
  principal: Principal,
  door: Door,
  extras: readonly SurfaceProvider[] = [],
  httpPath?: string,
  profile: string = DEFAULT_PROFILE,
): Server {
  const tools = profile === DEFAULT_PROFILE ? undefined : profileToolSurface(rt, profile);
  const server = new Server(serverInfo(rt, tools?.profile.title), {
    capabilities: { tools: {}, resources: {}, prompts: {}, logging: {}, completions: {} },
    instructions: tools ? tools.profile.instructions : SERVER_INSTRUCTIONS,
  });
  const legacyClient = () => {
    const v = server.getClientVersion();
    return v ? `${v.name}/${v.version}` : undefined;
  };
  const surfaces: McpSurface[] = [
    tools
      ? profileMcpSurface(tools, (ctx) => ({
          principal,
          door,
          client: clientName(ctx, legacyClient()),
          http: httpPath ? { method: 'post', path: httpPath, origin: null } : undefined,
        }))
      : catalogueSurface(rt, principal, door, legacyClient, httpPath),
    ...extras.map((p) => p(server)),
  ];

  server.setRequestHandler('tools/list', async () => ({ tools: surfaces.flatMap((s) => s.tools ?? []) }));
  server.setRequestHandler('tools/call', async (request, ctx) => {
    const { name, arguments: args = {} } = request.params;
    // Fixture surfaces answer for their own names first; the catalogue answers the rest.
    for (const s of [...surfaces.slice(1), surfaces[0]!]) {
      const result = s.callTool?.(name, args, ctx);
      if (result) {
        const r = await result;
        // An input request is not a result yet: the SDK fulfils it (or hands it to the client)
        // and calls the handler again with the answers.
        if (isInputRequiredResult(r)) return r;
        // Profile tools declare no output schema: their seeds define none.
        const schema = r.isError || tools ? undefined : outputSchemaOf(rt, name);
        return server.projectCallToolResult(r, schema);
      }
    }
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool '${name}'`);
  });
  server.setRequestHandler('resources/list', async (_request, ctx) => ({
    resources: [
      ...surfaces.flatMap((s) => s.resources ?? []),
      ...(await Promise.all(surfaces.map((s) => s.listResources?.(ctx) ?? []))).flat(),
    ],
  }));
  server.setRequestHandler('resources/templates/list', async () => ({
    resourceTemplates: surfaces.flatMap((s) => s.resourceTemplates ?? []),
  }));
  server.setRequestHandler('resources/read', async (request, ctx) => {
    for (const s of surfaces) {
      const r = s.readResource?.(request.params.uri, ctx);
      if (r) return r;
    }
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, `No resource matches '${request.params.uri}'`, {
      uri: request.params.uri,
    });
  });
  server.setRequestHandler('prompts/list', async () => ({
    prompts: surfaces.flatMap((s) => s.prompts ?? []),
  }));
  server.setRequestHandler('prompts/get', async (request, ctx) => {
    for (const s of surfaces) {
      const r = s.getPrompt?.(request.params.name, request.params.arguments ?? {}, ctx);
      if (r) return r;
    }
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt '${request.params.name}'`);
  });
  server.setRequestHandler('completion/complete', async (request, ctx) => {
    const ref = request.params.ref as { type: string; name?: string; uri?: string };
    for (const s of surfaces) {
      const r = s.complete?.(ref, request.params.argument, ctx);
      if (r) {
        const { values } = await r;
        return {
          completion: { values: values.slice(0, 100), total: values.length, hasMore: values.length > 100 },
        };
      }
    }
    return { completion: { values: [], total: 0, hasMore: false } };
  });
  return server;
}

/** The factory the SDK's HTTP entry and stdio entry call: one server per request or connection. */
export function mcpServerFactory(
  rt: Runtime,
  door: Door,
  fixedPrincipal?: Principal,
  extras: readonly SurfaceProvider[] = [],
  httpPath?: string,
  profile: string = DEFAULT_PROFILE,
): McpServerFactory {
  return (ctx: McpRequestContext) => {
    const principal = fixedPrincipal ?? (ctx.authInfo?.extra?.principal as Principal | undefined);
    if (!principal) throw new Error('MCP request reached the server without an authenticated principal');
    return buildMcpServer(rt, principal, door, extras, httpPath, profile);
  };
}
