import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACTIVITY_RESOURCE_TYPES, activityResourceType } from '../../src/services/activity.js';
import { requestPathMatch } from '../../src/services/api-logs.js';
import { httpApiDoor, type Door } from '../harness/doors.js';
import { describeDoors } from '../harness/suite.js';

/**
 * The log filters as users coming from Lago write them: resource types in any case or as class
 * names, the user's email, the customer's external id, request paths by resource — and a value
 * that could never match refused by name instead of answered with an empty list.
 */
describeDoors(
  'activity and API log filters',
  (t) => {
    let ops: Door;
    beforeAll(async () => {
      // Changes made with a key named for its holder, so they can be found by that email.
      ops = httpApiDoor(t.env, await t.env.addKey(t.org.id, ['admin'], 'Ops@Acme.example'));
      await ops.ok('create_customer', { external_id: 'acme-logs', name: 'Acme Logs' });
      await t.door.ok('create_customer', { external_id: 'acme-logs-2', name: 'Acme Logs Two' });
      const { invoice } = await t.door.ok('create_invoice', {
        customer_id: 'acme-logs',
        amount: '12.50',
        currency: 'EUR',
        status: 'finalized',
      });
      await t.door.ok('mark_invoice_paid', { invoice_id: invoice.id });
      await t.door.ok('create_billable_metric', {
        name: 'Storage',
        code: 'storage_logs',
        aggregation_type: 'sum_agg',
        field_name: 'gb',
      });
    });

    it('matches resource_types in any case, plural, or as a Lago class name', async () => {
      for (const written of ['Invoice', 'INVOICE', 'invoice', 'invoices']) {
        const out = await t.door.ok('list_activity_logs', { resource_types: [written] });
        expect(out.activity_logs.length, written).toBeGreaterThan(0);
        expect(new Set(out.activity_logs.map((a: any) => a.resource_type)), written).toEqual(
          new Set(['invoice']),
        );
      }
      const metrics = await t.door.ok('list_activity_logs', { resource_types: ['BillableMetric'] });
      expect(metrics.activity_logs.map((a: any) => a.activity_type)).toEqual(['billable_metric.created']);
      const bad = await t.door.fail(
        'list_activity_logs',
        { resource_types: ['Invoicez'] },
        'VALIDATION_ERROR',
      );
      expect(bad.message).toContain('resource_types[0] must be a resource type:');
      expect(bad.message).toContain("(got 'Invoicez')");
    });

    it('matches activity_types in any case and refuses one that is no <resource>.<verb>', async () => {
      const out = await t.door.ok('list_activity_logs', { activity_types: ['Invoice.Finalized'] });
      expect(out.activity_logs.map((a: any) => a.activity_type)).toEqual(['invoice.finalized']);
      const bad = await t.door.fail(
        'list_activity_logs',
        { activity_types: ['created'] },
        'VALIDATION_ERROR',
      );
      expect(bad.message).toContain('activity_types[0] must be <resource>.<verb>');
    });

    it('filters by user_emails: the email an API key is named with, in any case', async () => {
      const out = await t.door.ok('list_activity_logs', { user_emails: ['ops@ACME.example'] });
      expect(out.activity_logs.map((a: any) => a.activity_type)).toEqual(['customer.created']);
      expect(out.activity_logs[0].user_email).toBe('ops@acme.example');
      const others = await t.door.ok('list_activity_logs', { resource_types: ['invoice'] });
      expect(others.activity_logs[0].user_email).toBeNull();
      const nobody = await t.door.ok('list_activity_logs', { user_emails: ['someone@else.example'] });
      expect(nobody.activity_logs).toEqual([]);
      const bad = await t.door.fail('list_activity_logs', { user_emails: ['ops'] }, 'VALIDATION_ERROR');
      expect(bad.message).toContain('user_emails[0] must be an email address');
    });

    it('filters by external_customer_id exactly', async () => {
      const out = await t.door.ok('list_activity_logs', { external_customer_id: 'acme-logs' });
      const types = out.activity_logs.map((a: any) => a.activity_type);
      expect(types).toContain('customer.created');
      expect(types).toContain('invoice.created');
      expect(out.activity_logs.every((a: any) => a.external_customer_id === 'acme-logs')).toBe(true);
      const prefix = await t.door.ok('list_activity_logs', { external_customer_id: 'acme' });
      expect(prefix.activity_logs).toEqual([]);
    });

    it('matches request_paths by resource through every door, and refuses a path naming none', async () => {
      const invoices = await t.door.ok('list_api_logs', { request_paths: ['/invoices'] });
      const operations = new Set(invoices.api_logs.map((l: any) => l.operation));
      expect(operations).toEqual(new Set(['create_invoice', 'mark_invoice_paid']));
      const lagoStyle = await t.door.ok('list_api_logs', { request_paths: ['/api/v1/invoices'] });
      expect(lagoStyle.api_logs.length).toBe(invoices.api_logs.length);
      const payments = await t.door.ok('list_api_logs', { request_paths: ['/payments'] });
      expect(payments.api_logs.map((l: any) => l.operation)).toEqual(['mark_invoice_paid']);
      const metrics = await t.door.ok('list_api_logs', { request_paths: ['/billable_metrics'] });
      expect(metrics.api_logs.map((l: any) => l.operation)).toEqual(['create_billable_metric']);
      const customers = await t.door.ok('list_api_logs', { request_paths: ['/customers'] });
      expect(customers.api_logs.map((l: any) => l.operation)).toEqual(['create_customer', 'create_customer']);
      const bad = await t.door.fail('list_api_logs', { request_paths: ['/widgets'] }, 'VALIDATION_ERROR');
      expect(bad.message).toContain(
        "request_paths[0] names no resource Billfold logs requests for (got '/widgets')",
      );
      const relative = await t.door.fail(
        'list_api_logs',
        { request_paths: ['invoices'] },
        'VALIDATION_ERROR',
      );
      expect(relative.message).toContain('request_paths[0] must be a path starting with /');
    });

    it('matches a door path exactly', async () => {
      const exact = await ops.ok('list_api_logs', { request_paths: ['/api/v1/create_customer'] });
      // Both customers were created over HTTP when the suite's door is the HTTP API, one otherwise.
      expect(exact.api_logs.length).toBe(t.door.name === 'http_api' ? 2 : 1);
      expect(exact.api_logs.every((l: any) => l.request_path === '/api/v1/create_customer')).toBe(true);
    });
  },
  { doors: ['http_api', 'mcp_http'] },
);

describe('log filter vocabularies', () => {
  it('lists every resource type the services write, so a filter on one is accepted', () => {
    const dir = join(import.meta.dirname, '..', '..', 'src', 'services');
    const written = new Set<string>();
    const walk = (d: string) => {
      for (const entry of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (p.endsWith('.ts'))
          for (const m of readFileSync(p, 'utf8').matchAll(/resourceType: '([a-z_]+)'/g)) written.add(m[1]!);
      }
    };
    walk(dir);
    expect(written.size).toBeGreaterThan(10);
    for (const type of written) expect(ACTIVITY_RESOURCE_TYPES, type).toContain(type);
  });

  it('reads resource types and request paths as people write them', () => {
    expect(activityResourceType('BillableMetric')).toBe('billable_metric');
    expect(activityResourceType('credit_notes')).toBe('credit_note');
    expect(activityResourceType('Widget')).toBeUndefined();
    expect(requestPathMatch('/mcp/lago')).toEqual({ exact: '/mcp/lago' });
    expect(requestPathMatch('mcp_stdio:create_invoice')).toEqual({ exact: 'mcp_stdio:create_invoice' });
    expect(requestPathMatch('/api/v1/customers/acme')).toEqual({
      resource: 'customer',
      lagoPrefix: '/lago/api/v1/customers/acme',
      whole: false,
    });
  });
});
