// Renders a chart spec (Vega-Lite, built in templates/chart.ts) server-side: vega to SVG, resvg to
// PNG. The text is set in a font shipped as an npm package (DejaVu Sans, TTF: resvg reads TrueType
// and OpenType, not woff2) and loaded explicitly, never from the system, so the Docker image with no
// fonts at all draws the same picture as a laptop. Vega lays text out by measuring it; without a
// canvas it guesses (0.8 × size per character), and labels collide or get clipped once resvg sets
// them in the real font. So vega measures with that same font's advance widths and kerning.
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';
import opentype, { type Font } from 'opentype.js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { CHART_FONT } from '../../templates/chart.ts';

const require = createRequire(import.meta.url);

/** The shipped font files: regular for text, bold for titles. */
export const FONT_FILES = {
  regular: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'),
  bold: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'),
} as const;

export interface RenderedChart {
  readonly svg: string;
  readonly png: Uint8Array;
  readonly width: number;
  readonly height: number;
}

let fonts: { regular: Font; bold: Font } | undefined;

function loadFont(path: string): Font {
  const bytes = readFileSync(path);
  return opentype.parse(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}

/** Width of `text` in the shipped font: advances plus kerning, as resvg will set it. */
export function textWidth(text: string, fontSize: number, bold = false): number {
  fonts ??= { regular: loadFont(FONT_FILES.regular), bold: loadFont(FONT_FILES.bold) };
  const font = bold ? fonts.bold : fonts.regular;
  let units = 0;
  let previous: ReturnType<Font['charToGlyph']> | undefined;
  for (const char of text) {
    const glyph = font.charToGlyph(char);
    units += glyph.advanceWidth ?? 0;
    if (previous) units += font.getKerningValue(previous, glyph);
    previous = glyph;
  }
  return (units * fontSize) / font.unitsPerEm;
}

const isBold = (weight: unknown) => weight === 'bold' || (typeof weight === 'number' && weight >= 600) || (typeof weight === 'string' && Number(weight) >= 600);

/** vega-scenegraph's measurement hook, re-exported by vega at run time but not in its typings. */
interface TextMetrics {
  width: (item: { fontSize?: number; fontWeight?: unknown }, text?: string | null) => number;
}

// Once per process: vega's text measurement is a module-level setting.
(vega as unknown as { textMetrics: TextMetrics }).textMetrics.width = (item, text) => {
  const value = text == null ? '' : String(text).trim();
  return textWidth(value, item.fontSize ?? 11, isBold(item.fontWeight));
};

/**
 * SVG from vega, PNG from resvg at `scale` (2: sharp on high-density screens), on this thread. Both
 * take a few hundred milliseconds of CPU for a long cutover: the bot renders through `renderChart`,
 * which does this on a worker thread so its event loop keeps acking Slack.
 */
export async function renderChartHere(spec: TopLevelSpec, scale = 2): Promise<RenderedChart> {
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    const svg = await view.toSVG();
    const resvg = new Resvg(svg, {
      font: { fontFiles: [FONT_FILES.regular, FONT_FILES.bold], loadSystemFonts: false, defaultFontFamily: CHART_FONT, sansSerifFamily: CHART_FONT },
      fitTo: { mode: 'zoom', value: scale },
      background: '#ffffff',
    });
    const image = resvg.render();
    return { svg, png: image.asPng(), width: image.width, height: image.height };
  } finally {
    view.finalize();
  }
}

// ---- off the event loop ------------------------------------------------------------------------

type Pending = { resolve: (chart: RenderedChart) => void; reject: (error: Error) => void };

/** One worker thread per process, started on first use, renders one chart at a time. */
class ChartWorker {
  #worker: Worker | undefined;
  #seq = 0;
  readonly #pending = new Map<number, Pending>();

  render(spec: TopLevelSpec, scale: number): Promise<RenderedChart> {
    const worker = this.#start();
    const id = ++this.#seq;
    // A render in flight keeps the process alive; an idle worker does not.
    worker.ref();
    return new Promise<RenderedChart>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, spec, scale });
    });
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL('./render-worker.ts', import.meta.url));
    worker.on('message', (message: { id: number; chart?: RenderedChart; error?: string }) => {
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (this.#pending.size === 0) worker.unref();
      if (!pending) return;
      if (message.chart) pending.resolve({ ...message.chart, png: new Uint8Array(message.chart.png) });
      else pending.reject(new Error(message.error ?? 'chart worker failed'));
    });
    const fail = (error: Error) => {
      // The next render starts a fresh worker; these ones are told why they got nothing.
      this.#worker = undefined;
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`chart worker exited with code ${code}`)));
    worker.unref();
    this.#worker = worker;
    return worker;
  }
}

const worker = new ChartWorker();

/** `renderChartHere` on the chart worker thread. */
export function renderChart(spec: TopLevelSpec, scale = 2): Promise<RenderedChart> {
  return worker.render(spec, scale);
}
