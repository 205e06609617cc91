// A bot replica for the many-cutovers benchmark: the real runtime and workers, reporting each
// gate check's lag and each job it finished on stdout.
import { createRuntime } from '../src/app/runtime.ts';
import { allRoles, quietRoom } from './support.ts';
import { silentLogger } from '../test/support/log.ts';

const out = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const runtime = await createRuntime({
  redisUrl: process.env.REDIS_URL as string,
  prefix: process.env.PREFIX as string,
  room: quietRoom,
  roles: allRoles,
  log: silentLogger(),
  evidenceRoot: process.env.EVIDENCE_DIR as string,
  onCheckLag: (ms) => out({ event: 'lag', ms }),
});
for (const worker of runtime.workers?.all ?? []) {
  worker.on('completed', (job) => out({ event: 'completed', name: job.name, id: job.id }));
  worker.on('failed', (job, err) => out({ event: 'failed', name: job?.name, id: job?.id, error: err.message }));
}
out({ event: 'ready', pid: process.pid });
process.on('SIGTERM', () => {
  void runtime.close({ force: true }).then(() => process.exit(0));
});
