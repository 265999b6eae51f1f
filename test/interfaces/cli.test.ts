import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, describe, expect, it } from 'vitest';
import { keysCommand } from '../../src/interfaces/cli/admin.js';
import { runCli } from '../harness/doors.js';
import { createPostgresDatabase, PG_URL } from '../harness/environment.js';

const ROOT = join(import.meta.dirname, '..', '..');
/** Each case starts several CLI processes; on a busy two-core machine that takes a while. */
const SLOW = 120_000;
const dirs: string[] = [];
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'billfold-cli-'));
  dirs.push(dir);
  return join(dir, 'billfold.db');
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Starts `billfold serve` on a free port and resolves once it has printed its banner. */
function startServe(
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ output: string; url: string; stop(): Promise<number> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/interfaces/cli/main.ts'), 'serve', '--port', '0', ...args],
      {
        cwd: ROOT,
        env: { ...process.env, BILLFOLD_LOG_LEVEL: 'warn', ...env },
      },
    );
    let output = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${output}${stderr}`)), 20_000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      // The banner ends with the Claude Desktop configuration.
      if (/"mcpServers"[\s\S]*\n\}\n/.test(output)) {
        clearTimeout(timer);
        const url = /MCP \(Streamable HTTP\)\s+(\S+)\/mcp/.exec(output)![1]!;
        resolve({
          output,
          url,
          stop: () =>
            new Promise((done) => {
              child.removeAllListeners('exit');
              child.on('exit', (code) => done(code ?? -1));
              child.kill('SIGTERM');
            }),
        });
      }
    });
  });
}

async function verify(url: string, key: string): Promise<number> {
  return (
    await fetch(`${url}/api/v1/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: '{}',
    })
  ).status;
}

describe('billfold serve', () => {
  it(
    'on first run creates the organization and prints the admin key once, with a Claude Desktop config',
    { timeout: SLOW },
    async () => {
      const database = tempDb();
      const first = await startServe({ BILLFOLD_DATABASE: database });
      const key = /Admin API key \(shown once; store it now\):\n\s+(bfk_\w+)/.exec(first.output)?.[1];
      expect(key).toMatch(/^bfk_[0-9A-Za-z]{32}$/);
      expect(first.output).toContain(`${first.url}/mcp`);
      const config = JSON.parse(first.output.slice(first.output.indexOf('{'))) as any;
      expect(config.mcpServers.billfold.args.at(-1)).toBe('stdio');
      expect(config.mcpServers.billfold.env.BILLFOLD_DATABASE).toBe(database);
      expect(Object.keys(config.mcpServers)).toEqual(['billfold']);
      expect(first.output).toContain(
        `Seed profiles          ${first.url}/mcp/<profile>, ${first.url}/sse/<profile>: lago, orvion, marginfront, customers, cegid`,
      );
      expect((await fetch(`${first.url}/health`)).status).toBe(200);
      expect(await verify(first.url, key!)).toBe(200);
      expect(await first.stop()).toBe(0);

      const second = await startServe({ BILLFOLD_DATABASE: database });
      expect(second.output).not.toContain('Admin API key');
      expect(await verify(second.url, key!)).toBe(200);
      expect(await second.stop()).toBe(0);
    },
  );

  it(
    'registers BILLFOLD_BOOTSTRAP_API_KEY for scripts, and refuses one that is too short',
    { timeout: SLOW },
    async () => {
      const database = tempDb();
      const key = 'bfk_bootstrapbootstrapbootstrap00';
      const run = await startServe({ BILLFOLD_DATABASE: database, BILLFOLD_BOOTSTRAP_API_KEY: key });
      expect(run.output).toContain('Registered BILLFOLD_BOOTSTRAP_API_KEY');
      expect(run.output).not.toContain('Admin API key');
      expect(await verify(run.url, key)).toBe(200);
      expect(await run.stop()).toBe(0);
      const short = await runCli(['serve'], {
        BILLFOLD_DATABASE: database,
        BILLFOLD_BOOTSTRAP_API_KEY: 'short',
      });
      expect(short.code).toBe(1);
      expect(short.stderr).toContain('BILLFOLD_BOOTSTRAP_API_KEY must be at least 24 characters long');
    },
  );

  it(
    "with --profile prints that profile's endpoints and the Claude Desktop entry README gives for it",
    { timeout: SLOW },
    async () => {
      const database = tempDb();
      const run = await startServe({ BILLFOLD_DATABASE: database }, ['--profile', 'cegid']);
      const key = /Admin API key \(shown once; store it now\):\n\s+(bfk_\w+)/.exec(run.output)![1]!;
      expect(run.output).toContain(
        `  Profile cegid          ${run.url}/mcp/cegid   legacy SSE: ${run.url}/sse/cegid\n`,
      );
      expect(run.output).toContain(': lago, orvion, marginfront, customers\n');
      expect(run.output).toContain(
        'Claude Desktop (stdio, profile cegid) — add to claude_desktop_config.json:',
      );
      const config = JSON.parse(run.output.slice(run.output.indexOf('{'))) as any;
      expect(Object.keys(config.mcpServers)).toEqual(['cegid']);
      const entry = config.mcpServers.cegid;
      expect(entry.command).toBe(process.execPath);
      expect(entry.args[0]).toMatch(/dist\/src\/interfaces\/cli\/main\.js$/);
      expect(entry.args.slice(1)).toEqual(['stdio', '--profile', 'cegid']);
      expect(entry.env).toEqual({ BILLFOLD_DATABASE: database });

      // The endpoint it prints serves the profile's tools, and so does the entry's command line.
      const http = new Client({ name: 'cli-tests', version: '1' });
      await http.connect(
        new StreamableHTTPClientTransport(new URL(`${run.url}/mcp/cegid`), {
          requestInit: { headers: { authorization: `Bearer ${key}` } },
        }),
      );
      expect((await http.listTools()).tools.map((t) => t.name)).toContain('get_invoice_details');
      await http.close();
      expect(await run.stop()).toBe(0);
      const stdio = new Client({ name: 'cli-tests', version: '1' });
      await stdio.connect(
        new StdioClientTransport({
          command: process.execPath,
          args: ['--import', 'tsx', join(ROOT, 'src/interfaces/cli/main.ts'), ...entry.args.slice(1)],
          cwd: ROOT,
          env: { ...(process.env as Record<string, string>), BILLFOLD_LOG_LEVEL: 'warn', ...entry.env },
          stderr: 'pipe',
        }),
      );
      expect((await stdio.listTools()).tools.map((t) => t.name)).toContain('get_invoice_details');
      await stdio.close();

      // BILLFOLD_PROFILE does the same; a profile that does not exist stops the start.
      const lago = await startServe({ BILLFOLD_DATABASE: database, BILLFOLD_PROFILE: 'lago' });
      const lagoConfig = JSON.parse(lago.output.slice(lago.output.indexOf('{'))) as any;
      expect(Object.keys(lagoConfig.mcpServers)).toEqual(['lago']);
      expect(lagoConfig.mcpServers.lago.args.slice(1)).toEqual(['stdio', '--profile', 'lago']);
      expect(lago.output).toContain(`${lago.url}/mcp/lago`);
      expect(await lago.stop()).toBe(0);
      const wrong = await runCli(['serve', '--profile', 'sage'], { BILLFOLD_DATABASE: database });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain(
        "--profile: there is no profile 'sage'; the profiles are billfold, lago, orvion, marginfront, customers, cegid",
      );
    },
  );

  it('explains a bad flag or setting instead of starting', { timeout: SLOW }, async () => {
    const r = await runCli(['serve', '--port', 'eighty'], { BILLFOLD_DATABASE: tempDb() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--port must be 0-65535');
    const level = await runCli(['migrate'], { BILLFOLD_DATABASE: tempDb(), BILLFOLD_LOG_LEVEL: 'loud' });
    expect(level.code).toBe(1);
    expect(level.stderr).toContain('BILLFOLD_LOG_LEVEL must be one of');
    const font = await runCli(['serve'], {
      BILLFOLD_DATABASE: tempDb(),
      BILLFOLD_PDF_FONT: 'no/such/font.ttf',
    });
    expect(font.code).toBe(1);
    expect(font.stderr).toContain("BILLFOLD_PDF_FONT: cannot read the font file 'no/such/font.ttf' (ENOENT)");
  });
});

describe('billfold administration commands', () => {
  it(
    'names a wrong option or argument with what the command takes, never with a stack trace',
    { timeout: SLOW },
    async () => {
      const bogus = await runCli(['keys', 'create', '--bogus'], { BILLFOLD_DATABASE: tempDb() });
      expect(bogus.code).toBe(1);
      expect(bogus.stderr).toBe(
        'billfold: keys create: unknown option --bogus; it takes --name, --scopes, --platform, --expires-in-days, --organization, --database\n' +
          'Usage: billfold keys create [--name N] [--scopes read,write,admin | --platform] [--expires-in-days N] [--organization ORG]\n',
      );
      // The same checks in this process: they all fail before the database is opened.
      const refusal = (args: string[]) =>
        keysCommand(args).then(
          () => 'succeeded',
          (e: Error) => e.message,
        );
      expect(await refusal(['create', '--name'])).toContain('keys create: --name needs a value');
      expect(await refusal(['list', 'extra'])).toBe(
        "keys list: unexpected argument 'extra'\nUsage: billfold keys list [--organization ORG]",
      );
      expect(await refusal(['list', '--scopes', 'read'])).toContain(
        'keys list: unknown option --scopes; it takes --organization, --database',
      );
      expect(await refusal(['rotate'])).toContain(
        "keys needs a subcommand: create, list, revoke (got 'rotate')",
      );
      expect(await refusal([])).toContain('billfold keys revoke <key id or prefix>');
    },
  );

  it('migrates, manages keys and loads demo data', { timeout: SLOW }, async () => {
    const env = { BILLFOLD_DATABASE: tempDb() };
    const migrated = await runCli(['migrate'], env);
    expect(migrated.stdout).toContain('Applied: 001_foundation');
    expect((await runCli(['migrate'], env)).stdout).toContain('up to date');

    const created = await runCli(['keys', 'create', '--name', 'ci', '--scopes', 'read'], env);
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^bfk_/);
    expect(created.stderr).toContain('shown only now');
    const expiring = await runCli(['keys', 'create', '--name', 'temp', '--expires-in-days', '30'], env);
    expect(expiring.stderr).toMatch(/expires \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    const listed = await runCli(['keys', 'list'], env);
    expect(listed.stdout).toContain(key.slice(0, 12));
    expect(listed.stdout).not.toContain(key);
    const [header, ...rows] = listed.stdout.trimEnd().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual([
      'ID',
      'PREFIX',
      'SCOPES',
      'STATE',
      'EXPIRES (UTC)',
      'LAST USED (UTC)',
      'NAME',
    ]);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/read\s+active\s+never\s+never\s+ci$/);
    const in30Days = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    expect(rows[1]).toMatch(
      new RegExp(`read,write\\s+active\\s+${in30Days} \\d\\d:\\d\\d\\s+never\\s+temp$`),
    );
    const badScope = await runCli(['keys', 'create', '--scopes', 'root'], env);
    expect(badScope.code).toBe(1);
    expect(badScope.stderr).toContain("'root' is not a scope");
    expect((await runCli(['keys', 'revoke', key.slice(0, 12)], env)).stdout).toContain('Revoked');
    expect((await runCli(['keys', 'list'], env)).stdout).toMatch(/revoked\s+never\s+never\s+ci/);

    const demo = await runCli(['demo'], env);
    expect(demo.code).toBe(0);
    expect(demo.stdout).toMatch(/Loaded demo data: 1\d customers/);
    expect((await runCli(['demo'], env)).code).toBe(0);
    const list = await runCli(['list_customers', '--per_page', '100'], env);
    const customers = (JSON.parse(list.stdout) as { customers: Array<{ status: string }> }).customers;
    expect(customers.length).toBeGreaterThanOrEqual(10);
    expect(customers.filter((c) => c.status === 'disabled')).toHaveLength(1);
  });

  it(
    'runs any operation from flags, and fails with the error JSON and exit code 1',
    { timeout: SLOW },
    async () => {
      const env = { BILLFOLD_DATABASE: tempDb() };
      const made = await runCli(
        [
          'create_customer',
          '--external_id',
          'cli-1',
          '--name',
          'Cli Co',
          '--net_payment_term',
          '15',
          '--metadata',
          '{"a":"b"}',
        ],
        env,
      );
      expect(made.code).toBe(0);
      expect(JSON.parse(made.stdout).customer).toMatchObject({
        external_id: 'cli-1',
        net_payment_term: 15,
        metadata: { a: 'b' },
      });
      const viaJson = await runCli(['get-customer', '--json', '{"customer_id":"cli-1"}'], env);
      expect(JSON.parse(viaJson.stdout).customer.name).toBe('Cli Co');
      const missing = await runCli(['get_customer', '--customer_id', 'nope'], env);
      expect(missing.code).toBe(1);
      expect(JSON.parse(missing.stderr).error.code).toBe('NOT_FOUND');
      const unknownField = await runCli(['get_customer', '--id', 'x'], env);
      expect(unknownField.stderr).toContain("get_customer has no field 'id'; its fields are: customer_id");
      const unknown = await runCli(['get_custmer'], env);
      expect(unknown.stderr).toContain('did you mean get_customer');
      const audit = await runCli(['list_activity_logs', '--doors', '["cli"]'], env);
      expect(JSON.parse(audit.stdout).activity_logs[0]).toMatchObject({
        door: 'cli',
        activity_source: 'system',
        actor: { type: 'local' },
      });
    },
  );
});

describe.skipIf(!PG_URL)('billfold on PostgreSQL', () => {
  it('migrates and serves a postgres:// database', { timeout: SLOW }, async () => {
    const db = await createPostgresDatabase();
    try {
      const env = { BILLFOLD_DATABASE: db.url };
      expect((await runCli(['migrate'], env)).stdout).toContain('Applied: 001_foundation');
      const run = await startServe({
        ...env,
        BILLFOLD_BOOTSTRAP_API_KEY: 'bfk_pgpgpgpgpgpgpgpgpgpgpgpgpgpgpgpg',
      });
      // The banner names the server without credentials.
      expect(run.output).toMatch(/Database\s+postgres postgres:\/\/127\.0\.0\.1:5432\/billfold_test_\w+\n/);
      expect(await verify(run.url, 'bfk_pgpgpgpgpgpgpgpgpgpgpgpgpgpgpgpg')).toBe(200);
      expect(await run.stop()).toBe(0);
    } finally {
      await db.drop();
    }
  });
});
