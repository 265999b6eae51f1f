import type { Principal } from '../../../services/context.js';
import { dispatch } from '../../dispatch.js';
import type { Runtime } from '../../runtime.js';
import { fromBillfold, type FieldNames } from './errors.js';
import { Query } from './request.js';

/** The mount point; `LAGO_API_URL` is Billfold's URL followed by it. */
export const LAGO_PREFIX = '/lago/api/v1';

/**
 * One Lago request on its way through Billfold: each catalogue operation it needs runs
 * through the one dispatch path (scopes, rate limits, the API log and the activity log), as the
 * HTTP API door with the Lago path, and a failure comes back as Lago's error.
 */
export class LagoCall {
  readonly query: Query;
  /** The request id of the last operation run, for the X-Request-Id header. */
  requestId: string | undefined;
  constructor(
    readonly rt: Runtime,
    readonly principal: Principal,
    readonly method: string,
    /** The path below the mount point, e.g. `/customers/acme`. */
    readonly path: string,
    params: URLSearchParams,
    readonly body: unknown,
    readonly origin: string | null,
    readonly client: string | null,
    /** Where links this request hands out point (BILLFOLD_PUBLIC_URL, else the request's host). */
    readonly baseUrl: string,
  ) {
    this.query = new Query(params);
  }

  private readonly memos = new Map<string, Promise<unknown>>();
  /** The same read made once per request (a customer embedded in each invoice of a list). */
  memo<T>(key: string, read: () => Promise<T>): Promise<T> {
    let p = this.memos.get(key) as Promise<T> | undefined;
    if (!p) {
      p = read();
      this.memos.set(key, p);
    }
    return p;
  }

  /**
   * Runs one operation; `resource` names the object of a 404 (`customer_not_found`), `names`
   * maps Billfold's field names in an error back to the request's.
   */
  async op<T = any>(operation: string, args: unknown, resource: string, names?: FieldNames): Promise<T> {
    const { outcome, requestId, retryAfterSeconds } = await dispatch(this.rt, {
      principal: this.principal,
      door: 'http_api',
      operation,
      args,
      client: this.client,
      http: { method: this.method.toLowerCase(), path: LAGO_PREFIX + this.path, origin: this.origin },
    });
    this.requestId = requestId;
    if (!outcome.ok) throw fromBillfold(outcome.error, resource, names, retryAfterSeconds);
    return outcome.output as T;
  }
}

/** Billfold's pagination as Lago's `meta`. */
export function meta(p: {
  current_page: number;
  next_page: number | null;
  prev_page: number | null;
  total_pages: number;
  total_count: number;
}) {
  return {
    current_page: p.current_page,
    next_page: p.next_page,
    prev_page: p.prev_page,
    total_pages: p.total_pages,
    total_count: p.total_count,
  };
}
