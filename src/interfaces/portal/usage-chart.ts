import { Decimal } from '../../domain/decimal.js';
import { groupDigits } from '../../services/invoice-pdf.js';
import { html, type Html } from './html.js';

/**
 * A bar chart drawn on the server as SVG: one bar per day (or week, or month) of the period,
 * scaled with exact decimals, with a title and description for screen readers and the same
 * figures in a table beside it. Colours come from the page's stylesheet (classes), so the chart
 * follows the organization's accent and needs no inline style.
 */

export interface Bucket {
  /** "12 Mar", shown under the bar (every few bars) and in the table. */
  label: string;
  /** null for a bucket still to come. */
  units: Decimal | null;
}

const WIDTH = 560;
const HEIGHT = 220;
const LEFT = 60;
const RIGHT = 28;
const TOP = 12;
const BOTTOM = 32;
const PLOT_H = HEIGHT - TOP - BOTTOM;
const PLOT_W = WIDTH - LEFT - RIGHT;

export function units(d: Decimal): string {
  return groupDigits(d.toString());
}

export function barChart(id: string, title: string, description: string, buckets: readonly Bucket[]): Html {
  const max = buckets.reduce((m, b) => (b.units && b.units.gt(m) ? b.units : m), Decimal.ZERO);
  const n = Math.max(buckets.length, 1);
  const slot = PLOT_W / n;
  const barW = Math.max(1, Math.min(28, slot * 0.7));
  // At most five labels, so they stay apart when a phone scales the chart down.
  const labelEvery = Math.ceil(n / 5);
  const bars = buckets.map((b, i) => {
    const x = LEFT + i * slot + (slot - barW) / 2;
    const label =
      i % labelEvery === 0
        ? html`<text x="${(LEFT + i * slot + slot / 2).toFixed(1)}" y="${HEIGHT - 12}" text-anchor="middle"
            >${b.label}</text
          >`
        : '';
    if (!b.units || b.units.isZero() || max.isZero()) return label;
    // Exact: units × plot height ÷ the largest bucket, to a tenth of a pixel.
    const h = b.units.mul(PLOT_H).div(max, 1);
    const y = Decimal.fromInt(TOP + PLOT_H).sub(h);
    return html`<rect
        class="bar"
        x="${x.toFixed(1)}"
        y="${y.toFixed(1)}"
        width="${barW.toFixed(1)}"
        height="${h.toFixed(1)}"
        ><title>${b.label}: ${units(b.units)}</title></rect
      >${label}`;
  });
  return html`<figure class="chart">
    <svg
      viewBox="0 0 ${WIDTH} ${HEIGHT}"
      role="img"
      aria-labelledby="${id}-t ${id}-d"
      xmlns="http://www.w3.org/2000/svg"
    >
      <title id="${id}-t">${title}</title>
      <desc id="${id}-d">${description}</desc>
      <line class="axis" x1="${LEFT}" y1="${TOP + PLOT_H}" x2="${WIDTH - RIGHT}" y2="${TOP + PLOT_H}" />
      <line class="axis" x1="${LEFT}" y1="${TOP}" x2="${LEFT}" y2="${TOP + PLOT_H}" />
      <text x="${LEFT - 6}" y="${TOP + 10}" text-anchor="end">${units(max)}</text>
      <text x="${LEFT - 6}" y="${TOP + PLOT_H}" text-anchor="end">0</text>
      ${bars}
    </svg>
    <details>
      <summary>${title}: the figures</summary>
      <table>
        <thead>
          <tr>
            <th scope="col">Period</th>
            <th scope="col" class="num">Units</th>
          </tr>
        </thead>
        <tbody>
          ${buckets
            .filter((b) => b.units)
            .map(
              (b) =>
                html`<tr>
                  <td>${b.label}</td>
                  <td class="num">${units(b.units!)}</td>
                </tr>`,
            )}
        </tbody>
      </table>
    </details>
  </figure>`;
}
