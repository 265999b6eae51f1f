/**
 * Colours of a brand, kept readable. WCAG 2.x defines the contrast of two colours from their
 * relative luminance; text needs 4.5:1 against its background (level AA, normal text). The
 * portal takes an organization's accent colour as given and derives from it what it can draw
 * readably: the text colour to write on it, and a shade of it for links and buttons on a white
 * page.
 */

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

export const AA_CONTRAST = 4.5;
export const WHITE: Rgb = { r: 255, g: 255, b: 255 };
export const BLACK: Rgb = { r: 0, g: 0, b: 0 };
/** The portal's body text: near-black, 18.9:1 on white. */
export const INK: Rgb = { r: 0x11, g: 0x18, b: 0x27 };

const HEX = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i;

/** Parses `#rgb` or `#rrggbb` (case-insensitive, `#` optional); null when it is neither. */
export function parseHexColour(text: string): Rgb | null {
  const m = HEX.exec(text.trim());
  if (!m) return null;
  const hex = m[1]!.length === 3 ? [...m[1]!].map((c) => c + c).join('') : m[1]!;
  return {
    r: parseInt(hex.slice(0, 2), 16),
    g: parseInt(hex.slice(2, 4), 16),
    b: parseInt(hex.slice(4, 6), 16),
  };
}

/** `#rrggbb`, lower case. */
export function toHex(c: Rgb): string {
  return `#${[c.r, c.g, c.b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/** WCAG relative luminance, 0 (black) to 1 (white). */
export function luminance(c: Rgb): number {
  const channel = (v: number) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
}

/** WCAG contrast ratio, 1 to 21. */
export function contrast(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * The text colour to write on `background`: white when it reaches 4.5:1 there, else the portal's
 * near-black ink when that does, else black. Black always does then: below 4.5:1 with white a
 * colour's luminance is above 0.18, which gives black at least 4.67:1.
 */
export function textOn(background: Rgb): Rgb {
  if (contrast(WHITE, background) >= AA_CONTRAST) return WHITE;
  if (contrast(INK, background) >= AA_CONTRAST) return INK;
  return BLACK;
}

/**
 * `colour` darkened (mixed toward black, keeping its hue) just enough to reach `ratio` against
 * `background`; the colour itself when it already does. For links and buttons drawn in a brand
 * colour on a light page.
 */
export function readableOn(colour: Rgb, background: Rgb, ratio = AA_CONTRAST): Rgb {
  if (contrast(colour, background) >= ratio) return colour;
  // Luminance falls monotonically as the colour is scaled toward black: bisect on the scale.
  let lo = 0;
  let hi = 1;
  const scaled = (k: number): Rgb => ({
    r: Math.floor(colour.r * k),
    g: Math.floor(colour.g * k),
    b: Math.floor(colour.b * k),
  });
  for (let i = 0; i < 20; i++) {
    const mid = (lo + hi) / 2;
    if (contrast(scaled(mid), background) >= ratio) lo = mid;
    else hi = mid;
  }
  return scaled(lo);
}
