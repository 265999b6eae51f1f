import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PDFDocument from 'pdfkit';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { BOLD, REGULAR, pdfFonts, useFonts } from '../../src/services/pdf-fonts.js';
import { pdfText } from '../harness/pdf.js';

// A font with Latin, Greek and Cyrillic but not Vietnamese (ế, ₫): pdf.js ships it.
const LIBERATION = createRequire(import.meta.url).resolve(
  'pdfjs-dist/standard_fonts/LiberationSans-Regular.ttf',
);

/** Draws on a new document; its bytes and the characters its fonts lacked. */
async function draw(
  fonts: ReturnType<ReturnType<typeof pdfFonts>>,
  paint: (doc: PDFKit.PDFDocument) => void,
): Promise<{ pdf: Buffer; lacking: string[] }> {
  const doc = new PDFDocument({ size: 'A4' });
  const lacking = useFonts(doc, fonts);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve) => doc.on('end', () => resolve(Buffer.concat(chunks))));
  paint(doc);
  doc.end();
  return { pdf: await done, lacking: lacking() };
}

const lines =
  (texts: string[], weight = REGULAR) =>
  (doc: PDFKit.PDFDocument) => {
    doc.font(weight);
    for (const t of texts) doc.text(t);
  };

describe('PDF fonts', () => {
  it('ships fonts that draw Latin, Greek, Cyrillic, Vietnamese and common signs, and names what they cannot', async () => {
    const fonts = pdfFonts()();
    expect(fonts.regular.map((f) => f.family)).toEqual(['Noto Sans', 'DejaVu Sans']);
    expect(fonts.bold.map((f) => f.family)).toEqual(['Noto Sans', 'DejaVu Sans']);
    const covered = [
      'Łódź Spółka z o.o.',
      'Ελληνικά',
      'Москва',
      'İstanbul şirketi',
      'Tiếng Việt',
      '€ £ ¥ ß ø ₫ ₹',
      'Calls ≥ 10,000 → tier 2 (≈ 5 %)',
    ];
    for (const weight of [REGULAR, BOLD]) {
      const { pdf, lacking } = await draw(fonts, lines(covered, weight));
      expect(lacking).toEqual([]);
      const text = await pdfText(pdf);
      for (const s of covered) expect(text).toContain(s);
    }
    // Each character has a font, but no font has both: the one it is drawn in lacks one of them.
    expect((await draw(fonts, lines(['कर ≥ 5']))).lacking).toEqual(['≥']);
    // Once each, in order of appearance; line breaks are layout, not glyphs. Measuring counts too.
    const { lacking } = await draw(fonts, (doc) => {
      doc.text('東京 Ltd\n');
      doc.heightOfString('京都 서울', { width: 100 });
    });
    expect(lacking).toEqual(['東', '京', '都', '서', '울']);
  });

  it('tries configured fonts first, then the shipped ones; bold falls back on the regular list', () => {
    const one = pdfFonts({ regular: ` ${LIBERATION} ` })();
    expect(one.regular.map((f) => f.family)).toEqual(['Liberation Sans', 'Noto Sans', 'DejaVu Sans']);
    expect(one.bold.map((f) => f.family)).toEqual(['Liberation Sans', 'Noto Sans', 'DejaVu Sans']);
    expect(one.bold[0]).toBe(one.regular[0]);
    const two = pdfFonts({ regular: LIBERATION, bold: `${LIBERATION},${LIBERATION}` })();
    expect(two.bold.map((f) => f.family)).toEqual([
      'Liberation Sans',
      'Liberation Sans',
      'Noto Sans',
      'DejaVu Sans',
    ]);
  });

  it('draws each string in the first font that has all its characters', async () => {
    const fonts = pdfFonts({ regular: LIBERATION })();
    const { pdf, lacking } = await draw(fonts, (doc) => {
      doc.font(BOLD).fontSize(14).text('Łódź Spółka z o.o.');
      doc.font(REGULAR).fontSize(10).text('Tiếng Việt 1.000 ₫');
      const h = doc.heightOfString('Tiếng Việt — a line long enough to wrap twice at this width', {
        width: 80,
      });
      expect(h).toBeGreaterThan(3 * 10);
      doc.text('Москва, Ελληνικά');
    });
    const text = await pdfText(pdf);
    for (const s of ['Łódź Spółka z o.o.', 'Tiếng Việt 1.000 ₫', 'Москва, Ελληνικά'])
      expect(text).toContain(s);
    // Both fonts are embedded: Liberation Sans for what it has, Noto Sans for the Vietnamese line.
    const raw = pdf.toString('latin1');
    expect(raw).toMatch(/\/BaseFont \/[A-Z]{6}\+LiberationSans/);
    expect(raw).toMatch(/\/BaseFont \/[A-Z]{6}\+NotoSans-Regular/);
    expect(lacking).toEqual([]);
  });

  it('refuses a font path that cannot be read or is not a font, naming the setting', () => {
    expect(() => pdfFonts({ regular: 'no/such.ttf' })).toThrow(
      new ConfigError("BILLFOLD_PDF_FONT: cannot read the font file 'no/such.ttf' (ENOENT)"),
    );
    const notFont = join(mkdtempSync(join(tmpdir(), 'billfold-font-')), 'font.ttf');
    writeFileSync(notFont, 'not a font at all');
    expect(() => pdfFonts({ regular: LIBERATION, bold: notFont })).toThrow(
      new ConfigError(
        `BILLFOLD_PDF_FONT_BOLD: '${notFont}' is not a TrueType or OpenType font (.ttf, .otf, .ttc, .woff, .woff2)`,
      ),
    );
  });
});
