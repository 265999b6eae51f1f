import { expect, it } from 'vitest';
import { describeDoors, type SuiteContext } from '../harness/suite.js';

/**
 * Every aggregation against values worked out by hand. The period is January 2026 in UTC
 * (31 days) unless a case says otherwise; events arrive in the order a case sends them.
 */
const JAN = { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' };
const DEC = { from: '2025-12-01T00:00:00Z', to: '2026-01-01T00:00:00Z' };
const FEB = { from: '2026-02-01T00:00:00Z', to: '2026-03-01T00:00:00Z' };

let seq = 0;
async function setup(t: SuiteContext, metric: Record<string, unknown>, timezone = 'UTC') {
  const n = ++seq;
  const customer = `agg-${n}`;
  const code = `m_${n}`;
  await t.door.ok('create_customer', { external_id: customer, name: `Agg ${n}`, timezone });
  await t.door.ok('create_billable_metric', { code, name: `Metric ${n}`, ...metric });
  const send = async (events: Array<[string, Record<string, unknown>]>) => {
    const out = await t.door.ok('record_usage_batch', {
      events: events.map(([timestamp, properties], i) => ({
        transaction_id: `${code}-${seq}-${i}-${timestamp}-${JSON.stringify(properties)}`,
        customer_id: customer,
        code,
        timestamp,
        properties,
      })),
    });
    expect(out.summary.failed).toBe(0);
    return out;
  };
  const usage = async (period: { from: string; to: string }) => {
    const out = await t.door.ok('get_customer_usage', {
      customer_id: customer,
      metric_code: code,
      ...period,
    });
    return out.metrics[0];
  };
  return { customer, code, send, usage };
}

describeDoors(
  'usage aggregation',
  (t) => {
    it('count_agg counts the events of the period, reading partial hours at both edges event by event', async () => {
      const m = await setup(t, { aggregation_type: 'count_agg' });
      await m.send([
        ['2025-12-31T23:59:59Z', {}],
        ['2026-01-05T10:00:00Z', {}],
        ['2026-01-05T10:20:00Z', {}],
        ['2026-01-31T23:59:59Z', {}],
        ['2026-02-01T00:00:00Z', {}],
      ]);
      expect((await m.usage(JAN)).units).toBe('3');
      expect((await m.usage(JAN)).event_count).toBe(3);
      expect((await m.usage({ from: '2026-01-05T10:10:00Z', to: '2026-01-05T10:30:00Z' })).units).toBe('1');
      expect((await m.usage({ from: '2026-01-05T09:59:00Z', to: '2026-01-31T23:59:59Z' })).units).toBe('2');
    });

    it('sum_agg adds decimals exactly and applies round, ceil and floor with their precision', async () => {
      const m = await setup(t, { aggregation_type: 'sum_agg', field_name: 'gb' });
      await m.send([
        ['2026-01-02T00:00:00Z', { gb: '0.1' }],
        ['2026-01-03T00:00:00Z', { gb: 0.2 }],
        ['2026-01-04T00:00:00Z', { gb: '1.005' }],
        ['2026-01-05T00:00:00Z', { gb: 3 }],
      ]);
      const u = await m.usage(JAN);
      expect(u.units).toBe('4.305');
      expect(u.event_count).toBe(4);
      await t.door.ok('update_billable_metric', {
        code: m.code,
        rounding_function: 'round',
        rounding_precision: 2,
      });
      expect((await m.usage(JAN)).units).toBe('4.31');
      await t.door.ok('update_billable_metric', {
        code: m.code,
        rounding_function: 'ceil',
        rounding_precision: 1,
      });
      expect((await m.usage(JAN)).units).toBe('4.4');
      await t.door.ok('update_billable_metric', {
        code: m.code,
        rounding_function: 'floor',
        rounding_precision: 0,
      });
      const floored = await m.usage(JAN);
      expect(floored.units).toBe('4');
      expect(floored.exact_units).toBe('4.305');
    });

    it('recurring sum_agg carries the total over from earlier periods', async () => {
      const m = await setup(t, { aggregation_type: 'sum_agg', field_name: 'seats', recurring: true });
      await m.send([
        ['2025-12-10T08:00:00Z', { seats: 10 }],
        ['2026-01-15T08:00:00Z', { seats: 5 }],
        ['2026-01-20T08:00:00Z', { seats: -2.5 }],
      ]);
      expect((await m.usage(DEC)).units).toBe('10');
      expect((await m.usage(JAN)).units).toBe('12.5');
      expect((await m.usage(FEB)).units).toBe('12.5');
      // Only the period's own events are its event count.
      expect((await m.usage(FEB)).event_count).toBe(0);
      expect((await m.usage({ from: '2026-01-15T00:00:00Z', to: '2026-01-15T08:30:00Z' })).units).toBe('15');
    });

    it('max_agg takes the largest value, and 0 when the period has none', async () => {
      const m = await setup(t, { aggregation_type: 'max_agg', field_name: 'cpu' });
      await m.send([
        ['2026-01-02T00:00:00Z', { cpu: -3 }],
        ['2026-01-03T00:00:00Z', { cpu: '7.5' }],
        ['2026-01-03T00:30:00Z', { cpu: 2 }],
      ]);
      expect((await m.usage(JAN)).units).toBe('7.5');
      expect((await m.usage({ from: '2026-01-02T00:00:00Z', to: '2026-01-02T01:00:00Z' })).units).toBe('-3');
      expect((await m.usage(FEB)).units).toBe('0');
    });

    it('latest_agg takes the value of the latest event by timestamp, whatever the arrival order, clamped at 0', async () => {
      const m = await setup(t, { aggregation_type: 'latest_agg', field_name: 'level' });
      await m.send([['2026-01-10T10:00:00Z', { level: 4 }]]);
      await m.send([['2026-01-10T09:00:00Z', { level: 9 }]]);
      expect((await m.usage(JAN)).units).toBe('4');
      await m.send([['2026-01-20T00:00:00Z', { level: -2 }]]);
      expect((await m.usage(JAN)).units).toBe('0');
      expect((await m.usage({ from: '2026-01-10T09:30:00Z', to: '2026-01-10T09:59:00Z' })).units).toBe('0');
      expect((await m.usage({ from: '2026-01-10T08:00:00Z', to: '2026-01-10T09:30:00Z' })).units).toBe('9');
    });

    it('unique_count_agg counts distinct values added in the period, including values also seen before and after it', async () => {
      const m = await setup(t, { aggregation_type: 'unique_count_agg', field_name: 'user' });
      await m.send([
        ['2026-01-02T00:00:00Z', { user: 'a' }],
        ['2026-01-03T00:00:00Z', { user: 'b' }],
        ['2026-01-04T00:00:00Z', { user: 'a' }],
        ['2026-01-05T00:00:00Z', { user: 7 }],
        ['2025-12-05T00:00:00Z', { user: 'only-december' }],
        // Seen before and after January but not in it: not counted; seen in all three: counted.
        ['2025-12-06T00:00:00Z', { user: 'x' }],
        ['2026-02-06T00:00:00Z', { user: 'x' }],
        ['2025-12-06T00:00:00Z', { user: 'y' }],
        ['2026-01-16T00:00:00Z', { user: 'y' }],
        ['2026-02-06T00:00:00Z', { user: 'y' }],
      ]);
      const jan = await m.usage(JAN);
      expect(jan.units).toBe('4');
      expect(jan.event_count).toBe(5);
      expect((await m.usage(DEC)).units).toBe('3');
      expect((await m.usage(FEB)).units).toBe('2');
    });

    it('recurring unique_count_agg keeps a value until a remove, also when the remove arrives first, and prorates presence', async () => {
      const m = await setup(t, { aggregation_type: 'unique_count_agg', field_name: 'seat', recurring: true });
      await m.send([['2025-12-10T00:00:00Z', { seat: 's1' }]]);
      // The removal of s2 arrives before its addition.
      await m.send([['2026-01-20T00:00:00Z', { seat: 's2', operation_type: 'remove' }]]);
      await m.send([['2026-01-10T00:00:00Z', { seat: 's2' }]]);
      await m.send([['2026-02-05T00:00:00Z', { seat: 's3', operation_type: 'add' }]]);
      const jan = await m.usage(JAN);
      expect(jan.units).toBe('2');
      // s1 the whole month (1) + s2 for 10 of 31 days (10/31 to 20 decimals).
      expect(jan.prorated_units).toBe('1.32258064516129032258');
      expect((await m.usage(DEC)).units).toBe('1');
      expect((await m.usage(FEB)).units).toBe('2');
      expect((await m.usage({ from: '2026-01-20T00:00:00Z', to: '2026-01-21T00:00:00Z' })).units).toBe('1');
    });

    it('recurring unique_count_agg with filters: a value in two groups counts once in the total, a value removed and added again counts both stays', async () => {
      const m = await setup(t, {
        aggregation_type: 'unique_count_agg',
        field_name: 'seat',
        recurring: true,
        filters: [{ key: 'region', values: ['eu', 'us'] }],
      });
      await m.send([
        ['2025-12-20T00:00:00Z', { seat: 's1', region: 'eu' }],
        ['2026-01-11T00:00:00Z', { seat: 's1', region: 'us' }],
        ['2026-01-01T00:00:00Z', { seat: 's2', region: 'eu' }],
        ['2026-01-05T00:00:00Z', { seat: 's2', region: 'eu', operation_type: 'remove' }],
        ['2026-01-25T00:00:00Z', { seat: 's2', region: 'eu' }],
        ['2026-01-30T00:00:00Z', { seat: 's3' }],
      ]);
      const jan = await m.usage(JAN);
      // s1, s2 and s3: s1 is in two groups but one seat.
      expect(jan.units).toBe('3');
      const units = Object.fromEntries(
        jan.breakdown.map((b: any) => [JSON.stringify(b.filters), [b.units, b.share]]),
      );
      // Shares are of the groups' sum (2 + 1 + 1).
      expect(units).toEqual({
        '{"region":"eu"}': ['2', '0.5000'],
        '{"region":"us"}': ['1', '0.2500'],
        '{}': ['1', '0.2500'],
      });
      // Days present: s1 in eu 31, s1 in us 21, s2 in eu 4 + 7, s3 2 = 65 of 31.
      expect(jan.prorated_units).toBe('2.09677419354838709677');
      // 6 January: only s1 in eu (s2 was removed on the 5th, s1 reached us on the 11th).
      const sixth = await m.usage({ from: '2026-01-06T00:00:00Z', to: '2026-01-07T00:00:00Z' });
      expect(sixth.units).toBe('1');
      expect(sixth.prorated_units).toBe('1');
      const feb = await m.usage(FEB);
      expect(feb.units).toBe('3');
      expect(feb.prorated_units).toBe('4');
    });

    it('weighted_sum_agg averages the level over the period from deltas (non-recurring starts at 0)', async () => {
      const m = await setup(t, { aggregation_type: 'weighted_sum_agg', field_name: 'gb' });
      await m.send([
        ['2026-01-01T00:00:00Z', { gb: 10 }],
        ['2026-01-16T00:00:00Z', { gb: 5 }],
        ['2026-01-26T00:00:00Z', { gb: -15 }],
      ]);
      // 10 for 15 days + 15 for 10 days + 0 for 6 days = 300 day-units over 31 days.
      expect((await m.usage(JAN)).units).toBe('9.67741935483870967742');
      // Half a day at 0 then half a day at 5 (non-recurring ignores the level before).
      expect((await m.usage({ from: '2026-01-15T12:00:00Z', to: '2026-01-16T12:00:00Z' })).units).toBe('2.5');
      const rounded = await setup(t, {
        aggregation_type: 'weighted_sum_agg',
        field_name: 'gb',
        rounding_function: 'round',
        rounding_precision: 2,
      });
      await rounded.send([['2026-01-01T00:00:00Z', { gb: 10 }]]);
      await rounded.send([['2026-01-16T00:00:00Z', { gb: 5 }]]);
      await rounded.send([['2026-01-26T00:00:00Z', { gb: -15 }]]);
      expect((await rounded.usage(JAN)).units).toBe('9.68');
    });

    it('recurring weighted_sum_agg carries the level across period boundaries', async () => {
      const m = await setup(t, { aggregation_type: 'weighted_sum_agg', field_name: 'gb', recurring: true });
      await m.send([
        ['2026-01-21T00:00:00Z', { gb: -6 }],
        ['2025-12-17T00:00:00Z', { gb: 4 }],
        ['2026-01-11T00:00:00Z', { gb: 2 }],
      ]);
      // December: 4 for the last 15 of 31 days = 60/31.
      expect((await m.usage(DEC)).units).toBe('1.93548387096774193548');
      // January: 4 for 10 days, 6 for 10 days, 0 for 11 days = 100/31.
      expect((await m.usage(JAN)).units).toBe('3.22580645161290322581');
      expect((await m.usage(FEB)).units).toBe('0');
      // Across midnight of Jan 11: half a day at 4, half a day at 6.
      expect((await m.usage({ from: '2026-01-10T12:00:00Z', to: '2026-01-11T12:00:00Z' })).units).toBe('5');
    });

    it('filters break usage down by value with each value share; values outside the filter go to {}', async () => {
      const m = await setup(t, {
        aggregation_type: 'sum_agg',
        field_name: 'gb',
        filters: [{ key: 'region', values: ['eu', 'us'] }],
      });
      await m.send([
        ['2026-01-02T00:00:00Z', { gb: 1.5, region: 'eu' }],
        ['2026-01-02T00:00:00Z', { gb: 2, region: 'us' }],
        ['2026-01-03T00:00:00Z', { gb: 4, region: 'ap' }],
      ]);
      const u = await m.usage(JAN);
      expect(u.units).toBe('7.5');
      expect(u.breakdown).toEqual(
        [
          { filters: { region: 'eu' }, units: '1.5', event_count: 1, share: '0.2000' },
          { filters: { region: 'us' }, units: '2', event_count: 1, share: '0.2667' },
          { filters: {}, units: '4', event_count: 1, share: '0.5333' },
        ].sort((a, b) => JSON.stringify(a.filters).localeCompare(JSON.stringify(b.filters))),
      );
    });

    it('expression computes the aggregated field per event', async () => {
      const m = await setup(t, {
        aggregation_type: 'sum_agg',
        field_name: 'duration',
        expression: 'round((ended_at - started_at) * units / 3, 2)',
      });
      await m.send([
        ['2026-01-02T00:00:00Z', { started_at: 100, ended_at: 160.5, units: 2 }],
        ['2026-01-02T00:00:00Z', { started_at: 0, ended_at: 1, units: 1 }],
      ]);
      // round(121 / 3, 2) = 40.33; round(1 / 3, 2) = 0.33.
      expect((await m.usage(JAN)).units).toBe('40.66');
    });

    it("the default period is the customer's calendar month, with hour buckets split at a +05:30 zone's midnight", async () => {
      const m = await setup(t, { aggregation_type: 'count_agg' }, 'Asia/Kolkata');
      // January in Kolkata starts at 2025-12-31T18:30Z: the 18:00Z hour holds one event on each side.
      await m.send([
        ['2025-12-31T18:15:00Z', {}],
        ['2025-12-31T18:45:00Z', {}],
        ['2026-01-31T18:29:00Z', {}],
        ['2026-01-31T18:31:00Z', {}],
      ]);
      const u = await m.usage({ from: '2026-01-01T00:00:00+05:30', to: '2026-02-01T00:00:00+05:30' });
      expect(u.units).toBe('2');
      const current = await t.door.ok('get_customer_usage', { customer_id: m.customer, metric_code: m.code });
      expect(current.timezone).toBe('Asia/Kolkata');
      expect(current.from).toMatch(/T18:30:00.000Z$/);
    });
  },
  { doors: ['http_api'] },
);
