#!/usr/bin/env node
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../../config.js';
import { isPostgresUrl } from '../../db/connection.js';
import { migrateToLatest } from '../../db/migrate.js';
import { BillfoldError } from '../../domain/errors.js';
import { VERSION } from '../../version.js';
import { authenticate } from '../auth.js';
import { bootstrap, localPrincipal } from '../bootstrap.js';
import { dispatch } from '../dispatch.js';
import { isLoopback } from '../http/guard.js';
import { createHttpServer, listen } from '../http/server.js';
import { serveStdio } from '../mcp/stdio.js';
import { createRuntime, type Runtime } from '../runtime.js';
import { keysCommand, orgsCommand } from './admin.js';
import { argsToInput, CliError } from './args.js';
import { bill, startBillingScheduler } from './bill.js';
import { watchThresholds } from '../../services/billing/threshold-watch.js';
import { loadDemo, loadDemoCustomers } from './demo.js';
import { startWebhookDispatcher, webhooksCommand } from './webhooks.js';
import { conformanceSurfaces } from '../mcp/fixtures.js';
import { checkProfile, findProfile, PROFILES } from '../mcp/profiles/registry.js';

const HELP = `billfold ${VERSION} — billing and invoicing over MCP, HTTP and this CLI

Usage: billfold <command> [options]

Server
  serve [--host H] [--port P] [--database D]   HTTP: MCP at /mcp and /sse (each profile at
        [--profile P]                          /mcp/<profile>, /sse/<profile>), API at /api/v1 (default);
                                               --profile prints that profile's Claude Desktop entry
  stdio [--database D] [--profile P]           MCP over stdin/stdout, for desktop assistants
        serve and stdio also take [--toolsets customers,invoices,...] [--read-only]
  migrate [--database D]                       bring the database schema up to date

Administration
  keys create [--name N] [--scopes read,write,admin | --platform] [--expires-in-days N]
  keys list
  keys revoke <key id or prefix>
        keys takes [--organization ORG] for another organization than the default one
  orgs create --name NAME [--external-id ID] [--json]   an organization and its first admin key
  orgs list [--status active|disabled] [--search TEXT]
  orgs update [<organization>] [--name NAME] [--external-id ID | --clear-external-id]
                                               rename it or set its external id (default: the default one)
  orgs disable <organization>                  refuse its keys and tokens; nothing is deleted
  orgs enable <organization>
  demo [--customers]                           load sample customers and data (--customers: only
                                               the ten sample customers of the customer profile)
  bill [--at TIMESTAMP]                        invoice every subscription period due by then (default now)
  webhooks deliver                             send every webhook delivery that is due, once
  operations                                   list every operation

Operations (the same ones MCP and the HTTP API serve)
  <operation> [--field value ...] [--json '{...}']
      e.g. billfold create_customer --external_id acme-001 --name "Acme" --currency USD
           billfold list_customers --search acme

Configuration comes from BILLFOLD_* environment variables (see README); flags override them.
`;

async function main(argv: string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv;
  // A one-shot command's output is its answer; routine log lines would only bury it.
  if (!['serve', 'stdio'].includes(command) && !process.env.BILLFOLD_LOG_LEVEL)
    process.env.BILLFOLD_LOG_LEVEL = 'warn';
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === '--version' || command === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'stdio':
      return stdio(rest);
    case 'migrate':
      return migrate(rest);
    case 'keys':
      return keysCommand(rest);
    case 'orgs':
      return orgsCommand(rest);
    case 'bill':
      return bill(rest);
    case 'webhooks':
      return webhooksCommand(rest);
    case 'demo': {
      const customersOnly = rest.includes('--customers');
      return withRuntime(
        rest.filter((a) => a !== '--customers'),
        async (rt, principal) => {
          if (customersOnly) {
            const { added, total } = await loadDemoCustomers(rt, principal);
            process.stdout.write(
              added
                ? `Loaded ${added} of the ${total} sample customers (external ids 1 to ${total}).\n`
                : `The ${total} sample customers are loaded already; nothing was added.\n`,
            );
            return 0;
          }
          const loaded = await loadDemo(rt, principal);
          process.stdout.write(`Loaded demo data: ${loaded.join(', ')}.\n`);
          return 0;
        },
      );
    }
    case 'operations':
      return withRuntime(rest, async (rt) => {
        for (const op of rt.catalogue.operations) {
          process.stdout.write(`${op.name.padEnd(28)} ${op.scope.padEnd(8)} ${op.title}\n`);
        }
        return 0;
      });
    default:
      return runOperation(command.replace(/-/g, '_'), rest);
  }
}

type Flag = 'host' | 'port' | 'database' | 'profile' | 'toolsets' | 'read-only';

/** --database/--host/--port/--profile/--toolsets/--read-only flags over the environment. */
function configFrom(args: string[], allowed: Flag[]): { config: Config; rest: string[] } {
  const { values, positionals } = parseArgs({
    args,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      database: { type: 'string' },
      profile: { type: 'string' },
      toolsets: { type: 'string' },
      'read-only': { type: 'boolean' },
    },
    allowPositionals: true,
    strict: false,
  });
  const overrides: Partial<Config> = {};
  for (const k of Object.keys(values)) {
    if (!(allowed as string[]).includes(k)) throw new CliError(`unknown option --${k}`);
  }
  if (typeof values.host === 'string') overrides.host = values.host;
  if (typeof values.port === 'string') {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new CliError(`--port must be 0-65535 (got ${values.port})`);
    overrides.port = port;
  }
  if (typeof values.database === 'string') overrides.database = values.database;
  if (typeof values.profile === 'string') overrides.profile = values.profile.trim().toLowerCase();
  if (typeof values.toolsets === 'string')
    overrides.toolsets = values.toolsets
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
  if (values['read-only'] === true) overrides.readOnly = true;
  for (const k of ['profile', 'toolsets'] as const) {
    if (k in values && typeof values[k] !== 'string') throw new CliError(`--${k} needs a value`);
  }
  const config = loadConfig(process.env, overrides);
  checkProfile(config.profile, overrides.profile ? '--profile' : 'BILLFOLD_PROFILE');
  return { config, rest: positionals };
}

async function withRuntime(
  args: string[],
  fn: (rt: Runtime, principal: ReturnType<typeof localPrincipal>) => Promise<number>,
): Promise<number> {
  const { config } = configFrom(args, ['database']);
  const rt = await createRuntime(config);
  try {
    const boot = await bootstrap(rt, { createAdminKey: false });
    return await fn(rt, localPrincipal(boot.organizationId, 'cli'));
  } finally {
    await rt.close();
  }
}

async function serve(args: string[]): Promise<number> {
  const { config } = configFrom(args, ['host', 'port', 'database', 'profile', 'toolsets', 'read-only']);
  const rt = await createRuntime(config);
  const boot = await bootstrap(rt, { createAdminKey: true });
  const server = createHttpServer(rt, { mcpExtras: config.conformanceFixtures ? conformanceSurfaces : [] });
  const running = await listen(rt, server, config.host, config.port);
  const base = config.publicUrl ?? running.url;
  const out: string[] = [
    `Billfold ${VERSION} is serving ${boot.organizationName} (${boot.organizationId}).`,
    `  MCP (Streamable HTTP)  ${base}/mcp`,
    `  MCP (legacy SSE)       ${base}/sse`,
    ...profileLines(base, config.profile),
    `  HTTP API               ${base}/api/v1/<operation>   OpenAPI: ${base}/api/v1/openapi.json`,
    `  Health                 ${base}/health   Metrics: ${base}/metrics`,
    `  Database               ${rt.db.dialect} ${rt.db.location}`,
  ];
  if (boot.newAdminKey) {
    out.push(
      '',
      'Admin API key (shown once; store it now):',
      `  ${boot.newAdminKey}`,
      '',
      'Use it as "Authorization: Bearer <key>" on /mcp, /sse and /api/v1.',
    );
  } else if (boot.bootstrapKeyRegistered) {
    out.push('', 'Registered BILLFOLD_BOOTSTRAP_API_KEY as an admin key.');
  }
  const profile = findProfile(config.profile)?.name;
  out.push(
    '',
    `Claude Desktop (stdio${profile ? `, profile ${profile}` : ''}) — add to claude_desktop_config.json:`,
    JSON.stringify(claudeDesktopConfig(rt, profile), null, 2),
  );
  // Listen for the stop signal before the banner tells anyone the server is up.
  const stopped = waitForSignal();
  process.stdout.write(`${out.join('\n')}\n`);
  if (!isLoopback(config.host) && config.allowedHosts.length === 0) {
    rt.logger.warn(
      { host: config.host },
      'listening beyond loopback without BILLFOLD_ALLOWED_HOSTS: any Host header is accepted',
    );
  }
  rt.disposers.push(() => running.close());
  startHousekeeping(rt);
  startBillingScheduler(rt);
  rt.disposers.push(watchThresholds(rt));
  startWebhookDispatcher(rt);
  await stopped;
  rt.logger.info('shutting down');
  await rt.close();
  return 0;
}

/**
 * The banner's seed profiles: every one has its paths over HTTP, named in one line; the one chosen
 * with --profile (or BILLFOLD_PROFILE) gets its own lines, as README's sections give them.
 */
function profileLines(base: string, chosen: string): string[] {
  const profile = findProfile(chosen);
  const line = (label: string, text: string) => `  ${label.padEnd(23)}${text}`;
  const paths = `${base}/mcp/<profile>, ${base}/sse/<profile>`;
  if (!profile) return [line('Seed profiles', `${paths}: ${PROFILES.map((p) => p.name).join(', ')}`)];
  const others = PROFILES.filter((p) => p !== profile).map((p) => p.name);
  return [
    line(`Profile ${profile.name}`, `${base}/mcp/${profile.name}   legacy SSE: ${base}/sse/${profile.name}`),
    line('Other profiles', `${paths}: ${others.join(', ')}`),
  ];
}

/**
 * The Claude Desktop entry that runs this installation over stdio: `billfold`, or with a profile
 * the entry README gives for it (named after the profile, `stdio --profile <name>`).
 */
function claudeDesktopConfig(rt: Runtime, profile?: string) {
  const script = fileURLToPath(import.meta.url);
  const database = isPostgresUrl(rt.config.database)
    ? maskPassword(rt.config.database)
    : resolve(rt.db.location);
  const main = script.endsWith('.ts')
    ? script.replace(/\/src\//, '/dist/src/').replace(/\.ts$/, '.js')
    : script;
  return {
    mcpServers: {
      [profile ?? 'billfold']: {
        command: process.execPath,
        args: profile ? [main, 'stdio', '--profile', profile] : [main, 'stdio'],
        env: { BILLFOLD_DATABASE: database },
      },
    },
  };
}

/** The configuration snippet is printed: a database password must not be. */
function maskPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '<password>';
    return u.toString().replace('%3Cpassword%3E', '<password>');
  } catch {
    return url;
  }
}

/** Daily: drop API log entries and finished webhook deliveries past their retention. */
function startHousekeeping(rt: Runtime): void {
  const run = async () => {
    const cutoff = rt.now() - rt.config.apiLogRetentionDays * 86_400_000;
    const { pruneApiLogs } = await import('../../services/api-logs.js');
    const n = await pruneApiLogs(rt.db.kysely, cutoff).catch(() => 0);
    if (n) rt.logger.info({ removed: n }, 'pruned API logs');
    const { pruneDeliveries } = await import('../../services/webhooks/deliveries.js');
    const d = await pruneDeliveries(
      rt.db.kysely,
      rt.now() - rt.config.webhookRetentionDays * 86_400_000,
    ).catch(() => 0);
    if (d) rt.logger.info({ removed: d }, 'pruned webhook deliveries');
  };
  const timer = setInterval(() => void run(), 86_400_000);
  timer.unref();
  void run();
  rt.disposers.push(() => clearInterval(timer));
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

async function stdio(args: string[]): Promise<number> {
  const { config } = configFrom(args, ['database', 'profile', 'toolsets', 'read-only']);
  const rt = await createRuntime(config);
  const boot = await bootstrap(rt, { createAdminKey: false });
  // With BILLFOLD_API_KEY the assistant gets that key's organization and scopes (least
  // privilege); without it, the local operator's full access to the default organization.
  const principal = process.env.BILLFOLD_API_KEY
    ? await authenticate(rt, { authorization: `Bearer ${process.env.BILLFOLD_API_KEY}` })
    : localPrincipal(boot.organizationId);
  await serveStdio(rt, principal, config.conformanceFixtures ? conformanceSurfaces : [], config.profile);
  await rt.close();
  return 0;
}

async function migrate(args: string[]): Promise<number> {
  const { config } = configFrom(args, ['database']);
  const rt = await createRuntime(config, { migrate: false });
  try {
    const applied = await migrateToLatest(rt.db);
    process.stdout.write(
      applied.length ? `Applied: ${applied.join(', ')}\n` : 'The database is up to date.\n',
    );
    return 0;
  } finally {
    await rt.close();
  }
}

async function runOperation(name: string, args: string[]): Promise<number> {
  const dbIndex = args.indexOf('--database');
  const dbArgs = dbIndex >= 0 ? args.splice(dbIndex, 2) : [];
  return withRuntime(dbArgs, async (rt, principal) => {
    const op = rt.catalogue.get(name);
    if (!op) {
      const s = rt.catalogue.suggest(name);
      throw new CliError(
        `unknown command '${name}'${s.length ? `; did you mean ${s.join(' or ')}?` : ''} (billfold --help)`,
      );
    }
    const { outcome } = await dispatch(rt, {
      principal,
      door: 'cli',
      operation: name,
      args: argsToInput(op, args),
    });
    if (outcome.ok) {
      process.stdout.write(`${JSON.stringify(outcome.output, null, 2)}\n`);
      return 0;
    }
    process.stderr.write(`${JSON.stringify({ error: outcome.error }, null, 2)}\n`);
    return 1;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof CliError || e instanceof ConfigError) process.stderr.write(`billfold: ${e.message}\n`);
    else if (e instanceof BillfoldError)
      process.stderr.write(`billfold: ${e.message}${e.hint ? `\n${e.hint}` : ''}\n`);
    else process.stderr.write(`billfold: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
