import { parseArgs } from 'node:util';
import { CliError } from './args.js';

/**
 * node:util's parseArgs for one administration command, with its errors reworded for a person
 * at a terminal (Node's own name no command and print as a stack): what was wrong, what the
 * command takes, and its usage line.
 */
export type FlagOptions = Record<string, { type: 'string' | 'boolean' }>;
export type Flags = Record<string, string | boolean | undefined>;

export function parseFlags(
  command: string,
  usage: string,
  args: string[],
  options: FlagOptions,
): { values: Flags; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: values as Flags, positionals };
  } catch (e) {
    const err = e as Error & { code?: string };
    if (!err.code?.startsWith('ERR_PARSE_ARGS')) throw e;
    const flag = /'(-{1,2}[^' ]+)/.exec(err.message)?.[1] ?? '';
    const takes = Object.keys(options).map((o) => `--${o}`);
    const what =
      err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
        ? `unknown option ${flag}`
        : err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE'
          ? `${flag} needs a value`
          : err.message;
    throw new CliError(
      `${command}: ${what}; it takes ${takes.length ? takes.join(', ') : 'no options'}\nUsage: billfold ${usage}`,
    );
  }
}

/** A UTC time as a terminal shows it: 2026-03-01 12:00. */
export function shortTime(ms: number | null, none = '—'): string {
  return ms === null ? none : new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

/** Rows under a header, each column as wide as its widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
