import { expect, it } from 'vitest';
import * as z from 'zod';
import type { AnyOperation } from '../../src/operations/define.js';
import { httpApiDoor } from '../harness/doors.js';
import { describeDatabases } from '../harness/suite.js';
import { demoTenant, digest, organizationRows, unwrap, type Refs } from '../harness/tenancy.js';

/**
 * Tenant isolation, generated from the catalogue: every operation — one added later included,
 * with no test written for it — is called by an admin of organization B with organization A's
 * ids, external ids, codes and numbers in every field that takes a reference. Whatever it
 * answers, no answer of B holds an id of A (no read, list or aggregate crosses), and A's rows
 * are exactly as they were (no write or delete crosses). The hand-written probe beside it
 * (tenancy.test.ts) checks a few answers in detail; this one leaves no operation out.
 */

/** A plausible value for a field that is not a reference, so the call gets past validation. */
const PLAIN: Record<string, unknown> = {
  name: 'Probe',
  email: 'probe@b.example',
  currency: 'USD',
  country: 'FR',
  timezone: 'UTC',
  amount: '1',
  unit_amount: '1',
  quantity: '1',
  rate: '1',
  url: 'https://b.example/hook',
};
function plainValue(field: string, schema: z.ZodType): unknown {
  if (field in PLAIN) return PLAIN[field];
  const s = unwrap(schema);
  if (s instanceof z.ZodEnum) return s.options[0];
  if (s instanceof z.ZodLiteral) return [...s.values][0];
  if (s instanceof z.ZodBoolean) return false;
  if (s instanceof z.ZodNumber) return 1;
  if (s instanceof z.ZodArray) return [];
  if (s instanceof z.ZodObject) return {};
  if (s instanceof z.ZodString)
    return field.endsWith('_at') || field.endsWith('date') ? new Date().toISOString() : 'probe';
  return undefined;
}

/** The calls to make: for each reference field, each of A's references in it, one at a time. */
function callsFor(op: AnyOperation, refs: Refs): Array<Record<string, unknown>> {
  const shape = op.input.shape as Record<string, z.ZodType>;
  const base: Record<string, unknown> = {};
  const refFields: Array<[string, string[], boolean]> = [];
  for (const [field, schema] of Object.entries(shape)) {
    const singular = field.endsWith('_ids') ? `${field.slice(0, -4)}_id` : field;
    const values = [...(refs.get(singular) ?? [])];
    const isArray = unwrap(schema) instanceof z.ZodArray;
    if (values.length) {
      refFields.push([field, values, isArray]);
      base[field] = isArray ? [values[0]] : values[0];
    } else if (!schema.safeParse(undefined).success) {
      base[field] = plainValue(field, schema);
    }
  }
  const calls = [base];
  for (const [field, values, isArray] of refFields)
    for (const v of values.slice(1, 12)) calls.push({ ...base, [field]: isArray ? [v] : v });
  return calls;
}

describeDatabases('tenant isolation of every operation', (t) => {
  it(
    "lets no operation called by another organization read, list, aggregate, change or delete A's data",
    { timeout: 900_000 },
    async () => {
      const { a, db, before, refs, ids, secrets } = await demoTenant(t.env);
      expect(ids.size).toBeGreaterThan(20);

      const b = await t.env.newOrganization(['admin'], 'Tenant B');
      const door = httpApiDoor(t.env, b.key);
      const leaks: string[] = [];
      const crashes: string[] = [];
      let probed = 0;
      try {
        for (const op of t.env.rt.catalogue.operations) {
          for (const args of callsFor(op, refs)) {
            const r = await door.call(op.name, args);
            probed++;
            if (r.ok) {
              const text = JSON.stringify(r.data);
              const sent = JSON.stringify(args);
              for (const secret of secrets)
                if (text.includes(secret)) leaks.push(`${op.name}(${sent}) → ${secret}`);
              // An id of A in B's answer is a leak unless B sent it: in this call, or in an
              // earlier one whose rows (B's own, such as its API log) hold it as B wrote it.
              const unsent = [...ids].filter((id) => text.includes(id) && !sent.includes(id));
              if (unsent.length) {
                const bRows = JSON.stringify(await organizationRows(db, b.id));
                for (const id of unsent) if (!bRows.includes(id)) leaks.push(`${op.name}(${sent}) → ${id}`);
              }
            } else if (r.error.code === 'INTERNAL_ERROR') {
              crashes.push(`${op.name}(${JSON.stringify(args)}): ${r.error.message}`);
            }
          }
          if (!op.annotations.readOnlyHint) {
            // Checked after every writing operation, so a crossing names the operation that made it.
            const now = digest(await organizationRows(db, a.id));
            expect(now, `${op.name} changed organization A's data`).toEqual(digest(before));
          }
        }
      } finally {
        await door.close();
      }
      expect(leaks, 'answers to B that hold data of A').toEqual([]);
      // Nor did any write of B copy A's data into B's own rows.
      const bRows = JSON.stringify(await organizationRows(db, b.id));
      expect([...secrets].filter((secret) => bRows.includes(secret))).toEqual([]);
      expect(crashes, 'calls that failed unexpectedly').toEqual([]);
      expect(probed).toBeGreaterThan(t.env.rt.catalogue.operations.length);
    },
  );
});
