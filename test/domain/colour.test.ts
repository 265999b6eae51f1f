import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AA_CONTRAST,
  INK,
  WHITE,
  contrast,
  parseHexColour,
  readableOn,
  textOn,
  toHex,
} from '../../src/domain/colour.js';

const colour = fc.record({
  r: fc.integer({ min: 0, max: 255 }),
  g: fc.integer({ min: 0, max: 255 }),
  b: fc.integer({ min: 0, max: 255 }),
});

describe('colour', () => {
  it('reads #rgb and #rrggbb in any case, with or without #, and nothing else', () => {
    expect(parseHexColour('#1F6FEB')).toEqual({ r: 0x1f, g: 0x6f, b: 0xeb });
    expect(parseHexColour('16a')).toEqual({ r: 0x11, g: 0x66, b: 0xaa });
    expect(toHex(parseHexColour(' #ABC ')!)).toBe('#aabbcc');
    for (const bad of ['', '#12', '#12345', '#1234567', 'blue', '#ggg', 'rgb(1,2,3)'])
      expect(parseHexColour(bad), bad).toBeNull();
  });

  it('computes WCAG contrast ratios', () => {
    expect(contrast(WHITE, { r: 0, g: 0, b: 0 })).toBeCloseTo(21, 5);
    expect(contrast(WHITE, WHITE)).toBe(1);
    // The classic borderline grey: #777 is just under AA on white, #767676 just over.
    expect(contrast(parseHexColour('#777777')!, WHITE)).toBeLessThan(AA_CONTRAST);
    expect(contrast(parseHexColour('#767676')!, WHITE)).toBeGreaterThanOrEqual(AA_CONTRAST);
  });

  it('writes white on dark accents and ink on light ones', () => {
    expect(textOn(parseHexColour('#1f4e79')!)).toEqual(WHITE);
    expect(textOn(parseHexColour('#ffd60a')!)).toEqual(INK);
  });

  it('always finds a text colour with at least 4.5:1 on any accent', () => {
    fc.assert(fc.property(colour, (c) => contrast(textOn(c), c) >= AA_CONTRAST));
  });

  it('darkens an accent for links on white just enough, and leaves a dark one alone', () => {
    const dark = parseHexColour('#1f4e79')!;
    expect(readableOn(dark, WHITE)).toEqual(dark);
    const yellow = parseHexColour('#ffd60a')!;
    const shade = readableOn(yellow, WHITE);
    expect(contrast(shade, WHITE)).toBeGreaterThanOrEqual(AA_CONTRAST);
    expect(contrast(shade, WHITE)).toBeLessThan(AA_CONTRAST + 0.3);
    fc.assert(fc.property(colour, (c) => contrast(readableOn(c, WHITE), WHITE) >= AA_CONTRAST));
  });
});
