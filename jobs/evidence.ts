// Writes the evidence package once a cutover has ended, then tells the room where it is.
import type { Job } from 'bullmq';
import type { JobData } from './queues.ts';
import { buildEvidence, type EvidenceOptions } from '../src/evidence/build.ts';
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
export async function rebuildEvidence(store: CutoverStore, id: string): Promise<Map<string, string> | null> {
  const input = await loadEvidenceInput(store, id);
  if (!input) return null;
  const end = input.audit.findIndex((e) => e.type === 'evidence');
  return buildEvidence({ ...input, audit: end < 0 ? input.audit : input.audit.slice(0, end) });
}

export function createEvidenceProcessor(deps: EvidenceDeps) {
  return async (job: Job<JobData['evidence']>): Promise<string> => {
    const input = await loadEvidenceInput(deps.store, job.data.id);
    if (!input) return 'gone';
    // Our own earlier "evidence" entry (from a run cut short) must not change the package.
    const audit = input.audit.filter((e) => e.type !== 'evidence');
    const files = buildEvidence({ ...input, audit }, deps.options);
    const path = await writeEvidence(deps.root, input.state, files);
    if (!input.audit.some((e) => e.type === 'evidence')) {
      await deps.store.appendAudit(job.data.id, { type: 'evidence', at: deps.now(), path, files: [...files.keys()] });
      await deps.dispatcher.notify(job.data.id);
    }
    return path;
  };
}
