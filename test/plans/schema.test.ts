import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderSchema, SCHEMA_PATH } from '../../scripts/export-schema.ts';
import { cloudAdapters } from '../../src/app/adapters.ts';
import { parsePlanText } from '../../src/plans/parse.ts';
import { buildVocabulary } from '../../src/app/runtime.ts';

const EXAMPLES = resolve(import.meta.dirname, '../../examples/plans');

describe('the plan JSON Schema', () => {
  it('is committed as the zod schema renders it (run `npm run schema` after changing the plan schema)', () => {
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toBe(renderSchema());
  });

  it('covers every platform and gate kind the bot knows', () => {
    const schema = JSON.parse(renderSchema());
    const platforms = schema.properties.service.anyOf.map((p: { properties: { platform: { const: string } } }) => p.properties.platform.const);
    expect(platforms).toEqual(['simulated', 'cloud-run', 'http-flag']);
    const gate = schema.properties.gates.properties.stage.items;
    expect(Object.keys(gate.properties)).toEqual(expect.arrayContaining(['command', 'http', 'slo_snapshot', 'cloud_logging', 'cloud_monitoring', 'for', 'max_errors', 'timeout']));
  });
});

describe('the example plans', () => {
  const vocabulary = buildVocabulary(cloudAdapters({}), () => {
    throw new Error('not needed');
  });
  for (const file of readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'))) {
    it(`${file} is a valid plan`, () => {
      const result = parsePlanText(readFileSync(join(EXAMPLES, file), 'utf8'), vocabulary);
      expect(result.ok ? [] : result.errors).toEqual([]);
    });
  }
});
