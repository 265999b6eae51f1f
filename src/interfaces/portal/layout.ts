import { INK, WHITE, parseHexColour, readableOn, textOn, toHex, type Rgb } from '../../domain/colour.js';
import type { PortalFeature } from '../../services/portal-sessions.js';
import { html, safeUrl, trusted, type Html } from './html.js';

/**
 * The frame of every portal page: the organization's name, logo and colour at the top, the
 * pages of the link as navigation, the content, and who is signed in with a way out. One
 * stylesheet, sent with the page under the response's nonce (the policy allows no other), lays
 * it out for a phone first and widens on a desktop.
 */

export interface Branding {
  name: string;
  logoUrl: string | null;
  accent: Rgb;
}

/** A calm dark blue, 9.9:1 against white text, when the organization has chosen no colour. */
export const DEFAULT_ACCENT = parseHexColour('#1f4e79')!;

export function branding(
  org: { name: string; logo_url: string | null; accent_color: string | null } | null,
): Branding {
  return {
    name: org?.name ?? 'Billing',
    logoUrl: org?.logo_url ?? null,
    accent: (org?.accent_color ? parseHexColour(org.accent_color) : null) ?? DEFAULT_ACCENT,
  };
}

export const FEATURE_PAGES: Record<PortalFeature, { path: string; label: string }> = {
  invoices: { path: '/portal/invoices', label: 'Invoices' },
  subscriptions: { path: '/portal/subscriptions', label: 'Subscriptions' },
  usage: { path: '/portal/usage', label: 'Usage' },
  profile: { path: '/portal/profile', label: 'Profile' },
};

export interface SignedIn {
  customerName: string;
  features: readonly PortalFeature[];
  current: PortalFeature | null;
  returnUrl: string | null;
  /** The form token of the sign-out button. */
  formToken: string;
  endsAt: string;
}

export interface PageOptions {
  title: string;
  nonce: string;
  brand: Branding;
  body: Html;
  /** More of <head> (a refresh). */
  head?: Html;
  /** Absent on the pages shown without a session (a used link, an expired one). */
  signedIn?: SignedIn;
}

/** Only constants and colours this module formatted itself: safe as the raw text of <style>. */
function stylesheet(brand: Branding): string {
  const accent = toHex(brand.accent);
  const onAccent = toHex(textOn(brand.accent));
  const link = toHex(readableOn(brand.accent, WHITE));
  return `
:root{--accent:${accent};--on-accent:${onAccent};--link:${link};--ink:${toHex(INK)};--muted:#4b5563;--line:#d1d5db;--soft:#f3f4f6;--bad:#b91c1c;--good:#166534;--warn:#92400e}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--ink);background:#fff}
a{color:var(--link);text-underline-offset:2px}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,summary:focus-visible{outline:3px solid var(--link);outline-offset:2px}
.skip{position:absolute;left:-9999px;top:0}
.skip:focus{left:8px;top:8px;z-index:10;background:#fff;padding:8px 12px}
header.brand{background:var(--accent);color:var(--on-accent)}
header.brand .bar{max-width:64rem;margin:0 auto;padding:12px 16px;display:flex;align-items:center;gap:12px}
header.brand img{max-height:40px;max-width:160px;background:#fff;border-radius:4px;padding:2px}
header.brand .org{font-size:1.15rem;font-weight:600;margin:0}
nav.pages{border-bottom:1px solid var(--line);background:#fff}
nav.pages ul{max-width:64rem;margin:0 auto;padding:0 8px;list-style:none;display:flex;flex-wrap:wrap;gap:4px}
nav.pages a{display:inline-block;padding:12px 10px;min-height:44px;text-decoration:none;color:var(--ink);border-bottom:3px solid transparent}
nav.pages a[aria-current=page]{border-bottom-color:var(--link);font-weight:600;color:var(--link)}
main{max-width:64rem;margin:0 auto;padding:16px}
h1{font-size:1.5rem;line-height:1.25;margin:8px 0 16px}
h2{font-size:1.2rem;margin:24px 0 8px}
h3{font-size:1.05rem;margin:16px 0 4px}
p{margin:8px 0}
.muted{color:var(--muted)}
.notice{border:1px solid var(--line);border-left:4px solid var(--link);background:var(--soft);padding:12px 16px;margin:12px 0;border-radius:4px}
.notice.bad{border-left-color:var(--bad)}
.notice.good{border-left-color:var(--good)}
.cards{display:grid;gap:12px;grid-template-columns:1fr}
.card{border:1px solid var(--line);border-radius:8px;padding:12px 16px;background:#fff}
.card h2,.card h3{margin-top:4px}
.figure{font-size:1.35rem;font-weight:600;margin:0}
table{border-collapse:collapse;width:100%;margin:8px 0}
caption{text-align:left;font-weight:600;padding:4px 0}
th,td{padding:8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-weight:600;background:var(--soft)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.sub td{border-bottom:1px solid var(--line);background:#fafafa;font-size:.95rem}
tr.sub ul{margin:0}
tfoot th{background:none}
tfoot tr:last-child th,tfoot tr:last-child td{font-weight:700}
.status{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.85rem;font-weight:600;border:1px solid currentColor}
.status.paid{color:var(--good)}
.status.due{color:var(--ink)}
.status.overdue{color:var(--bad)}
.status.void{color:var(--muted)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:8px 0}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0}
.pay{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.pay .qr{width:180px;height:180px;border:1px solid var(--line);padding:4px;background:#fff}
.pay .qr svg{width:100%;height:100%}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
form.profile{max-width:32rem}
.field{margin:12px 0}
.field label{display:block;font-weight:600;margin-bottom:4px}
.field input,.field select{width:100%;font:inherit;padding:10px;border:1px solid #6b7280;border-radius:6px;min-height:44px;background:#fff;color:var(--ink)}
.field input[aria-invalid=true]{border-color:var(--bad);border-width:2px}
.field .error{color:var(--bad);margin:4px 0 0;font-weight:600}
.field .help{color:var(--muted);margin:4px 0 0;font-size:.9rem}
button,.button{font:inherit;font-weight:600;display:inline-block;min-height:44px;padding:10px 18px;border-radius:6px;border:2px solid var(--link);background:var(--link);color:#fff;cursor:pointer;text-decoration:none}
button.quiet{background:#fff;color:var(--link)}
.pager{display:flex;gap:12px;align-items:center;flex-wrap:wrap;margin:12px 0}
.chart{margin:12px 0 0}
.chart svg{width:100%;height:auto;max-width:560px;display:block}
.chart details{margin-top:8px}
.stack-list{display:grid;gap:12px}
.chart .bar{fill:var(--link)}
.chart .axis{stroke:#6b7280}
.chart text{fill:var(--muted);font-size:13px}
footer.session{max-width:64rem;margin:24px auto 0;padding:16px;border-top:1px solid var(--line);display:flex;flex-wrap:wrap;gap:12px;align-items:center;justify-content:space-between;color:var(--muted)}
footer.session form{margin:0}
@media (max-width:40rem){
  table.stack thead{position:absolute;left:-9999px}
  table.stack,table.stack tbody,table.stack tfoot,table.stack tr,table.stack td{display:block;width:100%}
  table.stack caption{display:block;width:100%}
  table.stack tbody tr{border:1px solid var(--line);border-radius:8px;margin:0 0 12px;padding:4px 12px}
  table.stack tbody tr:has(+ tr.sub){border-radius:8px 8px 0 0;border-bottom:none;margin-bottom:0}
  table.stack tbody tr.sub{border-top:1px dashed var(--line);border-radius:0 0 8px 8px;background:#fafafa}
  table.stack td{border:none;padding:4px 0;display:flex;justify-content:space-between;gap:12px;text-align:right}
  table.stack td::before{content:attr(data-label);font-weight:600;color:var(--muted);text-align:left}
  table.stack td.full{display:block;text-align:left}
  table.stack td.full::before{content:none}
  table.stack td.full ul{margin:0;padding-left:20px}
  table.stack tfoot tr{display:flex;justify-content:space-between;gap:12px;padding:4px 12px}
  table.stack tfoot th,table.stack tfoot td{display:block;width:auto;border:none;padding:4px 0}
  table.stack tfoot td::before{content:none}
  .chart text{font-size:20px}
  nav.pages ul{gap:0;padding:0 4px}
  nav.pages a{padding:12px 7px}
}
@media (min-width:48rem){.cards{grid-template-columns:repeat(2,1fr)}}
`;
}

export function page(o: PageOptions): Html {
  const s = o.signedIn;
  const nav = s
    ? html`<nav class="pages" aria-label="Your billing">
        <ul>
          ${s.features.map((f) => {
            const p = FEATURE_PAGES[f];
            return html`<li>
              <a href="${p.path}" ${s.current === f ? html` aria-current="page"` : ''}>${p.label}</a>
            </li>`;
          })}
        </ul>
      </nav>`
    : '';
  const footer = s
    ? html`<footer class="session">
        <span
          >Signed in as ${s.customerName} until
          ${s.endsAt}.${s.returnUrl ? html` <a href="${safeUrl(s.returnUrl)}">Back to ${hostOf(s.returnUrl)}</a>` : ''}</span
        >
        <form method="post" action="/portal/sign-out">
          <input type="hidden" name="form_token" value="${s.formToken}" /><button type="submit" class="quiet">
            Sign out
          </button>
        </form>
      </footer>`
    : '';
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex, nofollow" />
        <link rel="icon" href="data:," />
        <title>${o.title} · ${o.brand.name}</title>
        ${o.head ?? ''}
        <style nonce="${o.nonce}">
          ${trusted(stylesheet(o.brand))}
        </style>
      </head>
      <body>
        <a class="skip" href="#content">Skip to content</a>
        <header class="brand">
          <div class="bar">
            ${o.brand.logoUrl ? html`<img src="${safeUrl(o.brand.logoUrl)}" alt="" referrerpolicy="no-referrer" />` : ''}
            <p class="org">${o.brand.name}</p>
          </div>
        </header>
        ${nav}
        <main id="content" tabindex="-1">${o.body}</main>
        ${footer}
      </body>
    </html> `;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'your account';
  }
}
