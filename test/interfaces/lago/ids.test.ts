import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newId, ulid } from '../../../src/domain/ids.js';
import { billfoldRef, derivedLagoId, isUuid, lagoId } from '../../../src/interfaces/http/lago/ids.js';

describe("Lago's UUIDs for Billfold ids", () => {
  const ulids = fc
    .tuple(
      fc.integer({ min: 0, max: 2 ** 48 - 1 }),
      fc.string({
        minLength: 16,
        maxLength: 16,
        unit: fc.constantFrom(...'0123456789ABCDEFGHJKMNPQRSTVWXYZ'),
      }),
    )
    .map(([ms, random]) => ulid(ms).slice(0, 10) + random);

  it('round-trips every id and keeps its order', () => {
    fc.assert(
      fc.property(ulids, ulids, (a, b) => {
        const ua = lagoId(`inv_${a}`);
        expect(isUuid(ua)).toBe(true);
        expect(billfoldRef('invoice', ua)).toBe(`inv_${a}`);
        expect(Math.sign(ua.localeCompare(lagoId(`inv_${b}`)))).toBe(Math.sign(a < b ? -1 : a > b ? 1 : 0));
      }),
    );
  });

  it('reads a UUID as the id of the kind the route names, and passes other references on', () => {
    const id = newId('customer');
    expect(billfoldRef('customer', lagoId(id))).toBe(id);
    expect(billfoldRef('invoice', 'INV-202611-0001')).toBe('INV-202611-0001');
    expect(billfoldRef('invoice', 'inv_01ABC')).toBe('inv_01ABC');
    expect(lagoId(null)).toBeNull();
  });

  it('derives stable, distinct UUIDs for what has no id of its own', () => {
    const owner = newId('invoice');
    expect(derivedLagoId(owner, 'po')).toBe(derivedLagoId(owner, 'po'));
    expect(derivedLagoId(owner, 'po')).not.toBe(derivedLagoId(owner, 'ref'));
    expect(isUuid(derivedLagoId(owner, 'po'))).toBe(true);
  });
});
