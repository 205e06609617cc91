// The yardstick for benchmark 1: a Bolt app in HTTP mode that verifies signatures and only acks.
import { App } from '@slack/bolt';

const app = new App({
  signingSecret: process.env.SLACK_SIGNING_SECRET as string,
  token: 'xoxb-bare-bolt',
  botId: 'B0BARE',
  botUserId: 'U0BARE',
});
app.command(/.*/, async ({ ack }) => ack());
app.action(/.*/, async ({ ack }) => ack());
const server = (await app.start(0)) as import('node:http').Server;
const address = server.address();
process.stdout.write(`${JSON.stringify({ msg: 'bot ready', port: typeof address === 'object' && address ? address.port : 0 })}\n`);
process.on('SIGTERM', () => {
  void app.stop().then(() => process.exit(0));
});
