/**
 * The baseline for bench/mcp-http: the smallest Streamable HTTP server the official SDK makes,
 * one echo tool, no authentication and no database. Its schemas are built once, as a careful
 * author would, so the comparison is with the SDK at its best.
 */
import { createServer } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { McpServer, createMcpHandler } from '@modelcontextprotocol/server';
import * as z from 'zod';

const input = z.object({ text: z.string() });
const output = z.object({ text: z.string() });

const handler = createMcpHandler(() => {
  const server = new McpServer({ name: 'echo', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Echoes its text.', inputSchema: input, outputSchema: output },
    async ({ text }) => ({
      content: [{ type: 'text', text }],
      structuredContent: { text },
    }),
  );
  return server;
});

const http = createServer(toNodeHandler(handler));
http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const addr = http.address() as { port: number };
  process.stdout.write(`listening http://127.0.0.1:${addr.port}/mcp\n`);
});
process.on('SIGTERM', () => process.exit(0));
