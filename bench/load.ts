import http from 'node:http';

/**
 * A closed-loop load generator: `concurrency` workers each send one request, wait for the
 * answer, and send the next, over keep-alive connections, for `seconds`.
 */
export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
}

export interface LoadSpec {
  url: string;
  body: (i: number) => string;
  headers: Record<string, string>;
  concurrency: number;
  seconds: number;
  /** Decides whether a 200 response body is a success. */
  ok?: (body: string) => boolean;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const u = new URL(spec.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let n = 0;
  const started = performance.now();
  const end = started + spec.seconds * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const body = spec.body(n++);
      const t0 = performance.now();
      const req = http.request(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          agent,
          headers: { ...spec.headers, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            if (res.statusCode !== 200 || (spec.ok && !spec.ok(text))) {
              errors++;
              if (errors <= 3)
                process.stderr.write(`unexpected response ${res.statusCode}: ${text.slice(0, 300)}\n`);
            }
            latencies.push(performance.now() - t0);
            resolve();
          });
        },
      );
      req.on('error', (e) => {
        errors++;
        if (errors <= 3) process.stderr.write(`request error: ${e.message}\n`);
        resolve();
      });
      req.end(body);
    });
  const worker = async () => {
    while (performance.now() < end) await one();
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? NaN;
  return {
    requests: latencies.length,
    errors,
    seconds,
    perSecond: latencies.length / seconds,
    p50: at(0.5),
    p99: at(0.99),
  };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
