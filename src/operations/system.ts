import * as z from 'zod';
import { READ, defineOperation } from './define.js';

export const verify = defineOperation({
  name: 'verify',
  title: 'Verify the connection',
  description:
    'Checks that the connection and credentials work and says who you are: the organization you act for, ' +
    'the API key (name, scopes) or the token subject, the server version, and which tools it offers (toolsets, read-only mode). ' +
    'Call it first when setting up.',
  group: 'system',
  scope: 'read',
  annotations: READ,
  input: z.strictObject({}),
  output: z.object({
    verified: z.literal(true),
    organization: z.object({
      id: z.string(),
      name: z.string(),
      default_currency: z.string(),
      timezone: z.string(),
    }),
    principal: z.object({
      type: z.enum(['api_key', 'token', 'local', 'portal', 'system']),
      key_id: z.string().nullable(),
      key_name: z.string().nullable(),
      token_subject: z.string().nullable().describe("A bearer token's subject (sub); null for API keys"),
      scopes: z.array(z.enum(['read', 'write', 'admin', 'platform'])),
    }),
    door: z.string(),
    server: z.object({
      name: z.literal('billfold'),
      version: z.string(),
      database: z.enum(['sqlite', 'postgres']),
    }),
    tools: z.object({
      toolsets: z
        .array(z.string())
        .nullable()
        .describe('The toolsets (operation groups) offered; null: all (BILLFOLD_TOOLSETS)'),
      read_only: z.boolean().describe('Only tools that read are offered and accepted (BILLFOLD_READ_ONLY)'),
    }),
  }),
  handler: async (ctx) => {
    const org = await ctx.organization();
    return {
      verified: true as const,
      organization: {
        id: org.id,
        name: org.name,
        default_currency: org.default_currency,
        timezone: org.timezone,
      },
      principal: {
        type: ctx.actor.type,
        key_id: ctx.actor.type === 'api_key' ? ctx.actor.id : null,
        key_name: ctx.actor.type === 'token' ? null : ctx.actor.name,
        token_subject: ctx.actor.type === 'token' ? ctx.actor.id : null,
        scopes: [...ctx.scopes].sort(),
      },
      door: ctx.door,
      server: { name: 'billfold' as const, version: ctx.env.version, database: ctx.dialect },
      tools: {
        toolsets: ctx.env.exposure?.toolsets ? [...ctx.env.exposure.toolsets] : null,
        read_only: ctx.env.exposure?.readOnly ?? false,
      },
    };
  },
});

export const systemOperations = [verify];
