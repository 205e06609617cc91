// Writes the evidence package once a cutover has ended, then tells the room where it is.
import type { Job } from 'bullmq';
import type { JobData } from './queues.ts';
import { buildEvidence, type EvidenceFiles, type EvidenceInput, type EvidenceOptions } from '../src/evidence/build.ts';
import { chartFileStem, renderCutoverCharts, type CutoverChart } from '../src/charts/cutover-chart.ts';
import type { Logger } from '../src/log.ts';
import { writeEvidence } from '../src/evidence/writer.ts';
import type { CutoverStore } from '../src/store/cutover-store.ts';
import type { Dispatcher } from './dispatcher.ts';

export interface EvidenceDeps {
  readonly store: CutoverStore;
  readonly dispatcher: Pick<Dispatcher, 'notify'>;
  readonly root: string;
  readonly now: () => number;
  /** How the package is labelled: a rehearsal's says so in every file. */
  readonly options?: EvidenceOptions;
  readonly log?: Logger;
}

/**
 * The whole package: the text files and the chart (`chart.png`, `chart.svg`; a train's, one per
 * target, `chart-<target id>.png` and `.svg`), drawn from the same records. The chart's time axis
 * ends where the cutover ended, so building the package again later, on any replica, gives the
 * same bytes. A chart that cannot be drawn leaves the package without it. `speed`: a rehearsal's
 * chart speaks plan time.
 */
export async function evidencePackage(
  input: EvidenceInput,
  options: { readonly now: number; readonly speed?: number; readonly log?: Logger; readonly label?: EvidenceOptions },
): Promise<EvidenceFiles> {
  let charts: CutoverChart[] = [];
  try {
    charts = await renderCutoverCharts({ ...input, now: input.state.endedAt ?? options.now, ...(options.speed ? { speed: options.speed } : {}) });
  } catch (error) {
    options.log?.warn({ cutover: input.state.id, err: error instanceof Error ? error.message : String(error) }, 'chart could not be drawn; evidence written without it');
  }
  const single = charts.length === 1 && !charts[0]!.target ? charts[0]! : null;
  const perTarget = charts.filter((c) => c.target).map((c) => ({ chart: c, file: chartFileStem(c) }));
  const files: EvidenceFiles = buildEvidence(input, {
    ...options.label,
    ...(single ? { chart: single.alt } : {}),
    ...(perTarget.length ? { targetCharts: perTarget.map(({ chart, file }) => ({ file, target: `${chart.target!.id} (target ${chart.target!.index})`, alt: chart.alt })) } : {}),
  });
  for (const chart of charts) {
    const file = chartFileStem(chart);
    files.set(`${file}.png`, chart.png);
    files.set(`${file}.svg`, chart.svg);
  }
  return files;
}

export async function loadEvidenceInput(store: CutoverStore, id: string) {
  const loaded = await store.load(id);
  if (!loaded) return null;
  const [audit, gates] = await Promise.all([store.readAudit(id, '-', 100_000), store.gateRecords(id)]);
  return { ...loaded, audit: audit.map((a) => a.entry), gates };
}

/**
 * The package as the evidence job built it, built again from Redis: the audit trail up to the
 * job's own `evidence` entry. Any replica can do this, whichever host's disk holds the files.
 */
export async function rebuildEvidence(store: CutoverStore, id: string, now: () => number = Date.now): Promise<EvidenceFiles | null> {
  const input = await loadEvidenceInput(store, id);
  if (!input) return null;
  const end = input.audit.findIndex((e) => e.type === 'evidence');
  return evidencePackage({ ...input, audit: end < 0 ? input.audit : input.audit.slice(0, end) }, { now: now() });
}

/** The cutover's charts as of `now` (a train's, one per target), drawn from its records (for the war room's updates and decisions). */
export async function chartOf(store: CutoverStore, id: string, now: number) {
  const input = await loadEvidenceInput(store, id);
  return input ? renderCutoverCharts({ ...input, now }) : null;
}

export function createEvidenceProcessor(deps: EvidenceDeps) {
  return async (job: Job<JobData['evidence']>): Promise<string> => {
    const input = await loadEvidenceInput(deps.store, job.data.id);
    if (!input) return 'gone';
    // Our own earlier "evidence" entry (from a run cut short) must not change the package.
    const audit = input.audit.filter((e) => e.type !== 'evidence');
    const files = await evidencePackage({ ...input, audit }, { now: deps.now(), ...(deps.log ? { log: deps.log } : {}), ...(deps.options ? { label: deps.options } : {}) });
    const path = await writeEvidence(deps.root, input.state, files);
    if (!input.audit.some((e) => e.type === 'evidence')) {
      await deps.store.appendAudit(job.data.id, { type: 'evidence', at: deps.now(), path, files: [...files.keys()] });
      await deps.dispatcher.notify(job.data.id);
    }
    return path;
  };
}
