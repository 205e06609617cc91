// Issue 5, bad input: a corpus of malformed and hostile plan files in the bot's PLANS_DIR, and
// plan names from Slack that try to reach outside it. Each file is refused with a clear error by
// `/cutover start <name>` and shown as invalid by `/cutover plans`, quickly and in bounded memory
// (YAML parsing is synchronous: a slow parse would stall every other command and job), and the bot
// keeps running: a healthy cutover still completes afterwards. (test/plans/parse.test.ts covers the
// parser's basic refusals; this is the whole path through the real bot.)
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlanCatalog } from '../../src/plans/catalog.ts';
import { waitForAudit } from '../support/engine.ts';
import { planYaml } from '../support/plans.ts';
import { RM1, openRoom, quickPlan, startedId, waitForButton, type Room } from '../slack/harness.ts';

/** A valid plan document's YAML, named `name`, with `patch` applied. */
const valid = (name: string, patch: (doc: Record<string, any>) => void = () => undefined) => quickPlan(name, patch);

function laughs(levels: number): string {
  const lines = ['lol0: &lol0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < levels; i++) lines.push(`lol${i}: &lol${i} [${Array(9).fill(`*lol${i - 1}`).join(',')}]`);
  return `name: laughs\n${lines.join('\n')}\n`;
}

/** name → [file text, what the refusal must say]. */
const CORPUS: Record<string, [string, RegExp]> = {
  huge: [`${valid('huge')}\n# ${'x'.repeat(300 * 1024)}\n`, /larger than 256 KiB/],
  'deep-brackets': [`name: deep-brackets\nstages: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`, /brackets, more than the 2000 a plan could ever need/],
  'deep-braces': [`name: deep-braces\nstages: ${'{a: '.repeat(50_000)}1${'}'.repeat(50_000)}\n`, /brackets, more than the 2000/],
  'deep-block': [`${Array.from({ length: 400 }, (_, i) => `${' '.repeat(i)}a${i}:`).join('\n')} 1\n`, /unknown key "a0"/],
  laughs: [laughs(10), /alias count/i],
  'merge-bomb': [`a: &a {x: 1, y: 2}\nb: &b {<<: [${Array(60).fill('*a').join(', ')}]}\nname: merge-bomb\n`, /alias count/i],
  'wrong-types': [valid('wrong-types').replace(/^name: .*$/m, 'name: 123').replace(/^soak: .*$/m, 'soak: true').replace(/^stages:\n(?: +- .*\n)+/m, 'stages: "10,50"\n'), /name: must be a string[\s\S]*stages:[\s\S]*soak:/],
  homoglyph: [valid('homoglyph').replace(/^name:/m, 'n\u0430me:'), /unknown key "n\u0430me"/],
  'zero-width': [valid('zero-width', (doc) => (doc.channel = 'C0WAR\u200bROOM')), /channel: must be a Slack channel id/],
  'rtl-name': [valid('rtl-name', (doc) => (doc.name = 'rtl-name\u202e')), /name: must be lowercase letters/],
  'duplicate-keys': [`${valid('duplicate-keys')}soak: 5m\n`, /Map keys must be unique/],
  'js-function': [valid('js-function').replace(/^soak: .*$/m, "soak: !!js/function 'function () { return 1 }'"), /tags such as !include or !!js\/function are not read/],
  include: [valid('include').replace(/^soak: .*$/m, 'soak: !include /etc/passwd'), /Unresolved tag: !include/],
  binary: [valid('binary').replace(/^name: .*$/m, 'name: !!binary aGVsbG8='), /name: must be a string/],
  mismatch: [valid('healthy'), /is called "healthy"; a plan's name must match its file name/],
  'multi-doc': [`${valid('multi-doc')}---\n${valid('multi-doc')}`, /multiple documents/],
  garbage: [Buffer.from(Array.from({ length: 4_000 }, (_, i) => (i * 7919 + 13) % 256)).toString('latin1'), /^line \d+|must be a YAML mapping/],
  empty: ['', /must be a YAML mapping.*\(got nothing\)/],
  nul: [valid('nul', (doc) => (doc.name = 'nul\u0000')), /name: must be lowercase letters/],
  proto: [`${valid('proto')}__proto__: {polluted: true}\nconstructor: {prototype: {polluted: true}}\n`, /unknown keys? "__proto__"/],
  numbers: [valid('numbers').replace(/^stages:\n(?: +- .*\n)+/m, 'stages: [.inf, .nan, -0, 1e400]\n'), /stages\[0\]/],
};
/** Not regular files: refused before anything is opened (a FIFO would block a reader for ever). */
const SPECIAL: Record<string, RegExp> = {
  linked: /linked\.yaml is not a regular file/,
  passwd: /passwd\.yaml is not a regular file/,
  folder: /folder\.yaml is not a regular file/,
  fifo: /fifo\.yaml is not a regular file/,
};

let room: Room;
let plansDir: string;

beforeAll(async () => {
  room = await openRoom({
    healthy: valid('healthy', (doc) => {
      doc.stages = [10, 100];
      doc.promotion = 'auto';
      doc.approvals.go_no_go = { roles: ['release-manager'], min: 1, two_person: false };
    }),
    bom: `\ufeff${planYaml((doc) => ((doc.name = 'bom'), (doc.service.name = 'bom-svc')))}`,
  });
  plansDir = join(room.dir, 'plans');
  for (const [name, [text]] of Object.entries(CORPUS)) writeFileSync(join(plansDir, `${name}.yaml`), text);
  // A valid plan outside PLANS_DIR, and links to it and to a system file, a folder and a FIFO.
  mkdirSync(join(room.dir, 'outside'));
  writeFileSync(join(room.dir, 'outside', 'linked.yaml'), valid('linked'));
  writeFileSync(join(room.dir, 'outside', 'secret.yaml'), valid('secret'));
  symlinkSync(join(room.dir, 'outside', 'linked.yaml'), join(plansDir, 'linked.yaml'));
  symlinkSync('/etc/passwd', join(plansDir, 'passwd.yaml'));
  mkdirSync(join(plansDir, 'folder.yaml'));
  execFileSync('mkfifo', [join(plansDir, 'fifo.yaml')]);
});

afterAll(async () => {
  await room?.close();
});

describe('hostile plan files', () => {
  it('each is refused quickly with an error that says what is wrong, by the catalog and by /cutover start', async () => {
    const catalog = new PlanCatalog(plansDir, room.bot.runtime.vocabulary);
    const heapBefore = process.memoryUsage().heapUsed;
    const expectations: Array<[string, RegExp]> = [...Object.entries(CORPUS).map(([name, [, words]]) => [name, words] as [string, RegExp]), ...Object.entries(SPECIAL)];
    for (const [name, words] of expectations) {
      // CPU time, not wall time: a loaded CI machine stretches the wall clock, not the work done.
      const started = process.cpuUsage();
      const loaded = await catalog.load(name);
      const used = process.cpuUsage(started);
      const took = (used.user + used.system) / 1_000;
      expect(loaded.ok, name).toBe(false);
      if (loaded.ok) continue;
      expect('missing' in loaded, `${name} is there, just not valid`).toBe(false);
      expect(loaded.errors.join('\n'), name).toMatch(words);
      // Bounded: no file keeps the bot's only thread for long.
      expect(took, `${name} took ${Math.round(took)} ms of CPU`).toBeLessThan(500);

      const reply = await room.slash('/cutover', `start ${name}`);
      expect(reply.response_type).toBe('ephemeral');
      expect(reply.text, name).toContain(`Plan *${name}* is not valid, so it cannot start`);
      expect(reply.text.length).toBeLessThanOrEqual(3_000);
      expect(reply.text).not.toMatch(/\n\s+at .+:\d+:\d+/);
    }
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(100 * 1024 * 1024);
    // Nothing the files said was executed or merged into anything.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await room.bot.runtime.store.recentIds(10)).toEqual([]);
  });

  it('/cutover plans lists them all as not valid, and the valid ones (a BOM is just a BOM) as valid, within Slack’s 3 s', async () => {
    const started = performance.now();
    const reply = await room.slash('/cutover', 'plans');
    expect(performance.now() - started).toBeLessThan(3_000);
    for (const name of [...Object.keys(CORPUS), ...Object.keys(SPECIAL)]) expect(reply.text, name).toMatch(new RegExp(`• \\*${name}\\*: not valid \\(\\d+ problems?`));
    expect(reply.text).toMatch(/• \*healthy\*: simulated `healthy-svc`/);
    expect(reply.text).toMatch(/• \*bom\*: simulated `bom-svc`/);
    expect(reply.text).not.toContain('secret');
  });
});

describe('plan names from Slack never reach outside PLANS_DIR', () => {
  const TRICKS = ['../outside/secret', '..%2foutside%2fsecret', '%2e%2e/outside/secret', '/etc/passwd', `${'..'}/${'..'}/etc/passwd`, 'secret.yaml', 'healthy.yaml', 'healthy/../secret', './healthy', 'outside/secret', '~/secret', 'HEALTHY', 'heal\u0000thy', '\u202ehealthy', 'x'.repeat(200)];

  it('is refused as "not a plan name" before the file system is touched, whatever it looks like', async () => {
    const catalog = new PlanCatalog(plansDir, room.bot.runtime.vocabulary);
    for (const trick of TRICKS) {
      const reply = await room.slash('/cutover', `start ${trick}`);
      expect(reply.via, trick).toBe('ack');
      expect(reply.text, trick).toMatch(/is not a plan name: plan names are lowercase letters, digits and "-"/);
      const loaded = await catalog.load(trick);
      expect(loaded.ok, trick).toBe(false);
      if (!loaded.ok) expect('missing' in loaded && loaded.errors[0], trick).toMatch(/is not a plan name/);
      for (const command of ['/promote', '/rollback'] as const) {
        const other = await room.slash(command, trick);
        expect(other.response_type).toBe('ephemeral');
        expect(other.text).not.toContain('secret-svc');
      }
    }
    // The valid plan next to PLANS_DIR exists, and is still never a plan of this bot.
    expect((await room.slash('/cutover', 'start secret')).text).toContain('There is no plan *secret*');
    expect(await room.bot.runtime.store.recentIds(10)).toEqual([]);
  });
});

describe('the bot keeps running', () => {
  it('a healthy cutover still completes after all of that', async () => {
    const id = startedId(await room.slash('/cutover', 'start healthy'));
    const approve = await waitForButton(room.fake, id, 'approve');
    expect((await room.click('approve', approve.value, { user: RM1 })).text).toMatch(/^✅ Done/);
    await waitForAudit(room.bot.runtime.store, id, (e) => e.type === 'evidence', 20_000);
    expect(await room.state(id)).toMatchObject({ phase: 'completed', traffic: 100 });
  });
});
