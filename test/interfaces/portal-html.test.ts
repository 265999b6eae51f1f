import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeHtml, html, safeUrl, trusted, type HtmlValue } from '../../src/interfaces/portal/html.js';

const decode = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

describe('portal HTML', () => {
  it('escapes the five characters that can end text or an attribute', () => {
    expect(escapeHtml(`<script>alert("x") & 'y'</script>`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;',
    );
    expect(escapeHtml('&amp;')).toBe('&amp;amp;');
  });

  it('escapes any text so that it reads back exactly and opens nothing', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const out = html`<p title="${text}">${text}</p>`.text;
        const inner = out.slice(out.indexOf('>') + 1, out.lastIndexOf('<'));
        const title = /title="([^"]*)"/.exec(out)![1]!;
        return !/[<>"']/.test(inner) && decode(inner) === text && decode(title) === text;
      }),
    );
  });

  it('keeps markup made by the tag, renders lists and leaves out null, undefined and false', () => {
    const name = '<b>Acme</b>';
    const row = (s: string) => html`<li>${s}</li>`;
    const list = ['a<', 'b'].map(row);
    // prettier-ignore
    expect(html`<ul>${list}</ul>`.text).toBe('<ul><li>a&lt;</li><li>b</li></ul>');
    expect(html`<p>${html`<em>${name}</em>`}</p>`.text).toBe('<p><em>&lt;b&gt;Acme&lt;/b&gt;</em></p>');
    expect(html`${null}${undefined}${false}|${0}|${12n}`.text).toBe('|0|12');
    expect(html`${trusted('<svg></svg>')}`.text).toBe('<svg></svg>');
  });

  it('refuses a value it does not know how to write', () => {
    expect(() => html`${{ a: 1 } as unknown as HtmlValue}`).toThrow(/cannot render a object/);
    expect(() => html`${true as unknown as HtmlValue}`).toThrow(/cannot render a boolean/);
  });

  it('lets only http(s) URLs and this site’s paths into links', () => {
    expect(safeUrl('https://app.acme.example/billing?x=1')).toBe('https://app.acme.example/billing?x=1');
    expect(safeUrl('http://cdn.example.com/logo.svg')).toBe('http://cdn.example.com/logo.svg');
    expect(safeUrl('/portal/invoices')).toBe('/portal/invoices');
    for (const bad of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      ' javascript:alert(1)',
      'data:text/html,<script>',
      '//evil.example/',
      '/\\evil.example/',
      'vbscript:x',
      'not a url',
      '',
      null,
      undefined,
    ])
      expect(safeUrl(bad), String(bad)).toBe('#');
  });
});
