import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { create, type Font } from 'fontkit';
import { ConfigError } from '../config.js';
import { projectRoot } from '../version.js';

/**
 * The fonts of invoice and credit note documents. PDF's standard fonts (Helvetica) only encode
 * Windows-1252, so a customer called "Łódź Spółka" or "Москва" came out as other letters; the
 * documents embed Noto Sans instead (shipped in data/fonts: Latin, Greek, Cyrillic and
 * Vietnamese, each document embedding only the glyphs it uses). Scripts it does not cover (Chinese,
 * Japanese, Korean...) need a font that has them: BILLFOLD_PDF_FONT and BILLFOLD_PDF_FONT_BOLD
 * name a TrueType or OpenType file to use instead (the first font of a .ttc collection).
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

export interface PdfFontSet {
  readonly regular: PdfFont;
  readonly bold: PdfFont;
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
 * The fonts of a runtime. Configured files are read and checked now, so a wrong path stops the
 * start with a message naming the variable; a bold face defaults to the configured regular one
 * (the shipped bold would not cover the same scripts).
 */
export function pdfFonts(files: { regular?: string; bold?: string } = {}): PdfFonts {
  const regular = files.regular ? readFont(files.regular, 'BILLFOLD_PDF_FONT') : undefined;
  const bold = files.bold ? readFont(files.bold, 'BILLFOLD_PDF_FONT_BOLD') : regular;
  let set: PdfFontSet | undefined;
  return () =>
    (set ??= {
      regular: regular ?? readFont(shipped('NotoSans-Regular.ttf'), null),
      bold: bold ?? readFont(shipped('NotoSans-Bold.ttf'), null),
    });
}

/** Font names to pass to `doc.font` once registered by `useFonts`. */
export const REGULAR = 'billfold-regular';
export const BOLD = 'billfold-bold';

export function useFonts(doc: PDFKit.PDFDocument, fonts: PdfFontSet): void {
  // pdfkit takes a parsed fontkit font as well as bytes (its types only know the bytes).
  doc.registerFont(REGULAR, fonts.regular.font as unknown as Buffer);
  doc.registerFont(BOLD, fonts.bold.font as unknown as Buffer);
  doc.font(REGULAR);
}

/**
 * Characters in any string of `values` (walked deeply) that one of the fonts cannot draw, in
 * order of first appearance: a document with them shows empty boxes where they were.
 */
export function uncoveredCharacters(fonts: PdfFontSet, values: readonly unknown[]): string[] {
  const seen = new Set<number>();
  const missing: string[] = [];
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      for (const ch of v) {
        const cp = ch.codePointAt(0)!;
        // Control characters and line breaks are layout, not glyphs.
        if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || seen.has(cp)) continue;
        seen.add(cp);
        if (!fonts.regular.covers(cp) || !fonts.bold.covers(cp)) missing.push(ch);
      }
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(visit);
  };
  values.forEach(visit);
  return missing;
}
