// The part of fontkit (pdfkit's font engine) that Billfold uses; the package ships no types.
declare module 'fontkit' {
  export interface Font {
    familyName: string;
    hasGlyphForCodePoint(codePoint: number): boolean;
    /** What pdfkit checks to take a parsed font instead of a file's bytes. */
    layout(text: string): unknown;
  }
  /** A .ttc/.dfont collection: several fonts in one file. */
  export interface FontCollection {
    fonts: Font[];
  }
  export function create(buffer: Uint8Array, postscriptName?: string): Font | FontCollection;
}
