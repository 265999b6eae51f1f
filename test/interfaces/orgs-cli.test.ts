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

    it(
      'renames an organization and sets or clears its external id, the default one included',
      { timeout: 60_000 },
      async () => {
        // The default organization, without naming it: its placeholder name and no external id.
        out = '';
        expect(
          await orgsCommand(['update', '--name', 'Nordlicht GmbH', '--external-id', 'idp-main', ...d()]),
        ).toBe(0);
        expect(out).toMatch(
          /^Organization org_\w+ "Nordlicht GmbH" \(external id idp-main\), the default organization\n$/,
        );
        const defaultId = /^Organization (org_\w+)/.exec(out)![1]!;
        out = '';
        await orgsCommand(['list', '--search', 'idp-main', ...d()]);
        expect(out).toContain(defaultId);
        expect(out).toMatch(/idp-main\s+active \(default\)/);
        expect(out).toContain('Nordlicht GmbH');

        // Another one by its external id: a new external id finds it, the old one no more.
        out = '';
        await orgsCommand(['update', 'org_2abc', '--external-id', 'org_9xyz', ...d()]);
        expect(out).toMatch(/"Acme Ltd" \(external id org_9xyz\)\n$/);
        expect(await refusal(orgsCommand(['update', 'org_2abc', '--name', 'X', ...d()]))).toContain(
          "organization 'org_2abc' was not found",
        );
        out = '';
        await orgsCommand(['update', 'org_9xyz', '--name', '  Acme Group  ', '--clear-external-id', ...d()]);
        expect(out).toMatch(/"Acme Group" \(no external id\)\n$/);
        out = '';
        await orgsCommand(['list', '--search', 'Acme Group', ...d()]);
        expect(out).toMatch(/—\s+active/);

        expect(await refusal(orgsCommand(['update', defaultId, '--external-id', 'idp-main', ...d()]))).toBe(
          'succeeded',
        );
        expect(
          await refusal(
            orgsCommand(['create', '--name', 'Third', '--external-id', 'third', ...d()]).then(() =>
              orgsCommand(['update', 'third', '--external-id', 'idp-main', ...d()]),
            ),
          ),
        ).toContain("external_id: an organization with external_id 'idp-main' already exists");
        expect(await refusal(orgsCommand(['update', ...d()]))).toContain(
          'orgs update needs --name, --external-id or --clear-external-id',
        );
        expect(
          await refusal(orgsCommand(['update', '--external-id', 'a', '--clear-external-id', ...d()])),
        ).toContain('--external-id or --clear-external-id, not both');
        expect(await refusal(orgsCommand(['update', '--name', '   ', ...d()]))).toContain(
          'name: must not be empty',
        );
        expect(await refusal(orgsCommand(['update', '--label', 'x', ...d()]))).toMatch(/label/);
        expect(await refusal(orgsCommand(['update', 'a', 'b', '--name', 'x', ...d()]))).toContain(
          "unexpected argument 'b'",
        );
      },
    );
  });
}
