// Regenerates the committed OpenAPI documents from the zod schemas: `npm run openapi`.
import { writeFileSync } from 'node:fs';
import { buildBackendDocument, buildTrainerDocument } from '../src/openapi/index.ts';

const targets = {
  'backend.json': buildBackendDocument(),
  'trainer.json': buildTrainerDocument(),
};
for (const [file, document] of Object.entries(targets)) {
  const url = new URL(`../openapi/${file}`, import.meta.url);
  writeFileSync(url, `${JSON.stringify(document, null, 2)}\n`);
  console.log(`wrote ${url.pathname}`);
}
