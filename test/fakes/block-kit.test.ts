// Each Block Kit limit: exactly at the limit passes, one over is refused with Slack's error code.
import { describe, expect, it } from 'vitest';
import { checkBlocks, checkMessage, validateBlocks } from './block-kit.ts';

const x = (n: number): string => 'x'.repeat(n);
const plain = (text: string) => ({ type: 'plain_text', text });
const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const button = (fields: { text?: string; value?: string; url?: string; action_id?: string; confirm?: unknown } = {}) => ({
  type: 'button',
  text: plain(fields.text ?? 'Go'),
  action_id: fields.action_id ?? 'go',
  ...(fields.value !== undefined ? { value: fields.value } : {}),
  ...(fields.url !== undefined ? { url: fields.url } : {}),
  ...(fields.confirm !== undefined ? { confirm: fields.confirm } : {}),
});
const actions = (...elements: unknown[]) => ({ type: 'actions', elements });
const confirm = (sizes: { title?: number; text?: number; confirm?: number; deny?: number }) => ({
  title: plain(x(sizes.title ?? 5)),
  text: plain(x(sizes.text ?? 5)),
  confirm: plain(x(sizes.confirm ?? 5)),
  deny: plain(x(sizes.deny ?? 5)),
});

describe('validateBlocks', () => {
  it('accepts an ordinary status card', () => {
    const blocks = [
      { type: 'header', text: plain('Cutover api-v2') },
      section('*Stage* 2/5 🟢'),
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'by <@U1>' }] },
      { type: 'divider' },
      actions(button({ text: 'Go', value: 'go', confirm: confirm({}) }), button({ text: 'No go', action_id: 'nogo' })),
    ];
    expect(validateBlocks(blocks)).toBeNull();
    expect(validateBlocks(JSON.stringify(blocks))).toBeNull(); // as the WebClient form-encodes it
  });

  const cases: Array<[string, (n: number) => unknown[], number]> = [
    ['blocks per message', (n) => Array.from({ length: n }, () => ({ type: 'divider' })), 50],
    ['section text', (n) => [section(x(n))], 3_000],
    ['section field text', (n) => [{ type: 'section', fields: [{ type: 'mrkdwn', text: x(n) }] }], 2_000],
    ['section fields', (n) => [{ type: 'section', fields: Array.from({ length: n }, () => plain('f')) }], 10],
    ['header text', (n) => [{ type: 'header', text: plain(x(n)) }], 150],
    ['markdown block text', (n) => [{ type: 'markdown', text: x(n) }], 12_000],
    ['button text', (n) => [actions(button({ text: x(n) }))], 75],
    ['button value', (n) => [actions(button({ value: x(n) }))], 2_000],
    ['button url', (n) => [actions(button({ url: `https://e.com/${x(n - 14)}` }))], 3_000],
    ['action_id', (n) => [actions(button({ action_id: x(n) }))], 255],
    ['block_id', (n) => [{ type: 'divider', block_id: x(n) }], 255],
    ['actions elements', (n) => [actions(...Array.from({ length: n }, (_, i) => button({ action_id: `b${i}` })))], 25],
    ['context elements', (n) => [{ type: 'context', elements: Array.from({ length: n }, () => plain('c')) }], 10],
    ['confirm title', (n) => [actions(button({ confirm: confirm({ title: n }) }))], 100],
    ['confirm text', (n) => [actions(button({ confirm: confirm({ text: n }) }))], 300],
    ['confirm button text', (n) => [actions(button({ confirm: confirm({ confirm: n }) }))], 30],
    ['deny button text', (n) => [actions(button({ confirm: confirm({ deny: n }) }))], 30],
    ['accessory button text', (n) => [{ ...section('s'), accessory: button({ text: x(n) }) }], 75],
  ];

  it.each(cases)('%s: the limit passes, one over is invalid_blocks', (_name, build, limit) => {
    expect(validateBlocks(build(limit))).toBeNull();
    expect(validateBlocks(build(limit + 1))).toBe('invalid_blocks');
  });

  it('names the offending field like Slack (json-pointer)', () => {
    const problem = checkBlocks([{ type: 'divider' }, section(x(3_001))]);
    expect(problem).toEqual({
      error: 'invalid_blocks',
      messages: ['[ERROR] must be less than 3001 characters [json-pointer:/blocks/1/text/text]'],
    });
  });

  it('refuses unknown block types, empty section text and a section without text or fields', () => {
    expect(validateBlocks([{ type: 'fancy_block' }])).toBe('invalid_blocks');
    expect(validateBlocks([section('')])).toBe('invalid_blocks');
    expect(validateBlocks([{ type: 'section' }])).toBe('invalid_blocks');
    expect(validateBlocks([actions(button({ text: '' }))])).toBe('invalid_blocks');
  });

  it('refuses malformed blocks as invalid_blocks_format', () => {
    expect(validateBlocks('{not json')).toBe('invalid_blocks_format');
    expect(validateBlocks({ type: 'section' })).toBe('invalid_blocks_format');
  });

  it('refuses a message whose blocks JSON is over 40,000 characters as msg_blocks_too_long', () => {
    // 20 sections of 2,500 characters: each block is legal, the message is not.
    const blocks = Array.from({ length: 20 }, () => section(x(2_500)));
    expect(JSON.stringify(blocks).length).toBeGreaterThan(40_000);
    expect(validateBlocks(blocks)).toBe('msg_blocks_too_long');
    expect(validateBlocks(blocks.slice(0, 10))).toBeNull();
  });
});

describe('checkMessage', () => {
  it('needs text, blocks or attachments (no_text)', () => {
    expect(checkMessage({})?.error).toBe('no_text');
    expect(checkMessage({ text: '', blocks: [] })?.error).toBe('no_text');
    expect(checkMessage({ text: 'hi' })).toBeNull();
    expect(checkMessage({ blocks: [section('hi')] })).toBeNull();
    expect(checkMessage({ attachments: [{ text: 'a' }] })).toBeNull();
  });

  it('checks the blocks and the text length', () => {
    expect(checkMessage({ text: 'hi', blocks: [section(x(3_001))] })?.error).toBe('invalid_blocks');
    expect(checkMessage({ text: x(40_001) })?.error).toBe('msg_too_long');
  });
});
