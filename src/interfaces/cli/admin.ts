import { loadConfig } from '../../config.js';
import { createApiKey, listApiKeys, parseScopes, revokeApiKey } from '../../services/api-keys.js';
import { bootstrap } from '../bootstrap.js';
import { createRuntime, type Runtime } from '../runtime.js';
import { CliError } from './args.js';
import { parseFlags, shortTime, table, type FlagOptions, type Flags } from './flags.js';

/**
 * The administration commands that act on the database directly, on the server's machine:
 * `keys` (API keys). Each subcommand declares its own options, so a misspelt or misplaced one
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

const KEYS: Record<string, Subcommand> = {
  create: {
    usage: 'keys create [--name N] [--scopes read,write,admin] [--expires-in-days N]',
    options: { name: { type: 'string' }, scopes: { type: 'string' }, 'expires-in-days': { type: 'string' } },
    async run(rt, flags) {
      const { organizationId } = await bootstrap(rt, { createAdminKey: false });
      const now = rt.now();
      const scopes = parseScopes((flags.scopes as string | undefined) ?? 'read,write');
      const daysText = flags['expires-in-days'] as string | undefined;
      const days = daysText === undefined ? undefined : Number(daysText);
      if (days !== undefined && (!Number.isInteger(days) || days < 1))
        throw new CliError(
          `--expires-in-days must be a whole number of days, at least 1 (got '${daysText}')`,
        );
      const { key, apiKey } = await createApiKey(rt.db.kysely, {
        organizationId,
        name: (flags.name as string | undefined) ?? 'api key',
        scopes,
        now,
        expiresAt: days ? now + days * 86_400_000 : null,
      });
      process.stdout.write(`${key}\n`);
      process.stderr.write(
        `Created ${apiKey.id} (${apiKey.prefix}…, scopes ${scopes.join(', ')}${
          apiKey.expires_at ? `, expires ${shortTime(apiKey.expires_at)} UTC` : ''
        }). The key is shown only now.\n`,
      );
      return 0;
    },
  },
  list: {
    usage: 'keys list',
    options: {},
    async run(rt) {
      const { organizationId } = await bootstrap(rt, { createAdminKey: false });
      const now = rt.now();
      const keys = await listApiKeys(rt.db.kysely, organizationId);
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
    usage: 'keys revoke <key id or prefix>',
    arguments: 1,
    options: {},
    async run(rt, _flags, positionals) {
      const [ref, ...extra] = positionals;
      if (!ref || extra.length)
        throw new CliError('keys revoke needs one argument: the key id or its visible prefix');
      const { organizationId } = await bootstrap(rt, { createAdminKey: false });
      const k = await revokeApiKey(rt.db.kysely, organizationId, ref, rt.now());
      process.stdout.write(`Revoked ${k.id} (${k.prefix}…).\n`);
      return 0;
    },
  },
};

export function keysCommand(args: string[]): Promise<number> {
  return runSubcommand('keys', KEYS, args);
}
