import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toIso } from '../../src/domain/time.js';

describe('toIso', () => {
  it('writes every instant exactly as Date.prototype.toISOString does', () => {
    // Its own arithmetic from 1970 to 9999; Date's before and after.
    fc.assert(
      fc.property(fc.integer({ min: -62_198_755_200_000, max: 8_640_000_000_000_000 }), (ms) => {
        expect(toIso(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 20_000 },
    );
    for (const ms of [
      0, 951_782_400_000, 4_107_542_400_000, 253_402_300_799_999, 253_402_300_800_000, -1, 1.5,
    ])
      expect(toIso(ms)).toBe(new Date(ms).toISOString());
    expect(toIso(null)).toBeNull();
    expect(toIso(undefined)).toBeNull();
  });
});
