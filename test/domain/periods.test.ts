import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  activeDays,
  nextPeriod,
  periodContaining,
  periodDays,
  type BillingTime,
  type Interval,
} from '../../src/domain/periods.js';
import { addDaysToDate } from '../../src/domain/time.js';

describe('billing periods', () => {
  it('align to the calendar', () => {
    expect(periodContaining('2026-11-21', 'monthly', 'calendar', '2026-11-03')).toEqual({
      from: '2026-11-01',
      to: '2026-12-01',
    });
    expect(periodContaining('2026-11-21', 'weekly', 'calendar', '2026-11-03')).toEqual({
      from: '2026-11-16',
      to: '2026-11-23',
    });
    expect(periodContaining('2026-11-23', 'weekly', 'calendar', '2026-11-03')).toEqual({
      from: '2026-11-23',
      to: '2026-11-30',
    });
    expect(periodContaining('2026-11-21', 'quarterly', 'calendar', '2026-01-15')).toEqual({
      from: '2026-10-01',
      to: '2027-01-01',
    });
    expect(periodContaining('2026-02-28', 'yearly', 'calendar', '2025-06-15')).toEqual({
      from: '2026-01-01',
      to: '2027-01-01',
    });
  });

  it('run from the start date on anniversary billing, keeping the day of the month where it exists', () => {
    const anchor = '2026-01-31';
    const p1 = periodContaining(anchor, 'monthly', 'anniversary', anchor);
    expect(p1).toEqual({ from: '2026-01-31', to: '2026-02-28' });
    const p2 = nextPeriod(p1, 'monthly', 'anniversary', anchor);
    expect(p2).toEqual({ from: '2026-02-28', to: '2026-03-31' });
    expect(nextPeriod(p2, 'monthly', 'anniversary', anchor)).toEqual({
      from: '2026-03-31',
      to: '2026-04-30',
    });
    // A leap year gives February its 29th.
    expect(periodContaining('2028-02-15', 'monthly', 'anniversary', '2028-01-31')).toEqual({
      from: '2028-01-31',
      to: '2028-02-29',
    });
    expect(periodContaining('2029-03-01', 'yearly', 'anniversary', '2028-02-29')).toEqual({
      from: '2029-02-28',
      to: '2030-02-28',
    });
    expect(periodContaining('2026-11-21', 'weekly', 'anniversary', '2026-11-05')).toEqual({
      from: '2026-11-19',
      to: '2026-11-26',
    });
    expect(periodContaining('2026-12-10', 'quarterly', 'anniversary', '2026-05-20')).toEqual({
      from: '2026-11-20',
      to: '2027-02-20',
    });
  });

  it('count the active days of a period, start day and end day included as the dates say', () => {
    const nov = { from: '2026-11-01', to: '2026-12-01' };
    expect(periodDays(nov)).toBe(30);
    expect(activeDays(nov, '2026-11-15', null)).toBe(16);
    expect(activeDays(nov, '2026-10-01', '2026-11-11')).toBe(10);
    expect(activeDays(nov, '2026-12-02', null)).toBe(0);
    expect(periodDays({ from: '2028-02-01', to: '2028-03-01' })).toBe(29);
  });

  const date = fc.integer({ min: 0, max: 365 * 40 }).map((n) => addDaysToDate('2000-01-01', n));
  const interval = fc.constantFrom<Interval>('weekly', 'monthly', 'quarterly', 'yearly');
  const time = fc.constantFrom<BillingTime>('calendar', 'anniversary');

  it('tile time: each period contains its date, and the next one starts where it ends', () => {
    fc.assert(
      fc.property(date, date, interval, time, (d, anchor, i, t) => {
        const p = periodContaining(d, i, t, anchor);
        expect(p.from <= d && d < p.to).toBe(true);
        const n = nextPeriod(p, i, t, anchor);
        expect(n.from).toBe(p.to);
        expect(periodContaining(addDaysToDate(p.to, -1), i, t, anchor)).toEqual(p);
        const days = periodDays(p);
        const bounds = { weekly: [7, 7], monthly: [28, 31], quarterly: [89, 92], yearly: [365, 366] }[i];
        expect(days).toBeGreaterThanOrEqual(bounds[0]!);
        expect(days).toBeLessThanOrEqual(bounds[1]!);
      }),
    );
  });

  it('split a period between two plans without losing or adding a day', () => {
    fc.assert(
      fc.property(date, fc.integer({ min: 0, max: 400 }), interval, time, (anchor, offset, i, t) => {
        const p = periodContaining(addDaysToDate(anchor, offset), i, t, anchor);
        const switchDay = addDaysToDate(p.from, offset % periodDays(p));
        expect(activeDays(p, p.from, switchDay) + activeDays(p, switchDay, null)).toBe(periodDays(p));
      }),
    );
  });
});
