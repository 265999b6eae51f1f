import type { ServiceContext } from '../services/context.js';
import type { ResourceDefinition } from './define.js';

/**
 * Which resources a client is shown as concrete URIs, for every door that lists them (MCP
 * resources/list, seed 004's GET /resources, GET /capabilities): those whose definition says what
 * it is listed as. A resource without `listedAs` is reached through its template only. Keeping
 * the rule here, and nowhere else, is what makes the doors agree.
 */

export interface ListedResource {
  uri: string;
  def: ResourceDefinition;
}

export function isListed(def: ResourceDefinition): boolean {
  return def.listedAs !== undefined;
}

/** The concrete URIs for this organization (this month's summary is in its time zone), in catalogue order. */
export function listedResources(
  ctx: ServiceContext,
  resources: readonly ResourceDefinition[],
): Promise<ListedResource[]> {
  return Promise.all(resources.filter(isListed).map(async (def) => ({ uri: await def.listedAs!(ctx), def })));
}
