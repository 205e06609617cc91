// Writes an evidence package under EVIDENCE_DIR/<plan>/<UTC timestamp>/. Each file is written
// to a temporary name and renamed, so a crash never leaves a torn file; writing again is harmless.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { compactTimestamp } from '../runtime/engine.ts';
import type { CutoverState } from '../domain/state.ts';

export function evidenceDir(root: string, state: Pick<CutoverState, 'plan' | 'startedAt'>): string {
  return resolve(root, state.plan, compactTimestamp(state.startedAt));
}

export async function writeEvidence(root: string, state: Pick<CutoverState, 'plan' | 'startedAt'>, files: ReadonlyMap<string, string | Uint8Array>): Promise<string> {
  const dir = evidenceDir(root, state);
  for (const [name, content] of files) {
    const path = join(dir, name);
    if (!path.startsWith(dir)) throw new Error(`evidence file ${name} would leave ${dir}`);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temporary, content);
    await rename(temporary, path);
  }
  return dir;
}
