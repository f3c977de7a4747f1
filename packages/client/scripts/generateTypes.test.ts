import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { generateTypes, typesFile } from './generateTypes.ts';

it('the committed types match the OpenAPI document (run `npm run openapi` after changing it)', async () => {
  expect(readFileSync(typesFile, 'utf8')).toBe(await generateTypes());
});
