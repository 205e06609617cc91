// npm run bench [-- ack rollback many cost takeover detection trains] [--quick]: runs the benchmarks, prints
// each figure beside its target, and writes them with the machine and the date: a full run to
// bench/results/latest.json, a partial or quick one to its own dated file beside it (a part never
// overwrites the full run's figures). --quick: the detection benchmark's smoke run (a tenth of the runs).
// Not tests: figures depend on the machine; targets are reported as met or not, never asserted.
import { relative } from 'node:path';
import { ackLatency } from './ack-latency.ts';
import { runDetection } from './detection.ts';
import { measureGateCheckCost } from './gate-check-cost.ts';
import { manyCutovers } from './many-cutovers.ts';
import { figure, print, recordResults, resultsFile, type Figure } from './support.ts';
import { takeover } from './takeover.ts';
import { timeToRollback } from './time-to-rollback.ts';
import { manyTrains, trainRollback } from './trains.ts';

const ALL = ['ack', 'rollback', 'many', 'cost', 'takeover', 'detection', 'trains'] as const;
const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--quick' && !(ALL as readonly string[]).includes(a));
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}: choose from ${ALL.join(', ')} (and --quick)`);
  process.exit(2);
}
const quick = args.includes('--quick');
const chosen = args.filter((a): a is (typeof ALL)[number] => (ALL as readonly string[]).includes(a));
const run = chosen.length ? chosen : [...ALL];
const out = resultsFile(quick ? [...run, 'quick'] : run, run.length === ALL.length && !quick);
const log = (line: string) => console.log(line);
const all: Record<string, Figure> = {};
const record = (title: string, figures: Record<string, Figure>) => {
  print(title, figures);
  Object.assign(all, figures);
  recordResults(figures, out);
};

if (run.includes('ack')) {
  log('1. Ack latency: 2,000 slash commands and 2,000 clicks at concurrency 50, the bot and a bare Bolt app');
  const r = await ackLatency({ log });
  const ratio = (bot: number, bare: number) => bot / bare;
  record('Ack latency', {
    ack_commands_p50: figure(r.bot.commandsP50, 'ms', null),
    ack_commands_p99: figure(r.bot.commandsP99, 'ms', 50),
    ack_clicks_p50: figure(r.bot.clicksP50, 'ms', null),
    ack_clicks_p99: figure(r.bot.clicksP99, 'ms', 50),
    bare_bolt_commands_p99: figure(r.bare.commandsP99, 'ms', null),
    bare_bolt_clicks_p99: figure(r.bare.clicksP99, 'ms', null),
    ack_commands_p99_vs_bare_bolt: figure(ratio(r.bot.commandsP99, r.bare.commandsP99), 'x', 1.5, 'at_most'),
    ack_clicks_p99_vs_bare_bolt: figure(ratio(r.bot.clicksP99, r.bare.clicksP99), 'x', 1.5, 'at_most'),
    ack_failures: figure(r.bot.failures + r.bare.failures, 'requests', 0, 'at_most'),
  });
}

if (run.includes('rollback')) {
  log('\n2. Time to rollback on Cloud Run (check_every 1s), 20 of each');
  const r = await timeToRollback({ samples: 20, log });
  record('Time to rollback', {
    rollback_from_bad_metric_p50: figure(r.fromBadMetric.p50, 'ms', null),
    rollback_from_bad_metric_p99: figure(r.fromBadMetric.p99, 'ms', 1_500, 'below', 'check_every 1 s + 500 ms'),
    rollback_from_bad_metric_max: figure(r.fromBadMetric.max, 'ms', 1_500),
    rollback_from_command_p50: figure(r.fromCommand.p50, 'ms', null),
    rollback_from_command_p99: figure(r.fromCommand.p99, 'ms', 250),
  });
}

if (run.includes('many')) {
  log('\n3. 300 concurrent rehearsal cutovers (simulated, check_every 1s, six 10 s cohorts), one process');
  const one = await manyCutovers({ cutovers: 300, processes: 1, log });
  record('Many cutovers, one process', {
    many_1p_gate_check_lag_p50: figure(one.lagP50Ms, 'ms', null),
    many_1p_gate_check_lag_p99: figure(one.lagP99Ms, 'ms', 1_000),
    many_1p_redis_memory_per_cutover: figure(one.redisBytesPerCutover / 1024, 'KiB', null),
    many_1p_bot_rss_peak: figure(one.rssPeakMb, 'MiB', null),
    many_1p_completed: figure(one.completed, 'cutovers', 300, 'at_least'),
    many_1p_failed_jobs: figure(one.failedJobs, 'jobs', 0, 'at_most'),
    many_1p_jobs_run_twice: figure(one.jobsRunTwice, 'jobs', 0, 'at_most'),
  });
  log('\n   …and in three processes');
  const three = await manyCutovers({ cutovers: 300, processes: 3, log });
  record('Many cutovers, three processes', {
    many_3p_gate_check_lag_p50: figure(three.lagP50Ms, 'ms', null),
    many_3p_gate_check_lag_p99: figure(three.lagP99Ms, 'ms', null),
    many_3p_bot_rss_peak_per_process: figure(three.rssPeakMb, 'MiB', null),
    many_3p_completed: figure(three.completed, 'cutovers', 300, 'at_least'),
    many_3p_failed_jobs: figure(three.failedJobs, 'jobs', 0, 'at_most'),
    many_3p_jobs_run_twice: figure(three.jobsRunTwice, 'jobs', 0, 'at_most'),
    many_3p_traffic_steps_wrong: figure(three.shiftsWrong, 'cutovers', 0, 'at_most'),
  });
}

if (run.includes('cost')) {
  log('\n4. Redis commands per gate check (one cutover soaking)');
  const c = await measureGateCheckCost(200);
  record('Cost of one gate check', {
    gate_check_redis_commands: figure(c.commandsPerCheck, 'commands', null, 'below', 'as INFO commandstats counts them, including commands run inside Lua scripts'),
    gate_check_redis_round_trips_scripts: figure(c.scriptCallsPerCheck, 'script calls', null),
  });
}

if (run.includes('takeover')) {
  log('\n5. Takeover after a crash: /rollback acked, the bot SIGKILLed at the ack and started again, 20 runs');
  const t = await takeover({ samples: 20, log });
  record('Takeover after a crash', {
    takeover_ack_to_rollback_p50: figure(t.ackToRollback.p50, 'ms', null),
    takeover_ack_to_rollback_p99: figure(t.ackToRollback.p99, 'ms', 5_000, 'below', 'the ack to Cloud Run\'s UpdateService to 0 %, the bot killed at the ack and restarted at once'),
    takeover_ack_to_rollback_max: figure(t.ackToRollback.max, 'ms', null),
    takeover_restart_p50: figure(t.restart.p50, 'ms', null, 'below', 'the kill to the restarted bot answering /readyz'),
    takeover_restart_p99: figure(t.restart.p99, 'ms', null),
  });
}

if (run.includes('detection')) {
  log(`\n6. Detection: the canary judge against the threshold gate and Flagger on the same simulated traffic${quick ? ' (--quick: a tenth of the runs, a smoke run)' : ''}`);
  const started = performance.now();
  const figures = runDetection({ quick, log });
  log(`   ${((performance.now() - started) / 1000).toFixed(1)} s`);
  record('Detection (settings A–D of the judge issue)', figures);
}

if (run.includes('trains')) {
  log('\n7. Cutover trains: the rollback of 5 Cloud Run targets on a gate failure (check_every 1s, 10 runs), and 50 concurrent trains of 5 targets');
  const r = await trainRollback({ samples: 10, log });
  record('Train rollback, 5 targets', {
    train_rollback_to_last_target_p50: figure(r.toLast.p50, 'ms', null),
    train_rollback_to_last_target_p99: figure(r.toLast.p99, 'ms', 2_000, 'at_most', 'metric turned bad to the last of 5 rollback UpdateService calls; target check_every 1 s + 1 s'),
    train_rollback_to_last_target_max: figure(r.toLast.max, 'ms', 2_000, 'at_most'),
    train_rollback_spread_first_to_last_p50: figure(r.spread.p50, 'ms', null),
    train_rollback_spread_first_to_last_max: figure(r.spread.max, 'ms', null),
  });
  const m = await manyTrains({ trains: 50, targets: 5, log });
  record('50 concurrent trains of 5 targets, one process', {
    trains_gate_check_lag_p50: figure(m.lagP50Ms, 'ms', null),
    trains_gate_check_lag_p99: figure(m.lagP99Ms, 'ms', 1_000),
    trains_gate_check_lag_max: figure(m.lagMaxMs, 'ms', null),
    trains_bot_rss_peak: figure(m.rssPeakMb, 'MiB', null),
    trains_completed: figure(m.completed, 'trains', 50, 'at_least'),
    trains_failed_jobs: figure(m.failedJobs, 'jobs', 0, 'at_most'),
    trains_jobs_run_twice: figure(m.jobsRunTwice, 'jobs', 0, 'at_most'),
    trains_targets_with_wrong_steps: figure(m.targetsWithWrongSteps, 'targets', 0, 'at_most'),
  });
}

const missed = Object.entries(all).filter(([, f]) => f.met === false).map(([name]) => name);
console.log(`\n${missed.length ? `targets not met: ${missed.join(', ')}` : 'every target met'}; results in ${relative(process.cwd(), out)}`);
