import type { AnyOperation } from '../../operations/define.js';
import { jsonSchemaOf } from '../mcp/catalogue-surface.js';

/**
 * Turns `--field value` flags into an operation's input, guided by the operation's JSON
 * Schema: integers and booleans are converted, arrays and objects are read as JSON, and
 * everything else — amounts included — stays a string so nothing passes through a float.
 */
export function argsToInput(op: AnyOperation, argv: string[]): Record<string, unknown> {
  const schema = jsonSchemaOf(op.input, 'input') as {
    properties?: Record<string, { type?: string | string[] }>;
  };
  const props = schema.properties ?? {};
  const input: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') {
      const text = argv[++i];
      if (text === undefined) throw new CliError('--json needs a JSON object');
      Object.assign(input, parseJson('--json', text));
      continue;
    }
    if (!arg.startsWith('--'))
      throw new CliError(`unexpected argument '${arg}'; pass fields as --name value`);
    let [name, value] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    name = name.replace(/-/g, '_');
    const prop = props[name];
    if (!prop) {
      throw new CliError(
        `${op.name} has no field '${name}'; its fields are: ${Object.keys(props).join(', ') || '(none)'}`,
      );
    }
    const types = typesOf(prop);
    if (value === undefined) {
      if (types.includes('boolean') && (argv[i + 1] === undefined || argv[i + 1]!.startsWith('--'))) {
        input[name] = true;
        continue;
      }
      value = argv[++i];
      if (value === undefined) throw new CliError(`--${name} needs a value`);
    }
    input[name] = convert(name, value, types);
  }
  return input;
}

interface JsonSchemaNode {
  type?: string | string[];
  anyOf?: JsonSchemaNode[];
  oneOf?: JsonSchemaNode[];
}

/** Every JSON type a property accepts, through nullable and union wrappers. */
function typesOf(node: JsonSchemaNode): string[] {
  const own = Array.isArray(node.type) ? node.type : node.type ? [node.type] : [];
  return [...own, ...(node.anyOf ?? []).flatMap(typesOf), ...(node.oneOf ?? []).flatMap(typesOf)];
}

function convert(name: string, value: string, types: string[]): unknown {
  if (types.includes('array') || types.includes('object')) return parseJson(`--${name}`, value);
  if (types.includes('boolean') && !types.includes('string')) {
    if (value === 'true') return true;
    if (value === 'false') return false;
    throw new CliError(`--${name} must be true or false`);
  }
  if (types.includes('integer') && !types.includes('string') && /^-?\d+$/.test(value)) return Number(value);
  if (value === 'null' && types.includes('null')) return null;
  return value;
}

function parseJson(flag: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`${flag} is not valid JSON: ${(e as Error).message}`);
  }
}

export class CliError extends Error {}
