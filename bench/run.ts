// npm run bench [-- ack rollback many cost takeover detection trains] [--quick]: runs the benchmarks, prints
// each figure beside its target, and writes them with the machine and the date to a dated file of
// the run's own in bench/results/; a full run that reaches its end is then copied to
// bench/results/latest.json (a part, a quick run or an interrupted one never overwrites it).
// --quick: the detection benchmark's smoke run (a tenth of the runs).
// Not tests: figures depend on the machine; targets are reported as met or not, never asserted.
import { relative } from 'node:path';
import { ackLatency } from './ack-latency.ts';
import { runDetection } from './detection.ts';
import { measureGateCheckCost } from './gate-check-cost.ts';
import { LAYOUTS, manyCutovers, type Layout } from './many-cutovers.ts';
import { RESULTS, figure, print, publishFullRun, recordResults, resultsFile, type Figure } from './support.ts';
import { takeover } from './takeover.ts';
import { timeToRollback } from './time-to-rollback.ts';
import { manyTrains, trainRollback } from './trains.ts';

/** Cutovers in each layout of the many-cutovers benchmark (about two minutes each for 300 on two shared cores). */
const MANY = 300;

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
const full = run.length === ALL.length && !quick;
const started = new Date();
const out = resultsFile(full ? ['all'] : quick ? [...run, 'quick'] : run, started);
const log = (line: string) => console.log(line);
const all: Record<string, Figure> = {};
const record = (title: string, figures: Record<string, Figure>) => {
  print(title, figures);
  Object.assign(all, figures);
  recordResults(all, out, { started, benchmarks: run });
};

if (run.includes('ack')) {
  log('1. The cost of an ack: 10 interleaved rounds of 500 slash commands and 500 clicks at concurrency 50, against the bot (ROLE=all), a ROLE=web process (a ROLE=worker behind it) and a bare Bolt app (the ack p99 during a busy run is measured with the many cutovers, part 3)');
  const r = await ackLatency({ log });
  const range = (s: { min: number; max: number }) => `range ${s.min.toFixed(2)}–${s.max.toFixed(2)} over ${r.rounds} rounds`;
  record('Cost of an ack', {
    ack_cpu_per_request_web: figure(r.web.cpuMsPerRequest, 'ms CPU', null, 'below', 'a ROLE=web process: the ack alone, the work in the worker; median of the rounds'),
    ack_cpu_per_request_bare_bolt: figure(r.bare.cpuMsPerRequest, 'ms CPU', null),
    ack_cpu_web_vs_bare_bolt: figure(r.webCpuRatio.median, 'x', 1.5, 'at_most', `median of the per-round ratios, ${range(r.webCpuRatio)}`),
    work_cpu_per_request_worker: figure(r.web.workCpuMsPerRequest, 'ms CPU', null, 'below', 'the ROLE=worker process behind it: the work each request queues, and its reply'),
    ack_cpu_per_request_all_in_one: figure(r.bot.cpuMsPerRequest, 'ms CPU', null, 'below', 'ROLE=all: the ack and the work behind it'),
    ack_cpu_all_in_one_vs_bare_bolt: figure(r.botCpuRatio.median, 'x', null, 'below', range(r.botCpuRatio)),
    ack_commands_p50: figure(r.bot.commandsP50, 'ms', null, 'below', 'ROLE=all, median of the rounds'),
    ack_commands_p99: figure(r.bot.commandsP99, 'ms', null, 'below', 'ROLE=all, median of the rounds\' p99'),
    ack_clicks_p50: figure(r.bot.clicksP50, 'ms', null),
    ack_clicks_p99: figure(r.bot.clicksP99, 'ms', null),
    ack_web_commands_p99: figure(r.web.commandsP99, 'ms', null, 'below', 'ROLE=web'),
    ack_web_clicks_p99: figure(r.web.clicksP99, 'ms', null),
    bare_bolt_commands_p99: figure(r.bare.commandsP99, 'ms', null),
    bare_bolt_clicks_p99: figure(r.bare.clicksP99, 'ms', null),
    ack_commands_p99_vs_bare_bolt: figure(r.commandsP99Ratio.median, 'x', null, 'below', `ROLE=all, ${range(r.commandsP99Ratio)}`),
    ack_clicks_p99_vs_bare_bolt: figure(r.clicksP99Ratio.median, 'x', null, 'below', `ROLE=all, ${range(r.clicksP99Ratio)}`),
    ack_web_commands_p99_vs_bare_bolt: figure(r.webCommandsP99Ratio.median, 'x', null, 'below', range(r.webCommandsP99Ratio)),
    ack_web_clicks_p99_vs_bare_bolt: figure(r.webClicksP99Ratio.median, 'x', null, 'below', range(r.webClicksP99Ratio)),
    ack_failures: figure(r.bot.failures + r.web.failures + r.bare.failures, 'requests', 0, 'at_most'),
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
  const counts: Record<Layout, number> = { one: MANY, replicas: MANY, split: MANY };
  log(`\n3. Many concurrent Cloud Run cutovers on the production entry point (check_every 1s, six 10 s cohorts, gates over HTTP): ${counts.one} in ${LAYOUTS.one}, ${counts.replicas} in ${LAYOUTS.replicas}, ${counts.split} in ${LAYOUTS.split}`);
  for (const layout of ['one', 'replicas', 'split'] as const) {
    const n = counts[layout];
    log(`\n   ${n} cutovers, ${LAYOUTS[layout]}`);
    const r = await manyCutovers({ cutovers: n, layout, log });
    log(`   ${(r.wallMs / 1000).toFixed(0)} s; peak RSS per process: ${r.processes.map((p) => `${p.role} ${p.rssPeakMb.toFixed(0)} MiB`).join(', ')}`);
    const k = `many_${layout}`;
    record(`${n} cutovers, ${LAYOUTS[layout]}`, {
      [`${k}_completed`]: figure(r.completed, 'cutovers', n, 'at_least'),
      [`${k}_gate_check_lag_p50`]: figure(r.lagP50Ms, 'ms', null, 'below', 'from the processes\' cutover_gate_check_lag_seconds histograms, interpolated within buckets'),
      [`${k}_gate_check_lag_p99`]: figure(r.lagP99Ms, 'ms', 1_000),
      [`${k}_gate_checks_within_1s`]: figure(r.lagWithin1s * 100, '%', 99, 'at_least', `of ${r.checks} checks`),
      [`${k}_gate_check_slots_skipped`]: figure(r.slotsSkipped, 'slots', null, 'below', 'check slots skipped because the check before ran past them'),
      [`${k}_bot_rss_peak_per_process`]: figure(r.rssPeakMb, 'MiB', null, 'below', 'the largest VmHWM of the bot processes'),
      [`${k}_shifts_run_twice`]: figure(r.shiftsRunTwice, 'UpdateService calls', 0, 'at_most', 'accepted calls repeating the percent already set, from the Cloud Run server\'s log'),
      [`${k}_services_with_wrong_steps`]: figure(r.servicesWithWrongSteps, 'services', 0, 'at_most', 'accepted canary percents not exactly 1,5,10,25,50,100'),
      [`${k}_failed_acks`]: figure(r.failedAcks + r.ackUnderLoad.failures, 'requests', 0, 'at_most'),
      [`${k}_ack_under_load_p99`]: figure(r.ackUnderLoad.p99, 'ms', 3_000, 'below', `${r.ackUnderLoad.count} /cutover status during the run`),
      [`${k}_job_failures`]: figure(r.jobFailures, 'jobs', null, 'below', 'jobs that threw (and were retried), cutover_job_failures_total'),
    });
  }
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
if (full) publishFullRun(out);
const where = full ? `${relative(process.cwd(), out)}, and as the full run in ${relative(process.cwd(), RESULTS)}` : relative(process.cwd(), out);
console.log(`\n${missed.length ? `targets not met: ${missed.join(', ')}` : 'every target met'}; results in ${where}`);
