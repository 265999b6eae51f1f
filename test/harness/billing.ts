import { expect } from 'vitest';
import { localPrincipal } from '../../src/interfaces/bootstrap.js';
import { dispatch } from '../../src/interfaces/dispatch.js';
import type { ErrorBody } from '../../src/domain/errors.js';
import type { Principal } from '../../src/services/context.js';
import type { TestEnvironment } from './environment.js';

/** Calling operations as the local operator of one organization (scenario tests, one door). */
export interface Caller {
  principal: Principal;
  call(operation: string, args: unknown): Promise<any>;
  fail(operation: string, args: unknown, code: ErrorBody['code']): Promise<ErrorBody>;
}

/** `now`: the clock operations read (default the runtime's), for scenarios at chosen moments. */
export function caller(env: TestEnvironment, organizationId: string, now?: () => number): Caller {
  const principal = localPrincipal(organizationId);
  const rt = now ? { ...env.rt, now } : env.rt;
  const run = async (operation: string, args: unknown) =>
    (await dispatch(rt, { principal, door: 'system', operation, args })).outcome;
  return {
    principal,
    async call(operation, args) {
      const outcome = await run(operation, args);
      if (!outcome.ok) throw new Error(`${operation}: ${outcome.error.code} ${outcome.error.message}`);
      return outcome.output;
    },
    async fail(operation, args, code) {
      const outcome = await run(operation, args);
      if (outcome.ok) throw new Error(`${operation} succeeded but should fail with ${code}`);
      expect(outcome.error.code, outcome.error.message).toBe(code);
      return outcome.error;
    },
  };
}

export const utc = (s: string) => Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s);
