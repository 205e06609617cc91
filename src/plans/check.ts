// Plans checked before anyone starts a cutover with them: every file the bot would read in a
// folder, or named files, judged exactly as the bot judges them (PlanCatalog), with every problem.
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { PLAN_NAME, type Plan } from '../domain/plan.ts';
import { inspectPlansFolder, loadPlanFile } from './catalog.ts';
import type { PlanVocabulary } from './schema.ts';

export interface PlanCheck {
  /** As given, or joined to the folder given. */
  readonly file: string;
  readonly plan: Plan | null;
  /** Empty: the bot would run it. */
  readonly problems: readonly string[];
  /** false: a problem with a path given (missing, an empty or unreadable folder), not with a plan file. */
  readonly planFile: boolean;
}

const PLAN_FILE = /^(.+)\.ya?ml$/;

/** Every `*.yaml` / `*.yml` file of `dir`, in name order. */
async function planFilesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => PLAN_FILE.test(f)).sort().map((f) => join(dir, f));
}

/** Checks each path: a folder means every plan file in it (what the bot reads from PLANS_DIR). */
export async function checkPlans(paths: readonly string[], vocabulary: PlanVocabulary): Promise<PlanCheck[]> {
  const out: PlanCheck[] = [];
  for (const path of paths) {
    let isFolder: boolean;
    try {
      isFolder = (await stat(path)).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      out.push({ file: path, plan: null, problems: [code === 'ENOENT' ? 'no such file or folder' : `cannot be read (${code})`], planFile: false });
      continue;
    }
    if (!isFolder) {
      out.push(await checkFile(path, vocabulary));
      continue;
    }
    const folder = await inspectPlansFolder(path);
    if (folder.problem) {
      out.push({ file: path, plan: null, problems: [`the folder cannot be read (${folder.problem})`], planFile: false });
      continue;
    }
    const files = await planFilesIn(path);
    if (files.length === 0) out.push({ file: path, plan: null, problems: ['no plans here: a plan is a <name>.yaml file (see examples/plans/)'], planFile: false });
    for (const file of files) out.push(await checkFile(file, vocabulary));
  }
  return out;
}

async function checkFile(file: string, vocabulary: PlanVocabulary): Promise<PlanCheck> {
  const name = PLAN_FILE.exec(basename(file))?.[1];
  // The bot lists only files named like a plan: anything else would never be found.
  if (!name || !PLAN_NAME.test(name)) {
    return { file, plan: null, problems: [`the bot reads plans named <name>.yaml, the name in lowercase letters, digits and "-"; ${basename(file)} would never be found`], planFile: true };
  }
  const result = await loadPlanFile(file, vocabulary);
  if (result === null) return { file, plan: null, problems: ['no such file'], planFile: false };
  return result.ok ? { file, plan: result.plan, problems: [], planFile: true } : { file, plan: null, problems: result.errors, planFile: true };
}
