// Command text and button values are parsed strictly: what is not understood is refused with the
// usage, never guessed at.
import { describe, expect, it } from 'vitest';
import { splitPlanAndReason } from '../../commands/parse.ts';
import { parseCutover, parsePromote, parseRollback } from '../../commands/slash/index.ts';
import { decodeButtonValue, decodeSignOffValue, decodeTickValue, encodeButtonValue, encodeSignOffValue, encodeTickValue } from '../../templates/button-value.ts';

describe('/cutover', () => {
  it.each([
    ['', { kind: 'help' }],
    ['help', { kind: 'help' }],
    ['  PLANS ', { kind: 'plans' }],
    ['start control-service', { kind: 'start', plan: 'control-service' }],
    ['start control-service canary=control-00012-xyz', { kind: 'start', plan: 'control-service', canary: 'control-00012-xyz' }],
    ['start control-service stable=control-00010-abc  canary=control-00012-xyz', { kind: 'start', plan: 'control-service', stable: 'control-00010-abc', canary: 'control-00012-xyz' }],
    ['status', { kind: 'status' }],
    ['status api', { kind: 'status', plan: 'api' }],
    ['resume api', { kind: 'resume', plan: 'api' }],
    ['hold api p95 climbing', { kind: 'hold', words: ['api', 'p95', 'climbing'] }],
    ['abort', { kind: 'abort', words: [] }],
    ['close', { kind: 'close', words: [] }],
    ['close api quiet for a day', { kind: 'close', words: ['api', 'quiet', 'for', 'a', 'day'] }],
    ['schedule api at 14:00', { kind: 'schedule', plan: 'api', when: { kind: 'wall', hour: 14, minute: 0, text: '14:00' } }],
    ['schedule api AT 2026-11-24T14:00Z canary=api-2', { kind: 'schedule', plan: 'api', when: { kind: 'instant', ms: Date.UTC(2026, 10, 24, 14), text: '2026-11-24T14:00Z' }, canary: 'api-2' }],
  ])('%j', (text, request) => {
    expect(parseCutover(text)).toEqual({ ok: true, request });
  });

  it.each([
    ['start', 'Name the plan to start.', 'start'],
    ['start ../etc/passwd', '"../etc/passwd" is not a plan name', 'start'],
    ['start api canary=', 'canary="" is not a revision name', 'start'],
    ['start api canary=rev-1-', 'canary="rev-1-" is not a revision name', 'start'],
    ['start api canary=<@U123>', 'canary="<@U123>" is not a revision name', 'start'],
    ['start api canary=rev-1 stable=rev-1', 'canary= and stable= name the same revision.', 'start'],
    ['start api stable=a stable=b', 'stable= is given twice.', 'start'],
    ['start api now', '"now" is not an option', 'start'],
    ['status a b', 'Too many words', 'status'],
    ['plans all', '/cutover plans takes nothing after it.', 'plans'],
    ['rollback api', '"rollback" is not a /cutover command', 'help'],
    ['schedule', 'Name the plan to schedule.', 'schedule'],
    ['schedule api', 'Say when T0 is', 'schedule'],
    ['schedule api on 14:00', 'Say when T0 is', 'schedule'],
    ['schedule api at noon', '"noon" is not a time', 'schedule'],
    ['schedule api at 2026-11-24T14:00', 'has no time zone', 'schedule'],
    ['schedule api at 14:00 canary=x canary=y', 'canary= is given twice.', 'schedule'],
    ['schedule API at 14:00', '"API" is not a plan name', 'schedule'],
    [`close api ${'x'.repeat(501)}`, 'The reason is too long', 'close'],
    [`hold ${'x'.repeat(501)}`, 'The reason is too long', 'hold'],
  ])('%j is refused', (text, problem, usage) => {
    const parsed = parseCutover(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.problem).toContain(problem);
      expect(parsed.usage).toBe(usage);
    }
  });
});

describe('/promote and /rollback', () => {
  it('take an optional plan; /rollback also a reason', () => {
    expect(parsePromote('')).toEqual({ ok: true, request: { kind: 'promote' } });
    expect(parsePromote('api')).toEqual({ ok: true, request: { kind: 'promote', plan: 'api' } });
    expect(parsePromote('api now')).toMatchObject({ ok: false, usage: 'promote' });
    expect(parseRollback('api 5xx at 3 %')).toEqual({ ok: true, request: { kind: 'rollback', words: ['api', '5xx', 'at', '3', '%'] } });
  });

  it('/rollback takes target=<id or index> right after the plan (or first), checked at the edge', () => {
    expect(parseRollback('multi target=api-europe-west1 eu 5xx')).toEqual({ ok: true, request: { kind: 'rollback', words: ['multi', 'eu', '5xx'], target: 'api-europe-west1' } });
    expect(parseRollback('target=1')).toEqual({ ok: true, request: { kind: 'rollback', words: [], target: '1' } });
    // Further on, it is only words of the reason.
    expect(parseRollback('multi eu target=1')).toEqual({ ok: true, request: { kind: 'rollback', words: ['multi', 'eu', 'target=1'] } });
    expect(parseRollback('multi target=EU')).toMatchObject({ ok: false, usage: 'rollback', problem: 'target="EU" is not a target: give its id (like api-europe-west1) or its index (0, 1, …).' });
    expect(parseRollback('target=a target=b')).toMatchObject({ ok: false, problem: 'target= is given twice.' });
    expect(parseRollback('Multi target=a')).toMatchObject({ ok: false, usage: 'rollback' });
  });

  it('the first word is a plan only when there is such a plan', () => {
    const plans = new Set(['api', 'payments']);
    const isPlan = (name: string) => plans.has(name);
    expect(splitPlanAndReason(['api', 'p95', 'climbing'], isPlan)).toEqual({ plan: 'api', reason: 'p95 climbing' });
    expect(splitPlanAndReason(['api'], isPlan)).toEqual({ plan: 'api' });
    expect(splitPlanAndReason(['db', 'is', 'slow'], isPlan)).toEqual({ reason: 'db is slow' });
    expect(splitPlanAndReason(['API', 'down'], isPlan)).toEqual({ reason: 'API down' });
    expect(splitPlanAndReason([], isPlan)).toEqual({});
  });
});

describe('button values', () => {
  it('round-trip {c, s} and refuse anything else', () => {
    const value = encodeButtonValue({ c: 'api-20261123t154700z-3fa2', s: 7 });
    expect(value).toBe('{"c":"api-20261123t154700z-3fa2","s":7}');
    expect(decodeButtonValue(value)).toEqual({ c: 'api-20261123t154700z-3fa2', s: 7 });
    for (const bad of [undefined, '', 'go', '[]', '{"c":"api"}', '{"c":"api","s":0}', '{"c":"api","s":1.5}', '{"c":"API","s":1}', '{"c":"a","s":1,"extra":true}', `{"c":"${'a'.repeat(2_001)}","s":1}`]) {
      expect(decodeButtonValue(bad), String(bad)).toBeNull();
    }
  });

  it('checklist and sign-off values name the item, carry no phaseSeq, and refuse anything else', () => {
    const tick = encodeTickValue({ c: 'api-20261123t154700z-3fa2', k: 2, i: 19 });
    expect(tick).toBe('{"c":"api-20261123t154700z-3fa2","k":2,"i":19}');
    expect(decodeTickValue(tick)).toEqual({ c: 'api-20261123t154700z-3fa2', k: 2, i: 19 });
    for (const bad of ['{"c":"api","k":0}', '{"c":"api","k":30,"i":0}', '{"c":"api","k":0,"i":20}', '{"c":"api","k":-1,"i":0}', '{"c":"api","k":0,"i":0,"s":3}', '{"c":"api","s":1}']) {
      expect(decodeTickValue(bad), bad).toBeNull();
    }
    const signOff = encodeSignOffValue({ c: 'api-20261123t154700z-3fa2', i: 4 });
    expect(decodeSignOffValue(signOff)).toEqual({ c: 'api-20261123t154700z-3fa2', i: 4 });
    for (const bad of ['{"c":"api","i":"4"}', '{"c":"api","i":20}', '{"c":"api","k":0,"i":0}']) expect(decodeSignOffValue(bad), bad).toBeNull();
  });
});
