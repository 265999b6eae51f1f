import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bootstrap, localPrincipal } from '../../src/interfaces/bootstrap.js';
import { dispatch } from '../../src/interfaces/dispatch.js';
import { createApiKey } from '../../src/services/api-keys.js';
import { createServiceContext, type Principal } from '../../src/services/context.js';
import { finalizeInvoice } from '../../src/services/invoices.js';
import { startServer, type ServerProcess } from '../harness/servers.js';
import { describeDatabases, environmentVariables } from '../harness/suite.js';

/**
 * Gapless numbering under real concurrency: two `billfold serve` processes on one database
 * finalize invoices at the same moment; every number from 1 to N is used exactly once.
 */
const KEY = 'bfk_concurrency_test_key_0123456789abcdef';

const outbox = mkdtempSync(join(tmpdir(), 'billfold-outbox-'));
beforeAll(() => {
  environmentVariables.BILLFOLD_OUTBOX_DIR = outbox;
});
afterAll(() => rmSync(outbox, { recursive: true, force: true }));

const servers: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describeDatabases('invoice numbering', (t) => {
  let principal: Principal;

  beforeAll(async () => {
    const boot = await bootstrap(t.env.rt, { createAdminKey: false });
    principal = localPrincipal(boot.organizationId);
    await createApiKey(t.env.rt.db.kysely, {
      organizationId: boot.organizationId,
      name: 'concurrency',
      scopes: ['admin'],
      now: Date.now(),
      key: KEY,
    });
  });

  async function local(operation: string, args: unknown): Promise<any> {
    const { outcome } = await dispatch(t.env.rt, { principal, door: 'system', operation, args });
    if (!outcome.ok) throw new Error(`${operation}: ${outcome.error.message}`);
    return outcome.output;
  }

  it('two server processes finalizing at the same moment never share or skip a number', async () => {
    await local('create_customer', { external_id: 'race', name: 'Race Ltd', currency: 'EUR' });
    const drafts: string[] = [];
    for (let i = 0; i < 40; i++) {
      drafts.push(
        (
          await local('create_invoice', {
            customer_id: 'race',
            amount: `${i + 1}.00`,
            description: `Draft ${i}`,
          })
        ).invoice.id,
      );
    }
    const start = () => startServer(t.env.database, KEY, { BILLFOLD_OUTBOX_DIR: outbox });
    const [a, b] = await Promise.all([start(), start()]);
    servers.push(a!, b!);
    const work: Array<Promise<string>> = [];
    drafts.forEach((id, i) =>
      work.push((i % 2 ? a! : b!).call('finalize_invoice', { invoice_id: id }).then((r) => r.invoice.number)),
    );
    // Both servers also finalize each draft a second time at once: exactly one of them numbers it.
    drafts
      .slice(0, 10)
      .forEach((id, i) =>
        work.push(
          (i % 2 ? b! : a!).call('finalize_invoice', { invoice_id: id }).then((r) => r.invoice.number),
        ),
      );
    for (let i = 0; i < 20; i++) {
      work.push(
        (i % 2 ? a! : b!)
          .call('create_invoice', {
            customer_id: 'race',
            amount: '1.00',
            description: `Direct ${i}`,
            status: 'finalized',
          })
          .then((r) => r.invoice.number),
      );
    }
    const numbers = await Promise.all(work);
    const unique = [...new Set(numbers)];
    expect(unique).toHaveLength(60);
    const seqs = unique.map((n) => Number(n.split('-').pop())).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    const stored = await t.env.rt.db.kysely
      .selectFrom('invoices')
      .select(['number', 'status'])
      .where('organization_id', '=', principal.organizationId)
      .execute();
    expect(stored.filter((r) => r.status === 'finalized')).toHaveLength(60);
  }, 120_000);

  it('a finalization that rolls back gives its number back', async () => {
    const { invoice: first } = await local('create_invoice', {
      customer_id: 'race',
      amount: '5',
      description: 'Rolled back',
    });
    const { invoice: second } = await local('create_invoice', {
      customer_id: 'race',
      amount: '6',
      description: 'Kept',
    });
    const numbered = (await local('list_invoices', { status: 'finalized', per_page: 100 }))
      .invoices as Array<{ number: string }>;
    const next = Math.max(...numbered.map((i) => Number(i.number.split('-').pop()))) + 1;
    await expect(
      t.env.rt.db.kysely.transaction().execute(async (trx) => {
        const ctx = createServiceContext(t.env.rt, trx, principal, 'system', 'req_rollback');
        const { invoice } = await finalizeInvoice(ctx, first.id);
        expect(Number(invoice.number!.split('-').pop())).toBe(next);
        throw new Error('the mail server refused the message');
      }),
    ).rejects.toThrow('refused');
    expect((await local('get_invoice', { invoice_id: first.id })).invoice).toMatchObject({
      status: 'draft',
      number: null,
    });
    const kept = (await local('finalize_invoice', { invoice_id: second.id })).invoice.number as string;
    expect(Number(kept.split('-').pop())).toBe(next);
  });
});
