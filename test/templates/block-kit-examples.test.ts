// docs/block-kit/ holds what the real templates render now: regenerate with
// `node scripts/render-block-kit-examples.ts` after changing a template.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { EXAMPLES_DIR, exampleJson, renderExamples } from '../../scripts/block-kit-examples.ts';
import { checkMessage } from '../fakes/block-kit.ts';

it('the committed Block Kit examples equal a fresh render, and Slack would accept each', async () => {
  const rendered = await renderExamples();
  expect((await readdir(EXAMPLES_DIR)).filter((f) => f.endsWith('.json')).sort()).toEqual([...rendered.keys()].sort());
  for (const [name, payload] of rendered) {
    expect(await readFile(join(EXAMPLES_DIR, name), 'utf8'), `${name} is stale: run node scripts/render-block-kit-examples.ts`).toBe(exampleJson(payload));
    expect(checkMessage(payload as { blocks: unknown[] }), name).toBeNull();
  }
});
