import * as z from 'zod';
import * as agents from '../services/agents.js';
import { CREATE, READ, UPDATE, defineOperation } from './define.js';
import { Iso, Metadata, Pagination, page, text } from './schemas/common.js';

const group = 'agents';

export const AgentCode = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .describe('The code your usage events send as agent_code, e.g. "cs-bot-v2"');

export const AgentRef = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .describe("The agent's code or its Billfold id (agt_…)");

export const Agent = z.object({
  id: z.string().describe('Billfold id, agt_…'),
  code: z.string().describe('What usage events send as agent_code'),
  name: z.string(),
  description: z.string().nullable(),
  metadata: z.record(z.string(), z.string()),
  created_at: Iso,
  updated_at: Iso,
});

const fields = {
  name: text().min(1).describe('Display name, e.g. "Support bot"'),
  description: text(1000).nullable().optional(),
  metadata: Metadata.optional(),
};

export const createAgent = defineOperation({
  name: 'create_agent',
  title: 'Create an agent',
  description:
    'Registers an AI agent or product that makes usage (MarginFront: an agent). Usage events name it by ' +
    '`code` in agent_code; events already stored with that code take the agent now (`resolved_events`) and ' +
    'leave get_needs_attention. Plans can be attached to it (attach_plan_to_agent) and a subscription can bill ' +
    'only its usage. A code stays with its agent for good. Calling it again with the same code and name returns ' +
    'the agent (created: false); another name under a taken code is a CONFLICT.',
  group,
  scope: 'write',
  annotations: CREATE,
  input: z.strictObject({ code: AgentCode, ...fields }),
  output: z.object({
    agent: Agent,
    created: z.boolean(),
    resolved_events: z.int().describe('Stored events with this agent_code that now name the agent'),
  }),
  handler: (ctx, input) => agents.createAgent(ctx, input),
});

export const getAgent = defineOperation({
  name: 'get_agent',
  title: 'Get an agent',
  description:
    'Returns one agent by its code (what usage events send as agent_code) or Billfold id (agt_…), with its name, description and metadata.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({ agent_id: AgentRef }),
  output: z.object({ agent: Agent }),
  handler: async (ctx, input) => ({ agent: await agents.getAgent(ctx, input.agent_id) }),
});

export const listAgents = defineOperation({
  name: 'list_agents',
  title: 'List agents',
  description: 'Lists agents by code; `search` matches code or name (case-insensitive).',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({ search: z.string().trim().min(1).max(200).optional(), ...page }),
  output: z.object({ agents: z.array(Agent), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, ...filter }) => agents.listAgents(ctx, filter, { page: p, per_page }),
});

export const updateAgent = defineOperation({
  name: 'update_agent',
  title: 'Update an agent',
  description: 'Changes the name, description or metadata you pass; the code never changes.',
  group,
  scope: 'write',
  annotations: UPDATE,
  input: z.strictObject({
    agent_id: AgentRef,
    name: fields.name.optional(),
    description: fields.description,
    metadata: fields.metadata,
  }),
  output: z.object({ agent: Agent }),
  handler: async (ctx, { agent_id, ...patch }) => ({ agent: await agents.updateAgent(ctx, agent_id, patch) }),
});

export const agentOperations = [createAgent, getAgent, listAgents, updateAgent];
