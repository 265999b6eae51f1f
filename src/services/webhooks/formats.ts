import type { ServiceEnv } from '../context.js';

/**
 * The bodies an endpoint's deliveries can carry. Billfold's is `{ id, type, created_at,
 * organization_id, data: { <object>: {...} } }`. Lago's — for receivers written against Lago
 * that register their endpoint through Lago's API — is written by a formatter the process's
 * composition root provides (ServiceEnv.payloadFormats), since the shapes of Lago's objects
 * belong to the Lago API; a process without it sends Billfold's body.
 */
export const PAYLOAD_FORMATS = ['billfold', 'lago'] as const;
export type PayloadFormat = (typeof PAYLOAD_FORMATS)[number];

/** One event as the outbox writes it: `data` is the JSON of `{ <object>: {...} }`. */
export interface OutgoingEvent {
  id: string;
  type: string;
  object: string;
  createdAt: string;
  organizationId: string;
  data: string;
}

export type PayloadFormatter = (event: OutgoingEvent) => string;

export function billfoldBody(e: OutgoingEvent): string {
  return `{"id":${JSON.stringify(e.id)},"type":${JSON.stringify(e.type)},"created_at":${JSON.stringify(
    e.createdAt,
  )},"organization_id":${JSON.stringify(e.organizationId)},"data":${e.data}}`;
}

/** The body of `event` for an endpoint whose payload_format is `format`. */
export function bodyFor(env: ServiceEnv, format: string, event: OutgoingEvent): string {
  if (format === 'billfold') return billfoldBody(event);
  const formatter = env.payloadFormats?.[format];
  return formatter ? formatter(event) : billfoldBody(event);
}
