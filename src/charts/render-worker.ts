// The chart worker thread: renders specs posted by src/charts/render.ts, one at a time, so vega's
// layout and resvg's rasterising never stall the bot's event loop.
import { parentPort } from 'node:worker_threads';
import type { TopLevelSpec } from 'vega-lite';
import { renderChartHere } from './render.ts';

parentPort?.on('message', async ({ id, spec, scale }: { id: number; spec: TopLevelSpec; scale: number }) => {
  try {
    const chart = await renderChartHere(spec, scale);
    // The PNG's bytes move to the main thread instead of being copied.
    const png = chart.png.buffer.slice(chart.png.byteOffset, chart.png.byteOffset + chart.png.byteLength) as ArrayBuffer;
    parentPort?.postMessage({ id, chart: { ...chart, png } }, [png]);
  } catch (error) {
    parentPort?.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
