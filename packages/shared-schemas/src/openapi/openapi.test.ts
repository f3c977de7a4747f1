import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildBackendDocument, buildTrainerDocument } from './index.ts';

function committed(file: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../openapi/${file}`, import.meta.url), 'utf8'));
}

describe('committed OpenAPI documents', () => {
  it.each([
    ['backend.json', buildBackendDocument],
    ['trainer.json', buildTrainerDocument],
  ])('%s matches the zod schemas (run `npm run openapi` after changing them)', (file, build) => {
    expect(committed(file)).toEqual(JSON.parse(JSON.stringify(build())));
  });
});
