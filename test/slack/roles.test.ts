// Plan roles resolved against Slack: users named directly, members of user groups through
// usergroups.users.list (the fake Slack answering like Slack), cached briefly; a lookup that
// fails grants nothing and is asked again next time.
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { webApi } from '@slack/bolt';
import { SlackRoles } from '../../src/slack/roles.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.ts';
import { makePlan } from '../support/plans.ts';
import { silentLogger } from '../support/log.ts';

let fake: FakeSlack;
let client: webApi.WebClient;
const plan = makePlan();

beforeAll(async () => {
  fake = await startFakeSlack({ usergroups: { S0ONCALL: ['U0ONCALL', 'U0RM2'] } });
  client = new webApi.WebClient(fake.token, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
});

afterAll(async () => {
  await fake?.close();
});

beforeEach(() => fake.reset());

it('direct members and user-group members hold their roles; others hold none', async () => {
  const roles = new SlackRoles(client, { log: silentLogger() });
  expect(await roles.rolesOf(plan, 'U0RM1')).toEqual(['release-manager']);
  expect(await roles.rolesOf(plan, 'U0RM2')).toEqual(['release-manager', 'oncall-ops']);
  expect(await roles.rolesOf(plan, 'U0ONCALL')).toEqual(['oncall-ops']);
  expect(await roles.rolesOf(plan, 'U0NOBODY')).toEqual([]);
  expect(fake.callsTo('usergroups.users.list').map((c) => c.body.usergroup)).toEqual(['S0ONCALL']);
});

it('group members are cached for the TTL, then asked again', async () => {
  let now = 1_000;
  const roles = new SlackRoles(client, { log: silentLogger(), ttlMs: 60_000, now: () => now });
  await Promise.all([roles.rolesOf(plan, 'U0ONCALL'), roles.rolesOf(plan, 'U0RM1')]);
  now += 59_000;
  await roles.rolesOf(plan, 'U0ONCALL');
  expect(fake.callsTo('usergroups.users.list')).toHaveLength(1);
  now += 2_000;
  await roles.rolesOf(plan, 'U0ONCALL');
  expect(fake.callsTo('usergroups.users.list')).toHaveLength(2);
});

it('a failing lookup grants nothing, and is not trusted for the next command', async () => {
  const roles = new SlackRoles(client, { log: silentLogger() });
  fake.failNext('usergroups.users.list', { error: 'missing_scope' });
  expect(await roles.rolesOf(plan, 'U0ONCALL')).toEqual([]);
  expect(await roles.rolesOf(plan, 'U0RM1')).toEqual(['release-manager']);
  expect(await roles.rolesOf(plan, 'U0ONCALL')).toEqual(['oncall-ops']);
});
