/**
 * Prometheus metrics kept in process memory and rendered in the text exposition format at
 * /metrics. Labels are operation names, doors and outcomes — never ids or personal data.
 */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

export class Metrics {
  private readonly calls = new Map<string, number>();
  private readonly durations = new Map<string, Histogram>();
  private readonly http = new Map<string, number>();
  private readonly started = Date.now();
  private readonly gauges = new Map<string, () => number>();
  /** tools/call requests answered by mcp/direct-tool-call.ts rather than the SDK's handler. */
  directToolCalls = 0;

  recordCall(operation: string, door: string, outcome: string, seconds: number): void {
    const key = `operation="${operation}",door="${door}",outcome="${outcome}"`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    const hkey = `operation="${operation}"`;
    let h = this.durations.get(hkey);
    if (!h) {
      h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.durations.set(hkey, h);
    }
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) h.counts[i]!++;
    h.sum += seconds;
    h.count++;
  }

  recordHttp(route: string, status: number): void {
    const key = `route="${route}",status="${status}"`;
    this.http.set(key, (this.http.get(key) ?? 0) + 1);
  }

  /** A value read at scrape time (open SSE sessions, pool size, ...). */
  gauge(name: string, read: () => number): void {
    this.gauges.set(name, read);
  }

  render(): string {
    const lines: string[] = [];
    lines.push('# HELP billfold_operation_calls_total Operation calls by operation, door and outcome.');
    lines.push('# TYPE billfold_operation_calls_total counter');
    for (const [k, v] of this.calls) lines.push(`billfold_operation_calls_total{${k}} ${v}`);
    lines.push('# HELP billfold_operation_duration_seconds Operation duration.');
    lines.push('# TYPE billfold_operation_duration_seconds histogram');
    for (const [k, h] of this.durations) {
      BUCKETS.forEach((b, i) =>
        lines.push(`billfold_operation_duration_seconds_bucket{${k},le="${b}"} ${h.counts[i]}`),
      );
      lines.push(`billfold_operation_duration_seconds_bucket{${k},le="+Inf"} ${h.count}`);
      lines.push(`billfold_operation_duration_seconds_sum{${k}} ${h.sum}`);
      lines.push(`billfold_operation_duration_seconds_count{${k}} ${h.count}`);
    }
    lines.push('# HELP billfold_http_requests_total HTTP requests by route and status.');
    lines.push('# TYPE billfold_http_requests_total counter');
    for (const [k, v] of this.http) lines.push(`billfold_http_requests_total{${k}} ${v}`);
    lines.push(
      '# HELP billfold_mcp_direct_tool_calls_total MCP tools/call requests answered without the SDK handler.',
    );
    lines.push('# TYPE billfold_mcp_direct_tool_calls_total counter');
    lines.push(`billfold_mcp_direct_tool_calls_total ${this.directToolCalls}`);
    for (const [name, read] of this.gauges) {
      lines.push(`# TYPE ${name} gauge`);
      lines.push(`${name} ${read()}`);
    }
    const mem = process.memoryUsage();
    lines.push('# TYPE process_resident_memory_bytes gauge');
    lines.push(`process_resident_memory_bytes ${mem.rss}`);
    lines.push('# TYPE process_heap_used_bytes gauge');
    lines.push(`process_heap_used_bytes ${mem.heapUsed}`);
    lines.push('# TYPE process_uptime_seconds gauge');
    lines.push(`process_uptime_seconds ${(Date.now() - this.started) / 1000}`);
    return `${lines.join('\n')}\n`;
  }
}
