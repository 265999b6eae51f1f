import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { create, type Font } from 'fontkit';
import { ConfigError } from '../config.js';
import { projectRoot } from '../version.js';

/**
 * The fonts of invoice and credit note documents. PDF's standard fonts (Helvetica) only encode
 * Windows-1252, so a customer called "Łódź Spółka" or "Москва" came out as other letters; the
 * documents embed Noto Sans instead (shipped in data/fonts: Latin, Greek, Cyrillic and
 * Vietnamese, each document embedding only the glyphs it uses). Other scripts (Chinese,
 * Japanese, Korean...) need fonts that have them: BILLFOLD_PDF_FONT and BILLFOLD_PDF_FONT_BOLD
 * list TrueType or OpenType files, tried before the shipped ones. Each string is drawn in the
 * first font that has all its characters, so one document can carry a Polish address and a
 * Japanese customer name, although no single font has both.
 */

export interface PdfFont {
  /**
   * The parsed font, shared by every document: pdfkit would parse a file's bytes again for each
   * one (170 ms a document against 8 with the font parsed once).
   */
  readonly font: Font;
  readonly family: string;
  covers(codePoint: number): boolean;
}

/** Each weight's fonts in order of preference; the shipped one is last. */
export interface PdfFontSet {
  readonly regular: readonly PdfFont[];
  readonly bold: readonly PdfFont[];
}

/** The fonts to draw with; the shipped ones are read the first time a document needs them. */
export type PdfFonts = () => PdfFontSet;

function readFont(file: string, variable: string | null): PdfFont {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    if (variable) throw new ConfigError(`${variable}: cannot read the font file '${file}' (${why})`);
    throw new Error(`the font ${file} is missing from the installation (${why})`);
  }
  let font: ReturnType<typeof create> | undefined;
  try {
    font = create(data);
  } catch {
    font = undefined;
  }
  // A collection (.ttc, as CJK fonts often come) holds several: its first is used.
  if (font && 'fonts' in font) font = font.fonts[0];
  if (!font || !('hasGlyphForCodePoint' in font)) {
    throw new ConfigError(
      `${variable ?? 'font'}: '${file}' is not a TrueType or OpenType font (.ttf, .otf, .ttc, .woff, .woff2)`,
    );
  }
  const parsed = font;
  return { font: parsed, family: parsed.familyName, covers: (cp) => parsed.hasGlyphForCodePoint(cp) };
}

const shipped = (name: string) => join(projectRoot(), 'data', 'fonts', name);

/**
 * The fonts of a runtime. Configured files (comma-separated lists) are read and checked now, so
 * a wrong path stops the start with a message naming the variable. Bold text uses the bold list,
 * or else the regular one, before the shipped bold face.
 */
export function pdfFonts(files: { regular?: string; bold?: string } = {}): PdfFonts {
  const list = (value: string | undefined, variable: string) =>
    (value ?? '')
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean)
      .map((f) => readFont(f, variable));
  const regular = list(files.regular, 'BILLFOLD_PDF_FONT');
  const boldList = list(files.bold, 'BILLFOLD_PDF_FONT_BOLD');
  const bold = boldList.length ? boldList : regular;
  let set: PdfFontSet | undefined;
  return () =>
    (set ??= {
      regular: [...regular, readFont(shipped('NotoSans-Regular.ttf'), null)],
      bold: [...bold, readFont(shipped('NotoSans-Bold.ttf'), null)],
    });
}

/** The font names documents pass to `doc.font` once `useFonts` has set them up. */
export const REGULAR = 'billfold-regular';
export const BOLD = 'billfold-bold';

const ignored = (cp: number) => cp < 0x20 || (cp >= 0x7f && cp < 0xa0);

/** The first font that has every character of `text` (control characters aside), else the first. */
function fontIndexFor(fonts: readonly PdfFont[], text: string): number {
  if (fonts.length === 1) return 0;
  search: for (let i = 0; i < fonts.length; i++) {
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (!ignored(cp) && !fonts[i]!.covers(cp)) continue search;
    }
    return i;
  }
  return 0;
}

/**
 * Registers the fonts on a document and makes `doc.font(REGULAR | BOLD)` pick, for each string
 * it draws or measures, the first font of that weight that has all its characters. Wrapping the
 * document's own methods keeps every drawing call as pdfkit documents it.
 */
export function useFonts(doc: PDFKit.PDFDocument, fonts: PdfFontSet): void {
  const names = { [REGULAR]: fonts.regular, [BOLD]: fonts.bold } as const;
  for (const [weight, list] of Object.entries(names))
    // pdfkit takes a parsed fontkit font as well as bytes (its types only know the bytes).
    list.forEach((f, i) => doc.registerFont(`${weight}-${i}`, f.font as unknown as Buffer));
  let weight: keyof typeof names = REGULAR;
  const setFont = doc.font.bind(doc) as (name: string, size?: number) => PDFKit.PDFDocument;
  doc.font = ((name: string, size?: number) => {
    if (name !== REGULAR && name !== BOLD) return setFont(name, size);
    weight = name;
    return setFont(`${name}-0`, size);
  }) as typeof doc.font;
  // pdfkit measures each word with widthOfString while laying a string out: those inner calls
  // keep the font chosen for the whole string.
  let depth = 0;
  /** Runs `draw` with the font of this weight that has the text's characters. */
  const inFontFor = <R>(text: unknown, draw: () => R): R => {
    const i = depth === 0 && typeof text === 'string' ? fontIndexFor(names[weight], text) : 0;
    depth++;
    if (i !== 0) setFont(`${weight}-${i}`);
    try {
      return draw();
    } finally {
      depth--;
      if (i !== 0) setFont(`${weight}-0`);
    }
  };
  for (const method of ['text', 'heightOfString', 'widthOfString'] as const) {
    const original = (doc[method] as (...args: unknown[]) => unknown).bind(doc);
    (doc as unknown as Record<string, unknown>)[method] = (...args: unknown[]) =>
      inFontFor(args[0], () => original(...args));
  }
  doc.font(REGULAR);
}

/**
 * Characters in any string of `values` (walked deeply) that no font of a weight can draw, in
 * order of first appearance: a document with them shows empty boxes where they were.
 */
export function uncoveredCharacters(fonts: PdfFontSet, values: readonly unknown[]): string[] {
  const seen = new Set<number>();
  const missing: string[] = [];
  const drawable = (list: readonly PdfFont[], cp: number) => list.some((f) => f.covers(cp));
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      for (const ch of v) {
        const cp = ch.codePointAt(0)!;
        // Control characters and line breaks are layout, not glyphs.
        if (ignored(cp) || seen.has(cp)) continue;
        seen.add(cp);
        if (!drawable(fonts.regular, cp) || !drawable(fonts.bold, cp)) missing.push(ch);
      }
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(visit);
  };
  values.forEach(visit);
  return missing;
}
