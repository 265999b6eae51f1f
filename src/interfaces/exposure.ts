import { ConfigError } from '../config.js';
import { BillfoldError } from '../domain/errors.js';
import type { Catalogue } from '../operations/catalogue.js';
import type { AnyOperation } from '../operations/define.js';

/**
 * Which tools this process offers: toolsets (`BILLFOLD_TOOLSETS`, `--toolsets`) keep only some
 * operation groups — 81 tools are more than many assistants choose among well — and read-only
 * mode (`BILLFOLD_READ_ONLY`, `--read-only`) keeps only the tools that read, whatever a key's
 * scopes. The same policy filters every tool list (the catalogue and every profile) and is
 * enforced once, in dispatch, for every door but the operator's own CLI.
 */
export interface Exposure {
  /** The toolsets exposed, by name; null when all are. */
  readonly toolsets: readonly string[] | null;
  readonly readOnly: boolean;
  /** Whether a tool of this group that does (or does not) only read is offered. */
  offers(group: string, readOnly: boolean): boolean;
  /** Why an operation may not be called here, or null when it may. */
  refusal(op: AnyOperation): BillfoldError | null;
}

/** `verify` and whatever else belongs to `system` stay, so a client can always check its connection. */
const ALWAYS = 'system';

/** Broader names people reach for, each standing for several groups. */
const ALIASES: Record<string, readonly string[]> = {
  metering: ['billable_metrics', 'usage_events', 'ai_costs'],
};

/** A group's toolset name: "AI costs" → ai_costs, "billable metrics" → billable_metrics. */
export function toolsetName(group: string): string {
  return group
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}

/** The toolsets a catalogue has, in the catalogue's order. */
export function toolsetsOf(catalogue: Catalogue): string[] {
  return [...new Set(catalogue.operations.map((op) => toolsetName(op.group)))];
}

export function createExposure(
  catalogue: Catalogue,
  options: { toolsets: readonly string[] | null; readOnly: boolean },
): Exposure {
  const known = toolsetsOf(catalogue);
  let chosen: Set<string> | null = null;
  if (options.toolsets) {
    chosen = new Set([ALWAYS]);
    for (const raw of options.toolsets) {
      const name = toolsetName(raw);
      const expanded = ALIASES[name] ?? [name];
      for (const n of expanded) {
        if (!known.includes(n)) {
          throw new ConfigError(
            `BILLFOLD_TOOLSETS: there is no toolset '${raw}'; the toolsets are ${known.join(', ')}` +
              ` (and ${Object.keys(ALIASES).join(', ')} for ${Object.values(ALIASES)
                .map((v) => v.join(' + '))
                .join('; ')})`,
          );
        }
        chosen.add(n);
      }
    }
  }
  const toolsets = chosen ? known.filter((n) => chosen.has(n)) : null;
  const inToolsets = (group: string) => !chosen || chosen.has(toolsetName(group));
  return {
    toolsets,
    readOnly: options.readOnly,
    offers: (group, readOnly) => inToolsets(group) && (readOnly || !options.readOnly),
    refusal(op) {
      if (!inToolsets(op.group)) {
        return new BillfoldError(
          'NOT_FOUND',
          `${op.name} is in the ${toolsetName(op.group)} toolset, which this server does not expose (toolsets: ${toolsets!.join(', ')})`,
          { operation: op.name, toolset: toolsetName(op.group), toolsets },
          `Add ${toolsetName(op.group)} to BILLFOLD_TOOLSETS (or --toolsets) to use it.`,
        );
      }
      if (options.readOnly && !op.annotations.readOnlyHint) {
        return new BillfoldError(
          'FORBIDDEN',
          `${op.name} changes data, and this server runs in read-only mode`,
          { operation: op.name, read_only: true },
          'Read-only mode (BILLFOLD_READ_ONLY=1 or --read-only) offers only tools that read; run a server without it to make changes.',
        );
      }
      return null;
    },
  };
}
