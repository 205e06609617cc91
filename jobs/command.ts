// A slash command or a click, kept in Redis by its listener before the ack: do the work, then
// answer the person through the request's response_url. The work is guarded (a failure becomes a
// reply), so a job never retries a command. A process that dies mid-job has the job taken over
// (the commands queue's short lock) and run again from the top: the engine recognises a command it
// already committed by the job's id (its once token) and answers it as done, never applying it twice.
//
// A job that starts past the command's time to live does nothing and says so (commands/expiry.ts
// decides; a rollback is still carried out). Past the 30 minutes Slack honours a response_url, the
// answer goes to the person in the channel instead.
import type { Job } from 'bullmq';
import { answer, type CommandDeps, type Ephemeral, type Reply } from '../commands/common.ts';
import { DEFAULT_COMMAND_TTL_MS, describeWork, freshness, isRollback, replyRoute } from '../commands/expiry.ts';
import { perform } from '../commands/work.ts';
import { expiredCommand, lateNote, withNote } from '../templates/replies.ts';
import type { JobData } from './queues.ts';

export type ReplyPoster = (responseUrl: string, message: Ephemeral) => Promise<void>;
/** Shows `message` to `user` alone in `channel` (Slack's chat.postEphemeral). */
export type ChannelPoster = (channel: string, user: string, message: Ephemeral) => Promise<void>;

export interface CommandProcessorDeps extends CommandDeps {
  readonly reply: ReplyPoster;
  /** For answers the response_url can no longer carry; without it they are only logged. */
  readonly tell?: ChannelPoster;
  /** A command or click older than this when its job starts is not run (default 30 s). */
  readonly ttlMs?: number;
}

export function createCommandProcessor(deps: CommandProcessorDeps) {
  const ttlMs = deps.ttlMs ?? DEFAULT_COMMAND_TTL_MS;
  return async (job: Job<JobData['command']>): Promise<string> => {
    const { work, responseUrl } = job.data;
    const once = `command-${job.id}`;
    const { engine } = deps;
    const jobDeps: CommandDeps = {
      ...deps,
      engine: { store: engine.store, active: () => engine.active(), start: (...args) => engine.start(...args), command: (id, command) => engine.command(id, command, { once }) },
      actedOn: () => engine.store.appliedTo(once),
    };
    // Jobs queued before receivedAt existed: the time they were queued, which the listener did at once.
    const receivedAt = job.data.receivedAt ?? job.timestamp;
    const fresh = freshness(work, receivedAt, deps.now(), ttlMs);
    const what = describeWork(work);
    let content: Reply;
    let ran = true;
    // A run taken over after a crash whose first run already acted is answered as done, however late.
    if (!fresh.run && (await engine.store.appliedTo(once)) === null) {
      deps.log.warn({ what, ageMs: fresh.ageMs, ttlMs }, 'command expired before it could run; not run');
      content = expiredCommand(what, fresh.ageMs, ttlMs);
      ran = false;
    } else {
      content = await perform(jobDeps, work);
      if (fresh.run && fresh.late) {
        deps.log.warn({ what, ageMs: fresh.ageMs, ttlMs }, 'command ran past its time to live');
        content = withNote(lateNote(what, fresh.ageMs, ttlMs, isRollback(work)), content);
      }
    }
    await deliver(deps, work, responseUrl, receivedAt, content);
    return ran ? (fresh.run && fresh.late ? 'answered late' : 'answered') : 'expired';
  };
}

async function deliver(deps: CommandProcessorDeps, work: JobData['command']['work'], responseUrl: string, receivedAt: number, content: Reply): Promise<void> {
  if (replyRoute(receivedAt, deps.now()) === 'response_url') {
    await answer((message) => deps.reply(responseUrl, message), content, deps.log);
    return;
  }
  const channel = work.kind === 'slash' ? work.asker.channel : work.channel;
  const user = work.kind === 'slash' ? work.asker.user : work.user;
  if (!deps.tell || !channel) {
    deps.log.warn({ user, channel }, 'the response_url has expired and there is no channel to answer in');
    return;
  }
  const tell = deps.tell;
  await answer((message) => tell(channel, user, message), content, deps.log);
}
