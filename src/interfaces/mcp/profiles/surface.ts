import { BillfoldError, HTTP_STATUS } from '../../../domain/errors.js';
import type { AnyOperation } from '../../../operations/define.js';
import { runRead, schemaLookup } from '../../../operations/invoke.js';
import { newId } from '../../../domain/ids.js';
import { validationErrorFrom } from '../../../operations/validation.js';
import { dispatch } from '../../dispatch.js';
import type { Runtime } from '../../runtime.js';
import { jsonSchemaOf, templateMatcher } from '../catalogue-surface.js';
import {
  OperationFailed,
  ProfileError,
  type Caller,
  type Operations,
  type Profile,
  type ProfileErrorBody,
  type ProfileErrorCode,
  type ProfilePrompt,
  type ProfileTool,
} from './define.js';
import { findProfile, PROFILE_NAMES } from './registry.js';
import { renameFields } from './shapes.js';

/**
 * A profile as a transport-independent tool surface: the tools it offers (JSON Schemas built
 * once per process), calling one, and its resources and prompts. MCP (`/mcp/<profile>`,
 * `/sse/<profile>`, `billfold stdio --profile`) adapts it in mcp.ts; an HTTP shape such as seed
 * 004's `GET /tools`, `POST /tools/<name>` can adapt the same object (see profileToolSurface).
 */
export interface ToolDescriptor {
  name: string;
  title: string;
  description: string;
  inputSchema: { type: 'object'; [k: string]: unknown };
  annotations: {
    title: string;
    readOnlyHint: boolean;
    destructiveHint: boolean;
    idempotentHint: boolean;
    openWorldHint: boolean;
  };
}

export type ToolCallResult =
  | { ok: true; body: Record<string, unknown> }
  /** `body` is already in the seed's error shape; `status` is the HTTP status for `code`. */
  | { ok: false; body: Record<string, unknown>; code: ProfileErrorCode; status: number };

export interface ResourceDescriptor {
  uri?: string;
  uriTemplate?: string;
  name: string;
  title: string;
  description: string;
  mimeType: string;
}

export interface ToolSurface {
  readonly profile: Profile;
  /** The tools this process offers (after toolsets and read-only mode), in the seed's order. */
  readonly tools: readonly ToolDescriptor[];
  /** Runs an offered tool; null when this surface has no offered tool of that name. */
  callTool(name: string, args: unknown, caller: Caller): Promise<ToolCallResult> | null;
  /** Close names for an unknown one. */
  suggest(name: string): string[];
  /** Fixed resources (resources/list) and templates (resources/templates/list). */
  readonly resources: readonly ResourceDescriptor[];
  readonly resourceTemplates: readonly ResourceDescriptor[];
  /** Reads a resource as JSON text; null when no template matches. Throws ProfileError on failure. */
  readResource(uri: string, caller: Caller): Promise<{ uri: string; mimeType: string; text: string }> | null;
  readonly prompts: ReadonlyArray<Omit<ProfilePrompt, 'render'>>;
  /** Renders a prompt; null when there is none of that name. Throws ProfileError on failure. */
  getPrompt(
    name: string,
    args: Record<string, string>,
    caller: Caller,
  ): Promise<{ description: string; text: string }> | null;
}

const surfaces = new WeakMap<Runtime, Map<string, ToolSurface>>();

/**
 * The tool surface of profile `name` (lago, orvion, marginfront, customers, cegid) for this
 * process, built once. Calls go through dispatch with the caller's principal and door, so an
 * HTTP adapter only maps requests and statuses: e.g. `GET /tools` → `surface.tools`,
 * `POST /tools/<name>` → `surface.callTool(name, body, caller)` and `status`/`body` of the result.
 * Throws for a name that is not a profile (`billfold` is the catalogue itself, not a profile).
 */
export function profileToolSurface(rt: Runtime, name: string): ToolSurface {
  let byName = surfaces.get(rt);
  if (!byName) surfaces.set(rt, (byName = new Map()));
  let s = byName.get(name);
  if (!s) {
    const profile = findProfile(name);
    if (!profile) {
      throw new BillfoldError(
        'NOT_FOUND',
        `there is no profile '${name}'`,
        { profile: name },
        `Profiles: ${PROFILE_NAMES.join(', ')}.`,
      );
    }
    s = buildSurface(rt, profile);
    byName.set(name, s);
  }
  return s;
}

function operationsOf(rt: Runtime, tool: { name: string; uses: readonly string[] }): AnyOperation[] {
  return tool.uses.map((name) => {
    const op = rt.catalogue.get(name);
    if (!op) throw new Error(`profile tool ${tool.name} uses '${name}', which is not in the catalogue`);
    return op;
  });
}

function hintsOf(
  tool: ProfileTool,
  ops: readonly AnyOperation[],
): Omit<ToolDescriptor['annotations'], 'title'> {
  if (tool.pending) {
    const ro = tool.pending.readOnly;
    return { readOnlyHint: ro, destructiveHint: false, idempotentHint: ro, openWorldHint: false };
  }
  return {
    readOnlyHint: ops.every((o) => o.annotations.readOnlyHint),
    destructiveHint: ops.some((o) => o.annotations.destructiveHint),
    idempotentHint: ops.every((o) => o.annotations.idempotentHint),
    openWorldHint: ops.some((o) => o.annotations.openWorldHint),
  };
}

function buildSurface(rt: Runtime, profile: Profile): ToolSurface {
  const offered = new Map<string, ProfileTool>();
  const tools: ToolDescriptor[] = [];
  for (const tool of profile.tools) {
    const ops = operationsOf(rt, tool);
    const hints = hintsOf(tool, ops);
    const offers = tool.pending
      ? rt.exposure.offers(tool.pending.group, tool.pending.readOnly)
      : ops.every((o) => rt.exposure.offers(o.group, o.annotations.readOnlyHint));
    if (!offers) continue;
    offered.set(tool.name, tool);
    const { $schema: _s, ...inputSchema } = jsonSchemaOf(tool.input, 'input');
    tools.push({
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: inputSchema as ToolDescriptor['inputSchema'],
      annotations: { title: tool.title, ...hints },
    });
  }
  const resources = (profile.resources ?? []).filter((r) =>
    operationsOf(rt, { name: r.name, uses: r.uses }).every((o) => rt.exposure.offers(o.group, true)),
  );
  const matchers = resources.map((def) => ({ def, match: templateMatcher(def.uriTemplate) }));
  const prompts = profile.prompts ?? [];

  const operations = (caller: Caller): Operations => ({
    async call(operation, args) {
      const { outcome } = await dispatch(rt, {
        principal: caller.principal,
        door: caller.door,
        operation,
        args,
        client: caller.client ?? null,
        http: caller.http,
      });
      if (!outcome.ok) throw new OperationFailed(operation, outcome.error);
      return outcome.output as never;
    },
    now: rt.now,
    organizationId: caller.principal.organizationId,
    publicUrl: () => rt.publicUrl(),
    prompt(name, args) {
      const def = rt.catalogue.prompts.find((p) => p.name === name);
      if (!def)
        throw new Error(`profile ${profile.name} renders prompt '${name}', which is not in the catalogue`);
      const inv = { env: rt, principal: caller.principal, door: caller.door, requestId: newId('api_log') };
      return runRead(inv, def.scope, `prompt ${name}`, (ctx) => def.render(ctx, args));
    },
  });

  const toBody = (e: unknown, what: string, fields?: Readonly<Record<string, string>>): ProfileErrorBody => {
    if (e instanceof OperationFailed) return renameFields(e.error, fields);
    if (e instanceof ProfileError) return e.toBody();
    if (e instanceof BillfoldError) return e.toBody();
    rt.logger.error({ err: e, profile: profile.name, what }, 'profile adapter failed');
    return { code: 'INTERNAL_ERROR', message: `unexpected error in ${what}`, details: {} };
  };
  const statusOf = (code: ProfileErrorCode) => (code === 'NOT_SUPPORTED' ? 501 : HTTP_STATUS[code]);
  const fail = (error: ProfileErrorBody, tool: ProfileTool): ToolCallResult => ({
    ok: false,
    code: error.code,
    status: statusOf(error.code),
    body: profile.failure ? profile.failure(error, tool) : { error },
  });
  const asProfileError = (e: ProfileErrorBody) => new ProfileError(e.code, e.message, e.details, e.hint);

  return {
    profile,
    tools,
    callTool(name, args, caller) {
      const tool = offered.get(name);
      if (!tool) return null;
      return (async (): Promise<ToolCallResult> => {
        const parsed = tool.input.safeParse(args ?? {}, { reportInput: true });
        if (!parsed.success)
          return fail(validationErrorFrom(parsed.error, schemaLookup(tool.input)).toBody(), tool);
        try {
          const data = await tool.run(operations(caller), tool.asSent ? (args ?? {}) : parsed.data);
          return { ok: true, body: profile.success ? profile.success(data, tool) : data };
        } catch (e) {
          return fail(toBody(e, `${profile.name} ${tool.name}`, tool.fields), tool);
        }
      })();
    },
    suggest(name) {
      const names = [...offered.keys()];
      const stem = name.replace(/^(get|list|create|add|update|delete)_/, '');
      return names
        .filter((n) => n === name || n.includes(stem) || stem.includes(n.replace(/^[a-z]+_/, '')))
        .slice(0, 3);
    },
    resources: resources
      .filter((r) => !r.uriTemplate.includes('{'))
      .map((r) => ({
        uri: r.uriTemplate,
        name: r.name,
        title: r.title,
        description: r.description,
        mimeType: r.mimeType,
      })),
    resourceTemplates: resources
      .filter((r) => r.uriTemplate.includes('{'))
      .map((r) => ({
        uriTemplate: r.uriTemplate,
        name: r.name,
        title: r.title,
        description: r.description,
        mimeType: r.mimeType,
      })),
    readResource(uri, caller) {
      for (const { def, match } of matchers) {
        const params = match(uri);
        if (!params) continue;
        return def.read(operations(caller), params).then(
          (value) => ({ uri, mimeType: def.mimeType, text: JSON.stringify(value) }),
          (e: unknown) => {
            throw asProfileError(toBody(e, `${profile.name} resource ${def.name}`));
          },
        );
      }
      return null;
    },
    prompts: prompts.map((p) => ({
      name: p.name,
      title: p.title,
      description: p.description,
      arguments: p.arguments,
    })),
    getPrompt(name, args, caller) {
      const def = prompts.find((p) => p.name === name);
      if (!def) return null;
      const missing = def.arguments.filter((a) => a.required && !args[a.name]).map((a) => a.name);
      if (missing.length) {
        return Promise.reject(
          new ProfileError('VALIDATION_ERROR', `prompt ${name} needs ${missing.join(', ')}`, { missing }),
        );
      }
      return def.render(operations(caller), args).then(
        (text) => ({ description: def.description, text }),
        (e: unknown) => {
          throw asProfileError(toBody(e, `${profile.name} prompt ${name}`));
        },
      );
    },
  };
}
