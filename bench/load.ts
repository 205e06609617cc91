// Sends pre-signed Slack requests to /slack/events at a fixed concurrency and times each ack.
import { Agent, request } from 'node:http';
import { signSlackRequest } from '../test/support/slack-requests.ts';

export async function fire(url: string, bodies: readonly string[], secret: string, concurrency: number): Promise<{ latencies: number[]; failures: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(url);
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  // Signed up front: the client's HMAC is not the server's ack time.
  const signed = bodies.map((body) => ({ body, headers: signSlackRequest(secret, body) }));
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const { body, headers } = signed[i]!;
      const started = performance.now();
      const req = request(
        { agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) latencies.push(performance.now() - started);
            else failures++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        failures++;
        resolve();
      });
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < signed.length) await one(next++);
    }),
  );
  agent.destroy();
  return { latencies, failures };
}

/** As a child process: `node bench/load.ts <url> <bodies.json> <secret> <concurrency>`, prints the latencies. */
if (import.meta.main) {
  const [url, file, secret, concurrency] = process.argv.slice(2) as [string, string, string, string];
  const { readFileSync } = await import('node:fs');
  const bodies = JSON.parse(readFileSync(file, 'utf8')) as string[];
  process.stdout.write(JSON.stringify(await fire(url, bodies, secret, Number(concurrency))));
}

/** Runs `fire` in its own process, so the load generator's event loop times nothing but acks. */
export async function fireFromChild(url: string, bodies: readonly string[], secret: string, concurrency: number): Promise<{ latencies: number[]; failures: number }> {
  const { spawn } = await import('node:child_process');
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const file = join(mkdtempSync(join(tmpdir(), 'bench-load-')), 'bodies.json');
  writeFileSync(file, JSON.stringify(bodies));
  const child = spawn(process.execPath, [import.meta.filename, url, file, secret, String(concurrency)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk));
  await new Promise((resolve) => child.on('close', resolve));
  return JSON.parse(out) as { latencies: number[]; failures: number };
}
