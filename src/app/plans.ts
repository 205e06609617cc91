// npm run plans -- check [FOLDER|FILE …]
// Checks plans as the bot reads them, without Slack, Redis or a cutover: every <name>.yaml of a
// folder (default PLANS_DIR, else ./plans) or the files named, one line per problem.
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { checkPlans, type PlanCheck } from '../plans/check.ts';
import { cloudAdapters } from './adapters.ts';
import { buildVocabulary } from './runtime.ts';

export const PLANS_HELP = `usage: npm run plans -- check [FOLDER|FILE …]

Checks plans exactly as the bot reads them, without starting anything: every <name>.yaml in each
folder (default: PLANS_DIR, else ./plans) or the files named. One line per problem.

exit codes:
  0  every plan is valid
  1  a plan is invalid, or there is no plan where you pointed
  2  usage`;

export interface PlansCliResult {
  readonly code: number;
  readonly lines: readonly string[];
}

const shown = (file: string) => {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
};

function describe(check: PlanCheck): string[] {
  if (check.plan) {
    const { plan } = check;
    return [`ok       ${shown(check.file)}: ${plan.name}, ${plan.service.platform} ${plan.service.name}, cohorts ${plan.stages.map((s) => `${s.percent} %`).join(' → ')}`];
  }
  return check.problems.map((problem) => `${check.planFile ? 'INVALID' : 'PROBLEM'}  ${shown(check.file)}: ${problem}`);
}

export async function runPlansCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<PlansCliResult> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    return { code: 2, lines: [`plans: ${error instanceof Error ? error.message.split('.')[0] : String(error)} (npm run plans -- --help)`] };
  }
  if (parsed.values.help) return { code: 0, lines: [PLANS_HELP] };
  const [command, ...paths] = parsed.positionals;
  if (command !== 'check') return { code: 2, lines: [`plans: ${command ? `unknown command ${command}` : 'name a command'}; the one there is: npm run plans -- check [FOLDER|FILE …]`] };
  const fromEnv = env.PLANS_DIR?.trim();
  const targets = paths.length ? paths : [fromEnv || './plans'];
  // Validating needs only the schemas of the platforms and gate kinds: nothing connects anywhere.
  const vocabulary = buildVocabulary(cloudAdapters(env, { emulators: false }), () => {
    throw new Error('checking a plan never reaches the simulated world');
  });
  const checks = await checkPlans(targets, vocabulary);
  const lines = checks.flatMap(describe);
  if (!paths.length && checks.length === 1 && !checks[0]!.planFile) {
    lines.push(`         (${fromEnv ? `PLANS_DIR is ${fromEnv}` : 'PLANS_DIR is not set, so the bot reads ./plans'}; name a folder or files to check others: npm run plans -- check examples/plans)`);
  }
  const plans = checks.filter((c) => c.planFile);
  const valid = plans.filter((c) => c.plan).length;
  lines.push(`${plans.length} plan${plans.length === 1 ? '' : 's'} checked: ${valid} valid, ${plans.length - valid} invalid`);
  return { code: checks.every((c) => c.plan) ? 0 : 1, lines };
}

if (import.meta.main) {
  const result = await runPlansCli(process.argv.slice(2), process.env);
  // The report is the output; only a wrong command line goes to stderr.
  (result.code === 2 ? process.stderr : process.stdout).write(`${result.lines.join('\n')}\n`);
  process.exit(result.code);
}
