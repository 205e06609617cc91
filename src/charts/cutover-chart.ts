// A cutover's chart from its records: the view model and spec (templates/chart.ts), rendered. One
// function for the evidence package, the war room's updates and the rehearsal, so all three draw
// the same picture from the same records.
import { chartAltText, chartModel, chartSpec, type ChartInput } from '../../templates/chart.ts';
import { renderChart, type RenderedChart } from './render.ts';

export interface CutoverChart extends RenderedChart {
  /** The chart in words: alt text, and the comment it is posted with. */
  readonly alt: string;
}

export async function renderCutoverChart(input: ChartInput): Promise<CutoverChart> {
  const model = chartModel(input);
  const rendered = await renderChart(chartSpec(model));
  return { ...rendered, alt: chartAltText(model) };
}
