import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageEventInput, fastParseUsageEvent } from '../../../src/operations/schemas/metering.js';

/** The hand-written hot-path check must never accept what the schema refuses, nor read it differently. */
const maybe = <T>(a: fc.Arbitrary<T>) => fc.oneof(fc.constant(undefined), a);
/** Mostly well-formed, sometimes not: both paths get exercised. */
const mostly = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) =>
  fc.oneof({ arbitrary: good, weight: 6 }, { arbitrary: bad, weight: 1 });
const text = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom(' a', 'b ', '', 'x'.repeat(256), 'acme-001'),
);
const event = fc
  .record(
    {
      transaction_id: mostly(text, fc.integer()),
      customer_id: text,
      external_subscription_id: maybe(text),
      code: text,
      timestamp: maybe(
        mostly(
          fc.constantFrom('2026-01-01', '2026-01-01T10:00:00Z', '1767225600', 1767225600),
          fc.oneof(fc.constant('nope'), fc.double(), fc.integer({ min: -5, max: 4e10 })),
        ),
      ),
      properties: maybe(
        mostly(
          fc.dictionary(fc.string({ maxLength: 3 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
          fc.constantFrom([], null, 'p'),
        ),
      ),
      metadata: maybe(
        mostly(
          fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
          fc.oneof(fc.constant('m'), fc.dictionary(fc.string(), fc.integer(), { minKeys: 1, maxKeys: 2 })),
        ),
      ),
      agent_code: maybe(text),
      service: fc.constantFrom('none', 'both', 'both', 'both', 'model only', 'provider only'),
      model: text,
      provider: text,
      input_tokens: maybe(
        mostly(fc.integer({ min: 0, max: 5000 }), fc.oneof(fc.double(), fc.constant('5'), fc.constant(-2))),
      ),
      output_tokens: maybe(mostly(fc.integer({ min: 0, max: 5000 }), fc.constant(-1))),
      quantity: maybe(
        mostly(fc.constantFrom('1.5', '1e3', 0.1, 3), fc.constantFrom('-1', 'x', 12345678901234567)),
      ),
      colour: fc.constantFrom(undefined, undefined, undefined, undefined, 'red'),
    },
    { requiredKeys: [] },
  )
  .map(({ service, model, provider, ...rest }) => ({
    ...rest,
    ...(service === 'both' || service === 'model only' ? { model } : {}),
    ...(service === 'both' || service === 'provider only' ? { provider } : {}),
  }));

describe('fast usage event check', () => {
  it('accepts only what the schema accepts, with the same output in the same field order', () => {
    let accepted = 0;
    fc.assert(
      fc.property(event, (raw) => {
        const clean = JSON.parse(JSON.stringify(raw)) as unknown;
        const fast = fastParseUsageEvent(clean);
        if (!fast) return;
        accepted++;
        const slow = UsageEventInput.safeParse(clean);
        expect(slow.success).toBe(true);
        expect(JSON.stringify(fast)).toBe(JSON.stringify(slow.data));
      }),
      { numRuns: 20_000 },
    );
    // The comparison must have run on many accepted events to mean anything.
    expect(accepted).toBeGreaterThan(50);
  });

  it('takes the common event shapes', () => {
    expect(
      fastParseUsageEvent({
        transaction_id: 't',
        customer_id: 'c',
        code: 'x',
        timestamp: 1767225600,
        properties: { gb: 1.5 },
      }),
    ).not.toBeNull();
    expect(
      fastParseUsageEvent({
        transaction_id: 't',
        customer_id: 'c',
        code: 'x',
        model: 'gpt-4o',
        provider: 'openai',
        input_tokens: 5,
        output_tokens: 1,
      }),
    ).not.toBeNull();
    expect(
      fastParseUsageEvent({ transaction_id: 't', customer_id: 'c', code: 'x', services: [] }),
    ).toBeNull();
    expect(fastParseUsageEvent({ transaction_id: 't', external_subscription_id: 's', code: 'x' })).toEqual({
      transaction_id: 't',
      external_subscription_id: 's',
      code: 'x',
    });
    // Neither customer nor subscription: the schema words the error.
    expect(fastParseUsageEvent({ transaction_id: 't', code: 'x' })).toBeNull();
    expect(UsageEventInput.safeParse({ transaction_id: 't', code: 'x' }).error?.issues[0]).toMatchObject({
      path: ['customer_id'],
      message: expect.stringContaining('external_subscription_id'),
    });
  });
});
