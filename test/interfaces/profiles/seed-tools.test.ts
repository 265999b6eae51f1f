import { describe, expect, it } from 'vitest';
import { PROFILES } from '../../../src/interfaces/mcp/profiles/registry.js';
import { findSeedsFolder, readSeed, SEED_TOOLS, toolNamesInSeed, UNNAMED_IN_SEED } from './seed-tools.js';

describe('profile tool lists', () => {
  it('lists exactly its seed tools in each profile, in the seed order', () => {
    expect(PROFILES.length).toBeGreaterThan(0);
    for (const profile of PROFILES) {
      expect(profile.seed).toBe(SEED_TOOLS[profile.name]!.seed);
      expect(
        profile.tools.map((t) => t.name),
        profile.name,
      ).toEqual(SEED_TOOLS[profile.name]!.tools);
    }
  });

  const seeds = findSeedsFolder();
  it.skipIf(!seeds)(
    seeds
      ? 'matches the tool names written in each seed document'
      : 'matches the tool names written in each seed document (skipped: no shared/seeds folder beside or above the repository)',
    () => {
      for (const [profile, { seed, tools }] of Object.entries(SEED_TOOLS)) {
        const found = toolNamesInSeed(seed, readSeed(seeds!, seed));
        const unnamed = UNNAMED_IN_SEED[profile as keyof typeof UNNAMED_IN_SEED];
        if (unnamed) {
          // The document numbers its tools and one number has no heading: every other name
          // matches, and the gap is exactly where the fixture puts the name Billfold chose.
          expect(found.map((f) => f.number)).not.toContain(unnamed.number);
          expect(found.map((f) => f.name)).toEqual(tools.filter((t) => t !== unnamed.name));
          expect(tools.indexOf(unnamed.name)).toBe(unnamed.number - 1);
        } else {
          expect(
            found.map((f) => f.name),
            `seed ${seed}`,
          ).toEqual(tools);
        }
        if (found[0]?.number !== undefined && !unnamed)
          expect(found.map((f) => f.number)).toEqual(tools.map((_, i) => i + 1));
      }
    },
  );
});
