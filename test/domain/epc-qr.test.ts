import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EpcError, epcPayload, isValidCreditorReference, parseEpcPayload } from '../../src/domain/epc-qr.js';

// The sample of the EPC guidelines (EPC069-12): a one-euro gift to the Belgian Red Cross.
const RED_CROSS = {
  name: 'Red Cross',
  iban: 'BE72 0000 0000 1616',
  bic: 'BPOTBEB1',
  amountCents: 100,
  purpose: 'CHAR',
  remittance: 'Urgency fund',
  information: 'Sample EPC QR code',
};

describe('EPC069-12 SEPA credit transfer payload', () => {
  it('writes the guidelines sample line for line (the amount always with two decimals)', () => {
    expect(epcPayload(RED_CROSS).split('\n')).toEqual([
      'BCD',
      '002',
      '1',
      'SCT',
      'BPOTBEB1',
      'Red Cross',
      'BE72000000001616',
      'EUR1.00',
      'CHAR',
      '',
      'Urgency fund',
      'Sample EPC QR code',
    ]);
    // Without the optional trailing elements the payload ends at the last one given.
    expect(epcPayload({ ...RED_CROSS, purpose: null, information: null }).split('\n')).toHaveLength(11);
  });

  it('reads back what it writes, amounts in cents exactly', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 99_999_999_999n }),
        fc.string({ maxLength: 40 }),
        (cents, text) => {
          const remittance = text.replace(/[\r\n]/g, ' ').trim();
          const parsed = parseEpcPayload(epcPayload({ ...RED_CROSS, amountCents: cents, remittance }));
          expect(parsed?.amountCents).toBe(cents);
          expect(parsed?.remittance ?? '').toBe(remittance);
          expect(parsed?.iban).toBe('BE72000000001616');
          expect(parsed?.ibanValid).toBe(true);
        },
      ),
    );
  });

  it('refuses what a banking app could not read, naming the field', () => {
    expect(() => epcPayload({ ...RED_CROSS, iban: 'BE72 0000 0000 1617' })).toThrow(/iban/);
    expect(() => epcPayload({ ...RED_CROSS, bic: 'NOTABIC' })).toThrow(/bic/);
    expect(() => epcPayload({ ...RED_CROSS, amountCents: 0 })).toThrow(/amount/);
    expect(() => epcPayload({ ...RED_CROSS, amountCents: 100_000_000_000n })).toThrow(/amount/);
    expect(() => epcPayload({ ...RED_CROSS, name: 'x'.repeat(71) })).toThrow(/name/);
    expect(() => epcPayload({ ...RED_CROSS, reference: 'RF18539007547034' })).toThrow(EpcError);
  });

  it('takes an ISO 11649 creditor reference instead of a text', () => {
    expect(isValidCreditorReference('RF18 5390 0754 7034')).toBe(true);
    expect(isValidCreditorReference('RF19 5390 0754 7034')).toBe(false);
    const payload = epcPayload({ ...RED_CROSS, remittance: null, reference: 'RF18 5390 0754 7034' });
    expect(parseEpcPayload(payload)?.reference).toBe('RF18539007547034');
  });

  it('is not fooled by other text or a tampered checksum', () => {
    expect(parseEpcPayload('https://example.com/invoice/1')).toBeNull();
    expect(parseEpcPayload('BCD\n002\n1\nSCT\n\nX\nBE72000000001616\nEUR1.001')).toBeNull();
    const tampered = epcPayload(RED_CROSS).replace('BE72000000001616', 'BE72000000001617');
    expect(parseEpcPayload(tampered)?.ibanValid).toBe(false);
    expect(parseEpcPayload(epcPayload(RED_CROSS).replace(/\n/g, '\r\n'))?.amountCents).toBe(100n);
  });
});
