import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { pdfFonts, uncoveredCharacters } from '../../src/services/pdf-fonts.js';
import { projectRoot } from '../../src/version.js';

describe('PDF fonts', () => {
  it('ships fonts that draw Latin, Greek, Cyrillic and Vietnamese text, and names what they cannot', () => {
    const fonts = pdfFonts()();
    expect(fonts.regular.family).toBe('Noto Sans');
    expect(fonts.bold.family).toBe('Noto Sans');
    const covered = [
      'Łódź Spółka z o.o.',
      'Ελληνικά',
      'Москва',
      'İstanbul şirketi',
      'Tiếng Việt',
      '€ £ ¥ ß ø',
    ];
    expect(uncoveredCharacters(fonts, covered)).toEqual([]);
    // Found anywhere in the values, once each, in order of appearance; line breaks are not glyphs.
    expect(
      uncoveredCharacters(fonts, [
        { customer: { name: '東京 Ltd\n' }, lines: [{ description: '京都 مرحبا' }] },
      ]),
    ).toEqual(['東', '京', '都', 'م', 'ر', 'ح', 'ب', 'ا']);
  });

  it('uses configured font files instead, the regular one for bold unless a bold one is named', () => {
    const regular = join(projectRoot(), 'data', 'fonts', 'NotoSans-Regular.ttf');
    const bold = join(projectRoot(), 'data', 'fonts', 'NotoSans-Bold.ttf');
    const one = pdfFonts({ regular })();
    expect(one.bold).toBe(one.regular);
    const two = pdfFonts({ regular, bold })();
    expect(two.bold).not.toBe(two.regular);
    expect(two.bold.font.familyName).toBe('Noto Sans');
  });

  it('refuses a font path that cannot be read or is not a font, naming the setting', () => {
    expect(() => pdfFonts({ regular: 'no/such.ttf' })).toThrow(
      new ConfigError("BILLFOLD_PDF_FONT: cannot read the font file 'no/such.ttf' (ENOENT)"),
    );
    const notFont = join(mkdtempSync(join(tmpdir(), 'billfold-font-')), 'font.ttf');
    writeFileSync(notFont, 'not a font at all');
    expect(() => pdfFonts({ bold: notFont })).toThrow(
      new ConfigError(
        `BILLFOLD_PDF_FONT_BOLD: '${notFont}' is not a TrueType or OpenType font (.ttf, .otf, .ttc, .woff, .woff2)`,
      ),
    );
  });
});
