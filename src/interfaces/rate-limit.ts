/**
 * A token bucket per API key on this instance: `perMinute` requests a minute, refilled
 * continuously, with a burst of the same size. Behind several instances the effective limit is
 * the per-instance limit times the number of instances.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perMinute: number) {}

  get enabled(): boolean {
    return this.perMinute > 0;
  }

  /** Takes one token; returns the seconds to wait when there is none. */
  take(key: string, now = Date.now()): { ok: true } | { ok: false; retryAfterSeconds: number } {
    if (!this.enabled) return { ok: true };
    const ratePerMs = this.perMinute / 60_000;
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: this.perMinute, at: now };
      this.buckets.set(key, b);
      if (this.buckets.size > 10_000) this.sweep(now);
    }
    b.tokens = Math.min(this.perMinute, b.tokens + (now - b.at) * ratePerMs);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.ceil((1 - b.tokens) / ratePerMs / 1000) };
  }

  /** Seconds until `key` has a token again, taking none; 0 when it has one now. */
  wait(key: string, now = Date.now()): number {
    const b = this.buckets.get(key);
    if (!this.enabled || !b) return 0;
    const ratePerMs = this.perMinute / 60_000;
    const tokens = Math.min(this.perMinute, b.tokens + (now - b.at) * ratePerMs);
    return tokens >= 1 ? 0 : Math.ceil((1 - tokens) / ratePerMs / 1000);
  }

  private sweep(now: number): void {
    for (const [k, b] of this.buckets) if (now - b.at > 60_000) this.buckets.delete(k);
  }
}
