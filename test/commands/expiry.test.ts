// A command's time to live, as a pure decision: fresh work runs; late work does nothing, except a
// rollback (still wanted: carried out, and said to be late) and a question (changes nothing).
import { describe, expect, it } from 'vitest';
import type { Work } from '../../commands/common.ts';
import { DEFAULT_COMMAND_TTL_MS, describeWork, freshness, replyRoute, RESPONSE_URL_TTL_MS } from '../../commands/expiry.ts';
import { expiredCommand, lateNote, withNote } from '../../templates/replies.ts';

const asker = { user: 'U0RM1', channel: 'C0WARROOM' };
const slash = (command: string, request: Extract<Work, { kind: 'slash' }>['request']): Work => ({ kind: 'slash', command, request, asker });
const click = (action: string): Work => ({ kind: 'click', action, value: '{"c":"x","s":1}', user: 'U0RM1', channel: 'C0WARROOM' });

const start = slash('/cutover', { kind: 'start', plan: 'demo' });
const rollback = slash('/rollback', { kind: 'rollback', words: ['demo', 'errors'] });
const status = slash('/cutover', { kind: 'status' });
const T = 1_700_000_000_000;

describe('freshness', () => {
  it('work within its time to live runs; the default is 30 s', () => {
    expect(DEFAULT_COMMAND_TTL_MS).toBe(30_000);
    expect(freshness(start, T, T + 30_000, DEFAULT_COMMAND_TTL_MS)).toEqual({ run: true, ageMs: 30_000, late: false });
    expect(freshness(click('approve'), T, T + 5, DEFAULT_COMMAND_TTL_MS)).toEqual({ run: true, ageMs: 5, late: false });
  });

  it('late work that acts does nothing: a start, a promotion, a hold, an approval click', () => {
    for (const work of [start, slash('/promote', { kind: 'promote' }), slash('/cutover', { kind: 'hold', words: [] }), click('approve'), click('promote'), click('abort')]) {
      expect(freshness(work, T, T + 79_000, 30_000)).toEqual({ run: false, ageMs: 79_000 });
    }
  });

  it('a late rollback, typed or clicked, is still carried out, and marked late', () => {
    expect(freshness(rollback, T, T + 79_000, 30_000)).toEqual({ run: true, ageMs: 79_000, late: true });
    expect(freshness(click('rollback'), T, T + 3_600_000, 30_000)).toEqual({ run: true, ageMs: 3_600_000, late: true });
  });

  it('a late question is answered, and marked late: it changes nothing', () => {
    for (const kind of ['status', 'plans', 'help'] as const) expect(freshness(slash('/cutover', { kind }), T, T + 60_000, 30_000)).toMatchObject({ run: true, late: true });
  });

  it('a clock that reads the request as from the future counts it as new', () => {
    expect(freshness(start, T, T - 2_000, 30_000)).toEqual({ run: true, ageMs: 0, late: false });
  });
});

describe('where the answer goes', () => {
  it('the response_url while Slack honours it (30 minutes), then the channel', () => {
    expect(replyRoute(T, T + RESPONSE_URL_TTL_MS - 1)).toBe('response_url');
    expect(replyRoute(T, T + RESPONSE_URL_TTL_MS)).toBe('channel');
  });
});

describe('the words', () => {
  it('names the command as the person typed or clicked it', () => {
    expect(describeWork(start)).toBe('/cutover start');
    expect(describeWork(rollback)).toBe('/rollback');
    expect(describeWork(status)).toBe('/cutover status');
    expect(describeWork(click('approve'))).toBe('your Approve click');
    expect(describeWork(click('sign_off'))).toBe('your Sign off click');
  });

  it('says it was not run, how late it was and that nothing changed', () => {
    expect(expiredCommand('/cutover start', 79_000, 30_000)).toBe(
      "⏱️ /cutover start was not run: it reached the bot's workers 1m19s after you sent it, and a command is kept 30s (the bot was restarting, or could not reach its Redis). Nothing was changed. Check the status card, then send it again if it is still wanted.",
    );
  });

  it('a late rollback’s reply says it was carried out late, before the usual answer', () => {
    const reply = withNote(lateNote('/rollback', 79_000, 30_000, true), '✅ Done: rolling back.');
    expect(reply).toBe("⏱️ /rollback reached the bot's workers 1m19s after you sent it (a command is kept 30s); a rollback is carried out however late, so it was.\n✅ Done: rolling back.");
    const withBlocks = withNote('note', { text: 'card', blocks: [{ type: 'divider' }] });
    expect(withBlocks).toEqual({ text: 'note\ncard', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'note' } }, { type: 'divider' }] });
  });
});
