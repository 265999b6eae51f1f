/**
 * The customer portal's invoices page for a customer with BENCH_PORTAL_INVOICES (default 500)
 * issued invoices — a third paid, every tenth credited — in an organization with
 * BENCH_PORTAL_OTHER_INVOICES (default 2,000) invoices of other customers. Billfold serves HTTP
 * in this process; a browser session is opened through a real portal link, then
 * BENCH_PORTAL_REQUESTS (default 1,000) GET /portal/invoices?page=N are sent one at a time over
 * loopback, walking the 25 pages. Prints p50/p99/max of the server time (request received →
 * response finished, measured in the server) and the CPU per page, with the same figures for
 * one invoice's page, the subscriptions and usage pages (a subscription with 5,000 events this
 * month) and, as the yardstick of HTTP alone, GET /health.
 *
 *   node --import tsx bench/portal.ts
 *   BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test node --import tsx bench/portal.ts
 */
import { request } from 'node:http';
import { cpus } from 'node:os';
import { createHttpServer, listen } from '../src/interfaces/http/server.js';
import { inProcess, scratchDatabase } from './scratch.js';

const INVOICES = Number(process.env.BENCH_PORTAL_INVOICES ?? 500);
const OTHERS = Number(process.env.BENCH_PORTAL_OTHER_INVOICES ?? 2000);
const REQUESTS = Number(process.env.BENCH_PORTAL_REQUESTS ?? 1000);
const PG_URL = process.env.BENCH_POSTGRES_URL;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function get(url: string, cookie?: string): Promise<{ status: number; body: string; setCookie?: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: cookie ? { cookie } : {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          setCookie: res.headers['set-cookie'],
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

async function main() {
  const { database, cleanup } = await scratchDatabase('billfold-portal', PG_URL);
  const { rt, call } = await inProcess(database);
  const server = createHttpServer(rt);
  // Server time: from the request's arrival to the last byte of its response.
  const times: number[] = [];
  server.prependListener('request', (_req, res) => {
    const t0 = performance.now();
    res.on('finish', () => times.push(performance.now() - t0));
  });
  const running = await listen(rt, server, '127.0.0.1', 0);
  try {
    const seedStarted = performance.now();
    await call('update_organization', {
      name: 'Nordlicht GmbH',
      default_currency: 'EUR',
      bank_iban: 'DE89370400440532013000',
      bank_bic: 'COBADEFFXXX',
    });
    await call('create_customer', { external_id: 'acme', name: 'Acme Corporation', currency: 'EUR' });
    for (let i = 0; i < 50; i++)
      await call('create_customer', { external_id: `other-${i}`, name: `Other ${i}`, currency: 'EUR' });
    const lines = [
      { description: 'Consulting', quantity: '3', unit_amount: '800' },
      { description: 'Travel', quantity: '1', unit_amount: '123.45' },
    ];
    // Interleaved, as a real organization's invoices are.
    const perCustomer = Math.ceil(OTHERS / INVOICES);
    for (let i = 0; i < INVOICES; i++) {
      const { invoice } = await call('create_invoice', { customer_id: 'acme', status: 'finalized', lines });
      if (i % 3 === 0) await call('mark_invoice_paid', { invoice_id: invoice.id });
      else if (i % 10 === 1)
        await call('create_credit_note', {
          invoice_id: invoice.id,
          type: 'credit',
          reason: 'other',
          amount: '10',
        });
      for (let k = 0; k < perCustomer && i * perCustomer + k < OTHERS; k++)
        await call('create_invoice', { customer_id: `other-${(i + k) % 50}`, status: 'finalized', lines });
    }
    // A subscription with usage this month, for the subscriptions and usage pages.
    await call('create_billable_metric', {
      code: 'api_calls',
      name: 'API calls',
      aggregation_type: 'count_agg',
    });
    await call('create_plan', {
      code: 'growth',
      name: 'Growth',
      interval: 'monthly',
      currency: 'EUR',
      amount: '49',
      charges: [
        { billable_metric_code: 'api_calls', charge_model: 'standard', properties: { amount: '0.01' } },
      ],
    });
    const monthStart = new Date();
    monthStart.setUTCDate(1);
    monthStart.setUTCHours(0, 0, 0, 0);
    await call('create_subscription', {
      customer_id: 'acme',
      plan_code: 'growth',
      started_at: monthStart.toISOString().slice(0, 10),
    });
    const span = Date.now() - monthStart.getTime();
    for (let b = 0; b < 5; b++) {
      const events = Array.from({ length: 1000 }, (_, k) => ({
        customer_id: 'acme',
        code: 'api_calls',
        transaction_id: `call-${b}-${k}`,
        timestamp: new Date(monthStart.getTime() + Math.floor((span * (b * 1000 + k)) / 5000)).toISOString(),
      }));
      await call('record_usage_batch', { events });
    }
    const seeded = (performance.now() - seedStarted) / 1000;
    const { token } = await call('create_portal_session', { customer_id: 'acme', expires_in_minutes: 1440 });
    const opened = await get(`${running.url}/portal/${token}`);
    const cookie = opened.setCookie?.find((c) => c.startsWith('billfold_portal='))?.split(';')[0];
    if (opened.status !== 200 || !cookie) throw new Error(`the portal link did not open (${opened.status})`);
    const pages = Math.ceil(INVOICES / 20);
    const first = await get(`${running.url}/portal/invoices`, cookie);
    if (first.status !== 200 || !first.body.includes('Acme Corporation'))
      throw new Error('the invoices page failed');
    const invoiceId = /href="\/portal\/invoices\/(inv_[0-9A-Z]+)"/.exec(first.body)![1]!;

    async function measure(label: string, path: (i: number) => string, n: number, withCookie = true) {
      for (let i = 0; i < Math.min(50, n); i++)
        await get(`${running.url}${path(i)}`, withCookie ? cookie : undefined);
      times.length = 0;
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      for (let i = 0; i < n; i++) {
        const r = await get(`${running.url}${path(i)}`, withCookie ? cookie : undefined);
        if (r.status !== 200) throw new Error(`${path(i)}: ${r.status}`);
      }
      const wall = (performance.now() - wall0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const sorted = [...times].sort((a, b) => a - b);
      const cpuPer = (cpu.user + cpu.system) / n;
      console.log(
        `${label.padEnd(34)} p50 ${percentile(sorted, 50).toFixed(2)} ms  p99 ${percentile(sorted, 99).toFixed(2)} ms  ` +
          `max ${sorted[sorted.length - 1]!.toFixed(2)} ms  ${(n / wall).toFixed(0)} pages/s  ` +
          `${cpuPer.toFixed(0)} µs CPU per page (server and loopback client)`,
      );
      return { p99: percentile(sorted, 99), cpuPer };
    }

    console.log(
      `portal, ${rt.db.dialect}: ${INVOICES} invoices of the customer, ${OTHERS} of 50 others (seeded in ${seeded.toFixed(0)} s); ` +
        `${REQUESTS} requests each, one at a time; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`,
    );
    const list = await measure(
      'GET /portal/invoices?page=1..25',
      (i) => `/portal/invoices?page=${(i % pages) + 1}`,
      REQUESTS,
    );
    await measure(
      'GET /portal/invoices/<id>',
      () => `/portal/invoices/${invoiceId}`,
      Math.ceil(REQUESTS / 4),
    );
    await measure('GET /portal/subscriptions', () => '/portal/subscriptions', Math.ceil(REQUESTS / 10));
    await measure('GET /portal/usage (a chart by day)', () => '/portal/usage', Math.ceil(REQUESTS / 10));
    const health = await measure('GET /health (HTTP alone)', () => '/health', REQUESTS, false);
    console.log(
      `invoices page: p99 ${list.p99.toFixed(2)} ms (target ≤ 50 ms on SQLite: ${list.p99 <= 50 ? 'met' : 'not met'}); ` +
        `about ${(list.cpuPer - health.cpuPer).toFixed(0)} µs CPU per page beyond a bare HTTP request`,
    );
  } finally {
    await running.close();
    await rt.close();
    await cleanup();
  }
}

await main();
