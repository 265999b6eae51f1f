import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { create, type Font } from 'fontkit';
import { ConfigError } from '../config.js';
import { projectRoot } from '../version.js';

/**
 * The fonts of invoice and credit note documents. PDF's standard fonts (Helvetica) only encode
 * Windows-1252, so a customer called "Łódź Spółka" or "Москва" came out as other letters; the
 * documents embed fonts shipped in data/fonts instead, each document only the glyphs it uses:
 * Noto Sans (Latin, Greek, Cyrillic, Vietnamese, Devanagari), then DejaVu Sans for what Noto
 * Sans lacks that invoices meet (arrows, ≥ and other math signs, box drawing). Other scripts
 * (Chinese, Japanese, Korean...) need fonts that have them: BILLFOLD_PDF_FONT and
 * BILLFOLD_PDF_FONT_BOLD list TrueType or OpenType files, tried before the shipped ones. Each
 * string is drawn in the first font that has all its characters, so one document can carry a
 * Polish address and a Japanese customer name, although no single font has both.
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

/** Each weight's fonts in order of preference; the shipped ones are last. */
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

const shipped = (name: string) => readFont(join(projectRoot(), 'data', 'fonts', name), null);

/**
 * The fonts of a runtime. Configured files (comma-separated lists) are read and checked now, so
 * a wrong path stops the start with a message naming the variable. Bold text uses the bold list,
 * or else the regular one, before the shipped bold faces.
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
      regular: [...regular, ...['NotoSans-Regular.ttf', 'DejaVuSans.ttf'].map(shipped)],
      bold: [...bold, ...['NotoSans-Bold.ttf', 'DejaVuSans-Bold.ttf'].map(shipped)],
    });
}

/** The font names documents pass to `doc.font` once `useFonts` has set them up. */
export const REGULAR = 'billfold-regular';
export const BOLD = 'billfold-bold';

const ignored = (cp: number) => cp < 0x20 || (cp >= 0x7f && cp < 0xa0);

/**
 * The font to draw `text` in: the first that has all its characters (control characters aside),
 * else the one that has the most; and the characters it lacks, which show as empty boxes.
 */
function fontFor(fonts: readonly PdfFont[], text: string): { index: number; lacking: string[] } {
  let best = { index: 0, lacking: [] as string[] };
  for (let i = 0; i < fonts.length; i++) {
    const lacking: string[] = [];
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (!ignored(cp) && !fonts[i]!.covers(cp)) lacking.push(ch);
    }
    if (lacking.length === 0) return { index: i, lacking };
    if (i === 0 || lacking.length < best.lacking.length) best = { index: i, lacking };
  }
  return best;
}

/**
 * Registers the fonts on a document and makes `doc.font(REGULAR | BOLD)` pick, for each string
 * it draws or measures, the font of that weight `fontFor` chooses. Wrapping the document's own
 * methods keeps every drawing call as pdfkit documents it. Returns the characters drawn so far
 * that their chosen font lacks (they show as empty boxes), once each in order of appearance.
 */
export function useFonts(doc: PDFKit.PDFDocument, fonts: PdfFontSet): () => string[] {
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
  const lacking = new Set<string>();
  // pdfkit measures each word with widthOfString while laying a string out: those inner calls
  // keep the font chosen for the whole string.
  let depth = 0;
  /** Runs `draw` with the font of this weight that has the text's characters. */
  const inFontFor = <R>(text: unknown, draw: () => R): R => {
    let i = 0;
    if (depth === 0 && typeof text === 'string') {
      const choice = fontFor(names[weight], text);
      i = choice.index;
      for (const ch of choice.lacking) lacking.add(ch);
    }
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
  return () => [...lacking];
}
