// Block Kit limits as Slack enforces them on messages (chat.postMessage, chat.update,
// chat.postEphemeral, response_url). Pure functions, so the fake and unit tests share them and
// product code can be checked against the same rules without a server.
// Limits: Slack's Block Kit reference and @slack/types' doc comments (see /work/shared/notes/slack.md).
// Only the rules a cutover bot can plausibly break are checked; anything else passes, since a fake
// that is stricter than Slack would fail good messages.

export const LIMITS = {
  blocksPerMessage: 50,
  blocksPerView: 100,
  viewTitle: 24,
  viewButton: 24,
  privateMetadata: 3_000,
  selectOptions: 100,
  optionText: 75,
  optionValue: 150,
  messageBlocksJson: 40_000,
  messageText: 40_000,
  sectionText: 3_000,
  sectionFields: 10,
  sectionFieldText: 2_000,
  headerText: 150,
  markdownText: 12_000,
  buttonText: 75,
  buttonValue: 2_000,
  buttonUrl: 3_000,
  id: 255,
  actionsElements: 25,
  contextElements: 10,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
} as const;

/** Block types Slack accepts in some surface (from @slack/types 3). Anything else is `invalid_blocks`. */
export const KNOWN_BLOCK_TYPES: ReadonlySet<string> = new Set([
  'actions', 'alert', 'card', 'carousel', 'container', 'context', 'context_actions', 'data_table',
  'divider', 'file', 'header', 'image', 'input', 'markdown', 'plan', 'rich_text', 'section', 'table',
  'task_card', 'video',
]);

export type BlockErrorCode = 'invalid_blocks' | 'invalid_blocks_format' | 'msg_blocks_too_long';
export type MessageErrorCode = BlockErrorCode | 'no_text' | 'msg_too_long' | 'invalid_attachments';

export interface BlockProblem<Code extends string = BlockErrorCode> {
  error: Code;
  /** Like Slack's `response_metadata.messages`: `[ERROR] <what> [json-pointer:/blocks/0/text/text]`. */
  messages: string[];
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function textOf(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  return typeof value.text === 'string' ? value.text : undefined;
}

/** Collects `[ERROR]` lines; each check is "report and carry on" so one call shows every problem. */
class Problems {
  readonly messages: string[] = [];

  add(what: string, pointer: string): void {
    this.messages.push(`[ERROR] ${what} [json-pointer:${pointer}]`);
  }

  maxLength(value: string | undefined, max: number, pointer: string): void {
    if (value !== undefined && value.length > max) this.add(`must be less than ${max + 1} characters`, pointer);
  }

  minLength1(value: string | undefined, pointer: string): void {
    if (value !== undefined && value.length === 0) this.add('must be more than 0 characters', pointer);
  }

  maxItems(items: readonly unknown[], max: number, pointer: string): void {
    if (items.length > max) this.add(`no more than ${max} items allowed`, pointer);
  }
}

function checkConfirm(confirm: unknown, at: string, p: Problems): void {
  if (confirm === undefined) return;
  if (!isObject(confirm)) return p.add('must be an object', at);
  p.maxLength(textOf(confirm.title), LIMITS.confirmTitle, `${at}/title/text`);
  p.maxLength(textOf(confirm.text), LIMITS.confirmText, `${at}/text/text`);
  p.maxLength(textOf(confirm.confirm), LIMITS.confirmButton, `${at}/confirm/text`);
  p.maxLength(textOf(confirm.deny), LIMITS.confirmButton, `${at}/deny/text`);
}

function checkOption(option: unknown, at: string, p: Problems): void {
  if (!isObject(option)) return p.add('must be an object', at);
  p.maxLength(textOf(option.text), LIMITS.optionText, `${at}/text/text`);
  if (typeof option.value === 'string') p.maxLength(option.value, LIMITS.optionValue, `${at}/value`);
}

/** Interactive elements (buttons in depth; selects' options; any element's action_id and confirm dialog). */
function checkElement(element: unknown, at: string, p: Problems): void {
  if (!isObject(element)) return p.add('must be an object', at);
  if (typeof element.action_id === 'string') p.maxLength(element.action_id, LIMITS.id, `${at}/action_id`);
  checkConfirm(element.confirm, `${at}/confirm`, p);
  if (Array.isArray(element.options)) {
    p.maxItems(element.options, LIMITS.selectOptions, `${at}/options`);
    element.options.forEach((option, i) => checkOption(option, `${at}/options/${i}`, p));
    // An initial option must be one of the options, as Slack requires.
    if (isObject(element.initial_option) && !element.options.some((o) => isObject(o) && o.value === (element.initial_option as Json).value)) {
      p.add('initial_option must match one of the options', `${at}/initial_option`);
    }
  }
  if (element.type !== 'button') return;
  const text = textOf(element.text);
  if (text === undefined) p.add('must provide an object', `${at}/text`);
  p.minLength1(text, `${at}/text/text`);
  p.maxLength(text, LIMITS.buttonText, `${at}/text/text`);
  if (typeof element.value === 'string') p.maxLength(element.value, LIMITS.buttonValue, `${at}/value`);
  if (typeof element.url === 'string') p.maxLength(element.url, LIMITS.buttonUrl, `${at}/url`);
}

function checkBlock(block: unknown, at: string, p: Problems): void {
  if (!isObject(block)) return p.add('must be an object', at);
  const type = block.type;
  if (typeof type !== 'string') return p.add('must provide a string', `${at}/type`);
  if (!KNOWN_BLOCK_TYPES.has(type)) return p.add(`unsupported type: ${type}`, `${at}/type`);
  if (typeof block.block_id === 'string') p.maxLength(block.block_id, LIMITS.id, `${at}/block_id`);

  switch (type) {
    case 'section': {
      const text = textOf(block.text);
      const fields = Array.isArray(block.fields) ? block.fields : undefined;
      if (text === undefined && fields === undefined) p.add('must define either `text` or `fields`', at);
      p.minLength1(text, `${at}/text/text`);
      p.maxLength(text, LIMITS.sectionText, `${at}/text/text`);
      if (fields) {
        p.maxItems(fields, LIMITS.sectionFields, `${at}/fields`);
        fields.forEach((field, i) => p.maxLength(textOf(field), LIMITS.sectionFieldText, `${at}/fields/${i}/text`));
      }
      if (block.accessory !== undefined) checkElement(block.accessory, `${at}/accessory`, p);
      return;
    }
    case 'header': {
      const text = textOf(block.text);
      if (text === undefined) return p.add('must provide an object', `${at}/text`);
      p.minLength1(text, `${at}/text/text`);
      p.maxLength(text, LIMITS.headerText, `${at}/text/text`);
      return;
    }
    case 'markdown': {
      const text = typeof block.text === 'string' ? block.text : undefined;
      if (text === undefined) return p.add('must provide a string', `${at}/text`);
      p.maxLength(text, LIMITS.markdownText, `${at}/text`);
      return;
    }
    case 'actions': {
      if (!Array.isArray(block.elements)) return p.add('must provide an array', `${at}/elements`);
      p.maxItems(block.elements, LIMITS.actionsElements, `${at}/elements`);
      block.elements.forEach((element, i) => checkElement(element, `${at}/elements/${i}`, p));
      return;
    }
    case 'context': {
      if (!Array.isArray(block.elements)) return p.add('must provide an array', `${at}/elements`);
      p.maxItems(block.elements, LIMITS.contextElements, `${at}/elements`);
      return;
    }
    case 'input': {
      if (block.element !== undefined) checkElement(block.element, `${at}/element`, p);
      return;
    }
    default:
      return;
  }
}

/**
 * Checks a message's `blocks` the way Slack does. `blocks` may be the array or its JSON string
 * (the WebClient form-encodes it). Returns null when Slack would accept it.
 */
export function checkBlocks(blocks: unknown): BlockProblem | null {
  let parsed = blocks;
  if (typeof blocks === 'string') {
    try {
      parsed = JSON.parse(blocks);
    } catch {
      return { error: 'invalid_blocks_format', messages: ['[ERROR] blocks is not valid JSON'] };
    }
  }
  if (!Array.isArray(parsed)) {
    return { error: 'invalid_blocks_format', messages: ['[ERROR] must provide an array [json-pointer:/blocks]'] };
  }
  // Measured on the serialised form, as Slack counts the JSON it received.
  const size = typeof blocks === 'string' ? blocks.length : JSON.stringify(parsed).length;
  if (size > LIMITS.messageBlocksJson) {
    return { error: 'msg_blocks_too_long', messages: [`[ERROR] blocks JSON is ${size} characters, over ${LIMITS.messageBlocksJson}`] };
  }
  const p = new Problems();
  p.maxItems(parsed, LIMITS.blocksPerMessage, '/blocks');
  parsed.forEach((block, i) => checkBlock(block, `/blocks/${i}`, p));
  return p.messages.length > 0 ? { error: 'invalid_blocks', messages: p.messages } : null;
}

/**
 * A view (views.publish, views.open, views.update): a `home` or `modal`, at most 100 blocks each
 * checked as in a message; a modal's title and buttons at most 24 characters; private_metadata
 * at most 3,000. Slack answers `invalid_arguments` with these messages.
 */
export function checkView(view: unknown): BlockProblem<'invalid_arguments'> | null {
  let parsed = view;
  if (typeof view === 'string') {
    try {
      parsed = JSON.parse(view);
    } catch {
      return { error: 'invalid_arguments', messages: ['[ERROR] view is not valid JSON'] };
    }
  }
  if (!isObject(parsed)) return { error: 'invalid_arguments', messages: ['[ERROR] must provide an object [json-pointer:/view]'] };
  const p = new Problems();
  if (parsed.type !== 'home' && parsed.type !== 'modal') p.add('must be home or modal', '/view/type');
  const blocks = Array.isArray(parsed.blocks) ? parsed.blocks : [];
  if (!Array.isArray(parsed.blocks)) p.add('must provide an array', '/view/blocks');
  p.maxItems(blocks, LIMITS.blocksPerView, '/view/blocks');
  blocks.forEach((block, i) => checkBlock(block, `/view/blocks/${i}`, p));
  if (parsed.type === 'modal') {
    const title = textOf(parsed.title);
    if (title === undefined) p.add('must provide an object', '/view/title');
    p.maxLength(title, LIMITS.viewTitle, '/view/title/text');
    p.maxLength(textOf(parsed.submit), LIMITS.viewButton, '/view/submit/text');
    p.maxLength(textOf(parsed.close), LIMITS.viewButton, '/view/close/text');
    if (blocks.some((b) => isObject(b) && b.type === 'input') && parsed.submit === undefined) p.add('a modal with inputs must have a submit button', '/view/submit');
  }
  if (typeof parsed.private_metadata === 'string') p.maxLength(parsed.private_metadata, LIMITS.privateMetadata, '/view/private_metadata');
  if (typeof parsed.callback_id === 'string') p.maxLength(parsed.callback_id, LIMITS.id, '/view/callback_id');
  return p.messages.length > 0 ? { error: 'invalid_arguments', messages: p.messages } : null;
}

/** The error code Slack would answer for these blocks, or null when they are fine. */
export function validateBlocks(blocks: unknown): BlockErrorCode | null {
  return checkBlocks(blocks)?.error ?? null;
}

function isPresent(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  // Form-encoded `[]` still counts as "no blocks".
  return !(typeof value === 'string' && value.trim() === '[]');
}

/**
 * A whole message as chat.postMessage / chat.update / chat.postEphemeral / response_url see it:
 * needs `text`, `blocks` or `attachments`; then the blocks must pass `checkBlocks`.
 */
export function checkMessage(message: { text?: unknown; blocks?: unknown; attachments?: unknown }): BlockProblem<MessageErrorCode> | null {
  const { text, blocks, attachments } = message;
  if (!isPresent(text) && !isPresent(blocks) && !isPresent(attachments)) {
    return { error: 'no_text', messages: ['[ERROR] one of text, blocks or attachments is required'] };
  }
  if (typeof text === 'string' && text.length > LIMITS.messageText) {
    return { error: 'msg_too_long', messages: [`[ERROR] text must be less than ${LIMITS.messageText + 1} characters`] };
  }
  if (typeof attachments === 'string') {
    try {
      JSON.parse(attachments);
    } catch {
      return { error: 'invalid_attachments', messages: ['[ERROR] attachments is not valid JSON'] };
    }
  }
  return blocks === undefined || blocks === null ? null : checkBlocks(blocks);
}
