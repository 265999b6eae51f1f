import * as z from 'zod';
import * as portal from '../services/portal-sessions.js';
import { CREATE, READ, TOGGLE, defineOperation } from './define.js';
import { CustomerRef, Iso, IsoNullable, Pagination, Url, page } from './schemas/common.js';

const group = 'portal';

const PortalSessionRef = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .describe('The portal session id (pses_…) create_portal_session returned');

export const PortalFeature = z.enum(portal.PORTAL_FEATURES);

export const PortalSession = z.object({
  id: z.string().describe('Billfold id, pses_…'),
  customer_id: z.string(),
  customer: z.object({
    id: z.string(),
    external_id: z.string().nullable(),
    name: z.string(),
    email: z.string().nullable(),
  }),
  features: z.array(PortalFeature).describe('The pages the link opens'),
  return_url: z.string().nullable().describe('Shown to the customer as a link back to your site'),
  status: z
    .enum(portal.PORTAL_SESSION_STATUSES)
    .describe(
      'active: not opened yet; redeemed: opened, its browser session running; expired: past expires_at; revoked',
    ),
  created_at: Iso,
  expires_at: Iso.describe('When the link, and the browser session its first open started, stop working'),
  redeemed_at: IsoNullable.describe('When the customer opened the link; null until then'),
  revoked_at: IsoNullable,
});

export const createPortalSession = defineOperation({
  name: 'create_portal_session',
  title: 'Create a customer portal link',
  description:
    'Makes a one-time link to a page where the customer sees their own billing — invoices with PDFs and how ' +
    "to pay, subscriptions with the next invoice, this period's usage, and a profile form for their billing " +
    'email and address — without an account. Send them `url`. The first open redeems it and starts a browser ' +
    'session until expires_at; a second open, a revoked or an expired link shows a page asking for a new one. ' +
    '`url` and `token` are shown only in this result: store nothing, make a new link when needed. customer_id: ' +
    'Billfold id or external_id. features: the pages to include (default all four). expires_in_minutes: 1 to ' +
    `${portal.MAX_EXPIRY_MINUTES} (default ${portal.DEFAULT_EXPIRY_MINUTES}). return_url: your site, shown as a "back" link.`,
  group,
  scope: 'write',
  annotations: CREATE,
  secretOutput: ['url', 'token'],
  input: z.strictObject({
    customer_id: CustomerRef,
    return_url: Url.optional().describe('Your page to go back to, shown as a link in the portal'),
    features: z
      .array(PortalFeature)
      .min(1)
      .max(portal.PORTAL_FEATURES.length)
      .optional()
      .describe(`Which pages the link opens, any of ${portal.PORTAL_FEATURES.join(', ')} (default all)`),
    expires_in_minutes: z
      .int()
      .min(1)
      .max(portal.MAX_EXPIRY_MINUTES)
      .default(portal.DEFAULT_EXPIRY_MINUTES)
      .describe(
        `How long the link (and the session its first open starts) works, in minutes (default ${portal.DEFAULT_EXPIRY_MINUTES}, at most ${portal.MAX_EXPIRY_MINUTES})`,
      ),
  }),
  output: z.object({
    portal_session: PortalSession,
    url: z.string().describe('The link to send the customer; shown only here'),
    token: z.string().describe('The secret part of the url (256 random bits); shown only here'),
  }),
  handler: (ctx, input) => portal.createPortalSession(ctx, input),
});

export const getPortalSession = defineOperation({
  name: 'get_portal_session',
  title: 'Get a customer portal link',
  description:
    'Shows whether a portal link has been opened (redeemed_at), and its status: active (not opened yet), ' +
    'redeemed (opened; the browser session runs until expires_at), expired or revoked. Never the token or url.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({ portal_session_id: PortalSessionRef }),
  output: z.object({ portal_session: PortalSession }),
  handler: async (ctx, input) => ({
    portal_session: await portal.getPortalSession(ctx, input.portal_session_id),
  }),
});

export const listPortalSessions = defineOperation({
  name: 'list_portal_sessions',
  title: 'List customer portal links',
  description:
    'Lists portal links, newest first, without their tokens. By default only those that still give access ' +
    '(active, or redeemed with the browser session running); include_expired: true adds expired and revoked ' +
    'ones. customer_id (Billfold id or external_id) limits it to one customer.',
  group,
  scope: 'read',
  annotations: READ,
  input: z.strictObject({
    customer_id: CustomerRef.optional(),
    include_expired: z.boolean().default(false).describe('Also list expired and revoked links'),
    ...page,
  }),
  output: z.object({ portal_sessions: z.array(PortalSession), pagination: Pagination }),
  handler: (ctx, { page: p, per_page, ...filter }) =>
    portal.listPortalSessions(ctx, filter, { page: p, per_page }),
});

export const revokePortalSession = defineOperation({
  name: 'revoke_portal_session',
  title: 'Revoke a customer portal link',
  description:
    'Stops a portal link at once: an unopened link no longer opens, and a browser that already opened it is ' +
    'shown that the session was revoked on its next page. The session stays on record with status revoked; ' +
    'revoking it again changes nothing (changed: false).',
  group,
  scope: 'write',
  annotations: { ...TOGGLE, destructiveHint: true },
  input: z.strictObject({ portal_session_id: PortalSessionRef }),
  output: z.object({ portal_session: PortalSession, changed: z.boolean() }),
  handler: (ctx, input) => portal.revokePortalSession(ctx, input.portal_session_id),
});

export const portalSessionOperations = [
  createPortalSession,
  getPortalSession,
  listPortalSessions,
  revokePortalSession,
];
