import type { IncomingMessage, ServerResponse } from 'node:http';
import { BillfoldError, HTTP_STATUS, type ErrorBody } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import type { PromptDefinition, ResourceDefinition } from '../../operations/define.js';
import { runRead } from '../../operations/invoke.js';
import { isListed, listedResources } from '../../operations/resource-listing.js';
import type { Principal } from '../../services/context.js';
import { AuthenticationFailed, authenticate, wwwAuthenticate } from '../auth.js';
import { offeredTools, templateMatcher } from '../mcp/catalogue-surface.js';
import type { Runtime } from '../runtime.js';
import { handleApiCall } from './api.js';
import { BodyTooLargeError, parseJsonBody, readBody, sendError, sendJson, tooLarge } from './respond.js';

/**
 * The catalogue as plain REST, in the shape of seed 004 (Cegid Y2's server): `GET /tools`,
 * `POST /tools/<name>`, `GET /resources`, `GET /resources/<path>`, `GET /prompts`,
 * `POST /prompts/<name>` and `GET /capabilities`, at the root as that server has them (none of
 * these paths is used by another door). Everything is generated from the catalogue — a tool
 * call is the operation through dispatch, as on /api/v1; a resource path is the resource's
 * `billfold://` URI — so there is no route per operation, and the same keys (Bearer or
 * X-API-Key), scopes, rate limits and errors apply.
 */

export const CATALOGUE_REST_ROOTS = ['/tools', '/resources', '/prompts', '/capabilities'] as const;

export function isCatalogueRestPath(path: string): boolean {
  return CATALOGUE_REST_ROOTS.some((root) => path === root || path.startsWith(`${root}/`));
}

const URI_SCHEME = 'billfold://';

/** `billfold://invoices/{invoice_id}` → `/resources/invoices/{invoice_id}`. */
function restPathOf(uri: string): string {
  return `/resources/${uri.slice(URI_SCHEME.length)}`;
}

function fail(
  code: ErrorBody['code'],
  message: string,
  details: Record<string, unknown>,
  hint?: string,
): never {
  throw new BillfoldError(code, message, details, hint);
}

function wrongMethod(res: ServerResponse, method: string, path: string, allow: string): number {
  sendError(
    res,
    new BillfoldError('VALIDATION_ERROR', `use ${allow} for ${path} (got ${method})`, {
      method,
      path,
    }).toBody(),
    { allow },
    405,
  );
  return 405;
}

export async function handleCatalogueRest(
  rt: Runtime,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  origin: string | null,
): Promise<number> {
  const method = req.method ?? 'GET';
  const requestId = newId('api_log');
  const headers = { 'x-request-id': requestId };
  try {
    const principal = await authenticate(rt, req.headers);
    const segments = path.split('/').slice(1);
    const [root, ...rest] = segments;
    const tail = rest.join('/');
    if (root === 'tools' && !tail) {
      if (method !== 'GET') return wrongMethod(res, method, path, 'GET');
      sendJson(res, 200, { tools: toolList(rt) }, headers);
      return 200;
    }
    if (root === 'tools' && rest.length === 1) {
      if (method !== 'POST') return wrongMethod(res, method, path, 'POST');
      return await handleApiCall(rt, req, res, principal, decodeURIComponent(tail), origin, path);
    }
    if (root === 'resources' && !tail) {
      if (method !== 'GET') return wrongMethod(res, method, path, 'GET');
      sendJson(res, 200, await resourceList(rt, principal, requestId), headers);
      return 200;
    }
    if (root === 'resources') {
      if (method !== 'GET') return wrongMethod(res, method, path, 'GET');
      return await readResource(rt, res, principal, tail, requestId);
    }
    if (root === 'prompts' && !tail) {
      if (method !== 'GET') return wrongMethod(res, method, path, 'GET');
      sendJson(res, 200, { prompts: rt.catalogue.prompts.map(promptEntry) }, headers);
      return 200;
    }
    if (root === 'prompts' && rest.length === 1) {
      if (method !== 'POST') return wrongMethod(res, method, path, 'POST');
      return await getPrompt(rt, req, res, principal, decodeURIComponent(tail), requestId);
    }
    if (root === 'capabilities' && !tail) {
      if (method !== 'GET') return wrongMethod(res, method, path, 'GET');
      sendJson(res, 200, capabilities(rt, principal), headers);
      return 200;
    }
    return fail(
      'NOT_FOUND',
      `no route for ${method} ${path}`,
      { method, path },
      'See GET /capabilities for the endpoints.',
    );
  } catch (e) {
    if (!(e instanceof BillfoldError)) throw e;
    sendError(
      res,
      e.toBody(),
      e instanceof AuthenticationFailed
        ? { ...headers, 'www-authenticate': wwwAuthenticate(rt, path, e.challenge) }
        : headers,
    );
    return HTTP_STATUS[e.code];
  }
}

/** The tools this process offers, as tools/list gives them, with names in the house style. */
function toolList(rt: Runtime) {
  return offeredTools(rt).map((t) => {
    const op = rt.catalogue.get(t.name)!;
    return {
      name: t.name,
      title: t.title,
      description: t.description,
      group: op.group,
      scope: op.scope,
      annotations: op.annotations,
      input_schema: t.inputSchema,
      output_schema: t.outputSchema,
      href: `/tools/${t.name}`,
    };
  });
}

/**
 * GET /resources: the concrete resources as MCP resources/list gives them (one rule,
 * resource-listing.ts), and the template of every resource as resources/templates/list does.
 */
async function resourceList(rt: Runtime, principal: Principal, requestId: string) {
  const entry = (r: ResourceDefinition) => ({
    name: r.name,
    title: r.title,
    description: r.description,
    mime_type: r.mimeType,
  });
  const listed = await runRead(
    { env: rt, principal, door: 'http_api', requestId },
    'read',
    'GET /resources',
    (ctx) => listedResources(ctx, rt.catalogue.resources),
  );
  return {
    resources: listed.map(({ uri, def }) => ({ uri, ...entry(def), href: restPathOf(uri) })),
    resource_templates: rt.catalogue.resources.map((r) => ({
      uri_template: r.uriTemplate,
      ...entry(r),
      href_template: restPathOf(r.uriTemplate),
    })),
  };
}

const matchers = new WeakMap<
  Runtime['catalogue'],
  Array<{ def: ResourceDefinition; match: ReturnType<typeof templateMatcher> }>
>();

function resourceMatchers(rt: Runtime) {
  let m = matchers.get(rt.catalogue);
  if (!m) {
    m = rt.catalogue.resources.map((def) => ({ def, match: templateMatcher(def.uriTemplate) }));
    matchers.set(rt.catalogue, m);
  }
  return m;
}

/** GET /resources/<path>: the resource `billfold://<path>`, served as what it is (JSON, a PDF, text). */
async function readResource(
  rt: Runtime,
  res: ServerResponse,
  principal: Principal,
  tail: string,
  requestId: string,
): Promise<number> {
  const uri = `${URI_SCHEME}${tail}`;
  for (const { def, match } of resourceMatchers(rt)) {
    const params = match(uri);
    if (!params) continue;
    const content = await runRead(
      { env: rt, principal, door: 'http_api', requestId },
      def.scope,
      `resource ${def.name}`,
      (ctx) => def.read(ctx, params),
    );
    const body = 'text' in content ? Buffer.from(content.text, 'utf8') : content.blob;
    const type =
      def.mimeType.startsWith('text/') || def.mimeType === 'application/json'
        ? `${def.mimeType}; charset=utf-8`
        : def.mimeType;
    res.writeHead(200, {
      'content-type': type,
      'content-length': String(body.length),
      'x-request-id': requestId,
      'content-location': uri,
    });
    res.end(body);
    return 200;
  }
  return fail(
    'NOT_FOUND',
    `no resource is at /resources/${tail} (${uri})`,
    { path: `/resources/${tail}`, uri },
    'GET /resources lists the resources and the templates of all of them, e.g. /resources/invoices/INV-202611-0001.',
  );
}

function promptEntry(p: PromptDefinition) {
  return {
    name: p.name,
    title: p.title,
    description: p.description,
    arguments: p.arguments,
    href: `/prompts/${p.name}`,
  };
}

/**
 * POST /prompts/<name>: the body's fields are the prompt's arguments. Numbers and booleans are
 * taken as their text (seed 004 sends `{"threshold": 50}`); an argument the prompt does not
 * have is refused rather than ignored.
 */
async function getPrompt(
  rt: Runtime,
  req: IncomingMessage,
  res: ServerResponse,
  principal: Principal,
  name: string,
  requestId: string,
): Promise<number> {
  const def = rt.catalogue.prompts.find((p) => p.name === name);
  const names = rt.catalogue.prompts.map((p) => p.name);
  if (!def)
    return fail(
      'NOT_FOUND',
      `there is no prompt named '${name}'`,
      { prompt: name, prompts: names },
      `The prompts are ${names.join(', ')}.`,
    );
  let buf: Buffer;
  try {
    buf = await readBody(req, rt.config.maxBodyBytes);
  } catch (e) {
    if (!(e instanceof BodyTooLargeError)) throw e;
    sendError(res, tooLarge(rt.config.maxBodyBytes), { 'x-request-id': requestId }, 413);
    return 413;
  }
  const parsed = parseJsonBody(buf);
  if (!parsed.ok) {
    sendError(res, parsed.error, { 'x-request-id': requestId }, 400);
    return 400;
  }
  const body = parsed.value;
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return fail(
      'VALIDATION_ERROR',
      `the body of POST /prompts/${name} must be a JSON object of its arguments`,
      {},
    );
  const known = def.arguments.map((a) => a.name);
  const args: Record<string, string> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (!known.includes(k))
      fail(
        'VALIDATION_ERROR',
        `${k}: prompt ${name} has no such argument; its arguments are ${known.join(', ') || 'none'}`,
        { field: k, arguments: known },
      );
    if (v === null || v === undefined) continue;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
      fail(
        'VALIDATION_ERROR',
        `${k} must be a string (or a number), got ${Array.isArray(v) ? 'an array' : typeof v}`,
        {
          field: k,
        },
      );
    args[k] = String(v);
  }
  const missing = def.arguments.filter((a) => a.required && !args[a.name]).map((a) => a.name);
  if (missing.length)
    fail(
      'VALIDATION_ERROR',
      `prompt ${name} needs ${missing.join(', ')}`,
      { missing },
      `Send them in the body, e.g. {"${missing[0]}": "…"}.`,
    );
  const text = await runRead(
    { env: rt, principal, door: 'http_api', requestId },
    def.scope,
    `prompt ${name}`,
    (ctx) => def.render(ctx, args),
  );
  sendJson(
    res,
    200,
    { name, description: def.description, messages: [{ role: 'user', content: { type: 'text', text } }] },
    { 'x-request-id': requestId },
  );
  return 200;
}

function capabilities(rt: Runtime, principal: Principal) {
  return {
    server: { name: 'billfold', version: rt.version },
    organization_id: principal.organizationId,
    scopes: [...principal.scopes],
    capabilities: {
      tools: { count: offeredTools(rt).length, href: '/tools' },
      resources: {
        count: rt.catalogue.resources.filter(isListed).length,
        templates: rt.catalogue.resources.length,
        href: '/resources',
      },
      prompts: { count: rt.catalogue.prompts.length, href: '/prompts' },
    },
    authentication: ['Authorization: Bearer <api key>', 'X-API-Key: <api key>'],
    endpoints: {
      tools: 'GET /tools',
      call_tool: 'POST /tools/<name>',
      resources: 'GET /resources',
      read_resource: 'GET /resources/<path>',
      prompts: 'GET /prompts',
      get_prompt: 'POST /prompts/<name>',
      capabilities: 'GET /capabilities',
      mcp: { streamable_http: '/mcp', sse: '/sse' },
      api: '/api/v1/<operation>',
      openapi: '/api/v1/openapi.json',
      health: '/health',
      metrics: '/metrics',
    },
  };
}
