// The plans a bot may run: YAML files in PLANS_DIR, looked up by name. A name from Slack is
// checked against the plan-name pattern before it goes near the file system, so it can never
// reach outside the folder, and the file's own `name:` must match the file it lives in.
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { PLAN_NAME, type Plan } from '../domain/plan.ts';
import { MAX_PLAN_BYTES, parsePlanText, type PlanResult } from './parse.ts';
import type { PlanVocabulary } from './schema.ts';

export interface PlanEntry {
  readonly name: string;
  readonly file: string;
}

export type CatalogResult = PlanResult | { readonly ok: false; readonly missing: true; readonly errors: readonly string[] };

export class PlanCatalog {
  readonly dir: string;
  readonly #vocabulary: PlanVocabulary;
  readonly #adjust: (plan: Plan) => Plan;

  /** `adjust`: applied to every plan loaded (a test compresses its durations, as a rehearsal does); none in production. */
  constructor(dir: string, vocabulary: PlanVocabulary, options: { readonly adjust?: (plan: Plan) => Plan } = {}) {
    this.dir = resolve(dir);
    this.#vocabulary = vocabulary;
    this.#adjust = options.adjust ?? ((plan) => plan);
  }

  async list(): Promise<PlanEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    return names
      .map((file) => ({ file, match: /^([a-z0-9-]+)\.ya?ml$/.exec(file) }))
      .filter((f) => f.match && PLAN_NAME.test(f.match[1] as string))
      .map((f) => ({ name: f.match![1] as string, file: join(this.dir, f.file) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async load(name: string): Promise<CatalogResult> {
    if (!PLAN_NAME.test(name)) {
      return { ok: false, missing: true, errors: [`"${name.slice(0, 80)}" is not a plan name: plan names are lowercase letters, digits and "-"`] };
    }
    for (const extension of ['yaml', 'yml']) {
      const result = await loadPlanFile(join(this.dir, `${name}.${extension}`), this.#vocabulary);
      if (result === null) continue;
      return result.ok ? { ...result, plan: this.#adjust(result.plan) } : result;
    }
    return { ok: false, missing: true, errors: [`no plan "${name}" in ${this.dir}`] };
  }

  /** Whether the folder is there to read; a bot without one has no plans, and should say where it looked. */
  async folder(): Promise<PlansFolder> {
    return inspectPlansFolder(this.dir);
  }
}

export interface PlansFolder {
  /** Absolute. */
  readonly dir: string;
  /** null: a folder the bot can read. */
  readonly problem: 'missing' | 'not_a_folder' | 'unreadable' | null;
}

export async function inspectPlansFolder(dir: string): Promise<PlansFolder> {
  const absolute = resolve(dir);
  try {
    if (!(await stat(absolute)).isDirectory()) return { dir: absolute, problem: 'not_a_folder' };
    await readdir(absolute);
    return { dir: absolute, problem: null };
  } catch (error) {
    return { dir: absolute, problem: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable' };
  }
}

/**
 * One plan file as the bot reads it: a regular file of a sensible size, valid, and called what its
 * file is called (`<name>.yaml`). null: there is no such file.
 */
export async function loadPlanFile(file: string, vocabulary: PlanVocabulary): Promise<PlanResult | null> {
  const base = basename(file);
  let info;
  try {
    info = await lstat(file);
  } catch {
    return null;
  }
  // A plan is a regular file of a sensible size; a symlink could point anywhere.
  if (!info.isFile()) return { ok: false, errors: [`${base} is not a regular file`] };
  if (info.size > MAX_PLAN_BYTES) return { ok: false, errors: [`${base} is larger than ${MAX_PLAN_BYTES / 1024} KiB`] };
  const result = parsePlanText(await readFile(file, 'utf8'), vocabulary);
  const name = /^(.*)\.ya?ml$/.exec(base)?.[1] ?? base;
  if (result.ok && result.plan.name !== name) {
    return { ok: false, errors: [`name: the plan in ${base} is called "${result.plan.name}"; a plan's name must match its file name`] };
  }
  return result;
}
