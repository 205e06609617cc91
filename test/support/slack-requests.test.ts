// The request builders produce what Slack sends, and signatures Bolt's own verifier accepts.
import { isValidSlackRequest } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { blockAction, nowSeconds, signSlackRequest, slashCommand } from './slack-requests.ts';

const SECRET = 'test-signing-secret';

function verify(body: string, headers: { 'X-Slack-Signature': string; 'X-Slack-Request-Timestamp': string }, secret = SECRET): boolean {
  return isValidSlackRequest({
    signingSecret: secret,
    body,
    headers: { 'x-slack-signature': headers['X-Slack-Signature'], 'x-slack-request-timestamp': Number(headers['X-Slack-Request-Timestamp']) },
  });
}

describe('signSlackRequest', () => {
  it('signs v0 like Slack, as Bolt checks it', () => {
    const body = slashCommand({ text: 'api-v2' });
    const headers = signSlackRequest(SECRET, body);
    expect(headers['X-Slack-Signature']).toMatch(/^v0=[0-9a-f]{64}$/);
    expect(Math.abs(Number(headers['X-Slack-Request-Timestamp']) - nowSeconds())).toBeLessThanOrEqual(1);
    expect(verify(body, headers)).toBe(true);
    expect(verify(body, headers, 'other-secret')).toBe(false);
    expect(verify(`${body}&x=1`, headers)).toBe(false);
    expect(verify(body, signSlackRequest(SECRET, body, nowSeconds() - 6 * 60))).toBe(false);
  });

  it('matches a known vector', () => {
    // HMAC-SHA256("secret", "v0:1531420618:a=b"), computed independently with openssl.
    expect(signSlackRequest('secret', 'a=b', 1531420618)['X-Slack-Signature']).toBe(
      'v0=6b73b1a0b367ae0d9b094b009d88c7d648abb1fab59329f0b1117378b1c1e090',
    );
  });
});

describe('slashCommand', () => {
  it('form-encodes every field Slack sends, with defaults', () => {
    const fields = Object.fromEntries(new URLSearchParams(slashCommand({ text: 'go api v2', response_url: 'http://x/response/1' })));
    expect(fields).toMatchObject({
      command: '/cutover',
      text: 'go api v2',
      user_id: 'U0USER',
      user_name: 'alice',
      channel_id: 'C0CUTOVER',
      channel_name: 'cutover',
      team_id: 'T0FAKE',
      response_url: 'http://x/response/1',
    });
    expect(fields.trigger_id).toBeTruthy();
  });
});

describe('blockAction', () => {
  it('is one payload field holding a block_actions JSON', () => {
    const form = new URLSearchParams(blockAction({ user: 'U1', channel: 'C1', actionId: 'approve', value: 'go', messageTs: '1700000000.000100', responseUrl: 'http://x/r' }));
    expect([...form.keys()]).toEqual(['payload']);
    const payload: unknown = JSON.parse(form.get('payload') ?? '');
    expect(payload).toMatchObject({
      type: 'block_actions',
      user: { id: 'U1', team_id: 'T0FAKE' },
      channel: { id: 'C1' },
      message: { ts: '1700000000.000100', type: 'message' },
      container: { type: 'message', message_ts: '1700000000.000100', channel_id: 'C1', is_ephemeral: false },
      response_url: 'http://x/r',
      actions: [{ action_id: 'approve', block_id: 'actions', value: 'go', type: 'button', text: { type: 'plain_text', text: 'go' } }],
    });
  });
});
