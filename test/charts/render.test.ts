// The renderer: vega's SVG, resvg's PNG in the shipped font. The PNG is decoded and looked at:
// its size, that it is not blank, that the series' colours and the text are there.
import { PNG } from 'pngjs';
import { Resvg } from '@resvg/resvg-js';
import { describe, expect, it } from 'vitest';
import { chartModel, chartSpec } from '../../templates/chart.ts';
import { FONT_FILES, renderChart, textWidth } from '../../src/charts/render.ts';
import { renderCutoverCharts } from '../../src/charts/cutover-chart.ts';
import { rolledBackCutover } from '../support/recorded-cutover.ts';

const hex = (r: number, g: number, b: number) => `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;

function colours(png: Uint8Array): { width: number; height: number; counts: Map<string, number> } {
  const image = PNG.sync.read(Buffer.from(png));
  const counts = new Map<string, number>();
  for (let i = 0; i < image.data.length; i += 4) {
    const key = hex(image.data[i]!, image.data[i + 1]!, image.data[i + 2]!);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return { width: image.width, height: image.height, counts };
}

describe('renderChart', () => {
  it('draws a rolled-back cutover: a PNG of the expected size, not blank, in the series’ colours, with text', async () => {
    const model = chartModel(rolledBackCutover().input);
    const chart = await renderChart(chartSpec(model), 2);
    expect(chart.svg.startsWith('<svg')).toBe(true);
    expect(chart.svg).toContain('font-family="DejaVu Sans"');
    const { width, height, counts } = colours(chart.png);
    expect([width, height]).toEqual([chart.width, chart.height]);
    // 760 px of plot plus axes and padding, twice over.
    expect(width).toBeGreaterThan(1600);
    expect(width).toBeLessThan(2200);
    expect(height).toBeGreaterThan(1000);
    expect(counts.size).toBeGreaterThan(50);
    const share = (colour: string) => (counts.get(colour) ?? 0) / (width * height);
    expect(share('#ffffff')).toBeGreaterThan(0.5);
    expect(share('#ffffff')).toBeLessThan(0.98);
    // The lines' exact colours (anti-aliasing blends their edges, the middles stay pure).
    expect(counts.get('#d62728') ?? 0).toBeGreaterThan(500);
    expect(counts.get('#1f77b4') ?? 0).toBeGreaterThan(500);
    // Text: titles and axis labels are set in black.
    expect(counts.get('#000000') ?? 0).toBeGreaterThan(2000);
  });

  it('sets text in the shipped font with no system fonts, and vega measures it as resvg sets it', () => {
    const text = 'rollback: gates five-xx, p95 failed at 25 %';
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="600" height="60"><text x="10" y="40" font-family="DejaVu Sans" font-size="20">${text}</text></svg>`;
    const resvg = new Resvg(svg, { font: { fontFiles: [FONT_FILES.regular], loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans' } });
    const box = resvg.innerBBox();
    expect(box).toBeDefined();
    // The ink's width is a little under the advance width (side bearings); vega's guess, 0.8 × size per character, is 700 px.
    const measured = textWidth(text, 20);
    expect(box!.width).toBeGreaterThan(measured - 8);
    expect(box!.width).toBeLessThan(measured + 2);
    expect(Math.abs(0.8 * 20 * text.length - box!.width)).toBeGreaterThan(150);
  });

  it('renderCutoverCharts gives a single service one chart: the PNG, the SVG and the same in words', async () => {
    const charts = await renderCutoverCharts(rolledBackCutover().input);
    expect(charts).toHaveLength(1);
    const chart = charts[0]!;
    expect(chart.alt).toMatch(/^Cutover demo: canary b vs stable a \(Rolled back \(automatic\) from 25 %/);
    expect(PNG.sync.read(Buffer.from(chart.png)).width).toBe(chart.width);
  });
});
