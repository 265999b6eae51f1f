import { serveStdio as sdkServeStdio, StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import type { Principal } from '../../services/context.js';
import type { Runtime } from '../runtime.js';
import { DepthCheckedTransport } from './message-depth.js';
import { mcpServerFactory, type SurfaceProvider } from './server.js';

/**
 * MCP over stdin/stdout for desktop assistants. stdout carries only protocol messages; every
 * log line goes to stderr. Resolves when the client closes stdin.
 */
export function serveStdio(
  rt: Runtime,
  principal: Principal,
  extras: readonly SurfaceProvider[] = [],
  profile?: string,
): Promise<void> {
  return new Promise((resolve) => {
    const handle = sdkServeStdio(mcpServerFactory(rt, 'mcp_stdio', principal, extras, undefined, profile), {
      transport: new DepthCheckedTransport(new StdioServerTransport()),
      onerror: (err) => rt.logger.warn({ err: err.message }, 'stdio transport error'),
    });
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      void handle.close().finally(resolve);
    };
    process.stdin.once('end', finish);
    process.stdin.once('close', finish);
    process.once('SIGTERM', finish);
    process.once('SIGINT', finish);
  });
}
