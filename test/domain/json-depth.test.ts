import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { depthError, formatJsonPath, jsonDepthExcess, MAX_JSON_DEPTH } from '../../src/domain/json-depth.js';

/** The obvious recursive definition, to hold the loop to (only ever given shallow values). */
function depthOf(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + Math.max(0, ...children.map(depthOf));
}

function nestedArrays(n: number): unknown {
  return JSON.parse('['.repeat(n) + ']'.repeat(n));
}

describe('jsonDepthExcess', () => {
  it('agrees with the recursive depth on any JSON value, for any limit', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 1, max: 9 }), (value, limit) => {
        const excess = jsonDepthExcess(value, limit);
        expect(excess === null).toBe(depthOf(value) <= limit);
        if (excess) {
          // The path leads to a container that is itself past the limit.
          expect(excess.path).toHaveLength(limit);
          let at: any = value;
          for (const seg of excess.path) at = at[seg];
          expect(at !== null && typeof at === 'object').toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('accepts exactly the limit and names the path one level past it', () => {
    expect(jsonDepthExcess(nestedArrays(MAX_JSON_DEPTH))).toBeNull();
    expect(jsonDepthExcess({ a: { b: [1, 'x', null, { c: true }] } }, 4)).toBeNull();
    expect(jsonDepthExcess({ a: { b: [1, 'x', null, { c: {} }] } }, 4)).toEqual({
      path: ['a', 'b', 3, 'c'],
      limit: 4,
    });
    expect(jsonDepthExcess(nestedArrays(MAX_JSON_DEPTH + 1))?.path).toHaveLength(MAX_JSON_DEPTH);
    for (const scalar of [null, 1, 'text', true, undefined]) expect(jsonDepthExcess(scalar)).toBeNull();
  });

  it('measures a million levels without recursing', () => {
    const deep = JSON.parse('{"a":'.repeat(1_000_000) + '1' + '}'.repeat(1_000_000));
    const excess = jsonDepthExcess({ events: [{ properties: deep }] });
    expect(formatJsonPath(excess!.path.slice(0, 4))).toBe('events[0].properties.a');
    expect(jsonDepthExcess(nestedArrays(1_000_000))).not.toBeNull();
  });

  it('words the error with the field and the limit', () => {
    const body = depthError(jsonDepthExcess({ properties: { p: nestedArrays(40) } })!).toBody();
    expect(body.code).toBe('VALIDATION_ERROR');
    expect(body.message).toBe(
      'properties.p[0][0]… nests deeper than 32 levels of objects and arrays; at most 32 are accepted',
    );
    expect(body.details).toMatchObject({
      max_depth: 32,
      issues: [{ field: 'properties.p[0][0]…', code: 'too_deep' }],
    });
    expect(body.details.path).toBe(`properties.p${'[0]'.repeat(30)}`);
  });
});
