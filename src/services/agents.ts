import { sql, type SqlBool } from 'kysely';
import type { AgentsTable } from '../db/schema.js';
import { inList, lookup, type Lookup } from '../db/round-trips.js';
import { countAll, escapeLike } from '../db/sql.js';
import { BillfoldError } from '../domain/errors.js';
import { looksLikeId, newId } from '../domain/ids.js';
import { pageOffset, pagination, type PageRequest, type Pagination } from '../domain/pagination.js';
import { toIso } from '../domain/time.js';
import { diff, recordActivity } from './activity.js';
import type { ServiceContext } from './context.js';

/**
 * Agents: the AI agents or products whose work makes usage (MarginFront's agents). Usage events
 * name one by `agent_code`; ingestion resolves a batch's codes in one lookup and stores the
 * agent's id on each event, or null while no agent has the code. Creating the agent later
 * resolves those events: the usage itself was aggregated under the code all along (see
 * domain/usage AGENT_GROUP_KEY), so nothing is recounted. A code belongs to its agent for good.
 */

export interface AgentView {
  id: string;
  code: string;
  name: string;
  description: string | null;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string;
}

export function agentView(row: AgentsTable): AgentView {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    description: row.description,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  };
}

/** The agents of a batch's codes: code → agent id, one query (it joins ingestion's one SELECT). */
export function agentsByCodeLookup(ctx: ServiceContext, codes: string[]): Lookup<Map<string, string>> {
  return lookup(
    [
      codes.length === 0
        ? null
        : ctx.db
            .selectFrom('agents')
            .select(['id', 'code'])
            .where('organization_id', '=', ctx.organizationId)
            .where(inList(ctx.dialect, 'code', codes)),
    ],
    ([rows]) => new Map(rows.map((r) => [r.code, r.id])),
  );
}

export async function findAgent(ctx: ServiceContext, ref: string): Promise<AgentsTable | undefined> {
  const base = ctx.db.selectFrom('agents').selectAll().where('organization_id', '=', ctx.organizationId);
  if (looksLikeId('agent', ref)) {
    const byId = await base.where('id', '=', ref).executeTakeFirst();
    if (byId) return byId;
  }
  return base.where('code', '=', ref).executeTakeFirst();
}

export async function resolveAgent(
  ctx: ServiceContext,
  ref: string,
  field = 'agent_id',
): Promise<AgentsTable> {
  const row = await findAgent(ctx, ref);
  if (!row) {
    throw new BillfoldError(
      'NOT_FOUND',
      `${field}: no agent has the id or code '${ref}'`,
      { resource: 'agent', field, ref },
      'list_agents shows the agents by code; create_agent makes one (events that already name its code take it).',
    );
  }
  return row;
}

export interface AgentFields {
  name?: string;
  description?: string | null;
  metadata?: Record<string, string>;
}

/**
 * Creates an agent, or returns it when the code exists with the same name (a retry). Events
 * already stored with the code take the agent in the same transaction.
 */
export async function createAgent(
  ctx: ServiceContext,
  input: AgentFields & { code: string; name: string },
): Promise<{ agent: AgentView; created: boolean; resolved_events: number }> {
  const existing = await findAgent(ctx, input.code);
  if (existing && existing.code === input.code) {
    if (existing.name === input.name)
      return { agent: agentView(existing), created: false, resolved_events: 0 };
    throw new BillfoldError(
      'CONFLICT',
      `code: agent '${input.code}' already exists (${existing.id}) with the name '${existing.name}'`,
      { field: 'code', value: input.code, agent_id: existing.id },
      'update_agent changes its name; a code stays with its agent for good, so choose another code for a new one.',
    );
  }
  const now = ctx.now();
  const row: AgentsTable = {
    id: newId('agent', now),
    organization_id: ctx.organizationId,
    code: input.code,
    name: input.name,
    description: input.description ?? null,
    metadata: JSON.stringify(input.metadata ?? {}),
    created_at: now,
    updated_at: now,
  };
  const inserted = await ctx.db
    .insertInto('agents')
    .values(row)
    .onConflict((oc) => oc.columns(['organization_id', 'code']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!inserted) {
    throw new BillfoldError(
      'CONFLICT',
      `code: another request created agent '${input.code}' at the same moment`,
      { field: 'code', value: input.code },
      'Retry: the retry returns that agent.',
    );
  }
  // The events that named the code before the agent existed (the partial index holds only them).
  const resolved = await ctx.db
    .updateTable('usage_events')
    .set({ agent_id: row.id })
    .where('organization_id', '=', ctx.organizationId)
    .where('agent_code', '=', row.code)
    .where('agent_code', 'is not', null)
    .where('agent_id', 'is', null)
    .executeTakeFirst();
  const resolvedEvents = Number(resolved.numUpdatedRows);
  await recordActivity(ctx, {
    type: 'agent.created',
    resourceType: 'agent',
    resourceId: row.id,
    changes: { code: row.code, name: row.name, resolved_events: resolvedEvents },
  });
  return { agent: agentView(row), created: true, resolved_events: resolvedEvents };
}

export async function getAgent(ctx: ServiceContext, ref: string): Promise<AgentView> {
  return agentView(await resolveAgent(ctx, ref));
}

export async function listAgents(
  ctx: ServiceContext,
  filter: { search?: string },
  page: PageRequest,
): Promise<{ agents: AgentView[]; pagination: Pagination }> {
  let q = ctx.db.selectFrom('agents').where('organization_id', '=', ctx.organizationId);
  if (filter.search) {
    const like = `%${escapeLike(filter.search.toLowerCase())}%`;
    q = q.where(sql<SqlBool>`(lower(code) like ${like} escape '\\' or lower(name) like ${like} escape '\\')`);
  }
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const rows = await q.selectAll().orderBy('code').limit(page.per_page).offset(pageOffset(page)).execute();
  return { agents: rows.map(agentView), pagination: pagination(page, Number(count)) };
}

export async function updateAgent(ctx: ServiceContext, ref: string, patch: AgentFields): Promise<AgentView> {
  const before = await resolveAgent(ctx, ref);
  const after: AgentsTable = {
    ...before,
    name: patch.name ?? before.name,
    description: patch.description !== undefined ? patch.description : before.description,
    metadata: patch.metadata !== undefined ? JSON.stringify(patch.metadata) : before.metadata,
  };
  const changes = diff(before, after, ['name', 'description', 'metadata']);
  if (Object.keys(changes).length === 0) return agentView(before);
  after.updated_at = ctx.now();
  await ctx.db
    .updateTable('agents')
    .set({
      name: after.name,
      description: after.description,
      metadata: after.metadata,
      updated_at: after.updated_at,
    })
    .where('organization_id', '=', ctx.organizationId)
    .where('id', '=', before.id)
    .execute();
  await recordActivity(ctx, { type: 'agent.updated', resourceType: 'agent', resourceId: before.id, changes });
  return agentView(after);
}
