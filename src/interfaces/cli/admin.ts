import { loadConfig } from '../../config.js';
import type { OrganizationsTable } from '../../db/schema.js';
import { createApiKey, listApiKeys, parseScopes, revokeApiKey } from '../../services/api-keys.js';
import type { Scope } from '../../services/context.js';
import { organizationView } from '../../services/organization-settings.js';
import {
  createOrganizationWithAdminKey,
  disableOrganization,
  enableOrganization,
  getOrganizationByRef,
  listOrganizations,
  updateOrganizationIdentity,
} from '../../services/organizations.js';
import { bootstrap } from '../bootstrap.js';
import { createRuntime, type Runtime } from '../runtime.js';
import { CliError } from './args.js';
import { parseFlags, shortTime, table, type FlagOptions, type Flags } from './flags.js';

/**
 * The administration commands that act on the database directly, on the server's machine:
 * `keys` (API keys) and `orgs` (the organizations of the installation). Each subcommand declares its own options, so a misspelt or misplaced one
 * is refused with what the subcommand takes.
 */
interface Subcommand {
  usage: string;
  /** How many arguments besides the options it takes (none unless said). */
  arguments?: number;
  options: FlagOptions;
  run(rt: Runtime, flags: Flags, positionals: string[]): Promise<number>;
}

const database: FlagOptions = { database: { type: 'string' } };

async function runSubcommand(
  command: string,
  subcommands: Record<string, Subcommand>,
  args: string[],
): Promise<number> {
  const [name, ...rest] = args;
  const sub = name ? subcommands[name] : undefined;
  if (!sub) {
    const usages = Object.values(subcommands).map((s) => `  billfold ${s.usage}`);
    throw new CliError(
      `${command} needs a subcommand: ${Object.keys(subcommands).join(', ')}${name ? ` (got '${name}')` : ''}\n${usages.join('\n')}`,
    );
  }
  const { values, positionals } = parseFlags(`${command} ${name}`, sub.usage, rest, {
    ...sub.options,
    ...database,
  });
  if (positionals.length > (sub.arguments ?? 0))
    throw new CliError(
      `${command} ${name}: unexpected argument '${positionals[sub.arguments ?? 0]}'\nUsage: billfold ${sub.usage}`,
    );
  const config = loadConfig(
    process.env,
    typeof values.database === 'string' ? { database: values.database } : {},
  );
  const rt = await createRuntime(config);
  try {
    return await sub.run(rt, values, positionals);
  } finally {
    await rt.close();
  }
}

function keyState(k: { revoked_at: number | null; expires_at: number | null }, now: number): string {
  if (k.revoked_at !== null) return 'revoked';
  return k.expires_at !== null && k.expires_at <= now ? 'expired' : 'active';
}

/**
 * The organization a `keys` subcommand acts for: the one `--organization` names (id or
 * external id), else the default organization.
 */
async function keysOrganization(rt: Runtime, flags: Flags): Promise<OrganizationsTable> {
  const boot = await bootstrap(rt, { createAdminKey: false });
  const ref = flags.organization as string | undefined;
  return getOrganizationByRef(rt.db.kysely, ref ?? boot.organizationId);
}

const organization: FlagOptions = { organization: { type: 'string' } };

const KEYS: Record<string, Subcommand> = {
  create: {
    usage:
      'keys create [--name N] [--scopes read,write,admin | --platform] [--expires-in-days N] [--organization ORG]',
    options: {
      name: { type: 'string' },
      scopes: { type: 'string' },
      platform: { type: 'boolean' },
      'expires-in-days': { type: 'string' },
      ...organization,
    },
    async run(rt, flags) {
      const org = await keysOrganization(rt, flags);
      const now = rt.now();
      let scopes: Scope[];
      if (flags.platform) {
        if (flags.scopes !== undefined)
          throw new CliError('--platform and --scopes do not go together: a platform key may do everything');
        // The operator's key belongs to the installation's own organization, never to a tenant.
        if (org.is_default !== 1)
          throw new CliError(
            `--platform makes a key of the default organization; leave out --organization (got '${String(flags.organization)}')`,
          );
        scopes = ['platform'];
      } else {
        scopes = parseScopes((flags.scopes as string | undefined) ?? 'read,write');
      }
      const daysText = flags['expires-in-days'] as string | undefined;
      const days = daysText === undefined ? undefined : Number(daysText);
      if (days !== undefined && (!Number.isInteger(days) || days < 1))
        throw new CliError(
          `--expires-in-days must be a whole number of days, at least 1 (got '${daysText}')`,
        );
      const { key, apiKey } = await createApiKey(rt.db.kysely, {
        organizationId: org.id,
        name: (flags.name as string | undefined) ?? (flags.platform ? 'platform key' : 'api key'),
        scopes,
        now,
        expiresAt: days ? now + days * 86_400_000 : null,
      });
      process.stdout.write(`${key}\n`);
      process.stderr.write(
        `Created ${apiKey.id} (${apiKey.prefix}…, scopes ${scopes.join(', ')}${
          apiKey.expires_at ? `, expires ${shortTime(apiKey.expires_at)} UTC` : ''
        }) for ${org.id}. The key is shown only now.\n`,
      );
      return 0;
    },
  },
  list: {
    usage: 'keys list [--organization ORG]',
    options: { ...organization },
    async run(rt, flags) {
      const org = await keysOrganization(rt, flags);
      const now = rt.now();
      const keys = await listApiKeys(rt.db.kysely, org.id);
      if (keys.length === 0) {
        process.stdout.write('No API keys. Create one with `billfold keys create --name <name>`.\n');
        return 0;
      }
      process.stdout.write(
        table(
          ['ID', 'PREFIX', 'SCOPES', 'STATE', 'EXPIRES (UTC)', 'LAST USED (UTC)', 'NAME'],
          keys.map((k) => [
            k.id,
            `${k.prefix}…`,
            k.scopes.join(','),
            keyState(k, now),
            shortTime(k.expires_at, 'never'),
            shortTime(k.last_used_at, 'never'),
            k.name,
          ]),
        ),
      );
      return 0;
    },
  },
  revoke: {
    usage: 'keys revoke <key id or prefix> [--organization ORG]',
    arguments: 1,
    options: { ...organization },
    async run(rt, flags, positionals) {
      const [ref, ...extra] = positionals;
      if (!ref || extra.length)
        throw new CliError('keys revoke needs one argument: the key id or its visible prefix');
      const org = await keysOrganization(rt, flags);
      const k = await revokeApiKey(rt.db.kysely, org.id, ref, rt.now());
      process.stdout.write(`Revoked ${k.id} (${k.prefix}…).\n`);
      return 0;
    },
  },
};

export function keysCommand(args: string[]): Promise<number> {
  return runSubcommand('keys', KEYS, args);
}

function orgState(o: OrganizationsTable): string {
  return o.disabled_at === null ? 'active' : `disabled ${shortTime(o.disabled_at)}`;
}

function oneOrganization(positionals: string[], command: string): string {
  const [ref, ...extra] = positionals;
  if (!ref || extra.length)
    throw new CliError(
      `orgs ${command} needs one argument: the organization's id (org_…) or its external id`,
    );
  return ref;
}

const ORGS: Record<string, Subcommand> = {
  create: {
    usage: 'orgs create --name NAME [--external-id ID] [--json]',
    options: { name: { type: 'string' }, 'external-id': { type: 'string' }, json: { type: 'boolean' } },
    async run(rt, flags) {
      const name = flags.name as string | undefined;
      if (name === undefined) throw new CliError('orgs create needs --name, e.g. --name "Acme Ltd"');
      await bootstrap(rt, { createAdminKey: false });
      const made = await createOrganizationWithAdminKey(rt.db.kysely, {
        name,
        externalId: flags['external-id'] as string | undefined,
        now: rt.now(),
      });
      const o = made.organization;
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({ organization: organizationView(o), api_key: made.apiKey, key: made.key }, null, 2)}\n`,
        );
      } else {
        process.stdout.write(
          `Organization ${o.id} "${o.name}"${o.external_id === null ? '' : ` (external id ${o.external_id})`}\n` +
            `Admin key ${made.apiKey.id}: ${made.key}\n`,
        );
      }
      process.stderr.write("The admin key is shown only now; give it to the organization's administrator.\n");
      return 0;
    },
  },
  list: {
    usage: 'orgs list [--status active|disabled] [--search TEXT]',
    options: { status: { type: 'string' }, search: { type: 'string' } },
    async run(rt, flags) {
      const status = flags.status as string | undefined;
      if (status !== undefined && status !== 'active' && status !== 'disabled')
        throw new CliError(`--status must be active or disabled (got '${status}')`);
      await bootstrap(rt, { createAdminKey: false });
      const { organizations } = await listOrganizations(rt.db.kysely, {
        status,
        search: (flags.search as string | undefined)?.trim() || undefined,
      });
      if (organizations.length === 0) {
        process.stdout.write('No organization matches.\n');
        return 0;
      }
      process.stdout.write(
        table(
          ['ID', 'EXTERNAL ID', 'STATE', 'CREATED (UTC)', 'NAME'],
          organizations.map((o) => [
            o.id,
            o.external_id ?? '—',
            `${orgState(o)}${o.is_default === 1 ? ' (default)' : ''}`,
            shortTime(o.created_at),
            o.name,
          ]),
        ),
      );
      return 0;
    },
  },
  update: {
    usage:
      'orgs update [<organization id or external id>] [--name NAME] [--external-id ID | --clear-external-id]',
    arguments: 1,
    options: {
      name: { type: 'string' },
      'external-id': { type: 'string' },
      'clear-external-id': { type: 'boolean' },
    },
    async run(rt, flags, positionals) {
      const externalId = flags['external-id'] as string | undefined;
      const clear = flags['clear-external-id'] === true;
      if (externalId !== undefined && clear)
        throw new CliError('orgs update takes --external-id or --clear-external-id, not both');
      const name = flags.name as string | undefined;
      if (name === undefined && externalId === undefined && !clear)
        throw new CliError(
          'orgs update needs --name, --external-id or --clear-external-id, e.g. orgs update --name "Acme Ltd"',
        );
      // Without an argument: the default organization, the one stdio and the CLI act for.
      const boot = await bootstrap(rt, { createAdminKey: false });
      const o = await updateOrganizationIdentity(
        rt.db.kysely,
        positionals[0] ?? boot.organizationId,
        { name, externalId: clear ? null : externalId },
        rt.now(),
      );
      process.stdout.write(
        `Organization ${o.id} "${o.name}"${o.external_id === null ? ' (no external id)' : ` (external id ${o.external_id})`}${o.is_default === 1 ? ', the default organization' : ''}\n`,
      );
      return 0;
    },
  },
  disable: {
    usage: 'orgs disable <organization id or external id>',
    arguments: 1,
    options: {},
    async run(rt, _flags, positionals) {
      const o = await disableOrganization(rt.db.kysely, oneOrganization(positionals, 'disable'), rt.now());
      process.stdout.write(
        `Disabled ${o.id} "${o.name}": its keys and tokens are refused; nothing was deleted (\`billfold orgs enable ${o.id}\` undoes it).\n`,
      );
      return 0;
    },
  },
  enable: {
    usage: 'orgs enable <organization id or external id>',
    arguments: 1,
    options: {},
    async run(rt, _flags, positionals) {
      const o = await enableOrganization(rt.db.kysely, oneOrganization(positionals, 'enable'), rt.now());
      process.stdout.write(`Enabled ${o.id} "${o.name}".\n`);
      return 0;
    },
  },
};

export function orgsCommand(args: string[]): Promise<number> {
  return runSubcommand('orgs', ORGS, args);
}
