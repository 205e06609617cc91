// A cutover's chart from its records: the view model and spec (templates/chart.ts), rendered. One
// function for the evidence package, the war room's updates and the rehearsal, so all three draw
// the same picture from the same records. A train has one chart per target (`renderCutoverCharts`).
import { chartAltText, chartModels, chartSpec, type ChartInput, type ChartModel } from '../../templates/chart.ts';
import { renderChart, type RenderedChart } from './render.ts';

export interface CutoverChart extends RenderedChart {
  /** The chart in words: alt text, and the comment it is posted with. */
  readonly alt: string;
  /** A train's chart is one target's: its index and id. Absent for a single service. */
  readonly target?: ChartModel['target'];
}

async function render(model: ChartModel): Promise<CutoverChart> {
  const rendered = await renderChart(chartSpec(model));
  return { ...rendered, alt: chartAltText(model), ...(model.target ? { target: model.target } : {}) };
}

/** The cutover's charts: one for a single service, one per target (in the train's order) for a train. */
export async function renderCutoverCharts(input: ChartInput): Promise<CutoverChart[]> {
  // One after another: the chart worker renders one at a time anyway.
  const charts: CutoverChart[] = [];
  for (const model of chartModels(input)) charts.push(await render(model));
  return charts;
}

/** `chart` for a single service, `chart-<target id>` for a train's target: the name its files go by. */
export function chartFileStem(chart: Pick<CutoverChart, 'target'>): string {
  if (!chart.target) return 'chart';
  // A plan's own ids are lowercase letters, digits and "-"; a default one comes from the service's
  // name, which some platforms leave free: made safe for a file name, and kept apart by the index.
  const { id, index } = chart.target;
  const safe = id.replace(/[^A-Za-z0-9._-]/g, '_');
  return safe === id ? `chart-${id}` : `chart-${safe}-${index}`;
}
