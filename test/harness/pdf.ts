import jsqrModule from 'jsqr';

// jsqr is CommonJS; its types describe a default export, Node gives the function itself.
const jsQR = ((jsqrModule as unknown as { default?: unknown }).default ??
  jsqrModule) as unknown as typeof jsqrModule.default;

/** Reads the text back out of a PDF, the way a person copying from a viewer would see it. */
export async function pdfText(pdf: Uint8Array): Promise<string> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const doc = await pdfjs.getDocument({ data: new Uint8Array(pdf), verbosity: 0, isEvalSupported: false })
    .promise;
  const pages: string[] = [];
  for (let i = 1; i <= doc.numPages; i++) {
    const content = await (await doc.getPage(i)).getTextContent();
    pages.push(content.items.map((it) => ('str' in it ? it.str : '')).join(' '));
  }
  await doc.destroy();
  return pages.join('\n');
}

/** What this file uses of the canvas pdfjs draws on. */
interface DrawnCanvas {
  width: number;
  height: number;
}
interface DrawingContext {
  fillStyle: string;
  fillRect(x: number, y: number, w: number, h: number): void;
  getImageData(
    x: number,
    y: number,
    w: number,
    h: number,
  ): { data: Uint8ClampedArray; width: number; height: number };
}

/**
 * Every QR code on a PDF's pages, decoded the way a phone would: each page drawn to an image
 * (pdfjs, at 2× — 144 dpi), then read with jsqr. A page may hold several codes: each one
 * read is painted over and the page read again.
 */
export async function pdfQrCodes(pdf: Uint8Array): Promise<string[]> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const doc = await pdfjs.getDocument({ data: new Uint8Array(pdf), verbosity: 0, isEvalSupported: false })
    .promise;
  const found: string[] = [];
  for (let i = 1; i <= doc.numPages; i++) {
    const page = await doc.getPage(i);
    const viewport = page.getViewport({ scale: 2 });
    // pdfjs's own canvas for Node (@napi-rs/canvas, its optional dependency).
    const factory = doc.canvasFactory as {
      create(w: number, h: number): { canvas: DrawnCanvas; context: DrawingContext };
    };
    const { canvas, context } = factory.create(Math.ceil(viewport.width), Math.ceil(viewport.height));
    await page.render({ canvas, canvasContext: context, viewport }).promise;
    for (let n = 0; n < 5; n++) {
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      const code = jsQR(image.data, image.width, image.height, { inversionAttempts: 'dontInvert' });
      if (!code) break;
      found.push(code.data);
      const xs = [
        code.location.topLeftCorner.x,
        code.location.bottomRightCorner.x,
        code.location.topRightCorner.x,
        code.location.bottomLeftCorner.x,
      ];
      const ys = [
        code.location.topLeftCorner.y,
        code.location.bottomRightCorner.y,
        code.location.topRightCorner.y,
        code.location.bottomLeftCorner.y,
      ];
      const pad = 20;
      context.fillStyle = '#ffffff';
      context.fillRect(
        Math.min(...xs) - pad,
        Math.min(...ys) - pad,
        Math.max(...xs) - Math.min(...xs) + 2 * pad,
        Math.max(...ys) - Math.min(...ys) + 2 * pad,
      );
    }
    page.cleanup();
  }
  await doc.destroy();
  return found;
}
