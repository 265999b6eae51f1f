/**
 * HTML the portal writes, escaped by construction. Every page is built with the `html` tag:
 * each interpolated value is escaped unless it is itself `Html` (made by this tag, or by
 * `trusted` for markup a library produced, such as a QR code's SVG). A value of any other type
 * is refused rather than guessed at, so a forgotten conversion fails loudly instead of printing
 * "[object Object]". Attribute values must be written in double quotes: escaping covers the
 * quote characters, and an unquoted attribute could be ended by a space.
 */

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text as it is safe inside an element or a double-quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

export type HtmlValue = Html | string | number | bigint | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.text;
  if (value === null || value === undefined || value === false) return '';
  if (typeof value === 'string') return escapeHtml(value);
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return value.map(render).join('');
  throw new TypeError(`html: cannot render a ${typeof value} (${String(value)}); convert it to text first`);
}

/** The tag: `html\`<td>${invoice.number}</td>\``. `false`, null and undefined render nothing. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Markup from a source that already produced valid, safe HTML or SVG (never user text). */
export function trusted(markup: string): Html {
  return new Html(markup);
}

/**
 * A URL for an href or src: an absolute http(s) URL or a path on this site; anything else
 * (`javascript:`, `data:`, protocol-relative `//host`) becomes `#`.
 */
export function safeUrl(url: string | null | undefined): string {
  if (!url) return '#';
  if (url.startsWith('/') && !url.startsWith('//') && !url.startsWith('/\\')) return url;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : '#';
  } catch {
    return '#';
  }
}
