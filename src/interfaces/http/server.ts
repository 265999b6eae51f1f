import {
  createServer,
  type IncomingMessage,
  type Server as NodeServer,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMcpHandler, type AuthInfo, type McpHttpHandler } from '@modelcontextprotocol/server';
import { BillfoldError, HTTP_STATUS } from '../../domain/errors.js';
import type { Principal } from '../../services/context.js';
import { AuthenticationFailed, authenticate, wwwAuthenticate } from '../auth.js';
import { mcpScopeChallenge } from '../oauth/mcp-scope.js';
import { METADATA_PATH, metadataDocument, metadataResourcePath } from '../oauth/protected-resource.js';
import { buildMcpServer, mcpServerFactory, type SurfaceProvider } from '../mcp/server.js';
import { bodyDepthRejection } from '../mcp/message-depth.js';
import { answerToolCallDirectly } from '../mcp/direct-tool-call.js';
import { serveMcp } from '../mcp/node-adapter.js';
import { DEFAULT_PROFILE, PROFILE_NAMES, isProfileName } from '../mcp/profiles/registry.js';
import { LegacySseTransport, SseSessions } from '../mcp/sse.js';
import type { Runtime } from '../runtime.js';
import { handleApiCall } from './api.js';
import { handleCatalogueRest, isCatalogueRestPath } from './catalogue-rest.js';
import { createGuard } from './guard.js';
import { openApiDocument } from './openapi.js';
import { BodyTooLargeError, readBody, sendError, sendJson, tooLarge } from './respond.js';
import { extraRoutes } from './routes.js';
import { handleLago, LAGO_PREFIX } from './lago/index.js';

export interface HttpServerOptions {
  /** Extra MCP surfaces (the conformance fixtures in tests). */
  mcpExtras?: readonly SurfaceProvider[];
  /**
   * Whether a plain tools/call of the catalogue is answered by mcp/direct-tool-call.ts instead
   * of the SDK's handler (default true; its test turns it off to compare the two answers).
   */
  directToolCalls?: boolean;
}

export interface RunningHttpServer {
  server: NodeServer;
  url: string;
  close(): Promise<void>;
}

const CORS_ALLOW_HEADERS =
  'authorization, content-type, x-api-key, mcp-protocol-version, mcp-session-id, mcp-method, mcp-name, last-event-id';
const CORS_EXPOSE_HEADERS =
  'x-request-id, mcp-session-id, mcp-protocol-version, retry-after, www-authenticate';

function authInfoOf(principal: Principal): AuthInfo {
  return {
    // The key itself never travels further than authentication.
    token: 'redacted',
    clientId: principal.actor.id ?? 'local',
    scopes: [...principal.scopes],
    extra: { principal },
  };
}

/**
 * The HTTP face of Billfold: MCP over Streamable HTTP (/mcp) and legacy SSE (/sse, /messages),
 * the JSON API (/api/v1), Lago's REST API (/lago/api/v1), the catalogue as seed 004's REST
 * (/tools, /resources, /prompts, /capabilities), OpenAPI, /health and /metrics, and the routes
 * features add.
 */
export function createHttpServer(rt: Runtime, options: HttpServerOptions = {}): NodeServer {
  const guard = createGuard(rt.config);
  const extras = options.mcpExtras ?? [];
  const directToolCalls = (options.directToolCalls ?? true) && extras.length === 0;
  // One Streamable HTTP handler per tool surface: /mcp serves the catalogue, /mcp/<profile> a
  // replaced system's profile; each is made on first use and kept.
  const mcpHandlers = new Map<string, McpHttpHandler>();
  const mcpHandlerFor = (profile: string): McpHttpHandler => {
    let handler = mcpHandlers.get(profile);
    if (!handler) {
      const path = profile === DEFAULT_PROFILE ? '/mcp' : `/mcp/${profile}`;
      handler = createMcpHandler(mcpServerFactory(rt, 'mcp_http', undefined, extras, path, profile), {
        legacy: 'stateless',
        maxRequestBodySize: rt.config.maxBodyBytes,
        onerror: (err) => rt.logger.debug({ err: err.message }, 'mcp request rejected'),
      });
      mcpHandlers.set(profile, handler);
    }
    return handler;
  };
  mcpHandlerFor(DEFAULT_PROFILE);
  const sse = new SseSessions();
  rt.metrics.gauge('billfold_sse_sessions', () => sse.size);
  rt.disposers.push(
    () => sse.closeAll(),
    async () => {
      for (const h of mcpHandlers.values()) await h.close();
    },
  );
  /** The profile a /mcp/<name> or /sse/<name> path names; null after a 404 was sent. */
  const profileOf = (res: ServerResponse, path: string, name: string | undefined): string | null => {
    if (name === undefined) return DEFAULT_PROFILE;
    if (isProfileName(name)) return name;
    sendError(
      res,
      new BillfoldError(
        'NOT_FOUND',
        `there is no profile '${name}' (${path})`,
        { path, profile: name, profiles: PROFILE_NAMES },
        `The profiles are ${PROFILE_NAMES.join(', ')}: e.g. /mcp/lago or /sse/lago; /mcp is billfold.`,
      ).toBody(),
    );
    return null;
  };

  async function route(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    cors: string | null,
  ): Promise<[string, number]> {
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') {
      res.writeHead(204, cors ? { 'access-control-max-age': '600' } : {});
      res.end();
      return ['preflight', 204];
    }
    if (path === '/health' && method === 'GET') return ['health', await health(rt, res)];
    if (path === '/metrics' && method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(rt.metrics.render());
      return ['metrics', 200];
    }
    if (path === '/' && method === 'GET') {
      sendJson(res, 200, {
        name: 'billfold',
        version: rt.version,
        mcp: {
          streamable_http: '/mcp',
          sse: '/sse',
          messages: '/messages',
          profiles: Object.fromEntries(
            PROFILE_NAMES.filter((p) => p !== DEFAULT_PROFILE).map((p) => [
              p,
              { streamable_http: `/mcp/${p}`, sse: `/sse/${p}` },
            ]),
          ),
        },
        api: { base: '/api/v1/<operation>', openapi: '/api/v1/openapi.json' },
        lago_api: LAGO_PREFIX,
        rest: {
          tools: '/tools',
          resources: '/resources',
          prompts: '/prompts',
          capabilities: '/capabilities',
        },
        ...(rt.config.tokens.oauthIssuer ? { oauth_protected_resource: METADATA_PATH } : {}),
        health: '/health',
        metrics: '/metrics',
      });
      return ['root', 200];
    }
    if (path.startsWith(METADATA_PATH) && (method === 'GET' || method === 'HEAD')) {
      return ['oauth_metadata', protectedResourceMetadata(rt, res, path, method)];
    }
    if (path === '/api/v1/openapi.json' && method === 'GET') {
      sendJson(res, 200, openApiDocument(rt.catalogue, rt.config.publicUrl));
      return ['openapi', 200];
    }

    if (path === LAGO_PREFIX || path.startsWith(`${LAGO_PREFIX}/`)) {
      return ['lago', await handleLago(rt, req, res, path, cors)];
    }

    if (isCatalogueRestPath(path)) {
      return ['catalogue_rest', await handleCatalogueRest(rt, req, res, path, cors)];
    }

    for (const r of extraRoutes) {
      const m = r.method === method ? r.pattern.exec(path) : null;
      if (!m) continue;
      const principal = r.auth ? await authenticate(rt, req.headers) : null;
      return [r.name, await r.handle(rt, req, res, m.slice(1), principal)];
    }

    const apiMatch = /^\/api\/v1\/([a-z0-9_]+)$/.exec(path);
    if (apiMatch) {
      if (method !== 'POST') {
        sendError(
          res,
          new BillfoldError('VALIDATION_ERROR', `use POST for /api/v1/${apiMatch[1]} (got ${method})`, {
            method,
          }).toBody(),
          { allow: 'POST' },
          405,
        );
        return ['api', 405];
      }
      const principal = await authenticate(rt, req.headers);
      return ['api', await handleApiCall(rt, req, res, principal, apiMatch[1]!, cors)];
    }

    const mcpPath = /^\/mcp(?:\/([^/]+))?$/.exec(path);
    if (mcpPath) {
      const profile = profileOf(res, path, mcpPath[1]);
      if (!profile) return ['mcp', 404];
      const principal = await authenticate(rt, req.headers);
      const mcpHandler = mcpHandlerFor(profile);
      if (method !== 'POST') {
        await serveMcp(mcpHandler, req, res, authInfoOf(principal), undefined);
        return ['mcp', res.statusCode];
      }
      let body: Buffer;
      try {
        body = await readBody(req, rt.config.maxBodyBytes);
      } catch (e) {
        if (!(e instanceof BodyTooLargeError)) throw e;
        sendJson(res, 413, {
          jsonrpc: '2.0',
          id: null,
          error: { code: -32600, message: tooLarge(rt.config.maxBodyBytes).message },
        });
        return ['mcp', 413];
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch (e) {
        sendJson(res, 400, {
          jsonrpc: '2.0',
          id: null,
          error: { code: -32700, message: `Parse error: ${(e as Error).message}` },
        });
        return ['mcp', 400];
      }
      const tooDeep = bodyDepthRejection(parsed);
      if (tooDeep) {
        sendJson(res, 400, tooDeep);
        return ['mcp', 400];
      }
      // A token lacking a tool's scope gets HTTP 403 with the scope, so that an MCP client can
      // ask its authorization server for it (step-up) and retry.
      const stepUp = mcpScopeChallenge(rt, profile, principal, parsed);
      if (stepUp) {
        sendError(res, stepUp.toBody(), { 'www-authenticate': wwwAuthenticate(rt, path, stepUp.challenge) });
        return ['mcp', 403];
      }
      if (
        directToolCalls &&
        profile === DEFAULT_PROFILE &&
        (await answerToolCallDirectly(rt, req.headers, res, principal, 'mcp_http', parsed, path))
      )
        return ['mcp', res.statusCode];
      await serveMcp(mcpHandler, req, res, authInfoOf(principal), parsed);
      return ['mcp', res.statusCode];
    }

    const ssePath = method === 'GET' ? /^\/sse(?:\/([^/]+))?$/.exec(path) : null;
    if (ssePath) {
      const profile = profileOf(res, path, ssePath[1]);
      if (!profile) return ['sse', 404];
      const principal = await authenticate(rt, req.headers);
      if (sse.full) {
        sendError(
          res,
          new BillfoldError('RATE_LIMITED', 'too many open SSE sessions on this instance', {}).toBody(),
        );
        return ['sse', 429];
      }
      const transport = new LegacySseTransport(res, '/messages');
      const server = buildMcpServer(rt, principal, 'mcp_sse', extras, path, profile);
      await server.connect(transport);
      sse.add({ transport, principal });
      return ['sse', 200];
    }

    if (path === '/messages' && method === 'POST') {
      const principal = await authenticate(rt, req.headers);
      const url = new URL(req.url ?? '/', 'http://localhost');
      const sessionId = url.searchParams.get('sessionId') ?? '';
      const session = sse.get(sessionId);
      if (!session) {
        sendError(
          res,
          new BillfoldError(
            'NOT_FOUND',
            `no open SSE session '${sessionId}' on this instance`,
            { session_id: sessionId },
            'Open a new stream with GET /sse.',
          ).toBody(),
        );
        return ['messages', 404];
      }
      if (
        session.principal.organizationId !== principal.organizationId ||
        session.principal.actor.id !== principal.actor.id
      ) {
        sendError(
          res,
          new BillfoldError(
            'FORBIDDEN',
            'this SSE session belongs to another caller (API key or token subject)',
            {},
          ).toBody(),
        );
        return ['messages', 403];
      }
      let body: Buffer;
      try {
        body = await readBody(req, rt.config.maxBodyBytes);
      } catch (e) {
        if (!(e instanceof BodyTooLargeError)) throw e;
        sendError(res, tooLarge(rt.config.maxBodyBytes), {}, 413);
        return ['messages', 413];
      }
      let messages: unknown[];
      try {
        const value = JSON.parse(body.toString('utf8')) as unknown;
        messages = Array.isArray(value) ? value : [value];
        const tooDeep = bodyDepthRejection(messages);
        if (tooDeep) {
          sendJson(res, 400, tooDeep);
          return ['messages', 400];
        }
        for (const m of messages) session.transport.receive(m, authInfoOf(principal));
      } catch (e) {
        sendJson(res, 400, {
          jsonrpc: '2.0',
          id: null,
          error: { code: -32700, message: `Invalid message: ${(e as Error).message}` },
        });
        return ['messages', 400];
      }
      res.writeHead(202, { 'content-type': 'text/plain' });
      res.end('Accepted');
      return ['messages', 202];
    }

    sendError(
      res,
      new BillfoldError(
        'NOT_FOUND',
        `no route for ${method} ${path}`,
        { method, path },
        'See GET / for the endpoints.',
      ).toBody(),
    );
    return ['unknown', 404];
  }

  const server = createServer((req, res) => {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0]!;
    const hostProblem = guard.checkHost(req);
    if (hostProblem) {
      sendError(res, new BillfoldError('FORBIDDEN', hostProblem, {}).toBody());
      rt.metrics.recordHttp('rejected', 403);
      return;
    }
    // Protected-resource metadata is public and read by browser-based MCP clients from any
    // origin; it carries no credential and reveals nothing, so no origin is refused.
    const origin = path.startsWith(METADATA_PATH)
      ? { ok: true as const, origin: null }
      : guard.checkOrigin(req);
    if (path.startsWith(METADATA_PATH)) res.setHeader('access-control-allow-origin', '*');
    if (!origin.ok) {
      sendError(res, new BillfoldError('FORBIDDEN', origin.message, {}).toBody());
      rt.metrics.recordHttp('rejected', 403);
      return;
    }
    if (origin.origin) {
      res.setHeader('access-control-allow-origin', origin.origin);
      res.setHeader('vary', 'Origin');
      res.setHeader('access-control-allow-headers', CORS_ALLOW_HEADERS);
      res.setHeader('access-control-allow-methods', 'GET, POST, PUT, PATCH, DELETE, OPTIONS');
      res.setHeader('access-control-expose-headers', CORS_EXPOSE_HEADERS);
    }
    route(req, res, path, origin.origin)
      .then(([name, status]) => finish(name, status))
      .catch((e: unknown) => {
        if (e instanceof BillfoldError) {
          if (!res.headersSent) {
            sendError(
              res,
              e.toBody(),
              e instanceof AuthenticationFailed
                ? { 'www-authenticate': wwwAuthenticate(rt, path, e.challenge) }
                : {},
            );
          }
          finish(path.startsWith('/mcp') ? 'mcp' : 'api', HTTP_STATUS[e.code]);
          return;
        }
        rt.logger.error({ err: e, path }, 'unhandled HTTP error');
        if (!res.headersSent) {
          sendError(res, new BillfoldError('INTERNAL_ERROR', 'unexpected server error', {}).toBody());
        } else res.destroy();
        finish('error', 500);
      });

    function finish(name: string, status: number) {
      rt.metrics.recordHttp(name, status);
      if (name !== 'api') {
        // API calls are logged once, per operation, by dispatch; everything else is logged here,
        // failures at info so they show in a default log, successes at debug.
        const line = {
          route: name,
          method: req.method,
          status,
          duration_ms: Math.round((performance.now() - started) * 100) / 100,
        };
        if (status >= 400) rt.logger.info(line, 'http');
        else rt.logger.debug(line, 'http');
      }
    }
  });
  // Idle connections stay open longer than the 60 s a load balancer (or a client's pool) keeps
  // them: with Node's 5 s a client that reuses a connection just as the server closes it gets a
  // reset instead of an answer, and a proxy in front answers 502.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}

/** GET /.well-known/oauth-protected-resource[/<resource path>] (RFC 9728). */
function protectedResourceMetadata(rt: Runtime, res: ServerResponse, path: string, method: string): number {
  const issuer = rt.config.tokens.oauthIssuer;
  const resourcePath = metadataResourcePath(path);
  if (!issuer || resourcePath === null) {
    sendError(
      res,
      new BillfoldError(
        'NOT_FOUND',
        issuer
          ? `there is no protected resource at ${path.slice(METADATA_PATH.length) || '/'}`
          : 'OAuth is not configured on this server: it accepts API keys' +
              (rt.tokens ? ' and self-issued JWTs' : '') +
              ', and has no protected-resource metadata',
        { path },
        issuer
          ? `Resources: ${METADATA_PATH}, ${METADATA_PATH}/mcp, ${METADATA_PATH}/mcp/<profile>, ${METADATA_PATH}/sse.`
          : 'Set BILLFOLD_OAUTH_ISSUER to the authorization server MCP clients should get tokens from.',
      ).toBody(),
    );
    return 404;
  }
  const doc = metadataDocument(rt.publicUrl(), resourcePath, issuer, rt.config.tokens.scopeNames);
  const text = JSON.stringify(doc);
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'public, max-age=300',
  });
  res.end(method === 'HEAD' ? undefined : text);
  return 200;
}

async function health(rt: Runtime, res: ServerResponse): Promise<number> {
  const started = performance.now();
  try {
    await Promise.race([
      rt.db.ping(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('database did not answer within 2 s')), 2000).unref(),
      ),
    ]);
    sendJson(res, 200, {
      status: 'ok',
      version: rt.version,
      database: {
        status: 'ok',
        dialect: rt.db.dialect,
        latency_ms: Math.round((performance.now() - started) * 100) / 100,
      },
    });
    return 200;
  } catch (e) {
    sendJson(res, 503, {
      status: 'error',
      version: rt.version,
      database: { status: 'unavailable', dialect: rt.db.dialect, error: (e as Error).message },
    });
    return 503;
  }
}

/** Listens and resolves with the URL it serves on. */
export function listen(
  rt: Runtime,
  server: NodeServer,
  host: string,
  port: number,
): Promise<RunningHttpServer> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address() as AddressInfo;
      const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      const url = `http://${shownHost}:${addr.port}`;
      rt.servingAt(url);
      resolve({
        server,
        url,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections?.();
          }),
      });
    });
  });
}
