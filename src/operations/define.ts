import type * as z from 'zod';
import type { Scope, ServiceContext } from '../services/context.js';

/**
 * MCP's four tool hints, all stated explicitly for every operation so a client never has to
 * guess from a default.
 */
export interface OperationAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/**
 * One operation, defined once. Every door is generated from this: the MCP tool, the HTTP
 * route and its OpenAPI entry, and the CLI command.
 */
export interface Operation<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject> {
  /** snake_case verb_noun; the MCP tool name, the HTTP path segment and the CLI command. */
  name: string;
  title: string;
  /** Written for a model: what it does, when to use it, what the ids and amounts mean. */
  description: string;
  /** The catalogue section it belongs to (README and OpenAPI tags). */
  group: string;
  scope: Scope;
  annotations: OperationAnnotations;
  input: I;
  output: O;
  handler: (ctx: ServiceContext, input: z.output<I>) => Promise<z.input<O>>;
  /**
   * `operation` (the default): a writing operation runs in one transaction. `steps`: the handler
   * runs outside one and commits its own steps with `ctx.transaction`, for work that must not
   * hold the database while it waits on the outside world (sending an email).
   */
  transactions?: 'operation' | 'steps';
  /**
   * Output fields the caller sees once and nothing else keeps (a portal link's token and URL):
   * the API log writes `(secret)` in their place.
   */
  secretOutput?: readonly string[];
}

export type AnyOperation = Operation<z.ZodObject, z.ZodObject>;

export function defineOperation<I extends z.ZodObject, O extends z.ZodObject>(
  op: Operation<I, O>,
): AnyOperation {
  return op as unknown as AnyOperation;
}

/** Shorthands for the common hint sets; each still lists all four. */
export const READ: OperationAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
};
export const CREATE: OperationAnnotations = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: false,
};
export const UPDATE: OperationAnnotations = {
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: true,
  openWorldHint: false,
};
export const DELETE: OperationAnnotations = {
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: true,
  openWorldHint: false,
};
/** A state change that can be undone (disable/activate). */
export const TOGGLE: OperationAnnotations = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
};

/** A piece of content an MCP client can read by URI (a customer card, an invoice PDF). */
export interface ResourceDefinition {
  name: string;
  title: string;
  description: string;
  /** RFC 6570 level-1 template, e.g. `billfold://customers/{customer_id}`. */
  uriTemplate: string;
  mimeType: string;
  scope: Scope;
  read(ctx: ServiceContext, params: Record<string, string>): Promise<{ text: string } | { blob: Buffer }>;
  /**
   * For a resource resources/list shows as a concrete URI (the dashboard, this month's summary,
   * a collection's first page): that URI, which may depend on the organization (its month).
   */
  listedAs?(ctx: ServiceContext): Promise<string> | string;
}

/** A ready-made request an assistant can offer its user ("who owes us money?"). */
export interface PromptDefinition {
  name: string;
  title: string;
  description: string;
  arguments: Array<{ name: string; description: string; required: boolean }>;
  scope: Scope;
  render(ctx: ServiceContext, args: Record<string, string>): Promise<string>;
}
