// Finding a status card's buttons in what the fake Slack server holds, as a person would see them.
import type { FakeSlack } from '../test/fakes/slack-api.ts';

export interface Button {
  readonly action_id: string;
  readonly value: string;
}

/** Buttons on the channel's messages after the first `skip`, as they read now (after edits). */
export function cardButtons(fake: FakeSlack, channel: string, skip = 0): Button[] {
  const found: Button[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (o.type === 'button' && typeof o.action_id === 'string' && typeof o.value === 'string') found.push({ action_id: o.action_id, value: o.value });
      Object.values(o).forEach(walk);
    }
  };
  for (const message of fake.channelMessages(channel).slice(skip)) walk(fake.message(channel, message.ts)?.blocks ?? []);
  return found;
}
