// npm run schema: writes schemas/plan.schema.json from the same zod schema that validates plans,
// so editors autocomplete and check plans exactly as the bot will.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { cloudAdapters } from '../src/app/adapters.ts';
import { buildVocabulary } from '../src/app/runtime.ts';
import { buildPlanSchema, type PlanVocabulary } from '../src/plans/schema.ts';

export const SCHEMA_PATH = resolve(import.meta.dirname, '../schemas/plan.schema.json');

export function planJsonSchema(vocabulary: PlanVocabulary = buildVocabulary(cloudAdapters({}), () => {
  throw new Error('the schema export needs no simulated world');
})): Record<string, unknown> {
  // The `service:` block is dispatched by `platform` at run time; for editors it is the union of
  // the platforms' own schemas.
  const service = {
    anyOf: vocabulary.platforms.map((p) => {
      const { $schema: _, ...platform } = z.toJSONSchema(p.schema, { io: 'input', unrepresentable: 'any' });
      return platform;
    }),
  };
  // A train's `targets:` entry is a service block of any platform with an optional `id`.
  const target = {
    anyOf: service.anyOf.map((platform) => {
      const p = platform as { properties?: Record<string, unknown> };
      return {
        ...platform,
        properties: { id: { type: 'string', pattern: '^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$', description: 'names the target in gate ids, the card and the evidence' }, ...p.properties },
      };
    }),
  };
  const schema = z.toJSONSchema(buildPlanSchema(vocabulary), {
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      const title = (ctx.jsonSchema as { title?: string }).title;
      if (title === 'service') Object.assign(ctx.jsonSchema, service, { title: undefined });
      if (title === 'target') Object.assign(ctx.jsonSchema, target, { title: undefined });
      // `rollback: target` and `rollback: train` are short for `rollback: { scope: … }`.
      if (title === 'rollback') {
        const { title: _, ...written } = ctx.jsonSchema as Record<string, unknown>;
        for (const key of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as Record<string, unknown>)[key];
        Object.assign(ctx.jsonSchema, { anyOf: [{ type: 'string', enum: ['train', 'target'], description: 'short for { scope: … }' }, written] });
      }
    },
  });
  return {
    ...schema,
    // One service, or a train of targets (`service:` then being its first).
    anyOf: [{ required: ['service'] }, { required: ['targets'] }],
    $id: 'https://github.com/cutover-bot/cutover-bot/schemas/plan.schema.json',
    title: 'Cutover plan',
    description: 'A production cutover plan run by cutover-bot: preflight gates, go/no-go, cohorts with gated soaks, promotion, rollback.',
  };
}

export const renderSchema = (): string => `${JSON.stringify(planJsonSchema(), null, 2)}\n`;

if (import.meta.main) {
  writeFileSync(SCHEMA_PATH, renderSchema());
  process.stdout.write(`wrote ${SCHEMA_PATH}\n`);
}
