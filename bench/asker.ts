// A person asking the bot during a busy run, in its own process so that the harness's event loop
// (busy with the fake Slack and Cloud Run servers) times nothing but the acks: a signed
// `/cutover status` every `everyMs`, in the channels given in turn, to the receivers in turn; on
// SIGTERM it prints { latencies, failures } and exits.
//   node bench/asker.ts <config.json>   config: { receivers, secret, channels, user, responseBase, everyMs }
import { readFileSync } from 'node:fs';
import { postToSlackEndpoint, slashCommand } from '../test/support/slack-requests.ts';

export interface AskerConfig {
  readonly receivers: readonly string[];
  readonly secret: string;
  readonly channels: readonly string[];
  readonly user: string;
  /** The fake Slack's base URL: replies go to <responseBase>/response/ask<n>. */
  readonly responseBase: string;
  readonly everyMs: number;
}

if (import.meta.main) {
  const config = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as AskerConfig;
  const latencies: number[] = [];
  let failures = 0;
  let stopping = false;
  process.on('SIGTERM', () => (stopping = true));
  for (let n = 0; !stopping; n++) {
    const body = slashCommand({ command: '/cutover', text: 'status', user_id: config.user, channel_id: config.channels[n % config.channels.length], response_url: `${config.responseBase}/response/ask${n}` });
    try {
      const r = await postToSlackEndpoint(config.receivers[n % config.receivers.length]!, body, { secret: config.secret });
      if (r.status === 200) latencies.push(r.elapsedMs);
      else failures++;
    } catch {
      failures++;
    }
    await new Promise((resolve) => setTimeout(resolve, config.everyMs));
  }
  process.stdout.write(JSON.stringify({ latencies, failures }));
}
