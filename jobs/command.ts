// A slash command or a click, kept in Redis by its listener before the ack: do the work, then
// answer the person through the request's response_url. The work is guarded (a failure becomes a
// reply), so a job never retries a command. A process that dies mid-job has the job taken over
// (the commands queue's short lock) and run again from the top: the engine recognises a command it
// already committed by the job's id (its once token) and answers it as done, never applying it twice.
import type { Job } from 'bullmq';
import { answer, type CommandDeps, type Ephemeral } from '../commands/common.ts';
import { perform } from '../commands/work.ts';
import type { JobData } from './queues.ts';

export type ReplyPoster = (responseUrl: string, message: Ephemeral) => Promise<void>;

export function createCommandProcessor(deps: CommandDeps & { readonly reply: ReplyPoster }) {
  return async (job: Job<JobData['command']>): Promise<string> => {
    const once = `command-${job.id}`;
    const { engine } = deps;
    const jobDeps: CommandDeps = {
      ...deps,
      engine: { store: engine.store, active: () => engine.active(), start: (...args) => engine.start(...args), command: (id, command) => engine.command(id, command, { once }) },
      actedOn: () => engine.store.appliedTo(once),
    };
    const content = await perform(jobDeps, job.data.work);
    await answer((message) => deps.reply(job.data.responseUrl, message), content, deps.log);
    return 'answered';
  };
}
