import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  parseJSONRPCMessage,
  type AuthInfo,
  type JSONRPCMessage,
  type MessageExtraInfo,
  type Transport,
} from '@modelcontextprotocol/server';
import type { Principal } from '../../services/context.js';

/**
 * MCP's original HTTP+SSE transport (protocol 2024-11-05), which the current SDK no longer
 * ships: the client opens GET /sse and receives an `endpoint` event naming where to POST its
 * messages; every response travels back as a `message` event on that stream. A session lives
 * in the memory of the instance that opened it, so behind a load balancer these clients need
 * sticky sessions — Streamable HTTP at /mcp does not.
 */
export class LegacySseTransport implements Transport {
  readonly sessionId = randomUUID();
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;
  private keepAlive?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly endpoint: string,
    private readonly keepAliveMs = 15_000,
  ) {}

  async start(): Promise<void> {
    this.res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    this.res.write(`event: endpoint\ndata: ${this.endpoint}?sessionId=${this.sessionId}\n\n`);
    this.res.on('close', () => void this.close());
    if (this.keepAliveMs > 0) {
      this.keepAlive = setInterval(() => this.res.write(': keep-alive\n\n'), this.keepAliveMs);
      this.keepAlive.unref();
    }
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new Error('SSE stream is closed');
    this.res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
  }

  /** Delivers one POSTed message to the server connected to this transport. */
  receive(raw: unknown, authInfo: AuthInfo): void {
    const message = parseJSONRPCMessage(raw);
    this.onmessage?.(message, { authInfo });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.keepAlive) clearInterval(this.keepAlive);
    if (!this.res.writableEnded) this.res.end();
    this.onclose?.();
  }
}

export interface SseSession {
  transport: LegacySseTransport;
  principal: Principal;
}

/** The open SSE sessions of this instance. */
export class SseSessions {
  private readonly sessions = new Map<string, SseSession>();

  constructor(private readonly max = 1000) {}

  get size(): number {
    return this.sessions.size;
  }

  get full(): boolean {
    return this.sessions.size >= this.max;
  }

  add(session: SseSession): void {
    this.sessions.set(session.transport.sessionId, session);
    session.transport.onclose = chain(session.transport.onclose, () =>
      this.sessions.delete(session.transport.sessionId),
    );
  }

  get(id: string): SseSession | undefined {
    return this.sessions.get(id);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.transport.close()));
  }
}

function chain(a: (() => void) | undefined, b: () => void): () => void {
  return () => {
    a?.();
    b();
  };
}
