// Regenerates the client's types from the committed OpenAPI document: `npm run openapi` (after the document).
import { writeFileSync } from 'node:fs';
import { generateTypes, typesFile } from './generateTypes.ts';

writeFileSync(typesFile, await generateTypes());
console.log(`wrote ${typesFile.pathname}`);
