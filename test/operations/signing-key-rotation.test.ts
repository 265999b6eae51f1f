import { beforeAll, expect, it } from 'vitest';
import { httpApiDoor } from '../harness/doors.js';
import { describeDoors } from '../harness/suite.js';

/**
 * Rotating and revoking the key that signs invoices' verification codes, through every door on
 * both databases: a code names its key (`k`), so one printed before a rotation stays valid, the
 * new key signs from then on, and a revoked key's codes answer `revoked` — with the cross-
 * organization answers unchanged.
 */

const keyOf = (code: string) => new URL(code).searchParams.get('k')!;

function withParam(code: string, name: string, value: string): string {
  const url = new URL(code);
  url.searchParams.set(name, value);
  return url.toString();
}

describeDoors('signing key rotation', (t) => {
  let first: any;
  let before: string;

  const codeOf = async (invoiceId: string): Promise<string> =>
    (await t.door.ok('get_invoice_qr_codes', { invoice_id: invoiceId })).verification_code;
  const validate = (text: string) => t.door.ok('validate_qr_code', { text });
  const invoice = async (amount: string) =>
    (
      await t.door.ok('create_invoice', {
        customer_id: 'rot-1',
        lines: [{ description: 'Support', unit_amount: amount }],
        status: 'finalized',
      })
    ).invoice;

  beforeAll(async () => {
    await t.door.ok('create_customer', { external_id: 'rot-1', name: 'Rotation Ltd', currency: 'EUR' });
    first = await invoice('120.00');
    before = await codeOf(first.id);
  });

  it('signs with a new key after a rotation, and the codes of the old one stay valid', async () => {
    const listed = await t.door.ok('list_signing_keys', {});
    expect(listed.signing_keys).toEqual([
      expect.objectContaining({ id: keyOf(before), status: 'active', retired_at: null, revoked_at: null }),
    ]);
    const rotated = await t.door.ok('rotate_signing_key', {});
    expect(rotated.previous).toMatchObject({ id: keyOf(before), status: 'retired', revoked_at: null });
    expect(rotated.previous.retired_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(rotated.signing_key).toMatchObject({ status: 'active', retired_at: null, revoked_at: null });
    expect(rotated.signing_key.id).not.toBe(keyOf(before));
    expect(JSON.stringify(rotated)).not.toMatch(/secret/);

    const old = await validate(before);
    expect(old.result).toBe('valid');
    expect(old.invoice).toMatchObject({ number: first.number, total_amount: '120.00' });
    // The same invoice's code is now made with the new key, and so is a new invoice's.
    const again = await codeOf(first.id);
    expect(keyOf(again)).toBe(rotated.signing_key.id);
    expect((await validate(again)).result).toBe('valid');
    const second = await invoice('80.00');
    const fresh = await codeOf(second.id);
    expect(keyOf(fresh)).toBe(rotated.signing_key.id);
    expect(await validate(fresh)).toMatchObject({ result: 'valid', invoice: { number: second.number } });
    expect((await t.door.ok('list_signing_keys', {})).signing_keys.map((k: any) => [k.id, k.status])).toEqual(
      [
        [rotated.signing_key.id, 'active'],
        [keyOf(before), 'retired'],
      ],
    );
    // An old code altered is still tampered.
    expect((await validate(withParam(before, 't', '12.00'))).result).toBe('tampered');
  });

  it('answers revoked for the codes of a revoked key, and nothing of the invoice', async () => {
    const signingNow = await codeOf(first.id);
    const rotated = await t.door.ok('rotate_signing_key', { revoke_previous: true });
    expect(rotated.previous).toMatchObject({ id: keyOf(signingNow), status: 'revoked' });
    expect(rotated.previous.revoked_at).toBe(rotated.previous.retired_at);

    const refused = await validate(signingNow);
    expect(refused).toMatchObject({ result: 'revoked', invoice: null, epc_transfer: null });
    expect(refused.message).toContain(`signed with key ${keyOf(signingNow)}, which the organization revoked`);
    expect(refused.message).not.toContain(first.number);
    // Altered, it is tampered whatever its key; the first key, only retired, still vouches.
    expect((await validate(withParam(signingNow, 't', '1.00'))).result).toBe('tampered');
    expect((await validate(before)).result).toBe('valid');
    expect((await validate(await codeOf(first.id))).result).toBe('valid');

    // Revoking a retired key later; again changes nothing.
    const revoked = await t.door.ok('revoke_signing_key', { key_id: keyOf(before) });
    expect(revoked.signing_key).toMatchObject({ id: keyOf(before), status: 'revoked' });
    expect((await validate(before)).result).toBe('revoked');
    const twice = await t.door.ok('revoke_signing_key', { key_id: keyOf(before) });
    expect(twice.signing_key.revoked_at).toBe(revoked.signing_key.revoked_at);
    expect((await t.door.ok('list_signing_keys', {})).signing_keys.map((k: any) => k.status)).toEqual([
      'active',
      'revoked',
      'revoked',
    ]);

    // The verification page says so too.
    const url = new URL(before);
    const page = await fetch(`${t.env.url}${url.pathname}${url.search}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('This code is no longer vouched for');
    expect(html).not.toContain(first.number);
  });

  it('refuses to revoke the active key or one it does not have, naming key_id', async () => {
    const active = keyOf(await codeOf(first.id));
    const busy = await t.door.fail('revoke_signing_key', { key_id: active }, 'INVALID_STATUS');
    expect(busy.message).toBe(
      `key_id: ${active} is the active key, which signs new codes; it can be revoked only as it is replaced`,
    );
    expect(busy.hint).toMatch(/rotate_signing_key with revoke_previous: true/);
    expect((await validate(await codeOf(first.id))).result).toBe('valid');
    const none = await t.door.fail('revoke_signing_key', { key_id: 'nokey123' }, 'NOT_FOUND');
    expect(none.message).toBe("key_id: the organization has no signing key 'nokey123'");
    const empty = await t.door.fail('revoke_signing_key', { key_id: '' }, 'VALIDATION_ERROR');
    expect(empty.message).toMatch(/key_id/);
    const wrong = await t.door.fail('rotate_signing_key', { revoke_previous: 'yes' }, 'VALIDATION_ERROR');
    expect(wrong.message).toMatch(/revoke_previous/);
  });

  it('needs the admin scope, and keeps codes of other organizations unknown or tampered', async () => {
    const reader = httpApiDoor(t.env, await t.env.addKey(t.org.id, ['read', 'write']));
    for (const [op, args] of [
      ['rotate_signing_key', {}],
      ['revoke_signing_key', { key_id: 'x' }],
      ['list_signing_keys', {}],
    ] as const)
      expect((await reader.fail(op, args, 'FORBIDDEN')).message).toMatch(/admin scope/);

    const other = await t.env.newOrganization(['admin'], 'Elsewhere');
    const theirs = httpApiDoor(t.env, other.key);
    await theirs.ok('rotate_signing_key', {});
    const ours = await codeOf(first.id);
    for (const code of [ours, before]) {
      const r = await theirs.ok('validate_qr_code', { text: code });
      expect(r).toMatchObject({ result: 'unknown', invoice: null });
    }
    // Our code presented as theirs: their keys do not have ours, so it cannot be genuine.
    const asTheirs = withParam(ours, 'o', other.id);
    expect((await theirs.ok('validate_qr_code', { text: asTheirs })).result).toBe('tampered');
    // Their keys are theirs: ours cannot be revoked from there, and theirs are not listed here.
    await theirs.fail('revoke_signing_key', { key_id: keyOf(ours) }, 'NOT_FOUND');
    const theirKeys = (await theirs.ok('list_signing_keys', {})).signing_keys.map((k: any) => k.id);
    const ourKeys = (await t.door.ok('list_signing_keys', {})).signing_keys.map((k: any) => k.id);
    expect(theirKeys.filter((k: string) => ourKeys.includes(k))).toEqual([]);
    expect((await validate(ours)).result).toBe('valid');
  });
});
