import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { caller } from '../harness/billing.js';
import { PG_URL, startEnvironment, type TestEnvironment } from '../harness/environment.js';
import { pdfText } from '../harness/pdf.js';
import {
  flat,
  formTokenOf,
  getPage,
  openLink,
  postForm,
  seedCustomer,
  textOf,
  type SeededCustomer,
} from '../harness/portal.js';
import { DATABASES, describeDatabases, environmentVariables } from '../harness/suite.js';
import { formatMoney } from '../../src/services/invoice-pdf.js';
import { WHITE, contrast, parseHexColour } from '../../src/domain/colour.js';

// Tests from one address open many bad links; the limit itself has its own environment below.
beforeAll(() => {
  environmentVariables.BILLFOLD_PORTAL_GUESSES_PER_MINUTE = '1000';
});

/**
 * The customer portal over HTTP, on both databases: opening links (once, also when opened at the
 * same moment, on one instance or two), what the pages show and refuse, the form, the headers.
 * The same flow in a real browser is in portal-browser.test.ts.
 */

async function link(s: SeededCustomer, args: Record<string, unknown> = {}) {
  return s.c.call('create_portal_session', { customer_id: s.externalId, ...args });
}

async function signIn(env: TestEnvironment, s: SeededCustomer, args: Record<string, unknown> = {}) {
  const l = await link(s, args);
  const opened = await openLink(env, l.token);
  expect(opened.status).toBe(200);
  expect(opened.cookie).toBeDefined();
  return { ...l, cookie: opened.cookie! };
}

describeDatabases('portal', (t) => {
  let s: SeededCustomer;
  beforeAll(async () => {
    s = await seedCustomer(t.env);
  });

  it('opens a link once: a session cookie, then on to the first page without the token', async () => {
    const l = await link(s);
    const opened = await openLink(t.env, l.token);
    expect(opened.status).toBe(200);
    expect(flat(opened.text)).toMatch(/<meta http-equiv="refresh" content="0; url=\/portal\/invoices" \/>/);
    expect(opened.text).not.toContain(l.token);
    const setCookie = opened.headers.getSetCookie()[0]!;
    expect(setCookie).toMatch(
      /^billfold_portal=[A-Za-z0-9_-]{43}; Path=\/portal; Max-Age=\d+; HttpOnly; SameSite=Strict$/,
    );
    const maxAge = Number(/Max-Age=(\d+)/.exec(setCookie)![1]);
    expect(maxAge).toBeGreaterThan(3590);
    expect(maxAge).toBeLessThanOrEqual(3600);

    const { portal_session } = await s.c.call('get_portal_session', {
      portal_session_id: l.portal_session.id,
    });
    expect(portal_session.status).toBe('redeemed');
    expect(Date.parse(portal_session.redeemed_at)).toBeGreaterThan(Date.now() - 60_000);
    const { activity_logs } = await s.c.call('list_activity_logs', {
      resource_ids: [l.portal_session.id],
      activity_types: ['portal_session.redeemed'],
    });
    expect(activity_logs).toHaveLength(1);
    expect(activity_logs[0]).toMatchObject({
      door: 'portal',
      actor: { type: 'portal', id: l.portal_session.id },
      customer_id: s.customerId,
      changes: { status: ['active', 'redeemed'] },
    });

    const page = await getPage(t.env, '/portal/invoices', opened.cookie);
    expect(page.status).toBe(200);
    expect(textOf(page.text)).toContain('Invoices');
  });

  it('says a used, revoked, expired or unknown link is so, with 410 or 404, and shows nothing of the customer', async () => {
    const used = await link(s);
    const first = await openLink(t.env, used.token);
    const again = await openLink(t.env, used.token);
    expect(again.status).toBe(410);
    expect(textOf(again.text)).toContain('This link has already been used');
    expect(textOf(again.text)).toContain('Ask the business that sent it to you for a new link');
    expect(again.cookie).toBeUndefined();
    // The browser that opened it is offered the way back in; another is not.
    const mine = await openLink(t.env, used.token, first.cookie);
    expect(textOf(mine.text)).toContain('You are still signed in on this device');
    expect(textOf(again.text)).not.toContain('still signed in');

    const revoked = await link(s);
    await s.c.call('revoke_portal_session', { portal_session_id: revoked.portal_session.id });
    const r = await openLink(t.env, revoked.token);
    expect(r.status).toBe(410);
    expect(textOf(r.text)).toContain('This link has been cancelled');

    const forged = `bfp_${'A'.repeat(43)}`;
    for (const token of [forged, 'hello', '%E0%A4%A']) {
      const u = await openLink(t.env, token);
      expect(u.status, token).toBe(404);
      expect(textOf(u.text)).toContain('This link is not valid');
      expect(u.text).not.toContain('Nordlicht');
    }
    for (const v of [again, r]) {
      for (const secret of ['Acme', 'ap@acme.example', s.customerId, s.externalId, 'INV-'])
        expect(v.text, secret).not.toContain(secret);
    }
  });

  it('lets exactly one of many simultaneous opens through', async () => {
    const l = await link(s);
    const results = await Promise.all(Array.from({ length: 12 }, () => openLink(t.env, l.token)));
    const won = results.filter((r) => r.status === 200);
    expect(won).toHaveLength(1);
    expect(won[0]!.cookie).toBeDefined();
    expect(results.filter((r) => r.status === 410)).toHaveLength(11);
    const { activity_logs } = await s.c.call('list_activity_logs', {
      resource_ids: [l.portal_session.id],
      activity_types: ['portal_session.redeemed'],
    });
    expect(activity_logs).toHaveLength(1);
  });

  it('ends an open browser session at once when the link is revoked', async () => {
    const l = await signIn(t.env, s);
    expect((await getPage(t.env, '/portal/invoices', l.cookie)).status).toBe(200);
    await s.c.call('revoke_portal_session', { portal_session_id: l.portal_session.id });
    for (const path of ['/portal/invoices', `/portal/invoices/${s.invoices[0].id}.pdf`, '/portal/profile']) {
      const after = await getPage(t.env, path, l.cookie);
      expect(after.status, path).toBe(410);
      expect(textOf(after.text)).toContain('Your session has ended');
      expect(after.headers.getSetCookie()[0]).toMatch(/^billfold_portal=; Path=\/portal; Max-Age=0/);
    }
  });

  it('shows the invoices of this customer only, with status, totals, credit notes and what is left to pay', async () => {
    const l = await signIn(t.env, s);
    const page = await getPage(t.env, '/portal/invoices', l.cookie);
    const text = textOf(page.text);
    for (const inv of s.invoices) expect(text).toContain(inv.number);
    expect(text).not.toContain(s.other.invoice.number);
    expect(page.text).not.toContain(s.draft.id);
    // 3 × 2,523.45; the oldest paid; the newest 500 paid and 100 credited.
    expect(text).toContain('2,523.45 EUR');
    // 2,523.45 + (2,523.45 − 500 − 100) + 300 overdue
    expect(text).toContain('To pay 4,746.90 EUR');
    expect(text).toMatch(/Paid/);
    expect(text).toMatch(/Due/);
    expect(text).toContain(s.creditNote.number);
    expect(page.text).toContain(`href="/portal/credit-notes/${s.creditNote.id}.pdf"`);
    expect(text).toContain(`${s.overdue.number}`);
    expect(text).toMatch(new RegExp(`${s.overdue.number} .*Overdue`));
    expect(text).toContain('overdue (300.00 EUR)');
    expect(text).toContain('DE89 3704 0044 0532 0130 00');
  });

  it('serves this customer’s invoice and credit note PDFs, and no one else’s', async () => {
    const l = await signIn(t.env, s);
    const inv = s.invoices[1];
    const pdf = await fetch(`${t.env.url}/portal/invoices/${inv.id}.pdf`, { headers: { cookie: l.cookie } });
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(pdf.headers.get('content-disposition')).toBe(`attachment; filename="${inv.number}.pdf"`);
    expect(pdf.headers.get('cache-control')).toBe('no-store');
    const text = await pdfText(new Uint8Array(await pdf.arrayBuffer()));
    expect(text).toContain(inv.number);
    expect(text).toContain('Acme Corporation');
    const note = await fetch(`${t.env.url}/portal/credit-notes/${s.creditNote.id}.pdf`, {
      headers: { cookie: l.cookie },
    });
    expect(note.status).toBe(200);
    expect(await pdfText(new Uint8Array(await note.arrayBuffer()))).toContain(s.creditNote.number);

    for (const path of [
      `/portal/invoices/${s.other.invoice.id}`,
      `/portal/invoices/${s.other.invoice.id}.pdf`,
      `/portal/invoices/${s.other.invoice.number}`,
      `/portal/credit-notes/${s.other.creditNote.id}.pdf`,
      `/portal/invoices/${s.draft.id}`,
      `/portal/invoices/inv_01J00000000000000000000000`,
      '/portal/invoices/%E0%A4%A',
      '/portal/nowhere/at/all',
    ]) {
      const r = await getPage(t.env, path, l.cookie);
      expect(r.status, path).toBe(404);
      expect(textOf(r.text), path).toContain('Page not found');
      expect(r.text, path).not.toContain('Other Customer');
      expect(r.text, path).not.toContain('Someone else');
    }
  });

  it('shows an invoice with its lines, payments, credit notes and how to pay it, with an EPC QR code', async () => {
    const l = await signIn(t.env, s);
    const page = await getPage(t.env, `/portal/invoices/${s.credited.id}`, l.cookie);
    expect(page.status).toBe(200);
    const text = textOf(page.text);
    expect(text).toContain(`Invoice ${s.credited.number}`);
    expect(text).toContain('Consulting, week 3');
    expect(text).toContain('Paid 500.00 EUR');
    expect(text).toContain('Credited 100.00 EUR');
    expect(text).toContain('To pay 1,923.45 EUR');
    expect(text).toContain(s.creditNote.number);
    expect(text).toContain('Reference INV-');
    expect(flat(page.text)).toMatch(
      /<div class="qr" role="img" aria-label="QR code for a SEPA transfer of 1,923.45 EUR/,
    );
    expect(flat(page.text)).toContain('<svg aria-hidden="true"');
    // A paid invoice has nothing to pay: no bank details, no transfer code (its verification code stays).
    const paid = await getPage(t.env, `/portal/invoices/${s.invoices[s.invoices.length - 1].id}`, l.cookie);
    expect(textOf(paid.text)).toContain('Paid');
    expect(paid.text).not.toContain('QR code for a SEPA transfer');
    expect(paid.text).toContain('QR code to check that invoice');
  });

  it('shows the invoice’s verification code, as on its PDF, and the page it opens says the invoice is genuine', async () => {
    const l = await signIn(t.env, s);
    const page = await getPage(t.env, `/portal/invoices/${s.credited.id}`, l.cookie);
    const { verification_code: code } = await s.c.call('get_invoice_qr_codes', { invoice_id: s.credited.id });
    // The drawn code is the qrcode library's drawing of exactly that text: the same modules.
    const svg = await QRCode.toString(code, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    const section = page.text.slice(page.text.indexOf('id="verify-h"'));
    const modules = (markup: string) => {
      const drawn = markup.slice(markup.indexOf('<svg'), markup.indexOf('</svg>'));
      return [...drawn.matchAll(/ d="([^"]+)"/g)].map((m) => m[1]);
    };
    expect(modules(svg)).toHaveLength(2); // the white square, then the dark modules
    expect(modules(section)).toEqual(modules(svg));
    expect(section).toContain(`href="${code.replaceAll('&', '&amp;')}"`);

    // Opened on a phone, without any session: genuine, with what the invoice prints, not whether it is paid.
    const url = new URL(code);
    const verified = await fetch(`${t.env.url}${url.pathname}${url.search}`);
    expect(verified.status).toBe(200);
    const text = textOf(await verified.text());
    expect(text).toContain(`Invoice ${s.credited.number} is genuine`);
    expect(text).toContain('Nordlicht GmbH'); // the organization's own banner
    expect(text).toContain('Total 2,523.45 EUR');
    expect(text).not.toMatch(/To pay|Paid|Overdue/);
    url.searchParams.set('t', '1.00');
    const altered = await fetch(`${t.env.url}${url.pathname}${url.search}`);
    expect(textOf(await altered.text())).toContain('This code was altered');
    expect((await fetch(`${t.env.url}/portal/verify?v=1`)).status).toBe(404);
  });

  it('shows subscriptions with the next invoice preview_invoice computes', async () => {
    const l = await signIn(t.env, s);
    const page = await getPage(t.env, '/portal/subscriptions', l.cookie);
    expect(page.status).toBe(200);
    const preview = await s.c.call('preview_invoice', { subscription_id: s.subscriptionId });
    const text = textOf(page.text);
    expect(text).toContain('Growth');
    expect(text).toContain('Active');
    expect(text).toContain('49.00 EUR per month');
    expect(text).toContain('Priority support');
    expect(text).toMatch(/Trial ends \d+ \w+ \d{4}/);
    expect(text).toMatch(/Ends \d+ \w+ \d{4}/);
    expect(text).toContain('Next invoice');
    expect(preview.invoice.total_amount_cents).toBeGreaterThan(4900);
    expect(text).toContain(formatMoney(preview.invoice.total_amount_cents, 'EUR'));
  });

  it('shows this period’s usage and its amount so far, with a chart, and never the AI cost', async () => {
    const l = await signIn(t.env, s);
    const page = await getPage(t.env, '/portal/usage', l.cookie);
    expect(page.status).toBe(200);
    const text = textOf(page.text);
    expect(text).toContain('API calls');
    expect(text).toMatch(/Used so far 5\b/);
    expect(text).toContain('Amount so far 1.25 EUR');
    expect(flat(page.text)).toMatch(/<svg viewBox="0 0 560 220" role="img"/);
    expect(flat(page.text)).toMatch(/<rect class="bar"/);
    expect(Number(s.aiCost)).toBeGreaterThan(18);
    const cost = s.aiCost;
    for (const shown of [cost, cost.slice(0, 5), Number(cost).toFixed(2), 'USD', 'cost', 'claude'])
      expect(text.toLowerCase(), shown).not.toContain(shown.toLowerCase());
  });

  it('corrects the billing email and address through update_customer, recorded as the portal’s change', async () => {
    const l = await signIn(t.env, s);
    const form = await getPage(t.env, '/portal/profile', l.cookie);
    expect(textOf(form.text)).toContain('DE123456789');
    const token = formTokenOf(form.text);
    const fields = {
      form_token: token,
      email: 'invoices@acme.example',
      address_line1: 'Friedrichstraße 100',
      address_line2: '',
      zipcode: '10117',
      city: 'Berlin',
      state: '',
      country: 'DE',
    };
    const saved = await postForm(t.env, '/portal/profile', l.cookie, fields);
    expect(saved.status).toBe(303);
    expect(saved.headers.get('location')).toBe('/portal/profile?saved=1');
    const { customer } = await s.c.call('get_customer', { customer_id: s.externalId });
    expect(customer).toMatchObject({
      email: 'invoices@acme.example',
      address_line1: 'Friedrichstraße 100',
      zipcode: '10117',
    });
    const { activity_logs } = await s.c.call('list_activity_logs', {
      resource_ids: [s.customerId],
      activity_types: ['customer.updated'],
    });
    expect(activity_logs[0]).toMatchObject({
      door: 'portal',
      activity_source: 'front',
      actor: { type: 'portal', id: l.portal_session.id },
      changes: { email: ['ap@acme.example', 'invoices@acme.example'] },
    });
    const after = await getPage(t.env, '/portal/profile?saved=1', l.cookie);
    expect(textOf(after.text)).toContain('Your details are saved');
    expect(after.text).toContain('value="invoices@acme.example"');
    await s.c.call('update_customer', { customer_id: s.externalId, email: 'ap@acme.example' });
  });

  it('names a refused value next to its field and keeps what was typed', async () => {
    const l = await signIn(t.env, s);
    const token = formTokenOf((await getPage(t.env, '/portal/profile', l.cookie)).text);
    const bad = await postForm(t.env, '/portal/profile', l.cookie, {
      form_token: token,
      email: 'not-an-email',
      address_line1: 'Somewhere <b>bold</b>',
      zipcode: 'x'.repeat(30),
      country: 'DE',
    });
    expect(bad.status).toBe(422);
    const text = textOf(bad.text);
    expect(text).toContain('Billing email must be an email address like name@example.com');
    expect(text).toContain('Postal code must be at most 20 characters long');
    expect(text).toContain('2 fields need correcting; nothing was saved');
    expect(bad.text).toContain('value="not-an-email"');
    expect(bad.text).toContain('value="Somewhere &lt;b&gt;bold&lt;/b&gt;"');
    expect(bad.text).toMatch(
      /id="f-email"[^>]*aria-describedby="f-email-help f-email-error" aria-invalid="true"/,
    );
    const empty = await postForm(t.env, '/portal/profile', l.cookie, { form_token: token, email: '' });
    expect(empty.status).toBe(422);
    expect(textOf(empty.text)).toContain('Billing email is required');
    const { customer } = await s.c.call('get_customer', { customer_id: s.externalId });
    expect(customer.email).toBe('ap@acme.example');
  });

  it('refuses a form post without its token or from another site, changing nothing', async () => {
    const l = await signIn(t.env, s);
    const token = formTokenOf((await getPage(t.env, '/portal/profile', l.cookie)).text);
    const cases: Array<[Record<string, string>, Record<string, string>?]> = [
      [{ email: 'evil@example.com' }],
      [{ form_token: 'x'.repeat(43), email: 'evil@example.com' }],
      [{ form_token: token, email: 'evil@example.com' }, { 'sec-fetch-site': 'cross-site' }],
      [{ form_token: token, email: 'evil@example.com' }, {}],
    ];
    for (const [fields, headers] of cases) {
      const r = await postForm(t.env, '/portal/profile', l.cookie, fields, headers);
      expect(r.status).toBe(403);
      expect(textOf(r.text)).toContain('The form could not be sent');
    }
    const signOut = await postForm(t.env, '/portal/sign-out', l.cookie, {});
    expect(signOut.status).toBe(403);
    const { customer } = await s.c.call('get_customer', { customer_id: s.externalId });
    expect(customer.email).toBe('ap@acme.example');
  });

  it('opens only the pages the link includes', async () => {
    const l = await signIn(t.env, s, { features: ['usage'] });
    const usage = await getPage(t.env, '/portal/usage', l.cookie);
    expect(usage.status).toBe(200);
    expect(usage.text).not.toContain('href="/portal/invoices"');
    for (const path of ['/portal/invoices', '/portal/profile', `/portal/invoices/${s.invoices[0].id}.pdf`]) {
      const r = await getPage(t.env, path, l.cookie);
      expect(r.status, path).toBe(404);
      expect(textOf(r.text)).toContain('Page not included');
    }
    const home = await getPage(t.env, '/portal', l.cookie);
    expect(home.status).toBe(303);
    expect(home.headers.get('location')).toBe('/portal/usage');
  });

  it('signs out: the session ends everywhere and the cookie is cleared', async () => {
    const l = await signIn(t.env, s);
    const token = formTokenOf((await getPage(t.env, '/portal/invoices', l.cookie)).text);
    const out = await postForm(t.env, '/portal/sign-out', l.cookie, { form_token: token });
    expect(out.status).toBe(200);
    expect(textOf(out.text)).toContain('You are signed out');
    expect(out.headers.getSetCookie()[0]).toMatch(/Max-Age=0/);
    expect((await getPage(t.env, '/portal/invoices', l.cookie)).status).toBe(410);
    const { portal_session } = await s.c.call('get_portal_session', {
      portal_session_id: l.portal_session.id,
    });
    expect(portal_session.status).toBe('revoked');
  });

  it('sends strict security headers on every page and escapes every value', async () => {
    const named = await seedCustomer(t.env, { name: '<script>alert("x")</script> & Sons', invoices: 1 });
    const l = await signIn(t.env, named);
    for (const path of [
      '/portal/invoices',
      `/portal/invoices/${named.invoices[0].id}`,
      '/portal/subscriptions',
      '/portal/usage',
      '/portal/profile',
    ]) {
      const r = await getPage(t.env, path, l.cookie);
      expect(r.status, path).toBe(200);
      const csp = r.headers.get('content-security-policy')!;
      const nonce = /style-src 'nonce-([^']+)'/.exec(csp)![1]!;
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("form-action 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(r.text).toContain(`<style nonce="${nonce}">`);
      expect(r.text).not.toMatch(/<script/i);
      expect(r.text).not.toMatch(/ style="/);
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('strict-transport-security')).toBeNull();
    }
    const page = await getPage(t.env, '/portal/profile', l.cookie);
    expect(page.text).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Sons');
    // The nonce changes with every response.
    const a = (await getPage(t.env, '/portal/usage', l.cookie)).headers.get('content-security-policy');
    const b = (await getPage(t.env, '/portal/usage', l.cookie)).headers.get('content-security-policy');
    expect(a).not.toBe(b);
  });

  it('keeps text readable on any accent colour: dark text on a light one, a darker shade for links', async () => {
    const light = await seedCustomer(t.env, { invoices: 1 });
    await light.c.call('update_organization', { accent_color: '#ffd60a' });
    const l = await signIn(t.env, light);
    const css = (await getPage(t.env, '/portal/invoices', l.cookie)).text;
    const vars = Object.fromEntries(
      [...css.matchAll(/--([a-z-]+):(#[0-9a-f]{6})/g)].map((m) => [m[1], m[2]]),
    );
    expect(vars.accent).toBe('#ffd60a');
    expect(vars['on-accent']).toBe('#111827');
    const link = parseHexColour(vars.link!)!;
    expect(contrast(link, WHITE)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(parseHexColour(vars['on-accent']!)!, parseHexColour('#ffd60a')!)).toBeGreaterThanOrEqual(
      4.5,
    );
  });

  it('marks the cookie Secure and sends Strict-Transport-Security when the portal is served over https', async () => {
    const secure = await startEnvironment(t.db, {
      variables: { BILLFOLD_PUBLIC_URL: 'https://billing.example.test' },
    });
    try {
      const sec = await seedCustomer(secure, { invoices: 1 });
      const l = await sec.c.call('create_portal_session', { customer_id: sec.externalId });
      expect(l.url).toBe(`https://billing.example.test/portal/${l.token}`);
      const opened = await openLink(secure, l.token);
      expect(opened.headers.getSetCookie()[0]).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
      expect(opened.headers.get('strict-transport-security')).toBe('max-age=31536000');
    } finally {
      await secure.close();
    }
  });

  it('without a session, every page asks for the link', async () => {
    for (const cookie of [undefined, 'billfold_portal=nonsense', `billfold_portal=${'a'.repeat(43)}`]) {
      const r = await getPage(t.env, '/portal/invoices', cookie);
      expect(r.status).toBe(403);
      expect(textOf(r.text)).toContain('Open your billing link');
    }
  });
});

/** A clock the test moves, for expiry. */
describe.each(DATABASES)('portal expiry [%s]', (db) => {
  const clock = { offset: 0 };
  let env: TestEnvironment;
  let s: SeededCustomer;
  beforeAll(async () => {
    if (db === 'postgres' && !PG_URL) return;
    env = await startEnvironment(db, { now: () => Date.now() + clock.offset });
    s = await seedCustomer(env, { invoices: 1 });
    s.c = caller(env, s.organizationId, () => Date.now() + clock.offset);
  });
  afterAll(async () => env?.close());

  it.skipIf(db === 'postgres' && !PG_URL)(
    'an unopened link expires, and an opened one ends its session when it would have',
    async () => {
      clock.offset = 0;
      const unopened = await s.c.call('create_portal_session', {
        customer_id: s.externalId,
        expires_in_minutes: 5,
      });
      const opened = await s.c.call('create_portal_session', {
        customer_id: s.externalId,
        expires_in_minutes: 5,
      });
      const first = await openLink(env, opened.token);
      expect((await getPage(env, '/portal/invoices', first.cookie)).status).toBe(200);
      clock.offset = 4 * 60_000;
      expect((await getPage(env, '/portal/invoices', first.cookie)).status).toBe(200);
      clock.offset = 5 * 60_000 + 1;
      const late = await openLink(env, unopened.token);
      expect(late.status).toBe(410);
      expect(textOf(late.text)).toContain('This link has expired');
      const ended = await getPage(env, '/portal/invoices', first.cookie);
      expect(ended.status).toBe(410);
      expect(textOf(ended.text)).toContain('Your session has ended');
      const { portal_session } = await s.c.call('get_portal_session', {
        portal_session_id: opened.portal_session.id,
      });
      expect(portal_session.status).toBe('expired');
      expect(portal_session.redeemed_at).not.toBeNull();
      const live = await s.c.call('list_portal_sessions', { customer_id: s.externalId });
      expect(live.portal_sessions).toHaveLength(0);
      const all = await s.c.call('list_portal_sessions', {
        customer_id: s.externalId,
        include_expired: true,
      });
      expect(all.portal_sessions.map((x: { status: string }) => x.status)).toEqual(['expired', 'expired']);
    },
  );
});

/** Two Billfold instances on one PostgreSQL database: still exactly one open wins. */
describe.skipIf(!PG_URL)('portal on two instances [postgres]', () => {
  let a: TestEnvironment;
  let b: TestEnvironment;
  beforeAll(async () => {
    a = await startEnvironment('postgres');
    b = await startEnvironment('postgres', { config: { database: a.database } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('lets one of the simultaneous opens through, whichever instance they reach', async () => {
    const s = await seedCustomer(a, { invoices: 1 });
    for (let round = 0; round < 3; round++) {
      const l = await s.c.call('create_portal_session', { customer_id: s.externalId });
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => openLink(i % 2 ? b : a, l.token)),
      );
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 410)).toHaveLength(9);
      // The winner's cookie works on either instance.
      const cookie = results.find((r) => r.status === 200)!.cookie!;
      expect((await getPage(a, '/portal/invoices', cookie)).status).toBe(200);
      expect((await getPage(b, '/portal/invoices', cookie)).status).toBe(200);
      await s.c.call('revoke_portal_session', { portal_session_id: l.portal_session.id });
      expect((await getPage(b, '/portal/invoices', cookie)).status).toBe(410);
    }
  });
});

/** Guessing links or cookies is limited per address; a trusted proxy's X-Forwarded-For names it. */
describe('portal guess limit [sqlite]', () => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await startEnvironment('sqlite', {
      variables: { BILLFOLD_PORTAL_GUESSES_PER_MINUTE: '3', BILLFOLD_TRUST_PROXY: '1' },
    });
  });
  afterAll(async () => env?.close());

  it('refuses an address after its guesses run out, with Retry-After, and not the others', async () => {
    const s = await seedCustomer(env, { invoices: 1 });
    const l = await s.c.call('create_portal_session', { customer_id: s.externalId });
    const from = (address: string) => ({ headers: { 'x-forwarded-for': `203.0.113.50, ${address}` } });
    const guess = (address: string) =>
      fetch(`${env.url}/portal/bfp_${'x'.repeat(43)}`, from(address)).then((r) => r.status);
    expect([await guess('198.51.100.1'), await guess('198.51.100.1'), await guess('198.51.100.1')]).toEqual([
      404, 404, 404,
    ]);
    const refused = await fetch(`${env.url}/portal/${l.token}`, from('198.51.100.1'));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(textOf(await refused.text())).toContain('Too many attempts');
    const cookieGuess = await fetch(`${env.url}/portal/invoices`, {
      headers: { ...from('198.51.100.1').headers, cookie: `billfold_portal=${'b'.repeat(43)}` },
    });
    expect(cookieGuess.status).toBe(429);
    // Another address is not affected, and the link still opens from there.
    const ok = await fetch(`${env.url}/portal/${l.token}`, from('198.51.100.2'));
    expect(ok.status).toBe(200);
  });
});

/** Toolsets and read-only mode shape what assistants are offered; the portal's pages are not a tool list. */
describe('portal with toolsets and read-only mode [sqlite]', () => {
  let env: TestEnvironment;
  let restricted: TestEnvironment;
  beforeAll(async () => {
    env = await startEnvironment('sqlite');
    // A second server on the same database, offering assistants one toolset and no writes.
    restricted = await startEnvironment('sqlite', {
      config: { database: env.database },
      variables: { BILLFOLD_TOOLSETS: 'customers', BILLFOLD_READ_ONLY: '1' },
    });
  });
  afterAll(async () => {
    await restricted?.close();
    await env?.close();
  });

  it('still shows every page and saves the profile', async () => {
    const s = await seedCustomer(env, { invoices: 1 });
    const { token } = await s.c.call('create_portal_session', { customer_id: s.externalId });
    const { cookie } = await openLink(restricted, token);
    for (const path of ['/portal/invoices', '/portal/subscriptions', '/portal/usage', '/portal/profile'])
      expect((await getPage(restricted, path, cookie)).status, path).toBe(200);
    const form = formTokenOf((await getPage(restricted, '/portal/profile', cookie)).text);
    const saved = await postForm(restricted, '/portal/profile', cookie!, {
      form_token: form,
      email: 'ro@acme.example',
    });
    expect(saved.status).toBe(303);
    expect((await s.c.call('get_customer', { customer_id: s.externalId })).customer.email).toBe(
      'ro@acme.example',
    );
  });
});

describe('portal configuration', () => {
  it('names the variable and what works when a setting is wrong', () => {
    expect(() => loadConfig({ BILLFOLD_PUBLIC_URL: 'billing.example.com' })).toThrow(
      /BILLFOLD_PUBLIC_URL must be an http:\/\/ or https:\/\/ URL/,
    );
    expect(() => loadConfig({ BILLFOLD_PORTAL_GUESSES_PER_MINUTE: '0' })).toThrow(
      'BILLFOLD_PORTAL_GUESSES_PER_MINUTE must be an integer between 1 and 100000',
    );
    expect(() => loadConfig({ BILLFOLD_TRUST_PROXY: 'yes' })).toThrow('BILLFOLD_TRUST_PROXY must be 1 or 0');
    const c = loadConfig({ BILLFOLD_PUBLIC_URL: 'https://billing.example.com/', BILLFOLD_TRUST_PROXY: '1' });
    expect(c).toMatchObject({
      publicUrl: 'https://billing.example.com/',
      trustProxy: true,
      portalGuessesPerMinute: 10,
    });
  });
});
