import { newId } from '../../domain/ids.js';
import { readVerificationCode, VERIFY_PATH } from '../../domain/verification-code.js';
import { runRead } from '../../operations/invoke.js';
import type { Principal } from '../../services/context.js';
import { dispatch } from '../dispatch.js';
import type { HttpRoute } from '../http/routes.js';
import type { Runtime } from '../runtime.js';
import { date, money } from './format.js';
import { html, type Html } from './html.js';
import { branding, page, type Branding } from './layout.js';
import { newNonce } from './security.js';
import { imageOriginsOf, sendHtml } from './session.js';

/**
 * The page an invoice's verification code opens on a phone: no link or sign-in, since whoever
 * holds the printed invoice may check it. It answers with validate_qr_code, acting for the
 * organization the code names with the read scope only, and shows what the invoice itself
 * prints — issuer, number, date, total, customer — and whether it was voided; whether it is
 * paid is for the organization and its customer, so it stays out of this page.
 */

function verifierFor(organizationId: string): Principal {
  return {
    organizationId,
    actor: { type: 'system', id: null, name: 'invoice verification page' },
    scopes: new Set(['read']),
  };
}

interface Verdict {
  result: 'valid' | 'tampered' | 'revoked' | 'unknown' | 'epc_transfer';
  invoice: {
    number: string | null;
    issuer: string;
    customer: { name: string };
    currency: string;
    total_amount_cents: number;
    issuing_date: string | null;
    status_today: string;
  } | null;
}

async function verdictOf(rt: Runtime, principal: Principal | null, text: string): Promise<Verdict> {
  if (!principal) return { result: 'unknown', invoice: null };
  const { outcome } = await dispatch(rt, {
    principal,
    door: 'portal',
    operation: 'validate_qr_code',
    args: { text },
    client: 'billfold-portal',
  });
  if (!outcome.ok) return { result: 'unknown', invoice: null };
  return outcome.output as unknown as Verdict;
}

/** The organization's name, logo and colour; get_organization is an admin's read, so it is read here. */
async function brandOf(rt: Runtime, principal: Principal): Promise<Branding> {
  const org = await runRead(
    { env: rt, principal, door: 'portal', requestId: newId('api_log') },
    'read',
    'verification page branding',
    (ctx) => ctx.organization(),
  );
  return branding(org);
}

function body(v: Verdict): { status: number; title: string; content: Html } {
  if (v.result === 'valid' && v.invoice) {
    const i = v.invoice;
    const voided = i.status_today === 'voided';
    return {
      status: 200,
      title: `Invoice ${i.number} is genuine`,
      content: html`<h1>Invoice ${i.number} is genuine</h1>
        <div class="notice${voided ? ' bad' : ' good'}" role="status">
          <p>
            ${
              voided
                ? 'It was issued by the business below and has since been voided: nothing is owed on it.'
                : 'It was issued by the business below, and says what its code was signed with.'
            }
          </p>
        </div>
        <dl class="facts">
          <dt>Issued by</dt>
          <dd>${i.issuer}</dd>
          <dt>To</dt>
          <dd>${i.customer.name}</dd>
          <dt>Number</dt>
          <dd class="mono">${i.number}</dd>
          <dt>Issued on</dt>
          <dd>${date(i.issuing_date)}</dd>
          <dt>Total</dt>
          <dd><strong>${money(i.total_amount_cents, i.currency)}</strong></dd>
        </dl>
        <p>Compare these with the invoice you hold: if any differ, the document was changed.</p>`,
    };
  }
  if (v.result === 'tampered') {
    return {
      status: 200,
      title: 'This code was altered',
      content: html`<h1>This code was altered</h1>
        <div class="notice bad" role="alert">
          <p>
            The code has the form of an invoice verification code, but its signature does not match what it
            says: an amount, number or date in it was changed, or it was made by someone else. Do not rely on
            the invoice it came from; ask the business that is said to have issued it.
          </p>
        </div>`,
    };
  }
  if (v.result === 'revoked') {
    return {
      status: 200,
      title: 'This code is no longer vouched for',
      content: html`<h1>This code is no longer vouched for</h1>
        <div class="notice bad" role="alert">
          <p>
            The code was signed with a key the business has since withdrawn, so it no longer confirms what it
            says. Ask the business that issued the invoice for a new copy.
          </p>
        </div>`,
    };
  }
  return {
    status: 404,
    title: 'Code not recognized',
    content: html`<h1>Code not recognized</h1>
      <div class="notice bad" role="alert">
        <p>
          This is not the verification code of an invoice issued here. Check that the whole code was scanned.
        </p>
      </div>`,
  };
}

export const portalVerifyRoute: HttpRoute = {
  method: 'GET',
  pattern: new RegExp(`^${VERIFY_PATH}$`),
  auth: false,
  name: 'portal_verify',
  async handle(rt, req, res) {
    // The code is read as scanned: this server's address, then the path and query it came with.
    const text = `${rt.publicUrl()}${req.url ?? VERIFY_PATH}`;
    const code = readVerificationCode(text);
    const organizationId =
      code.kind === 'code'
        ? code.fields.organizationId
        : code.kind === 'damaged'
          ? code.organizationId
          : null;
    const principal = organizationId ? verifierFor(organizationId) : null;
    const verdict = await verdictOf(rt, principal, text);
    // Only a genuine code shows whose it is; an altered one may name any organization.
    const brand = verdict.result === 'valid' && principal ? await brandOf(rt, principal) : branding(null);
    const shown = body(verdict);
    const nonce = newNonce();
    return sendHtml(
      rt,
      res,
      shown.status,
      page({ title: shown.title, nonce, brand, body: shown.content }),
      nonce,
      {
        imageOrigins: imageOriginsOf(brand),
      },
    );
  },
};
