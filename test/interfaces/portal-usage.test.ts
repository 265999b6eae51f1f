import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/domain/decimal.js';
import { startOfDayInZone } from '../../src/domain/time.js';
import { barChart } from '../../src/interfaces/portal/usage-chart.js';
import { slices } from '../../src/interfaces/portal/usage-route.js';

describe('portal usage chart', () => {
  it('cuts a month into its days in the customer’s zone, across a change of clocks', () => {
    const tz = 'Europe/Berlin';
    const from = startOfDayInZone('2026-03-01', tz);
    const to = startOfDayInZone('2026-04-01', tz);
    const { by, slices: days } = slices(from, to, tz);
    expect(by).toBe('day');
    expect(days).toHaveLength(31);
    expect(days[0]!.from).toBe(from);
    expect(days[30]!.to).toBe(to);
    for (let i = 1; i < days.length; i++) expect(days[i]!.from).toBe(days[i - 1]!.to);
    expect(days.map((d) => d.label).slice(27, 30)).toEqual(['28 Mar', '29 Mar', '30 Mar']);
    // 29 March has 23 hours there.
    expect(days[28]!.to - days[28]!.from).toBe(23 * 3600_000);
  });

  it('uses weeks for a quarter and months for a year', () => {
    const tz = 'UTC';
    const q = slices(Date.parse('2026-01-01T00:00:00Z'), Date.parse('2026-04-01T00:00:00Z'), tz);
    expect(q.by).toBe('week');
    expect(q.slices).toHaveLength(13);
    const y = slices(Date.parse('2026-01-01T00:00:00Z'), Date.parse('2027-01-01T00:00:00Z'), tz);
    expect(y.by).toBe('month');
    expect(y.slices.map((s) => s.label)).toEqual([
      'Jan 2026',
      'Feb 2026',
      'Mar 2026',
      'Apr 2026',
      'May 2026',
      'Jun 2026',
      'Jul 2026',
      'Aug 2026',
      'Sept 2026',
      'Oct 2026',
      'Nov 2026',
      'Dec 2026',
    ]);
  });

  it('scales bars exactly to the largest one and leaves days to come empty', () => {
    const svg = barChart('t', 'Calls by day', 'Calls', [
      { label: '1 Mar', units: Decimal.parse('3') },
      { label: '2 Mar', units: Decimal.parse('1.5') },
      { label: '3 Mar', units: Decimal.ZERO },
      { label: '4 Mar', units: null },
    ]).text.replace(/\s+/g, ' ');
    const heights = [...svg.matchAll(/<rect class="bar"[^>]* height="([\d.]+)"/g)].map((m) => m[1]);
    expect(heights).toEqual(['176.0', '88.0']);
    expect(svg).toContain('<title>1 Mar: 3</title>');
    expect(svg).toMatch(/<td>2 Mar<\/td> <td class="num">1.5<\/td>/);
    expect(svg).not.toContain('4 Mar</td>');
  });
});
