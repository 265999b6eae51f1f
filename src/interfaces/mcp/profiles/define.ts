import type * as z from 'zod';
import type { ErrorBody, ErrorCode } from '../../../domain/errors.js';
import type { Door, Principal } from '../../../services/context.js';

/**
 * A profile is one replaced system's tool surface exactly as its document gives it — the same
 * tool names, parameter names, types, defaults and enum words, and results in that document's
 * shape — over Billfold's one catalogue. Each profile tool is a thin adapter: it validates the
 * seed's input, maps it onto one or more catalogue operations called through dispatch (so scopes,
 * rate limits, read-only mode, toolsets, the API log and the activity log all apply as they do
 * to the catalogue), and maps their output back. No business rule lives in a profile.
 */

/** Who calls and through which door: what every operation a profile tool runs is dispatched with. */
export interface Caller {
  principal: Principal;
  door: Door;
  /** The calling program (User-Agent, or the MCP client's name and version). */
  client?: string | null;
  /** How it arrived over HTTP, for the API log (e.g. POST /mcp/lago). */
  http?: { method: string; path: string; origin: string | null };
}

/** Runs catalogue operations for a profile tool; a failure throws OperationFailed. */
export interface Operations {
  call<T = Record<string, any>>(operation: string, args: Record<string, unknown>): Promise<T>;
  /** The server's clock (defaults such as "30 days ago" are computed from it). */
  now(): number;
  /** The organization the caller acts for. */
  readonly organizationId: string;
  /** Where links Billfold hands out point (BILLFOLD_PUBLIC_URL, else the served address). */
  publicUrl(): string;
  /** Renders one of the catalogue's prompts (a seed prompt that is the same prompt reuses it). */
  prompt(name: string, args: Record<string, string>): Promise<string>;
}

/** A catalogue operation refused or failed; the profile maps its error into the seed's shape. */
export class OperationFailed extends Error {
  constructor(
    readonly operation: string,
    readonly error: ErrorBody,
  ) {
    super(error.message);
  }
}

/** Profile errors speak Billfold's codes, plus NOT_SUPPORTED for a seed tool Billfold cannot do yet. */
export type ProfileErrorCode = ErrorCode | 'NOT_SUPPORTED';

export interface ProfileErrorBody {
  code: ProfileErrorCode;
  message: string;
  details: Record<string, unknown>;
  hint?: string;
}

/** An error a profile tool raises itself (an input rule of the seed, or NOT_SUPPORTED). */
export class ProfileError extends Error {
  constructor(
    readonly code: ProfileErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly hint?: string,
  ) {
    super(message);
  }

  toBody(): ProfileErrorBody {
    return {
      code: this.code,
      message: this.message,
      details: this.details,
      ...(this.hint ? { hint: this.hint } : {}),
    };
  }
}

export interface ProfileTool {
  /** The seed's tool name. */
  name: string;
  title: string;
  description: string;
  /** The seed's parameters: its names, types, enum words and defaults. */
  input: z.ZodObject;
  /**
   * The catalogue operations this tool runs. Its scope, MCP hints and toolset follow from them:
   * it is read-only only if they all are, and offered only where they all are.
   */
  uses: readonly string[];
  /**
   * Billfold field name → the seed's, to word errors from the operations in the seed's terms
   * (`customer_id` → `external_customer_id`).
   */
  fields?: Readonly<Record<string, string>>;
  run(ops: Operations, input: any): Promise<Record<string, unknown>>;
  /**
   * The input is a catalogue operation's own schema (catalogueInput): it is checked here, so the
   * error names this tool, and `run` gets the arguments as sent, since the operation parses them
   * again (its transforms turn amounts into decimals, which it could not read a second time).
   */
  asSent?: boolean;
  /** Only for tools with no operation yet (notSupportedYet): where they will belong. */
  pending?: { group: string; readOnly: boolean; awaiting: string };
}

export interface ProfileResource {
  uriTemplate: string;
  name: string;
  title: string;
  description: string;
  mimeType: string;
  /** Fixed URIs (no `{…}`) are listed in resources/list too. */
  read(ops: Operations, params: Record<string, string>): Promise<unknown>;
  /** The operations it reads with (its toolset, like a tool's). */
  uses: readonly string[];
}

export interface ProfilePrompt {
  name: string;
  title: string;
  description: string;
  arguments: Array<{ name: string; description: string; required: boolean }>;
  render(ops: Operations, args: Record<string, string>): Promise<string>;
}

export interface Profile {
  /** The name users pick it by: `--profile lago`, `/mcp/lago`. */
  name: string;
  /** The system it stands in for, e.g. "Lago MCP server". */
  title: string;
  /** The seed document it follows (shared/seeds), e.g. "000". */
  seed: string;
  /** What the MCP client is told at connection. */
  instructions: string;
  tools: readonly ProfileTool[];
  resources?: readonly ProfileResource[];
  prompts?: readonly ProfilePrompt[];
  /** The seed's success shape around a tool's result (Orvion's `{ok, data, error}` envelope). */
  success?(data: Record<string, unknown>, tool: ProfileTool): Record<string, unknown>;
  /** The seed's error shape; default `{ error: { code, message, details, hint } }`. */
  failure?(error: ProfileErrorBody, tool: ProfileTool): Record<string, unknown>;
}

export function defineTool<I extends z.ZodObject>(
  tool: Omit<ProfileTool, 'input' | 'run'> & {
    input: I;
    run(ops: Operations, input: z.output<I>): Promise<Record<string, unknown>>;
  },
): ProfileTool {
  return tool as ProfileTool;
}

/**
 * A seed tool that is a catalogue operation under another name and takes its parameters as they
 * are (the same schema object, so the two cannot drift apart): only name, title and description
 * are the seed's.
 */
export function catalogueTool(spec: {
  name: string;
  title: string;
  description: string;
  operation: { name: string; input: z.ZodObject };
}): ProfileTool {
  return {
    name: spec.name,
    title: spec.title,
    description: spec.description,
    input: spec.operation.input,
    uses: [spec.operation.name],
    asSent: true,
    run: (ops, input: Record<string, unknown>) => ops.call(spec.operation.name, input),
  };
}

/**
 * THE placeholder for a seed tool whose Billfold operation does not exist yet. It is listed, as
 * the seed lists it, and every call answers NOT_SUPPORTED with what to use instead — never fake
 * data. When the operation lands, replace this one entry with a defineTool adapter that calls it.
 */
export function notSupportedYet(spec: {
  name: string;
  title: string;
  description: string;
  input: z.ZodObject;
  /** The catalogue group (toolset) the operation will belong to. */
  group: string;
  readOnly: boolean;
  /** The Billfold operation that will answer it. */
  awaiting: string;
  /** What works today instead. */
  instead: string;
}): ProfileTool {
  return {
    name: spec.name,
    title: spec.title,
    description: `${spec.description} Not available in Billfold yet: ${spec.instead}`,
    input: spec.input,
    uses: [],
    pending: { group: spec.group, readOnly: spec.readOnly, awaiting: spec.awaiting },
    async run() {
      throw new ProfileError(
        'NOT_SUPPORTED',
        `${spec.name} is not available in Billfold yet (it will be the ${spec.awaiting} operation). ${spec.instead}`,
        { tool: spec.name, awaiting_operation: spec.awaiting },
        spec.instead,
      );
    },
  };
}
