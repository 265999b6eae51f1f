import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Agents: the AI agents or products that make usage (MarginFront's "agents"). An event names
 * one by `agent_code`; ingestion resolves the codes of a batch once and stores the agent's id,
 * or null while no agent has the code (such events are listed by get_needs_attention and take
 * the agent when it is created). Plans may be attached to agents, and a subscription may name
 * the agent whose usage it bills.
 */
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('agents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // A code is an agent's key for good: events carry it, so it is never reused for another agent.
  await sql`CREATE UNIQUE INDEX agents_org_code ON agents (organization_id, code)`.execute(db);

  // Which agents a plan is offered for (MarginFront: a plan is attached to one or more agents).
  await db.schema
    .createTable('plan_agents')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('plan_id', 'text', (c) => c.notNull().references('plans.id'))
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('plan_agents_pk', ['plan_id', 'agent_id'])
    .execute();
  await sql`CREATE INDEX plan_agents_agent ON plan_agents (organization_id, agent_id)`.execute(db);

  await sql`ALTER TABLE usage_events ADD COLUMN agent_id text`.execute(db);
  // Events whose agent code names no agent yet: what get_needs_attention lists and what
  // create_agent resolves. Only those rows are in the index.
  await sql`CREATE INDEX usage_events_unknown_agent ON usage_events (organization_id, agent_code) WHERE agent_code IS NOT NULL AND agent_id IS NULL`.execute(
    db,
  );

  // The agent whose usage the subscription bills (null: all of its customer's usage).
  await sql`ALTER TABLE subscriptions ADD COLUMN agent_id text`.execute(db);
}
