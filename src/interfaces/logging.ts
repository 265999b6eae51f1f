import pino, { type Logger } from 'pino';

/**
 * Structured JSON logs on stderr (stdout belongs to the MCP stdio protocol). Log lines carry
 * ids, operation names, outcomes and durations; never keys, tokens, request bodies or a
 * customer's personal data — the redaction list is a second line of defence, not the first.
 */
export function createLogger(level: string): Logger {
  // Lines are gathered into 4 KiB writes (one syscall per few dozen requests under load) and
  // flushed at least every 250 ms, and synchronously when the process exits.
  const destination = pino.destination({ fd: 2, sync: false, minLength: 4096 });
  const timer = setInterval(() => destination.flush(), 250);
  timer.unref();
  process.once('exit', () => {
    try {
      destination.flushSync();
    } catch {
      // stderr already closed: nothing left to save
    }
  });
  return pino(
    {
      level,
      base: { service: 'billfold' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'authorization',
          'headers.authorization',
          'key',
          'api_key',
          'token',
          'password',
          'email',
          '*.email',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
