import type { JSONRPCMessage, Transport, TransportSendOptions } from '@modelcontextprotocol/server';
import type { ErrorBody } from '../../domain/errors.js';
import { depthError, jsonDepthExcess } from '../../domain/json-depth.js';

/**
 * The depth limit on MCP's JSON-RPC envelope, applied by every MCP door before the SDK walks a
 * message. A tool call's `arguments` are left out here: the operation measures them itself
 * and answers with a tool error that names the field, as it does on every other door.
 */
export function envelopeDepthError(message: unknown): ErrorBody | null {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) return null;
  const m = message as { method?: unknown; params?: unknown };
  let measured: unknown = message;
  if (m.method === 'tools/call' && m.params !== null && typeof m.params === 'object') {
    measured = { ...m, params: { ...(m.params as object), arguments: null } };
  }
  const excess = jsonDepthExcess(measured);
  return excess ? depthError(excess).toBody() : null;
}

/** The JSON-RPC id of a request, or null (a notification or response has none to answer). */
export function requestIdOf(message: unknown): string | number | null {
  const m = message as { id?: unknown; method?: unknown } | null;
  if (!m || typeof m !== 'object' || typeof m.method !== 'string') return null;
  return typeof m.id === 'string' || typeof m.id === 'number' ? m.id : null;
}

/** A JSON-RPC "Invalid Request" that carries Billfold's error body. */
export function depthRejection(id: string | number | null, error: ErrorBody) {
  return { jsonrpc: '2.0' as const, id, error: { code: -32600, message: error.message, data: { error } } };
}

/** The rejection for a POSTed body (one message or a batch) when any message nests too deep. */
export function bodyDepthRejection(body: unknown): ReturnType<typeof depthRejection> | null {
  for (const message of Array.isArray(body) ? body : [body]) {
    const error = envelopeDepthError(message);
    if (error) return depthRejection(requestIdOf(message), error);
  }
  return null;
}

/**
 * Wraps a transport (stdio) so that a message nesting too deep is answered with the rejection
 * (a request) or dropped (anything else) instead of reaching the server.
 */
export class DepthCheckedTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];

  constructor(private readonly inner: Transport) {
    inner.onclose = () => this.onclose?.();
    inner.onerror = (e) => this.onerror?.(e);
    inner.onmessage = (message, extra) => {
      const error = envelopeDepthError(message);
      if (!error) return this.onmessage?.(message, extra);
      const id = requestIdOf(message);
      if (id !== null)
        void inner
          .send(depthRejection(id, error) as JSONRPCMessage)
          .catch((e: unknown) => this.onerror?.(e as Error));
    };
  }

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.inner.send(message, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion?.(version);
  }

  setSupportedProtocolVersions(versions: string[]): void {
    this.inner.setSupportedProtocolVersions?.(versions);
  }
}
