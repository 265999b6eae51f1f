import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo, McpHttpHandler } from '@modelcontextprotocol/server';

/**
 * Serves a request through the SDK's web-standard MCP handler from node:http, like
 * `toNodeHandler` from @modelcontextprotocol/node, with two savings on the hot path: the body
 * arrives already read and parsed (we enforce the size limit and answer parse errors
 * ourselves), so the web Request carries headers only instead of a re-serialized body stream;
 * and a JSON answer is written in one piece instead of being pumped through a web stream.
 * Streamed (SSE) answers are piped chunk by chunk with back-pressure, as the SDK adapter does.
 */
export async function serveMcp(
  handler: McpHttpHandler,
  req: IncomingMessage,
  res: ServerResponse,
  authInfo: AuthInfo,
  parsedBody: unknown,
): Promise<void> {
  const abort = new AbortController();
  let finished = false;
  res.on('close', () => {
    if (!finished) abort.abort();
  });
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name === 'content-length' || name === 'transfer-encoding') continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  // A client that accepts anything (curl's default */*) accepts both answers MCP may give.
  const accept = headers.get('accept');
  if (req.method === 'POST' && (!accept || accept.trim() === '*/*'))
    headers.set('accept', 'application/json, text/event-stream');
  const request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/mcp'}`, {
    method: req.method ?? 'POST',
    headers,
    signal: abort.signal,
  });
  const response = await handler.fetch(request, {
    authInfo,
    ...(parsedBody !== undefined ? { parsedBody } : {}),
  });
  const out: Record<string, string> = {};
  for (const [name, value] of response.headers) out[name] = value;
  if (response.body === null) {
    res.writeHead(response.status, out);
    finished = true;
    res.end();
    return;
  }
  if (!out['content-type']?.startsWith('text/event-stream')) {
    const text = await response.text();
    out['content-length'] = String(Buffer.byteLength(text));
    res.writeHead(response.status, out);
    finished = true;
    res.end(text);
    return;
  }
  res.writeHead(response.status, out);
  try {
    for await (const chunk of response.body) {
      if (abort.signal.aborted) break;
      if (!res.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            abort.signal.removeEventListener('abort', done);
            resolve();
          };
          res.on('drain', done);
          abort.signal.addEventListener('abort', done, { once: true });
        });
      }
    }
  } finally {
    finished = true;
    if (!res.writableEnded) res.end();
  }
}
