import * as z from 'zod';
import * as keys from '../services/signing-keys.js';
import { READ, UPDATE, defineOperation } from './define.js';
import { Iso } from './schemas/common.js';

/**
 * The organization's keys for its invoices' verification codes: listed, rotated and revoked
 * with the admin scope, like the other organization settings. No answer carries a secret.
 */

const group = 'organization';

const SigningKey = z.object({
  id: z.string().describe('The key id, the `k` parameter of the verification codes it signed'),
  status: z
    .enum(['active', 'retired', 'revoked'])
    .describe(
      'active: signs new codes; retired: replaced, its codes still validate; revoked: its codes answer revoked',
    ),
  created_at: Iso,
  retired_at: Iso.nullable(),
  revoked_at: Iso.nullable(),
});

export const listSigningKeys = defineOperation({
  name: 'list_signing_keys',
  title: 'List the verification-code signing keys',
  description:
    "Lists the organization's keys for the verification QR codes of its invoices, newest first: each key's id (the " +
    '`k` of the codes it signed), whether it is active (signs new codes), retired (replaced by a rotation; its codes ' +
    'still validate) or revoked (its codes answer revoked), and when. Never the secrets.',
  group,
  scope: 'admin',
  annotations: READ,
  input: z.strictObject({}),
  output: z.object({ signing_keys: z.array(SigningKey) }),
  handler: async (ctx) => ({ signing_keys: await keys.listSigningKeys(ctx) }),
});

export const rotateSigningKey = defineOperation({
  name: 'rotate_signing_key',
  title: 'Rotate the verification-code signing key',
  description:
    'Makes a new key for the verification QR codes of invoices: every code made from now on (PDFs, portal pages, ' +
    'get_invoice_qr_codes) is signed with it. Codes already printed name the key that signed them, so they keep ' +
    'validating as `valid`, unless revoke_previous is true: then the key being replaced is revoked too, and its ' +
    'codes answer `revoked` (for a key that may have leaked). Returns the new key and the one it replaced.',
  group,
  scope: 'admin',
  annotations: { ...UPDATE, idempotentHint: false },
  input: z.strictObject({
    revoke_previous: z
      .boolean()
      .optional()
      .describe('Also revoke the key being replaced, so its codes no longer validate (default false)'),
  }),
  output: z.object({ signing_key: SigningKey, previous: SigningKey }),
  handler: (ctx, input) => keys.rotateSigningKey(ctx, input),
});

export const revokeSigningKey = defineOperation({
  name: 'revoke_signing_key',
  title: 'Revoke a verification-code signing key',
  description:
    'Revokes a retired key: validate_qr_code and the verification page then answer `revoked` for every code it ' +
    'signed, and show nothing of the invoice. The active key cannot be revoked alone (rotate_signing_key with ' +
    'revoke_previous does both); revoking a revoked key changes nothing. key_id: from list_signing_keys, or the ' +
    '`k` of a code.',
  group,
  scope: 'admin',
  annotations: UPDATE,
  input: z.strictObject({
    key_id: z.string().trim().min(1).max(64).describe('The key to revoke, as list_signing_keys gives it'),
  }),
  output: z.object({ signing_key: SigningKey }),
  handler: async (ctx, input) => ({ signing_key: await keys.revokeSigningKey(ctx, input.key_id) }),
});

export const signingKeyOperations = [listSigningKeys, rotateSigningKey, revokeSigningKey];
