// What the Cloud Run benchmarks share: services on the local Cloud Run server, an SLO snapshot the
// benchmark can turn bad, a plan on them, and the environment the bot is started with.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeCloudRun } from '../test/fakes/gcp/cloud-run.ts';
import type { FakeSlack } from '../test/fakes/slack-api.ts';
import type { RedisServer } from '../src/infra/redis-server.ts';
import { botEnv, percentile } from './support.ts';

export const PROJECT = 'bench-project';
export const USER = 'U0BENCH';

export interface Revisions {
  readonly stable: string;
  readonly canary: string;
}

/** A service on the Cloud Run server, serving its stable revision, both revisions ready. */
export function addService(run: FakeCloudRun, service: string, revisions: Revisions): void {
  run.addService(service, { traffic: [{ revision: revisions.stable, percent: 100 }] });
  run.addRevision(`${service}/revisions/${revisions.stable}`);
  run.addRevision(`${service}/revisions/${revisions.canary}`);
}

/** Whether an accepted update puts a service back on stable, the canary serving nothing. */
export const isRollback = (revisions: Revisions) => (traffic: ReadonlyArray<{ revision: string; percent: number }>) =>
  traffic.some((t) => t.revision === revisions.stable && t.percent === 100) && !traffic.some((t) => t.revision === revisions.canary && t.percent > 0);

/** The plans' metric source: an SLO snapshot over HTTP, bad (p95 2 s) wherever `bad(url)` says so. */
export async function sloServer(bad: (url: string) => boolean = () => false): Promise<{ readonly url: string; close(): void }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ p95_latency_ms: bad(req.url ?? '') ? 2_000 : 120, error_budget_ratio: 0.001 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

/**
 * A plan of two cohorts (50 %, 100 %) with an hour's soak, a health check and an SLO snapshot as its
 * gates, and one release manager; `where` is its `service:` or its `targets:` and `strategy:`.
 */
export function rollbackPlan(o: { name: string; channel: string; where: Record<string, unknown>; sloUrl: string; sloPath: string; checkEvery: string }) {
  return {
    name: o.name,
    ...o.where,
    channel: o.channel,
    stages: [50, 100],
    soak: '1h',
    check_every: o.checkEvery,
    gates: {
      preflight: [{ id: 'health', http: { url: `${o.sloUrl}/healthz` } }],
      stage: [{ id: 'slo', slo_snapshot: { url: `${o.sloUrl}${o.sloPath}`, max_p95_latency_ms: 600 } }],
    },
    approvals: { go_no_go: { roles: ['release-manager'], min: 1, two_person: false }, promote: { roles: ['release-manager'] }, rollback: { roles: ['release-manager'] } },
    roles: { 'release-manager': [USER] },
  };
}

/** The bot's environment on the fakes and the Cloud Run server, its plans in `dir`. */
export const cloudRunBotEnv = (o: { fake: FakeSlack; run: FakeCloudRun; redis: RedisServer; dir: string; secret: string }): Record<string, string> => ({
  ...botEnv({ token: o.fake.token, secret: o.secret, apiUrl: o.fake.apiUrl, redisUrl: o.redis.url, dir: o.dir }),
  CLOUD_RUN_EMULATOR_HOST: o.run.address,
  METADATA_SERVER_DETECTION: 'none',
});

/** How many cutovers of plan `name` have posted their closing message in `channel` (each once, when it ended). */
export const closings = (fake: FakeSlack, channel: string, name: string): number =>
  fake.channelMessages(channel).filter((m) => new RegExp(`Cutover ${name} (completed|rolled back|aborted|FAILED|ended)`).test(m.text)).length;

export const summary = (values: readonly number[]) => ({ p50: percentile(values, 50), p99: percentile(values, 99), max: Math.max(...values), samples: values.length });
