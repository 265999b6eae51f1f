import { createHash } from 'node:crypto';
import * as z from 'zod';
import { ID_PREFIX } from '../../src/domain/ids.js';
import { localPrincipal } from '../../src/interfaces/bootstrap.js';
import { loadDemo } from '../../src/interfaces/cli/demo.js';
import type { TestEnvironment } from './environment.js';

/**
 * What tenant-isolation probes share: an organization's rows and their digest (to see that
 * nothing of it changed), and the references to its objects found in those rows (to send them
 * from another organization and to recognise them in its answers).
 */

export type Refs = Map<string, Set<string>>;

/** A's data: every row of every table that belongs to an organization, and a digest of it. */
export async function organizationRows(
  db: import('kysely').Kysely<any>,
  organizationId: string,
): Promise<Record<string, Record<string, unknown>[]>> {
  const tables = (await db.introspection.getTables()).filter((t) =>
    t.columns.some((c) => c.name === 'organization_id'),
  );
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const t of tables.sort((a, b) => a.name.localeCompare(b.name))) {
    const cols = t.columns.map((c) => c.name).sort();
    out[t.name] = (
      await db
        .selectFrom(t.name)
        .select(cols)
        .where('organization_id', '=', organizationId)
        .orderBy(cols.includes('id') ? 'id' : cols[0]!)
        .execute()
    ).map((r) => Object.fromEntries(cols.map((c) => [c, r[c] === null ? null : String(r[c])])));
  }
  return out;
}

export function digest(rows: Record<string, Record<string, unknown>[]>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(rows).map(([t, r]) => [
      t,
      `${r.length}:${createHash('sha1').update(JSON.stringify(r)).digest('hex')}`,
    ]),
  );
}

/** The id kind a Billfold id is of, from its prefix (cus_… → customer). */
const KIND_BY_PREFIX = new Map<string, string>(
  Object.entries(ID_PREFIX).map(([kind, prefix]) => [prefix, kind]),
);
export function kindOf(id: string): string | undefined {
  const m = /^([a-z]+)_[0-9A-HJKMNP-TV-Z]{26}$/.exec(id);
  return m ? KIND_BY_PREFIX.get(m[1]!) : undefined;
}

/**
 * Which of A's references each input field may take: a `customer_id` gets A's customer ids and
 * external ids, an `invoice_id` its invoice ids and numbers, a `code` every code, and so on —
 * found from the rows themselves, so a new table is covered as well.
 */
export function referencesOf(rows: Record<string, Record<string, unknown>[]>): {
  refs: Refs;
  ids: Set<string>;
  secrets: Set<string>;
} {
  const refs: Refs = new Map();
  const ids = new Set<string>();
  // What only A's rows hold and no call of B sends: names and addresses of its objects
  // (with a space or an @, so a name that is a word of the API itself, such as a field, is not one).
  const secrets = new Set<string>();
  const add = (field: string, v: unknown) => {
    if (typeof v !== 'string' || v.length === 0 || v.length > 120) return;
    if (!refs.has(field)) refs.set(field, new Set());
    refs.get(field)!.add(v);
  };
  for (const table of Object.values(rows)) {
    for (const row of table) {
      const id = typeof row.id === 'string' ? row.id : undefined;
      const kind = id ? kindOf(id) : undefined;
      if (id && kind) ids.add(id);
      for (const [col, v] of Object.entries(row)) {
        if (typeof v !== 'string') continue;
        const k = kindOf(v);
        if (k) {
          ids.add(v);
          add(`${k}_id`, v);
        }
        if (col.endsWith('_id') && col !== 'organization_id') add(col, v);
        if (
          kind &&
          ['external_id', 'code', 'number', 'external_customer_id', 'transaction_id'].includes(col)
        ) {
          add(`${kind}_id`, v);
          add(col, v);
        }
        if (col === 'code' || col.endsWith('_code')) add('code', v);
        if (
          ['name', 'email', 'legal_name', 'firstname', 'lastname', 'address_line1'].includes(col) &&
          v.length >= 8 &&
          /[ @]/.test(v)
        )
          secrets.add(v);
      }
    }
  }
  // Names the catalogue gives some references.
  const alias: Record<string, string> = {
    request_id: 'api_log_id',
    activity_id: 'activity_id',
    metric_code: 'code',
    billable_metric_code: 'code',
    plan_code: 'code',
    coupon_code: 'code',
    endpoint_id: 'webhook_endpoint_id',
    delivery_id: 'webhook_delivery_id',
    alert_id: 'usage_alert_id',
    external_subscription_id: 'subscription_id',
    external_customer_id: 'customer_id',
    number: 'invoice_id',
  };
  for (const [from, to] of Object.entries(alias)) for (const v of refs.get(to) ?? []) add(from, v);
  return { refs, ids, secrets };
}

export function unwrap(s: z.ZodType): z.ZodType {
  let cur = s;
  for (let i = 0; i < 10; i++) {
    if (cur instanceof z.ZodOptional || cur instanceof z.ZodNullable || cur instanceof z.ZodDefault)
      cur = cur.unwrap() as z.ZodType;
    else if (cur instanceof z.ZodPipe) cur = cur.in as z.ZodType;
    else break;
  }
  return cur;
}

/**
 * Organization A, filled with the demo data, as the probes find it: its rows (to compare after)
 * and the references, ids and secrets found in them, less the probes' own names.
 */
export async function demoTenant(env: TestEnvironment) {
  const a = await env.newOrganization(['admin'], 'Tenant A');
  await loadDemo(env.rt, { ...localPrincipal(a.id), scopes: new Set(['read', 'write', 'admin']) });
  const db = env.rt.db.kysely;
  const before = await organizationRows(db, a.id);
  const { refs, ids, secrets } = referencesOf(before);
  for (const own of ['Tenant A', 'Tenant B', 'Probe']) secrets.delete(own);
  return { a, db, before, refs, ids, secrets };
}
