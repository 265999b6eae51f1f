import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { prepared } from '../db/prepared.js';
import type { Database, PortalSessionsTable } from '../db/schema.js';
import { countAll } from '../db/sql.js';
import { BillfoldError } from '../domain/errors.js';
import { looksLikeId, newId } from '../domain/ids.js';
import { pageOffset, pagination, type PageRequest, type Pagination } from '../domain/pagination.js';
import { toIso } from '../domain/time.js';
import { recordActivity } from './activity.js';
import { createServiceContext, type Principal, type ServiceContext, type ServiceEnv } from './context.js';
import { displayName, findCustomer, resolveCustomer } from './customers.js';

/**
 * One-time links to the customer portal. A link carries a token of 256 random bits; only its
 * SHA-256 is stored, so the database cannot give a link away. Its first open redeems it — one
 * conditional UPDATE, so of two simultaneous opens (on one instance or several) exactly one wins
 * — and issues a browser cookie, of which again only the hash is stored; that browser session
 * lasts as long as the link would have. Revoking a session stops the link and the browser
 * session at once: the portal looks the session up on every request.
 */

export const PORTAL_FEATURES = ['invoices', 'subscriptions', 'usage', 'profile'] as const;
export type PortalFeature = (typeof PORTAL_FEATURES)[number];

export const PORTAL_SESSION_STATUSES = ['active', 'redeemed', 'expired', 'revoked'] as const;
export type PortalSessionStatus = (typeof PORTAL_SESSION_STATUSES)[number];

export const DEFAULT_EXPIRY_MINUTES = 60;
export const MAX_EXPIRY_MINUTES = 1440;

const TOKEN_PREFIX = 'bfp_';
/** 32 random bytes in base64url: 43 characters. */
const TOKEN_PATTERN = /^bfp_[A-Za-z0-9_-]{43}$/;
const COOKIE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface PortalSessionView {
  id: string;
  customer_id: string;
  customer: { id: string; external_id: string | null; name: string; email: string | null };
  features: PortalFeature[];
  return_url: string | null;
  status: PortalSessionStatus;
  created_at: string;
  expires_at: string;
  redeemed_at: string | null;
  revoked_at: string | null;
}

export function sessionStatus(row: PortalSessionsTable, now: number): PortalSessionStatus {
  if (row.revoked_at !== null) return 'revoked';
  if (now >= row.expires_at) return 'expired';
  return row.redeemed_at !== null ? 'redeemed' : 'active';
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Who acts when the portal acts for a session's customer. The portal calls only its own short
 * list of operations, each bound to this customer (interfaces/portal/customer-catalogue.ts);
 * the scopes let that list through, among them get_organization's admin scope for the
 * organization's name, branding and bank details.
 */
export function portalPrincipal(session: Pick<PortalSessionsTable, 'id' | 'organization_id'>): Principal {
  return {
    organizationId: session.organization_id,
    actor: { type: 'portal', id: session.id, name: null },
    scopes: new Set(['read', 'write', 'admin']),
  };
}

type CustomerSummary = PortalSessionView['customer'];

async function customerSummaries(
  ctx: ServiceContext,
  ids: readonly string[],
): Promise<Map<string, CustomerSummary>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  // Deleted customers too: their sessions stay on record.
  const rows = await ctx.db
    .selectFrom('customers')
    .select(['id', 'external_id', 'name', 'firstname', 'lastname', 'legal_name', 'email'])
    .where('organization_id', '=', ctx.organizationId)
    .where('id', 'in', unique)
    .execute();
  return new Map(
    rows.map((r) => [r.id, { id: r.id, external_id: r.external_id, name: displayName(r), email: r.email }]),
  );
}

function view(
  row: PortalSessionsTable,
  customer: CustomerSummary | undefined,
  now: number,
): PortalSessionView {
  return {
    id: row.id,
    customer_id: row.customer_id,
    customer: customer ?? { id: row.customer_id, external_id: null, name: row.customer_id, email: null },
    features: JSON.parse(row.features) as PortalFeature[],
    return_url: row.return_url,
    status: sessionStatus(row, now),
    created_at: toIso(row.created_at),
    expires_at: toIso(row.expires_at),
    redeemed_at: toIso(row.redeemed_at),
    revoked_at: toIso(row.revoked_at),
  };
}

async function viewOne(ctx: ServiceContext, row: PortalSessionsTable): Promise<PortalSessionView> {
  const customers = await customerSummaries(ctx, [row.customer_id]);
  return view(row, customers.get(row.customer_id), ctx.now());
}

export interface CreatePortalSessionInput {
  customer_id: string;
  return_url?: string | null;
  features?: readonly PortalFeature[];
  expires_in_minutes?: number;
}

export async function createPortalSession(
  ctx: ServiceContext,
  input: CreatePortalSessionInput,
): Promise<{ portal_session: PortalSessionView; url: string; token: string }> {
  const customer = await resolveCustomer(ctx, input.customer_id);
  const now = ctx.now();
  const minutes = input.expires_in_minutes ?? DEFAULT_EXPIRY_MINUTES;
  const wanted = new Set(input.features?.length ? input.features : PORTAL_FEATURES);
  const features = PORTAL_FEATURES.filter((f) => wanted.has(f));
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const row: PortalSessionsTable = {
    id: newId('portal_session', now),
    organization_id: ctx.organizationId,
    customer_id: customer.id,
    token_hash: sha256(token),
    browser_hash: null,
    features: JSON.stringify(features),
    return_url: input.return_url ?? null,
    created_at: now,
    expires_at: now + minutes * 60_000,
    redeemed_at: null,
    revoked_at: null,
  };
  await ctx.db.insertInto('portal_sessions').values(row).execute();
  await recordActivity(ctx, {
    type: 'portal_session.created',
    resourceType: 'portal_session',
    resourceId: row.id,
    customerId: customer.id,
    externalCustomerId: customer.external_id,
    changes: { features, return_url: row.return_url, expires_at: toIso(row.expires_at) },
  });
  return {
    portal_session: view(
      row,
      {
        id: customer.id,
        external_id: customer.external_id,
        name: displayName(customer),
        email: customer.email,
      },
      now,
    ),
    url: `${ctx.env.publicUrl()}/portal/${token}`,
    token,
  };
}

async function resolveSession(ctx: ServiceContext, ref: string): Promise<PortalSessionsTable> {
  const row = looksLikeId('portal_session', ref)
    ? await ctx.db
        .selectFrom('portal_sessions')
        .selectAll()
        .where('organization_id', '=', ctx.organizationId)
        .where('id', '=', ref)
        .executeTakeFirst()
    : undefined;
  if (!row) {
    throw new BillfoldError(
      'NOT_FOUND',
      `portal_session_id: no portal session has the id '${ref}'`,
      { resource: 'portal_session', field: 'portal_session_id', ref },
      'Pass the id (pses_…) create_portal_session returned; list_portal_sessions with customer_id finds it.',
    );
  }
  return row;
}

export async function getPortalSession(ctx: ServiceContext, ref: string): Promise<PortalSessionView> {
  return viewOne(ctx, await resolveSession(ctx, ref));
}

export async function listPortalSessions(
  ctx: ServiceContext,
  f: { customer_id?: string; include_expired?: boolean },
  page: PageRequest,
): Promise<{ portal_sessions: PortalSessionView[]; pagination: Pagination }> {
  const now = ctx.now();
  let q = ctx.db.selectFrom('portal_sessions').where('organization_id', '=', ctx.organizationId);
  if (f.customer_id) {
    const c = await findCustomer(ctx, f.customer_id);
    // A deleted customer's sessions are still listed by its Billfold id.
    const id = c?.id ?? (looksLikeId('customer', f.customer_id) ? f.customer_id : undefined);
    if (!id) await resolveCustomer(ctx, f.customer_id);
    q = q.where('customer_id', '=', id!);
  }
  if (!f.include_expired) q = q.where('revoked_at', 'is', null).where('expires_at', '>', now);
  const { count } = await q.select(countAll()).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll()
    .orderBy('id', 'desc')
    .limit(page.per_page)
    .offset(pageOffset(page))
    .execute();
  const customers = await customerSummaries(
    ctx,
    rows.map((r) => r.customer_id),
  );
  return {
    portal_sessions: rows.map((r) => view(r, customers.get(r.customer_id), now)),
    pagination: pagination(page, Number(count)),
  };
}

/** Stops the link and any browser session it started. Revoking a revoked session changes nothing. */
export async function revokePortalSession(
  ctx: ServiceContext,
  ref: string,
): Promise<{ portal_session: PortalSessionView; changed: boolean }> {
  const row = await resolveSession(ctx, ref);
  if (row.revoked_at !== null) return { portal_session: await viewOne(ctx, row), changed: false };
  const revoked = await revokeRow(ctx, row);
  return { portal_session: await viewOne(ctx, revoked), changed: true };
}

async function revokeRow(ctx: ServiceContext, row: PortalSessionsTable): Promise<PortalSessionsTable> {
  const now = ctx.now();
  await ctx.db
    .updateTable('portal_sessions')
    .set({ revoked_at: now })
    .where('organization_id', '=', row.organization_id)
    .where('id', '=', row.id)
    .where('revoked_at', 'is', null)
    .execute();
  await recordActivity(ctx, {
    type: 'portal_session.revoked',
    resourceType: 'portal_session',
    resourceId: row.id,
    customerId: row.customer_id,
    changes: { revoked_at: [null, toIso(now)], status: [sessionStatus(row, now), 'revoked'] },
  });
  return { ...row, revoked_at: now };
}

// ---- What the portal's pages use: opening a link, recognising its browser, signing out. ----

/** Why a link or a browser session does not (or no longer) give access. */
export type RefusedBecause = 'unknown' | 'used' | 'expired' | 'revoked';

export type Redemption =
  | { ok: true; session: PortalSessionsTable; cookie: string }
  | { ok: false; because: RefusedBecause; session?: PortalSessionsTable };

/**
 * Opens a link: the first open of a live link wins it and gets the browser cookie to use from
 * then on; any other open learns why not. Writes `portal_session.redeemed` to the activity log in
 * the same transaction.
 */
export async function redeemPortalLink(
  env: ServiceEnv,
  token: string,
  requestId: string,
): Promise<Redemption> {
  if (!TOKEN_PATTERN.test(token)) return { ok: false, because: 'unknown' };
  const tokenHash = sha256(token);
  const cookie = randomBytes(32).toString('base64url');
  const now = env.now();
  const won = await env.db.kysely.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('portal_sessions')
      .set({ redeemed_at: now, browser_hash: sha256(cookie) })
      .where('token_hash', '=', tokenHash)
      .where('redeemed_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
    if (!row) return undefined;
    const ctx = createServiceContext(env, trx, portalPrincipal(row), 'portal', requestId);
    await recordActivity(ctx, {
      type: 'portal_session.redeemed',
      resourceType: 'portal_session',
      resourceId: row.id,
      customerId: row.customer_id,
      changes: { redeemed_at: [null, toIso(now)], status: ['active', 'redeemed'] },
    });
    return row;
  });
  if (won) return { ok: true, session: won, cookie };
  const [row] = await sessionByTokenHash(env.db.kysely, { hash: tokenHash });
  if (!row) return { ok: false, because: 'unknown' };
  return { ok: false, because: refusal(row, now), session: row };
}

function refusal(row: PortalSessionsTable, now: number): RefusedBecause {
  if (row.revoked_at !== null) return 'revoked';
  if (now >= row.expires_at) return 'expired';
  return 'used';
}

const sessionByTokenHash = prepared((db, p: { hash: string }) =>
  db.selectFrom('portal_sessions').selectAll().where('token_hash', '=', p.hash),
);
const sessionByBrowserHash = prepared((db, p: { hash: string }) =>
  db.selectFrom('portal_sessions').selectAll().where('browser_hash', '=', p.hash),
);

export type BrowserSession =
  { ok: true; session: PortalSessionsTable } | { ok: false; because: RefusedBecause };

/** The session a browser's cookie belongs to, if it still gives access. Read on every page. */
export async function browserSession(
  db: Kysely<Database>,
  cookie: string,
  now: number,
): Promise<BrowserSession> {
  if (!COOKIE_PATTERN.test(cookie)) return { ok: false, because: 'unknown' };
  const [row] = await sessionByBrowserHash(db, { hash: sha256(cookie) });
  if (!row) return { ok: false, because: 'unknown' };
  if (row.revoked_at !== null) return { ok: false, because: 'revoked' };
  if (now >= row.expires_at) return { ok: false, because: 'expired' };
  return { ok: true, session: row };
}

/** The customer signs out: the session ends as if revoked, recorded as the portal's doing. */
export async function signOut(
  env: ServiceEnv,
  session: PortalSessionsTable,
  requestId: string,
): Promise<void> {
  await env.db.kysely.transaction().execute(async (trx) => {
    const ctx = createServiceContext(env, trx, portalPrincipal(session), 'portal', requestId);
    const [current] = await sessionByBrowserHash(trx, { hash: session.browser_hash ?? '' });
    if (current && current.revoked_at === null) await revokeRow(ctx, current);
  });
}
