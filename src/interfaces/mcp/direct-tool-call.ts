import type { ServerResponse } from 'node:http';
import {
  CLIENT_INFO_META_KEY,
  SERVER_INFO_META_KEY,
  classifyInboundRequest,
  isJsonContentType,
} from '@modelcontextprotocol/server';
import type { IncomingHttpHeaders } from 'node:http';
import type { Door, Principal } from '../../services/context.js';
import type { Runtime } from '../runtime.js';
import { callCatalogueTool } from './catalogue-surface.js';
import { serverInfo } from './server.js';

/**
 * The revisions whose tools/call answer this module writes exactly as the SDK would (the
 * direct-tool-call test compares the two answers). A request naming any other revision is
 * served by the SDK.
 */
const DIRECT_REVISIONS: ReadonlySet<string> = new Set(['2026-07-28']);

/** The params a plain tools/call carries; anything more (a task, say) goes to the SDK. */
const PLAIN_PARAMS: ReadonlySet<string> = new Set(['name', 'arguments', '_meta']);

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return typeof v === 'string' ? v : undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Answers the call an assistant makes most — a 2026-07-28 `tools/call` of a catalogue tool over
 * Streamable HTTP — without the SDK's per-request machinery: a server instance with its
 * handlers, a web Request and Response, a per-request transport, and zod validation of a
 * result Billfold builds itself. The request is still classified by the SDK's own
 * `classifyInboundRequest` (JSON-RPC shape, envelope, params), so what this path accepts is
 * what the SDK accepts; and any request it is not sure of — another method, revision or
 * profile, a standard header that is missing, encoded or different from the body, params
 * beyond name, arguments and _meta, a tool the catalogue lacks — returns false, untouched, for
 * the SDK to serve or refuse.
 *
 * The answer is the SDK's to the byte in content (its tests compare them): the tool result with
 * `resultType: "complete"` and the server's identity in `_meta`, as application/json. The
 * output's JSON is serialized once and written both as the text content and as
 * structuredContent.
 */
export async function answerToolCallDirectly(
  rt: Runtime,
  headers: IncomingHttpHeaders,
  res: ServerResponse,
  principal: Principal,
  door: Door,
  body: unknown,
  httpPath: string,
): Promise<boolean> {
  if (!isPlainObject(body) || body.method !== 'tools/call') return false;
  const params = body.params;
  if (!isPlainObject(params)) return false;
  for (const k in params) if (!PLAIN_PARAMS.has(k)) return false;
  const name = params.name;
  if (typeof name !== 'string' || !rt.catalogue.get(name)) return false;
  const args = params.arguments;
  if (args !== undefined && !isPlainObject(args)) return false;
  if (!isJsonContentType(header(headers, 'content-type') ?? null)) return false;
  const protocolVersionHeader = header(headers, 'mcp-protocol-version')?.trim();
  const mcpMethodHeader = header(headers, 'mcp-method')?.trim();
  const mcpNameHeader = header(headers, 'mcp-name')?.trim();
  if (mcpMethodHeader !== 'tools/call' || mcpNameHeader !== name) return false;
  if (protocolVersionHeader === undefined || !DIRECT_REVISIONS.has(protocolVersionHeader)) return false;
  const route = classifyInboundRequest({
    httpMethod: 'POST',
    protocolVersionHeader,
    mcpMethodHeader,
    mcpNameHeader,
    body,
  });
  if (route.kind !== 'modern' || route.messageKind !== 'request') return false;
  if (route.classification.revision !== protocolVersionHeader) return false;

  const meta = params._meta as Record<string, unknown> | undefined;
  const info = meta?.[CLIENT_INFO_META_KEY] as { name?: unknown; version?: unknown } | undefined;
  const client =
    typeof info?.name === 'string' && info.name
      ? `${info.name}/${typeof info.version === 'string' ? info.version : '?'}`
      : null;
  const { result, json } = await callCatalogueTool(rt, {
    principal,
    door,
    operation: name,
    args: args ?? {},
    client,
    http: { method: 'post', path: httpPath, origin: null },
  });
  const identity = JSON.stringify({ [SERVER_INFO_META_KEY]: serverInfo(rt) });
  const id = JSON.stringify(route.message.id);
  const text =
    json === null
      ? `{"result":${JSON.stringify({ ...result, resultType: 'complete' }).slice(0, -1)},"_meta":${identity}},"jsonrpc":"2.0","id":${id}}`
      : `{"result":{"content":[{"type":"text","text":${JSON.stringify(json)}}],"structuredContent":${json},"resultType":"complete","_meta":${identity}},"jsonrpc":"2.0","id":${id}}`;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
  rt.metrics.directToolCalls++;
  return true;
}
