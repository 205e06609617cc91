// node scripts/render-block-kit-examples.ts: writes docs/block-kit/*.json from the real templates.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXAMPLES_DIR, exampleJson, renderExamples } from './block-kit-examples.ts';

await mkdir(EXAMPLES_DIR, { recursive: true });
for (const [name, payload] of await renderExamples()) {
  await writeFile(join(EXAMPLES_DIR, name), exampleJson(payload));
  process.stdout.write(`wrote docs/block-kit/${name}\n`);
}
