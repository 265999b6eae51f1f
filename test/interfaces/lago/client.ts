import { Client, getLagoError } from 'lago-javascript-client';
import { expect } from 'vitest';
import type { TestEnvironment } from '../../harness/environment.js';

/** Lago's own JavaScript client, pointed at Billfold's Lago API. */
export function lagoClient(env: TestEnvironment, key: string) {
  return Client(key, { baseUrl: `${env.url}/lago/api/v1` });
}
export type LagoClient = ReturnType<typeof lagoClient>;

/** Runs a client call that must fail; returns Lago's error body and the HTTP status. */
export async function lagoFailure(promise: Promise<unknown>): Promise<{ status: number; body: any }> {
  try {
    await promise;
  } catch (e) {
    const status = (e as Response).status;
    const body: any = await getLagoError<any>(e);
    expect(body.status, JSON.stringify(body)).toBe(status);
    expect(typeof body.error).toBe('string');
    expect(typeof body.message).toBe('string');
    expect(body.message.length).toBeGreaterThan(0);
    return { status, body };
  }
  throw new Error('the call succeeded but should have failed');
}

/** A UUID as Lago writes ids. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
