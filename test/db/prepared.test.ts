import { afterAll, beforeAll, expect, it } from 'vitest';
import { prepared, preparedWrite } from '../../src/db/prepared.js';
import { describeDatabases } from '../harness/suite.js';

describeDatabases('prepared queries', (t) => {
  const byName = prepared((db, p: { org: string; name: string; limit: number }) =>
    db
      .selectFrom('organizations')
      .select(['id', 'name'])
      .where('id', '=', p.org)
      .where('name', '=', p.name)
      .limit(p.limit),
  );
  let a: { id: string };
  let b: { id: string };
  beforeAll(async () => {
    a = await t.env.newOrganization(['read'], 'Prepared A');
    b = await t.env.newOrganization(['read'], 'Prepared B');
  });
  afterAll(() => undefined);

  it('binds new values on every call and matches what the builder returns', async () => {
    const db = t.env.rt.db.kysely;
    expect(await byName(db, { org: a.id, name: 'Prepared A', limit: 5 })).toEqual([
      { id: a.id, name: 'Prepared A' },
    ]);
    expect(await byName(db, { org: b.id, name: 'Prepared B', limit: 5 })).toEqual([
      { id: b.id, name: 'Prepared B' },
    ]);
    expect(await byName(db, { org: a.id, name: 'Prepared B', limit: 5 })).toEqual([]);
    // Inside a transaction it runs on the transaction's connection.
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('organizations').set({ name: 'Renamed' }).where('id', '=', a.id).execute();
      expect(await byName(trx, { org: a.id, name: 'Renamed', limit: 1 })).toHaveLength(1);
    });
  });

  it('a prepared write answers how many rows it changed, so a compare-and-set knows whether it won', async () => {
    const rename = preparedWrite((db, p: { org: string; from: string; to: string }) =>
      db.updateTable('organizations').set({ name: p.to }).where('id', '=', p.org).where('name', '=', p.from),
    );
    const db = t.env.rt.db.kysely;
    expect(await rename(db, { org: b.id, from: 'Prepared B', to: 'Prepared B2' })).toBe(1);
    // The name read is stale now: the second writer changes nothing.
    expect(await rename(db, { org: b.id, from: 'Prepared B', to: 'Prepared B3' })).toBe(0);
    expect(await byName(db, { org: b.id, name: 'Prepared B2', limit: 1 })).toEqual([
      { id: b.id, name: 'Prepared B2' },
    ]);
    expect(await rename(db, { org: b.id, from: 'Prepared B2', to: 'Prepared B' })).toBe(1);
  });

  it('refuses a value that would shape the SQL instead of being bound', async () => {
    const bad = prepared((db, p: { column: string }) =>
      db.selectFrom('organizations').select(p.column as 'id'),
    );
    await expect(bad(t.env.rt.db.kysely, { column: 'id' })).rejects.toThrow(/outside a bound value/);
  });
});
