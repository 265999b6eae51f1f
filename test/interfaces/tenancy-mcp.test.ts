import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { expect, it } from 'vitest';
import { PROFILES } from '../../src/interfaces/mcp/profiles/registry.js';
import type { TestEnvironment } from '../harness/environment.js';
import { describeDatabases } from '../harness/suite.js';
import { demoTenant, digest, organizationRows, type Refs } from '../harness/tenancy.js';

/**
 * Tenant isolation of what MCP offers beside the catalogue's tools: resources (listed and read
 * from every template), prompts, completions, and every tool of every seed profile. An admin of
 * organization B sends A's ids, external ids, codes and numbers wherever an argument takes a
 * reference, and nothing B gets back — answers and error messages alike — names A's data, nor
 * does A's data change. Generated from what the server lists, so a resource, prompt or profile
 * tool added later is probed too. (tenancy-generated.test.ts does the same for the catalogue.)
 */

/** At most this many of A's references are tried in one argument. */
const PER_ARGUMENT = 8;

async function connect(env: TestEnvironment, path: string, key: string): Promise<Client> {
  const client = new Client({ name: 'billfold-tenancy-probe', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${env.url}${path}`), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    }),
  );
  return client;
}

/** `externalCustomerId` → `external_customer_id`: profile arguments are matched to A's columns. */
const snake = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

/** A's references an argument of this name may take; `id`-like names with no column get a mix. */
function referencesFor(name: string, refs: Refs, anyIds: string[]): string[] {
  const field = snake(name);
  const exact = refs.get(field) ?? refs.get(field.replace(/^lago_/, ''));
  if (exact) return [...exact].slice(0, PER_ARGUMENT);
  if (/(^|_)(id|ids|code|number|uri)$/.test(field)) return anyIds;
  return [];
}

type Completable = [{ type: 'ref/prompt'; name: string } | { type: 'ref/resource'; uri: string }, string];

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  format?: string;
  items?: JsonSchema;
}

/** A value that gets a non-reference argument past validation. */
function plainValue(name: string, schema: JsonSchema): unknown {
  if (schema.enum?.length) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type.find((x) => x !== 'null') : schema.type;
  if (type === 'number' || type === 'integer') return 1;
  if (type === 'boolean') return false;
  if (type === 'array') return [];
  if (type === 'object') return {};
  const field = snake(name);
  if (field.includes('email')) return 'probe@b.example';
  if (field.includes('currency')) return 'USD';
  if (schema.format === 'date-time' || field.endsWith('_at')) return new Date().toISOString();
  if (schema.format === 'date' || field.endsWith('date')) return new Date().toISOString().slice(0, 10);
  return 'probe';
}

/** The argument sets to send to a tool: one base, then each of A's references in each field. */
function toolCalls(schema: JsonSchema, refs: Refs, anyIds: string[]): Array<Record<string, unknown>> {
  const base: Record<string, unknown> = {};
  const variants: Array<[string, string[], boolean]> = [];
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const isArray = prop.type === 'array';
    const values =
      (isArray ? prop.items?.type : prop.type) === 'string' ? referencesFor(name, refs, anyIds) : [];
    if (values.length) {
      variants.push([name, values, isArray]);
      base[name] = isArray ? [values[0]] : values[0];
    } else if (schema.required?.includes(name)) base[name] = plainValue(name, prop);
  }
  const calls = [base];
  for (const [name, values, isArray] of variants)
    for (const v of values.slice(1)) calls.push({ ...base, [name]: isArray ? [v] : v });
  return calls;
}

describeDatabases('tenant isolation of the MCP surfaces', (t) => {
  it(
    "lets no resource, prompt, completion or profile tool reach another organization's data",
    { timeout: 600_000 },
    async () => {
      const { a, db, before, refs, ids, secrets } = await demoTenant(t.env);
      // One id of each kind, for arguments named only `id`.
      const anyIds = [...new Map([...ids].map((id) => [id.slice(0, id.indexOf('_')), id] as const)).values()];
      // Every reference of A, for recognising one in a completion's values.
      const allRefs = new Set([...refs.values()].flatMap((s) => [...s]));
      expect(anyIds.length).toBeGreaterThan(8);

      const b = await t.env.newOrganization(['admin'], 'Tenant B');
      const leaks: string[] = [];
      let probed = 0;
      /** Records what of A an answer (or an error's message) holds that B did not send. */
      const check = async (what: string, sent: unknown, answer: unknown) => {
        probed++;
        const text = JSON.stringify(answer);
        const sentText = JSON.stringify(sent);
        for (const secret of secrets)
          if (text.includes(secret)) leaks.push(`${what}(${sentText}) → ${secret}`);
        const unsent = [...ids].filter((id) => text.includes(id) && !sentText.includes(id));
        if (unsent.length) {
          // B's own rows may hold an id of A that an earlier call of B wrote (its API log).
          const bRows = JSON.stringify(await organizationRows(db, b.id));
          for (const id of unsent) if (!bRows.includes(id)) leaks.push(`${what}(${sentText}) → ${id}`);
        }
      };
      const settle = async <T>(p: Promise<T>): Promise<unknown> =>
        p.catch((e: unknown) => ({ error: e instanceof Error ? e.message : String(e) }));

      const mcp = await connect(t.env, '/mcp', b.key);
      try {
        await check('resources/list', {}, await mcp.listResources());
        const { resourceTemplates } = await mcp.listResourceTemplates();
        const { prompts } = await mcp.listPrompts();
        expect(resourceTemplates.length).toBeGreaterThan(3);
        expect(prompts.length).toBeGreaterThan(1);

        // Completions first, while B has no rows that could hold A's references.
        const completable: Completable[] = [
          ...prompts.flatMap((p) =>
            (p.arguments ?? []).map((arg): Completable => [{ type: 'ref/prompt', name: p.name }, arg.name]),
          ),
          ...resourceTemplates.flatMap((r) =>
            [...r.uriTemplate.matchAll(/\{(\w+)\}/g)].map((m): Completable => [
              { type: 'ref/resource', uri: r.uriTemplate },
              m[1]!,
            ]),
          ),
        ];
        for (const [ref, argument] of completable) {
          const values = referencesFor(argument, refs, anyIds);
          for (const value of ['', ...values, ...values.map((v) => v.slice(0, 3))]) {
            const answer = await settle(mcp.complete({ ref, argument: { name: argument, value } }));
            await check(`complete ${JSON.stringify(ref)} ${argument}`, { value }, answer);
            const offered = (answer as { completion?: { values?: string[] } }).completion?.values ?? [];
            for (const v of offered)
              if (allRefs.has(v)) leaks.push(`complete ${argument}(${value}) offered A's ${v}`);
          }
        }

        for (const r of resourceTemplates) {
          const variables = [...r.uriTemplate.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
          for (const variable of variables)
            for (const value of referencesFor(variable, refs, anyIds)) {
              const uri = r.uriTemplate.replace(/\{(\w+)\}/g, (_, v: string) =>
                encodeURIComponent(v === variable ? value : (referencesFor(v, refs, anyIds)[0] ?? 'probe')),
              );
              await check(`resources/read`, { uri }, await settle(mcp.readResource({ uri })));
            }
        }

        for (const p of prompts)
          for (const arg of p.arguments ?? []) {
            for (const value of referencesFor(arg.name, refs, anyIds)) {
              const args = { [arg.name]: value };
              await check(
                `prompt ${p.name}`,
                args,
                await settle(mcp.getPrompt({ name: p.name, arguments: args })),
              );
            }
          }
      } finally {
        await mcp.close();
      }

      for (const profile of PROFILES) {
        const client = await connect(t.env, `/mcp/${profile.name}`, b.key);
        try {
          const { tools } = await client.listTools();
          expect(tools.length, profile.name).toBeGreaterThan(0);
          for (const tool of tools)
            for (const args of toolCalls(tool.inputSchema as JsonSchema, refs, anyIds))
              await check(
                `${profile.name}.${tool.name}`,
                args,
                await settle(client.callTool({ name: tool.name, arguments: args })),
              );
        } finally {
          await client.close();
        }
        // Checked after each profile, so a crossing write names the profile that made it.
        expect(digest(await organizationRows(db, a.id)), `${profile.name} changed A's data`).toEqual(
          digest(before),
        );
      }

      expect(leaks, 'answers to B that hold data of A').toEqual([]);
      const bRows = JSON.stringify(await organizationRows(db, b.id));
      expect([...secrets].filter((secret) => bRows.includes(secret))).toEqual([]);
      expect(probed).toBeGreaterThan(300);
    },
  );
});
