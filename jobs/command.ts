// A slash command or a click, handed over by its listener after the ack: do the work, then answer
// the person through the request's response_url. The work is guarded (a failure becomes a reply),
// so a job never retries a command; a crash mid-job re-runs it, and the engine refuses what was
// already done (already approved, stale, already rolling back).
import type { Job } from 'bullmq';
import { answer, type CommandDeps, type Ephemeral } from '../commands/common.ts';
import { perform } from '../commands/work.ts';
import type { JobData } from './queues.ts';

export type ReplyPoster = (responseUrl: string, message: Ephemeral) => Promise<void>;

export function createCommandProcessor(deps: CommandDeps & { readonly reply: ReplyPoster }) {
  return async (job: Job<JobData['command']>): Promise<string> => {
    const content = await perform(deps, job.data.work);
    await answer((message) => deps.reply(job.data.responseUrl, message), content, deps.log);
    return 'answered';
  };
}
