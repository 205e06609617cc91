// manifest.yml creates the app the bot expects: its three commands and its button clicks all
// at /slack/events, and exactly the bot scopes the bot uses.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { parse } from 'yaml';

it('declares the three commands, interactivity and the four bot scopes', async () => {
  const manifest = parse(await readFile(resolve(import.meta.dirname, '../manifest.yml'), 'utf8'));
  const commands = manifest.features.slash_commands as Array<{ command: string; url: string; should_escape: boolean }>;
  expect(commands.map((c) => c.command)).toEqual(['/cutover', '/promote', '/rollback']);
  for (const c of commands) expect([new URL(c.url).pathname, c.should_escape]).toEqual(['/slack/events', false]);
  expect(manifest.settings.interactivity).toEqual({ is_enabled: true, request_url: commands[0]!.url });
  expect(manifest.oauth_config.scopes.bot).toEqual(['commands', 'chat:write', 'files:write', 'usergroups:read']);
});

it('has a Home tab, published on app_home_opened delivered to /slack/events', async () => {
  const manifest = parse(await readFile(resolve(import.meta.dirname, '../manifest.yml'), 'utf8'));
  expect(manifest.features.app_home).toEqual({ home_tab_enabled: true, messages_tab_enabled: false });
  expect(manifest.settings.event_subscriptions).toEqual({ request_url: manifest.features.slash_commands[0].url, bot_events: ['app_home_opened'] });
});
