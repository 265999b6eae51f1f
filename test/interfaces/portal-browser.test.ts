import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsqrModule from 'jsqr';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEpcPayload } from '../../src/domain/epc-qr.js';
import { launchBrowser, type TestBrowser } from '../harness/browser.js';
import { startEnvironment, type TestEnvironment } from '../harness/environment.js';
import { pdfText } from '../harness/pdf.js';
import { seedCustomer, type SeededCustomer } from '../harness/portal.js';

/**
 * The portal in a real browser (the system's Chromium through playwright-core): a customer opens
 * the link from their mail (another site), sees and downloads their invoices, corrects their
 * billing email, cannot open the link a second time nor reach another customer's invoice by
 * editing the address. Every page is photographed at phone and desktop width into a temporary
 * folder (printed below) for a person to look at. The races, expiry and revocation on both
 * databases are in portal.test.ts.
 */

// jsqr is CommonJS; its types describe a default export, Node gives the function itself.
const jsQR = ((jsqrModule as unknown as { default?: unknown }).default ??
  jsqrModule) as unknown as typeof jsqrModule.default;

/** In the page: the SVG drawn on a canvas, as RGBA pixels (the test process has no DOM). */
const RASTERIZE = `async (svg) => {
  const img = new Image();
  img.src = 'data:image/svg+xml;base64,' + btoa(new XMLSerializer().serializeToString(svg));
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = 400;
  canvas.height = 400;
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, 400, 400);
  g.drawImage(img, 0, 0, 400, 400);
  return { width: 400, height: 400, data: Array.from(g.getImageData(0, 0, 400, 400).data) };
}`;

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
const LOGO =
  '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="32" viewBox="0 0 120 32"><rect width="120" height="32" rx="6" fill="#0b6e4f"/><text x="60" y="22" font-family="sans-serif" font-size="16" fill="#fff" text-anchor="middle">Nordlicht</text></svg>';

describe('portal in a browser [sqlite]', () => {
  let env: TestEnvironment;
  let browser: TestBrowser;
  let mail: Server;
  let mailUrl: string;
  let s: SeededCustomer;
  let link: { url: string; token: string };
  let page: Page;
  const problems: string[] = [];
  const shots = mkdtempSync(join(tmpdir(), 'billfold-portal-screens-'));

  beforeAll(async () => {
    env = await startEnvironment('sqlite');
    s = await seedCustomer(env, { invoices: 4 });
    // A mail client's page on another site (localhost is not 127.0.0.1's site), which also serves
    // the organization's logo from there.
    mail = createServer((req, res) => {
      if (req.url === '/logo.svg') {
        res.writeHead(200, { 'content-type': 'image/svg+xml' });
        res.end(LOGO);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        `<!doctype html><title>Mail</title><p>Your invoices: <a id="open" href="${link.url}">open billing</a></p>`,
      );
    });
    await new Promise<void>((done) => mail.listen(0, 'localhost', done));
    mailUrl = `http://localhost:${(mail.address() as AddressInfo).port}`;
    await s.c.call('update_organization', { logo_url: `${mailUrl}/logo.svg` });
    const created = await s.c.call('create_portal_session', {
      customer_id: s.externalId,
      return_url: 'https://app.acme.example/account',
    });
    link = { url: `${env.url}/portal/${created.token}`, token: created.token };
    browser = await launchBrowser();
    page = await browser.context.newPage();
    // The policy must never get in the way of the portal's own page: any refusal fails the test.
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    process.stdout.write(`portal screenshots: ${shots}\n`);
  });

  afterAll(async () => {
    await browser?.close();
    mail?.close();
    await env?.close();
  });

  async function photograph(name: string) {
    for (const [size, viewport] of [
      ['phone', PHONE],
      ['desktop', DESKTOP],
    ] as const) {
      await page.setViewportSize(viewport);
      await page.screenshot({ path: join(shots, `${name}-${size}.png`), fullPage: true });
    }
    await page.setViewportSize(DESKTOP);
  }

  it('opens the link from a mail on another site and shows the invoices, branded', async () => {
    await page.setViewportSize(DESKTOP);
    await page.goto(mailUrl);
    await page.click('#open');
    await page.waitForURL(`${env.url}/portal/invoices`);
    expect(page.url()).not.toContain(link.token);
    await expect.poll(() => page.textContent('h1')).toBe('Invoices');
    const rows = await page.locator('table tbody tr:not(.sub) td:first-child').allTextContents();
    expect(rows.map((r) => r.trim())).toEqual(s.invoices.map((i) => i.number));
    expect(await page.textContent('body')).toContain(s.creditNote.number);
    // The stylesheet applied (the policy let its nonce through) in the organization's colour.
    const header = await page.evaluate(
      "getComputedStyle(document.querySelector('header.brand')).backgroundColor",
    );
    expect(header).toBe('rgb(11, 110, 79)');
    const logo = await page.evaluate("document.querySelector('header.brand img').naturalWidth");
    expect(logo).toBe(120);
    await photograph('invoices');
  });

  it('can be used with the keyboard, with one heading and no image without a text alternative', async () => {
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
    await page.keyboard.press('Tab');
    expect(await page.evaluate("document.activeElement?.closest('nav')?.getAttribute('aria-label')")).toBe(
      'Your billing',
    );
    expect(await page.locator('h1').count()).toBe(1);
    expect(await page.locator('img:not([alt])').count()).toBe(0);
  });

  it('shows an invoice with an EPC QR code a banking app reads back', async () => {
    await page.click(`a[href="/portal/invoices/${s.credited.id}"]`);
    await page.waitForURL(`**/portal/invoices/${s.credited.id}`);
    expect(await page.textContent('h1')).toContain(s.credited.number);
    const { width, height, data } = (await page.evaluate(
      `(${RASTERIZE})(document.querySelector('.qr svg'))`,
    )) as {
      width: number;
      height: number;
      data: number[];
    };
    const code = jsQR(Uint8ClampedArray.from(data), width, height);
    expect(code, 'the QR code decodes').not.toBeNull();
    const epc = parseEpcPayload(code!.data);
    expect(epc).toMatchObject({
      iban: 'DE89370400440532013000',
      ibanValid: true,
      bic: 'COBADEFFXXX',
      name: 'Nordlicht Software GmbH',
      amountCents: 192345n,
      remittance: s.credited.number,
    });
    await photograph('invoice');
  });

  it('shows the invoice’s verification code, which a phone opens to find the invoice genuine', async () => {
    const { width, height, data } = (await page.evaluate(
      `(${RASTERIZE})(document.querySelector('#verify-h').parentElement.querySelector('.qr svg'))`,
    )) as { width: number; height: number; data: number[] };
    const code = jsQR(Uint8ClampedArray.from(data), width, height);
    expect(code, 'the verification code decodes').not.toBeNull();
    expect((await s.c.call('validate_qr_code', { text: code!.data })).invoice.number).toBe(s.credited.number);
    const phone = await page.context().newPage();
    await phone.goto(code!.data);
    expect(await phone.textContent('h1')).toBe(`Invoice ${s.credited.number} is genuine`);
    await phone.close();
  });

  it('downloads the invoice PDF, and it is that invoice', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Download PDF')]);
    expect(download.suggestedFilename()).toBe(`${s.credited.number}.pdf`);
    const pdf = readFileSync((await download.path())!);
    const text = await pdfText(new Uint8Array(pdf));
    expect(text).toContain(s.credited.number);
    expect(text).toContain('Acme Corporation');
    expect(text).toContain('Consulting, week 4');
  });

  it('shows subscriptions and usage', async () => {
    await page.click('nav.pages >> text=Subscriptions');
    await page.waitForURL('**/portal/subscriptions');
    expect(await page.textContent('main')).toContain('Next invoice');
    await photograph('subscriptions');
    await page.click('nav.pages >> text=Usage');
    await page.waitForURL('**/portal/usage');
    expect(await page.textContent('main')).toContain('API calls');
    expect(await page.locator('.chart svg rect.bar').count()).toBeGreaterThan(0);
    await photograph('usage');
  });

  it('corrects the billing email with the profile form', async () => {
    await page.click('nav.pages >> text=Profile');
    await page.waitForURL('**/portal/profile');
    const unlabelled = await page.evaluate(
      "[...document.querySelectorAll('input:not([type=hidden]), select')].filter((e) => e.labels.length === 0).length",
    );
    expect(unlabelled).toBe(0);
    await page.getByLabel('Billing email').fill('not an email');
    await page.click('button:text("Save")');
    await page.waitForLoadState('load');
    expect(await page.textContent('#f-email-error')).toContain('Billing email must be an email address');
    expect(await page.getByLabel('Billing email').inputValue()).toBe('not an email');
    await photograph('profile-error');
    await page.getByLabel('Billing email').fill('payables@acme.example');
    await page.getByLabel('Country').selectOption('AT');
    await page.click('button:text("Save")');
    await page.waitForURL('**/portal/profile?saved=1');
    expect(await page.textContent('[role=status]')).toContain('Your details are saved');
    const { customer } = await s.c.call('get_customer', { customer_id: s.externalId });
    expect(customer).toMatchObject({ email: 'payables@acme.example', country: 'AT' });
    await photograph('profile');
  });

  it('shows the used-link page when the link is opened again', async () => {
    const response = await page.goto(link.url);
    expect(response!.status()).toBe(410);
    expect(await page.textContent('h1')).toBe('This link has already been used');
    expect(await page.textContent('main')).toContain('You are still signed in on this device');
    await photograph('used-link');
  });

  it("does not show another customer's invoice when the address is changed to it", async () => {
    const response = await page.goto(`${env.url}/portal/invoices/${s.other.invoice.id}`);
    expect(response!.status()).toBe(404);
    expect(await page.textContent('h1')).toBe('Page not found');
    const body = await page.textContent('body');
    expect(body).not.toContain('Someone else');
    expect(body).not.toContain(s.other.invoice.number);
    const pdf = await page.request.get(`${env.url}/portal/invoices/${s.other.invoice.id}.pdf`);
    expect(pdf.status()).toBe(404);
    await photograph('not-found');
  });

  it('signs out', async () => {
    await page.goto(`${env.url}/portal/invoices`);
    await page.click('button:text("Sign out")');
    await page.waitForLoadState('load');
    expect(await page.textContent('h1')).toBe('You are signed out');
    await photograph('signed-out');
    const response = await page.goto(`${env.url}/portal/invoices`);
    expect(response!.status()).toBe(403);
    expect(problems).toEqual([]);
  });
});
