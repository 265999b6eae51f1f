import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { keysCommand, orgsCommand } from '../../src/interfaces/cli/admin.js';
import { createPostgresDatabase, PG_URL } from '../harness/environment.js';

/** `billfold orgs` and `keys --organization/--platform`, run in this process against a real database. */
// As the CLI runs them for a person: its answer only, no routine log lines.
process.env.BILLFOLD_LOG_LEVEL ??= 'silent';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
});
afterEach(() => vi.restoreAllMocks());

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'succeeded',
    (e: Error) => e.message,
  );

for (const db of ['sqlite', 'postgres'] as const) {
  describe.skipIf(db === 'postgres' && !PG_URL)(`billfold orgs [${db}]`, () => {
    let database = '';
    const d = () => ['--database', database];

    it(
      'creates, lists, disables and enables organizations, and makes keys for them',
      { timeout: 60_000 },
      async () => {
        if (db === 'postgres') {
          const made = await createPostgresDatabase();
          database = made.url;
          cleanups.push(made.drop);
        } else {
          const dir = mkdtempSync(join(tmpdir(), 'billfold-orgs-'));
          database = join(dir, 'billfold.db');
          cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
        }
        expect(await orgsCommand(['create', '--name', 'Acme Ltd', '--external-id', 'org_2abc', ...d()])).toBe(
          0,
        );
        expect(out).toMatch(
          /^Organization org_\w+ "Acme Ltd" \(external id org_2abc\)\nAdmin key key_\w+: bfk_\w+\n$/,
        );
        expect(err).toContain('shown only now');

        expect(
          await refusal(orgsCommand(['create', '--name', 'Other', '--external-id', 'org_2abc', ...d()])),
        ).toContain("external_id: an organization with external_id 'org_2abc' already exists");
        expect(await refusal(orgsCommand(['create', ...d()]))).toContain('orgs create needs --name');
        expect(await refusal(orgsCommand(['list', '--status', 'gone', ...d()]))).toContain(
          "--status must be active or disabled (got 'gone')",
        );

        out = '';
        await orgsCommand(['list', ...d()]);
        expect(out).toMatch(/active \(default\)/);
        expect(out).toMatch(/org_2abc\s+active/);

        out = '';
        await keysCommand(['create', '--organization', 'org_2abc', '--scopes', 'read', ...d()]);
        expect(out).toMatch(/^bfk_/);
        out = '';
        await keysCommand(['list', '--organization', 'org_2abc', ...d()]);
        expect(out).toContain('first admin key');
        expect(out.trim().split('\n')).toHaveLength(3);

        expect(
          await refusal(keysCommand(['create', '--platform', '--organization', 'org_2abc', ...d()])),
        ).toContain('--platform makes a key of the default organization');
        expect(await refusal(keysCommand(['create', '--platform', '--scopes', 'admin', ...d()]))).toContain(
          '--platform and --scopes do not go together',
        );
        expect(await refusal(keysCommand(['create', '--scopes', 'platform', ...d()]))).toContain(
          "'platform' is not given by a scope list",
        );
        err = '';
        await keysCommand(['create', '--platform', ...d()]);
        expect(err).toContain('scopes platform');

        out = '';
        await orgsCommand(['disable', 'org_2abc', ...d()]);
        expect(out).toContain('its keys and tokens are refused; nothing was deleted');
        out = '';
        await orgsCommand(['list', '--status', 'disabled', ...d()]);
        expect(out).toContain('org_2abc');
        expect(out).not.toContain('(default)');
        expect(await refusal(orgsCommand(['disable', 'nobody', ...d()]))).toContain(
          "organization 'nobody' was not found",
        );
        expect(await refusal(orgsCommand(['disable', ...d()]))).toContain('orgs disable needs one argument');
        out = '';
        await orgsCommand(['enable', 'org_2abc', ...d()]);
        expect(out).toContain('Enabled');
        out = '';
        await orgsCommand(['list', '--status', 'disabled', ...d()]);
        expect(out).toBe('No organization matches.\n');
      },
    );
  });
}
