import { describe, expect, it } from 'vitest';
import { looksLikeId, newId, ulid } from '../../src/domain/ids.js';

describe('ids', () => {
  it('are prefixed ULIDs that sort by creation time, even within one millisecond', () => {
    const ids = Array.from({ length: 2000 }, () => newId('customer'));
    expect(ids.every((id) => looksLikeId('customer', id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(newId('invoice', 0)).toMatch(/^inv_0{10}[0-9A-HJKMNP-TV-Z]{16}$/);
  });

  it('encode the time in the first ten characters', () => {
    const at = Date.UTC(2026, 10, 21, 12, 0, 0);
    const later = ulid(at + 1000);
    expect(ulid(at).slice(0, 10) < later.slice(0, 10)).toBe(true);
    expect(looksLikeId('customer', 'cus_not-an-id')).toBe(false);
    expect(looksLikeId('customer', later)).toBe(false);
  });
});
