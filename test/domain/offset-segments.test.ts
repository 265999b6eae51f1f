import { describe, expect, it } from 'vitest';
import { dateInZone, offsetSegments } from '../../src/domain/time.js';

const at = (iso: string) => Date.parse(iso);
const END = Number.MAX_SAFE_INTEGER;

describe('offsetSegments', () => {
  it('gives one stretch per offset, each change to the second', () => {
    expect(
      offsetSegments('America/New_York', at('2026-01-01T00:00:00Z'), at('2027-01-01T00:00:00Z')),
    ).toEqual([
      { until: at('2026-03-08T07:00:00Z'), offsetMs: -5 * 3_600_000 },
      { until: at('2026-11-01T06:00:00Z'), offsetMs: -4 * 3_600_000 },
      { until: END, offsetMs: -5 * 3_600_000 },
    ]);
    // Lord Howe Island moves by half an hour.
    expect(
      offsetSegments('Australia/Lord_Howe', at('2026-01-01T00:00:00Z'), at('2027-01-01T00:00:00Z')),
    ).toEqual([
      { until: at('2026-04-04T15:00:00Z'), offsetMs: 11 * 3_600_000 },
      { until: at('2026-10-03T15:30:00Z'), offsetMs: 10.5 * 3_600_000 },
      { until: END, offsetMs: 11 * 3_600_000 },
    ]);
    expect(offsetSegments('Asia/Kathmandu', at('2026-01-01T00:00:00Z'), at('2026-02-01T00:00:00Z'))).toEqual([
      { until: END, offsetMs: 5.75 * 3_600_000 },
    ]);
  });

  it('finds a change in a window shorter than a day that does not start on a second', () => {
    expect(
      offsetSegments('Europe/Paris', at('2026-03-29T00:30:00.123Z'), at('2026-03-29T01:30:00Z')),
    ).toEqual([
      { until: at('2026-03-29T01:00:00Z'), offsetMs: 3_600_000 },
      { until: END, offsetMs: 2 * 3_600_000 },
    ]);
  });

  it("puts every instant on the zone's own calendar day", () => {
    for (const tz of ['America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Pacific/Chatham']) {
      const from = at('2026-01-01T00:00:00Z');
      const to = at('2027-01-01T00:00:00Z');
      const segments = offsetSegments(tz, from, to);
      for (let t = from; t < to; t += 3_599_999) {
        const { offsetMs } = segments.find((s) => t < s.until)!;
        const day = new Date(Math.floor((t + offsetMs) / 86_400_000) * 86_400_000).toISOString().slice(0, 10);
        expect(day, `${tz} at ${new Date(t).toISOString()}`).toBe(dateInZone(t, tz));
      }
    }
  });
});
