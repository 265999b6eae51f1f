import { billfoldRef, isUuid, lagoId } from '../ids.js';
import { LAGO_PREFIX, meta, type LagoCall } from '../call.js';
import type { LagoRoute } from '../router.js';
import { lagoTime } from '../shapes.js';

/**
 * Billfold's resource types are snake_case (`billable_metric`); Lago's are class names.
 * list_activity_logs reads Lago's names itself.
 */
function lagoType(t: string): string {
  return t.replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}

/** Lago's request paths read `/api/v1/…`; Billfold logs its Lago door under /lago/api/v1. */
function lagoPath(p: string): string {
  return p.startsWith('/lago/') ? p.slice('/lago'.length) : p;
}
function billfoldPath(p: string): string {
  if (p.startsWith('/api/v1/')) return `/lago${p}`;
  return p.startsWith('/') ? `${LAGO_PREFIX}${p}` : p;
}

/**
 * Resource ids come back from Lago as UUIDs; the activity log keeps Billfold ids, whose kind
 * the UUID does not say, so a UUID is tried as each kind Lago's resource types name.
 */
export function resourceIdCandidates(ids: readonly string[]): string[] {
  return ids.flatMap((id) => (isUuid(id) ? RESOURCE_KINDS.map((k) => billfoldRef(k, id)) : [id]));
}

const RESOURCE_KINDS = [
  'customer',
  'invoice',
  'billable_metric',
  'plan',
  'subscription',
  'coupon',
  'applied_coupon',
  'credit_note',
  'tax',
  'product',
  'payment',
  'event',
] as const;

export function activityLogObject(a: Record<string, any>, organizationId: string): Record<string, unknown> {
  return {
    activity_id: lagoId(a.activity_id),
    activity_type: a.activity_type,
    activity_source: a.activity_source,
    user_email: a.user_email ?? null,
    activity_object: a.changes,
    activity_object_changes: a.changes,
    external_customer_id: a.external_customer_id,
    external_subscription_id: a.external_subscription_id,
    resource_id: lagoId(a.resource_id),
    resource_type: lagoType(a.resource_type),
    organization_id: lagoId(organizationId),
    logged_at: lagoTime(a.logged_at),
    created_at: lagoTime(a.logged_at),
  };
}

export function apiLogObject(l: Record<string, any>): Record<string, unknown> {
  const body = l.request_body;
  return {
    request_id: lagoId(l.request_id),
    api_version: l.api_version,
    client: l.client ?? '',
    http_method: l.http_method,
    http_status: l.http_status,
    request_origin: l.request_origin ?? '',
    request_path: lagoPath(l.request_path),
    request_body: body && typeof body === 'object' && !Array.isArray(body) ? body : { value: body ?? null },
    request_response: l.response_body ?? null,
    logged_at: lagoTime(l.logged_at),
    created_at: lagoTime(l.logged_at),
  };
}

function dates(call: LagoCall, args: Record<string, unknown>) {
  for (const k of ['from_date', 'to_date']) {
    const v = call.query.str(k);
    if (v) args[k] = v;
  }
}

export const logRoutes: LagoRoute[] = [
  {
    method: 'GET',
    path: '/activity_logs',
    async handle(call) {
      const q = call.query;
      const args: Record<string, unknown> = { ...q.page() };
      dates(call, args);
      const types = q.list('activity_types');
      if (types.length) args.activity_types = types;
      const sources = q.list('activity_sources');
      if (sources.length) args.activity_sources = sources;
      const ids = q.list('resource_ids');
      if (ids.length) args.resource_ids = ids;
      const resourceTypes = q.list('resource_types');
      if (resourceTypes.length) args.resource_types = resourceTypes;
      const customer = q.str('external_customer_id');
      if (customer) args.customer_id = customer;
      const sub = q.str('external_subscription_id');
      if (sub) args.subscription_id = sub;
      const emails = q.list('user_emails');
      if (emails.length) args.user_emails = emails;
      q.done();
      if (Array.isArray(args.resource_ids)) args.resource_ids = resourceIdCandidates(args.resource_ids);
      const out = await call.op('list_activity_logs', args, 'activity_log', {
        customer_id: 'external_customer_id',
        subscription_id: 'external_subscription_id',
        activity_types: 'activity_types[]',
        activity_sources: 'activity_sources[]',
        resource_ids: 'resource_ids[]',
        resource_types: 'resource_types[]',
        user_emails: 'user_emails[]',
      });
      return {
        activity_logs: out.activity_logs.map((a: Record<string, any>) =>
          activityLogObject(a, call.principal.organizationId),
        ),
        meta: meta(out.pagination),
      };
    },
  },
  {
    method: 'GET',
    path: '/activity_logs/{activity_id}',
    async handle(call, [id]) {
      call.query.done();
      const { activity_log } = await call.op(
        'get_activity_log',
        { activity_id: billfoldRef('activity', id!) },
        'activity_log',
      );
      return { activity_log: activityLogObject(activity_log, call.principal.organizationId) };
    },
  },
  {
    method: 'GET',
    path: '/api_logs',
    async handle(call) {
      const q = call.query;
      const args: Record<string, unknown> = { ...q.page() };
      dates(call, args);
      const methods = q.list('http_methods');
      if (methods.length) args.http_methods = methods;
      const statuses = q.list('http_statuses');
      if (statuses.length) args.http_statuses = statuses;
      const version = q.str('api_version');
      if (version) args.api_version = version;
      const paths = q.list('request_paths');
      if (paths.length) args.request_paths = paths.map(billfoldPath);
      q.done();
      const out = await call.op('list_api_logs', args, 'api_log', {
        http_methods: 'http_methods[]',
        http_statuses: 'http_statuses[]',
        request_paths: 'request_paths',
      });
      return { api_logs: out.api_logs.map(apiLogObject), meta: meta(out.pagination) };
    },
  },
  {
    method: 'GET',
    path: '/api_logs/{request_id}',
    async handle(call, [id]) {
      call.query.done();
      const { api_log } = await call.op(
        'get_api_log',
        { request_id: billfoldRef('api_log', id!) },
        'api_log',
      );
      return { api_log: apiLogObject(api_log) };
    },
  },
];
