import { expect, it } from 'vitest';
import { openDoor } from '../harness/doors.js';
import { describeDoors } from '../harness/suite.js';

/**
 * Two organizations in one database: whatever door a key of the second uses, the first's rows
 * are invisible and untouchable — by Billfold id and by external_id alike.
 */
describeDoors('tenant isolation', (t) => {
  it("never reads or changes another organization's customers, logs or keys", async () => {
    const { customer } = await t.door.ok('create_customer', {
      external_id: 'tenant-a-1',
      name: 'Tenant A Customer',
      email: 'a@tenant.example',
    });
    const activity = (await t.door.ok('list_activity_logs', { customer_id: customer.id })).activity_logs[0];
    const apiLog = (await t.door.ok('list_api_logs', { operations: ['create_customer'] })).api_logs[0];

    const other = await t.env.newOrganization(['admin']);
    const b = await openDoor(t.env, t.door.name, other.key);
    try {
      for (const ref of [customer.id, 'tenant-a-1']) {
        await b.fail('get_customer', { customer_id: ref }, 'NOT_FOUND');
        await b.fail('update_customer', { customer_id: ref, name: 'Hijacked' }, 'NOT_FOUND');
        await b.fail('disable_customer', { customer_id: ref }, 'NOT_FOUND');
        await b.fail('delete_customer', { customer_id: ref }, 'NOT_FOUND');
      }
      expect((await b.ok('list_customers', { search: 'tenant' })).pagination.total_count).toBe(0);
      await b.fail('get_activity_log', { activity_id: activity.activity_id }, 'NOT_FOUND');
      expect((await b.ok('list_activity_logs', { customer_id: customer.id })).pagination.total_count).toBe(0);
      await b.fail('get_api_log', { request_id: apiLog.request_id }, 'NOT_FOUND');
      // The same external_id is free in the other organization: it names a different customer.
      const mine = await b.ok('create_customer', { external_id: 'tenant-a-1', name: 'Tenant B Customer' });
      expect(mine.created).toBe(true);
      expect(mine.customer.id).not.toBe(customer.id);
      expect((await b.ok('verify', {})).organization.id).toBe(other.id);
    } finally {
      await b.close();
    }
    const still = await t.door.ok('get_customer', { customer_id: 'tenant-a-1' });
    expect(still.customer).toMatchObject({ id: customer.id, name: 'Tenant A Customer', status: 'active' });
  });
});
