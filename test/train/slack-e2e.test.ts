// A lockstep train and a wave train end to end through Slack: the real bot (Bolt, engine, BullMQ
// workers, Redis) driven by signed slash commands and clicks, its war room in the fake Slack, its
// traffic moved by the real Cloud Run adapter in the fake Cloud Run (two regions and a second
// service), its gates measured in the fake Cloud Monitoring. One region goes bad: the whole train
// rolls back together, and the one card shows each target back on stable. The closing message
// carries a chart per target, and so does the evidence package. With `rollback: target` the bad
// region's release alone is dropped (by its gate, or by `/rollback <plan> <target>`) and the
// others complete.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { stringify } from 'yaml';
import type { AuditEntry } from '../../src/domain/audit.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Behaviour } from '../fakes/gcp/production-traffic.ts';
import { cloudWorld, PROJECT, type CloudService, type CloudWorld } from '../faults/cloud-world.ts';
import { basePlanDocument } from '../support/plans.ts';
import { ended, notice, waitForAudit } from '../support/engine.ts';
import { evidenceDir } from '../../src/evidence/writer.ts';
import { allText, cardOf, OPS, openRoom, RM2, startedId, waitForButton, WAR_ROOM, type Room } from '../slack/harness.ts';

/** The canary fails (20 % 5xx) once it serves half of its region's traffic. */
const SOURS_AT_50: Behaviour = (side, moment) => ({ errorRate: side === 'canary' && moment.canaryPercent >= 50 ? 0.2 : 0.001, p95Ms: 180 });

let world: CloudWorld;
let room: Room;
const services: Record<string, CloudService[]> = {};

function trainYaml(name: string, targets: readonly CloudService[], strategy: unknown, patch: (doc: Record<string, any>) => void = () => undefined): string {
  const doc = basePlanDocument();
  delete doc.service;
  doc.name = name;
  doc.targets = targets.map((s) => ({ platform: 'cloud-run', project: PROJECT, region: s.region, name: s.name, ...s.revisions }));
  doc.strategy = strategy;
  doc.stages = [10, 50, 100];
  doc.soak = '1s';
  doc.check_every = '1s';
  doc.promotion = 'auto';
  doc.gates = {
    preflight: [{ id: 'ready', command: 'true' }],
    // The fakes publish at once; real Cloud Monitoring data shows up later (the default lag).
    stage: [{ id: 'five-xx', cloud_monitoring: { metric: 'error_ratio', max: 0.01 }, data_lag: '0s' }],
  };
  patch(doc);
  return stringify(doc);
}

beforeAll(async () => {
  world = await cloudWorld();
  for (const name of ['lock', 'wave', 'drop']) {
    const revisions = { stable: `${name}api-00001-sta`, canary: `${name}api-00002-can` };
    services[name] = [
      world.addService(`${name}api`, undefined, { region: 'us-central1', revisions }),
      world.addService(`${name}api`, SOURS_AT_50, { region: 'europe-west1', revisions }),
      world.addService(`${name}worker`, undefined, { region: 'us-central1' }),
    ];
  }
  // Healthy everywhere: Europe is dropped by hand.
  const hand = { stable: 'handapi-00001-sta', canary: 'handapi-00002-can' };
  services.hand = [
    world.addService('handapi', undefined, { region: 'us-central1', revisions: hand }),
    world.addService('handapi', undefined, { region: 'europe-west1', revisions: hand }),
    world.addService('handworker', undefined, { region: 'us-central1' }),
  ];
  room = await openRoom(
    {
      'train-lockstep': trainYaml('train-lockstep', services.lock!, 'lockstep'),
      // Wave 1: the US API and worker through every cohort; wave 2: Europe, which goes bad.
      'train-waves': trainYaml('train-waves', services.wave!, { waves: [[0, 2], [1]] }),
      // One target per wave (US API, then Europe, then the worker); Europe may be dropped alone.
      'train-drop': trainYaml('train-drop', services.drop!, 'waves', (d) => (d.rollback = 'target')),
      // The US API first, then Europe and the worker together; each wave's 10 % waits for /promote.
      'train-hand': trainYaml('train-hand', services.hand!, { waves: [[0], [1, 2]] }, (d) => {
        d.rollback = 'target';
        d.stages = [{ percent: 10, promotion: 'manual' }, 50, 100];
      }),
      // One service of the lockstep train (Europe's API) on its own.
      'lockapi-alone': stringify({
        ...basePlanDocument(),
        name: 'lockapi-alone',
        service: { platform: 'cloud-run', project: PROJECT, region: 'europe-west1', name: 'lockapi', ...services.lock![1]!.revisions },
      }),
    },
    { env: world.env },
  );
});
afterAll(async () => {
  await room?.close();
  await world?.close();
});

async function runTrain(plan: string): Promise<string> {
  const reply = await room.slash('/cutover', `start ${plan}`);
  const id = startedId(reply);
  // The go/no-go on the card, by two people other than the starter.
  const approve = await waitForButton(room.fake, id, 'approve', 0, 30_000);
  for (const user of [RM2, OPS]) {
    const clicked = await room.click('approve', approve.value, { user, messageTs: approve.ts });
    expect(clicked.text).not.toMatch(/not|refused/i);
  }
  return id;
}

/** The train's end, and its card edited to show every target back on stable. */
async function rolledBack(id: string, targets: number): Promise<void> {
  await waitForAudit(room.bot.runtime.store, id, (e) => e.type === 'evidence', 90_000);
  await room.fake.waitFor((f) => (allText(cardOf(f, id)!).match(/back on stable, verified/g)?.length ?? 0) >= targets || undefined, { timeoutMs: 10_000 });
}

/**
 * The final charts, one per target, in the closing message's thread (each its own upload with its
 * own words), and one per target in the evidence package on disk: `chart-<target id>.png`. Returns
 * each target's chart in words.
 */
async function chartsPerTarget(plan: string, id: string, targets: readonly string[]): Promise<string[]> {
  const closing = await room.fake.waitFor((f) => f.channelMessages(WAR_ROOM).find((m) => m.text.includes(`Cutover ${plan} rolled back`)), { timeoutMs: 30_000 });
  const finals = await room.fake.waitFor(
    (f) => {
      const found = f.files.filter((file) => file.completed && file.filename.startsWith(`chart-${id}-`) && file.thread_ts === closing.ts);
      return found.length >= targets.length ? found : undefined;
    },
    { timeoutMs: 30_000 },
  );
  expect(finals.map((f) => f.filename)).toEqual(targets.map((target) => `chart-${id}-${target}.png`));
  for (const [t, file] of finals.entries()) {
    expect(file.alt_text).toContain(`(${targets[t]}, target ${t}): canary`);
    expect(file.initial_comment).toContain(`📈 Final chart, ${targets[t]}: `);
    expect(PNG.sync.read(file.content!).width).toBeGreaterThan(1000);
  }
  const dir = evidenceDir(join(room.dir, 'evidence'), await room.state(id));
  expect((await readdir(dir)).filter((name) => name.startsWith('chart')).sort()).toEqual(targets.flatMap((target) => [`chart-${target}.png`, `chart-${target}.svg`]).sort());
  return finals.map((f) => f.alt_text!);
}

describe('trains through Slack', () => {
  it('lockstep: /cutover start, approvals on the card, Europe goes bad at 50 %, the whole train rolls back together', async () => {
    const id = await runTrain('train-lockstep');
    await rolledBack(id, 3);
    const state = await room.state(id);
    expect(state).toMatchObject({ outcome: 'rolled_back', rollback: { trigger: 'gate', gates: ['five-xx@lockapi-europe-west1'] } });
    for (const s of services.lock!) {
      expect(s.accepted(), s.resource).toEqual([10, 50, 0]);
      expect(s.served(), s.resource).toBe(0);
    }
    // One card, a row per target, each back on stable.
    const card = allText(cardOf(room.fake, id)!);
    for (const target of ['lockapi-us-central1', 'lockapi-europe-west1', 'lockworker-us-central1']) {
      expect(card).toMatch(new RegExp(`✅ \\*${target}\\*[^\\n"]*back on stable, verified`));
    }
    expect(card).toContain('five-xx@lockapi-europe-west1');
    const words = await chartsPerTarget('train-lockstep', id, ['lockapi-us-central1', 'lockapi-europe-west1', 'lockworker-us-central1']);
    // Each chart draws its own target's gate.
    expect(words.map((w) => /Error rate \(gate ([^,)]+)/.exec(w)?.[1])).toEqual(['five-xx@lockapi-us-central1', 'five-xx@lockapi-europe-west1', 'five-xx@lockworker-us-central1']);
    // The escalation in the channel names the failing target's gate.
    const channel = room.fake.channelMessages(WAR_ROOM).map(allText).join('\n');
    expect(channel).toContain('gate five-xx@lockapi-europe-west1 failed at 50 %');
  });

  it('waves: the US wave reaches 100 %, Europe fails in its own wave, and all three roll back', async () => {
    const id = await runTrain('train-waves');
    await rolledBack(id, 3);
    const state = await room.state(id);
    expect(state).toMatchObject({ outcome: 'rolled_back', rollback: { gates: ['five-xx@waveapi-europe-west1'] } });
    const [us, eu, worker] = services.wave! as [CloudService, CloudService, CloudService];
    expect(us.accepted()).toEqual([10, 50, 100, 0]);
    expect(worker.accepted()).toEqual([10, 50, 100, 0]);
    expect(eu.accepted()).toEqual([10, 50, 0]);
    for (const s of services.wave!) expect(s.served(), s.resource).toBe(0);
    const card = allText(cardOf(room.fake, id)!);
    expect(card).toContain('*W1* ✅ 10 %');
    expect(card).toContain('*W2* ✅ 10 %');
    for (const target of ['waveapi-us-central1', 'waveapi-europe-west1', 'waveworker-us-central1']) {
      expect(card).toMatch(new RegExp(`✅ \\*${target}\\*[^\\n"]*back on stable, verified`));
    }
    // Each target's chart steps through what its own platform accepted: the US wave to 100 %, Europe to 50 %.
    const words = await chartsPerTarget('train-waves', id, ['waveapi-us-central1', 'waveapi-europe-west1', 'waveworker-us-central1']);
    expect(words.map((w) => /Canary traffic: ([^.]+)\./.exec(w)?.[1])).toEqual(['0 % → 10 % → 50 % → 100 % → 0 %', '0 % → 10 % → 50 % → 0 %', '0 % → 10 % → 50 % → 100 % → 0 %']);
  });

  it('a single cutover of a service the train holds is refused, naming the train', async () => {
    // A train's revisions are per target: one canary= could not say which, so it is refused and nothing starts.
    const withRevision = await room.slash('/cutover', 'start train-lockstep canary=lockapi-00099-zzz');
    expect(withRevision.text).toContain('train-lockstep is a train of 3 targets: its revisions are set per target in the plan, so canary= and stable= do not apply.');
    expect(await room.bot.runtime.engine.active()).toEqual([]);
    const id = startedId(await room.slash('/cutover', 'start train-lockstep'));
    const refused = await room.slash('/cutover', 'start lockapi-alone');
    expect(refused.text).toContain(`A cutover of this service is already running: train-lockstep (${id}) holds cloud-run:projects/${PROJECT}/locations/europe-west1/services/lockapi`);
    // Naming a target of a lockstep train is refused, and rolls back nothing: the whole train's rollback is asked for without one.
    const drop = await room.slash('/rollback', 'train-lockstep lockapi-europe-west1 eu errors');
    expect(drop.text).toContain("train-lockstep rolls back the whole train on any failure: dropping one target's release needs rollback: target in the plan (and strategy: waves). Nothing was changed.");
    // (Its preflight goes on meanwhile; nothing was rolled back or dropped.)
    expect(await room.state(id)).toMatchObject({ rollback: null, approvals: { rollback: [] } });
    expect((await room.state(id)).dropped).toBeUndefined();
    expect(['preflight', 'awaiting_go_no_go']).toContain((await room.state(id)).phase);
    expect((await room.slash('/cutover', 'abort train-lockstep')).text).toContain('borted');
    await waitForAudit(room.bot.runtime.store, id, (e) => e.type === 'notice' && e.notice.kind === 'aborted');
    const alone = await room.slash('/cutover', 'start lockapi-alone');
    expect(alone.text).toMatch(/Started cutover `/);
  });

  it('waves with rollback: target: Europe’s gate fails in its wave, Europe alone goes back to stable, the US API and the worker complete', async () => {
    const id = await runTrain('train-drop');
    const [us, eu, worker] = services.drop! as [CloudService, CloudService, CloudService];
    // The evidence written once Europe's own rollback has confirmed it back on stable.
    let back = false;
    const evidence = await waitForAudit(
      room.bot.runtime.store,
      id,
      (e) => {
        if (e.type === 'notice' && e.notice.kind === 'target_back') back = true;
        return back && e.type === 'evidence';
      },
      120_000,
    );
    const state = await room.state(id);
    expect(state).toMatchObject({ outcome: 'completed', rollback: null, dropped: [{ target: 1, trigger: 'gate', gates: ['five-xx@dropapi-europe-west1'] }] });
    // Judged by Cloud Run's own log: Europe took 10 and 50 % and went back once; the others reached 100 %.
    expect(us.accepted()).toEqual([10, 50, 100]);
    expect(eu.accepted()).toEqual([10, 50, 0]);
    expect(worker.accepted()).toEqual([10, 50, 100]);
    expect([us.served(), eu.served(), worker.served()]).toEqual([100, 0, 100]);
    // The worker's wave began after Europe's drop.
    const entries = (await room.bot.runtime.store.readAudit(id, '-', 10_000)).map((a) => a.entry);
    const dropAt = entries.findIndex((e) => e.type === 'notice' && e.notice.kind === 'target_dropped');
    const workerWave = entries.findIndex((e) => e.type === 'notice' && e.notice.kind === 'shifting' && e.notice.stage === 6);
    expect(dropAt).toBeGreaterThan(0);
    expect(workerWave).toBeGreaterThan(dropAt);
    expect(entries.filter((e) => e.type === 'notice' && e.notice.kind === 'rollback_started')).toEqual([]);
    // The escalation says Europe alone goes back; the card shows it dropped and back on stable.
    const channel = room.fake.channelMessages(WAR_ROOM).map(allText).join('\n');
    expect(channel).toContain('dropapi-europe-west1 (target 1) dropped (automatic): gate five-xx@dropapi-europe-west1 failed at 50 %');
    await room.fake.waitFor((f) => allText(cardOf(f, id)!).includes('↩️ *dropapi-europe-west1*') || undefined, { timeoutMs: 10_000 });
    const card = allText(cardOf(room.fake, id)!);
    expect(card).toContain('completed (1 of 3 targets dropped)');
    expect(card).toMatch(/↩️ \*dropapi-europe-west1\*[^\n"]*dropped: gate five-xx@dropapi-europe-west1 failed at 50 %[^\n"]*back on stable, verified/);
    // The evidence lists the drop.
    const summary = JSON.parse(await readFile(join((evidence as Extract<AuditEntry, { type: 'evidence' }>).path, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ overall_status: 'completed', rollback_scope: 'target' });
    expect(summary.dropped_targets).toEqual([expect.objectContaining({ target: 'dropapi-europe-west1', trigger: 'gate', reason: 'gate five-xx@dropapi-europe-west1 failed at 50 %', back_on_stable: true })]);
  });

  it('/rollback <plan> <target> typed by a release manager drops that target alone; the rest of the train completes', async () => {
    const id = await runTrain('train-hand');
    const [us, eu, worker] = services.hand! as [CloudService, CloudService, CloudService];
    // Wave 1's 10 % soaks clean and waits for /promote.
    const first = await waitForButton(room.fake, id, 'promote', 0, 30_000);
    expect((await room.click('promote', first.value, { messageTs: first.ts })).text).not.toMatch(/not|refused/i);
    // Wave 2 (Europe and the worker) at 10 %, waiting for /promote.
    await waitForAudit(room.bot.runtime.store, id, (e) => e.type === 'notice' && e.notice.kind === 'soak_clean' && e.notice.stage === 3, 60_000);
    const unknown = await room.slash('/rollback', 'train-hand target=9 eu tickets', { user: RM2 });
    expect(unknown.text).toContain('has no target 9: its targets are `handapi-us-central1` (0), `handapi-europe-west1` (1), `handworker-us-central1` (2). Nothing was changed.');
    const reply = await room.slash('/rollback', 'train-hand handapi-europe-west1 EU support tickets', { user: RM2 });
    expect(reply.text).toContain('Dropped *handapi-europe-west1*: its release goes back to stable now; the rest of the train carries on.');
    const dropped = await room.state(id);
    expect(dropped).toMatchObject({ phase: 'awaiting_promotion', dropped: [{ target: 1, trigger: 'manual', by: RM2, reason: 'EU support tickets' }] });
    await waitForAudit(room.bot.runtime.store, id, notice('target_back'), 30_000);
    expect(eu.accepted()).toEqual([10, 0]);
    expect(eu.served()).toBe(0);
    // The worker alone goes on through wave 2.
    const next = await waitForButton(room.fake, id, 'promote', first.seq, 30_000);
    expect((await room.click('promote', next.value, { messageTs: next.ts })).text).not.toMatch(/not|refused/i);
    await waitForAudit(room.bot.runtime.store, id, ended, 60_000);
    expect((await room.state(id)).outcome).toBe('completed');
    expect(us.accepted()).toEqual([10, 50, 100]);
    expect(worker.accepted()).toEqual([10, 50, 100]);
    expect(eu.accepted()).toEqual([10, 0]);
    const card = allText(cardOf(room.fake, id)!);
    expect(card).toContain('⏪ drop handapi-europe-west1');
  });
});
