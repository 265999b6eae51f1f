/**
 * Usage read latency: get_customer_usage for one customer with BENCH_USAGE_EVENTS (default
 * 1,000,000) events in the period, for every aggregation type (and the recurring variants),
 * measured in process through the operation (validation, service, output check) after the
 * events were recorded through record_usage_batch. Prints p50/p99/max per type.
 *
 *   node --import tsx bench/usage.ts
 *   BENCH_POSTGRES_URL=postgres://… BENCH_USAGE_EVENTS=1000000 BENCH_TYPES=sum_agg,count_agg node --import tsx bench/usage.ts
 */
import { cpus } from 'node:os';
import { inProcess, scratchDatabase } from './scratch.js';

const EVENTS = Number(process.env.BENCH_USAGE_EVENTS ?? 1_000_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 300);
const PG_URL = process.env.BENCH_POSTGRES_URL;

interface Case {
  code: string;
  metric: Record<string, unknown>;
  properties: (n: number) => Record<string, unknown>;
}

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];
const CASES: Case[] = [
  { code: 'count_agg', metric: { aggregation_type: 'count_agg' }, properties: () => ({}) },
  {
    code: 'sum_agg',
    metric: { aggregation_type: 'sum_agg', field_name: 'gb', filters: [{ key: 'region', values: REGIONS }] },
    properties: (n) => ({ gb: `${n % 100}.${n % 7}5`, region: REGIONS[n % 3] }),
  },
  {
    code: 'sum_agg_recurring',
    metric: { aggregation_type: 'sum_agg', field_name: 'seats', recurring: true },
    properties: (n) => ({ seats: n % 2 ? 1 : -0.5 }),
  },
  {
    code: 'max_agg',
    metric: { aggregation_type: 'max_agg', field_name: 'cpu' },
    properties: (n) => ({ cpu: (n * 7919) % 10007 }),
  },
  {
    code: 'latest_agg',
    metric: { aggregation_type: 'latest_agg', field_name: 'level' },
    properties: (n) => ({ level: n % 1000 }),
  },
  {
    code: 'unique_count_agg',
    metric: { aggregation_type: 'unique_count_agg', field_name: 'user' },
    properties: (n) => ({ user: `u-${n % 1000}` }),
  },
  {
    code: 'unique_count_agg_recurring',
    metric: { aggregation_type: 'unique_count_agg', field_name: 'seat', recurring: true },
    properties: (n) => ({ seat: `s-${n % 1000}`, operation_type: n % 10 === 9 ? 'remove' : 'add' }),
  },
  {
    code: 'weighted_sum_agg',
    metric: { aggregation_type: 'weighted_sum_agg', field_name: 'gb' },
    properties: (n) => ({ gb: n % 2 ? '1.5' : '-1' }),
  },
  {
    code: 'weighted_sum_agg_recurring',
    metric: { aggregation_type: 'weighted_sum_agg', field_name: 'gb', recurring: true },
    properties: (n) => ({ gb: n % 2 ? '1.5' : '-1' }),
  },
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main() {
  const { database, cleanup } = await scratchDatabase('billfold-usage', PG_URL);
  const { rt, call } = await inProcess(database);
  const wanted = process.env.BENCH_TYPES?.split(',');
  const cases = wanted ? CASES.filter((c) => wanted.includes(c.code)) : CASES;
  // The period: this month so far (UTC); events spread evenly over its first 28 days.
  const now = Date.now();
  const monthStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
  const from = new Date(monthStart).toISOString();
  const to = new Date(
    Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth() + 1, 1),
  ).toISOString();
  const span = 28 * 86_400_000;
  console.log(
    `billfold usage benchmark — ${PG_URL ? 'PostgreSQL' : 'SQLite'}; ${EVENTS.toLocaleString('en-US')} events per metric for one customer in ${from.slice(0, 7)}; ${QUERIES} queries each; ${cpus().length} CPUs (${cpus()[0]?.model})`,
  );
  try {
    for (const c of cases) {
      const customer = `usage-${c.code}`;
      await call('create_customer', { external_id: customer, name: customer });
      await call('create_billable_metric', { code: c.code, name: c.code, ...c.metric });
      const loadStart = performance.now();
      for (let start = 0; start < EVENTS; start += 1000) {
        const events = [];
        for (let n = start; n < Math.min(EVENTS, start + 1000); n++) {
          events.push({
            transaction_id: `${c.code}-${n}`,
            customer_id: customer,
            code: c.code,
            timestamp: Math.floor((monthStart + Math.floor((n / EVENTS) * span)) / 1000) + (n % 60),
            properties: c.properties(n),
          });
        }
        await call('record_usage_batch', { events });
      }
      const loadSeconds = (performance.now() - loadStart) / 1000;
      const args = { customer_id: customer, metric_code: c.code, from, to };
      const first = await call('get_customer_usage', args);
      for (let i = 0; i < 20; i++) await call('get_customer_usage', args);
      const times: number[] = [];
      for (let i = 0; i < QUERIES; i++) {
        const t0 = performance.now();
        await call('get_customer_usage', args);
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      const m = first.metrics[0];
      console.log(
        `${c.code.padEnd(27)} p50 ${percentile(times, 50).toFixed(2).padStart(6)} ms  p99 ${percentile(times, 99).toFixed(2).padStart(6)} ms  max ${times[times.length - 1]!.toFixed(2).padStart(6)} ms  units ${m.units} (${m.event_count} events; loaded in ${loadSeconds.toFixed(0)} s)`,
      );
    }
  } finally {
    await rt.close();
    await cleanup();
  }
}

await main();
