import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import openapiTS, { astToString } from 'openapi-typescript';

const require = createRequire(import.meta.url);

/** Where the generated types are committed. */
export const typesFile = new URL('../src/generated/backend.ts', import.meta.url);

/** The TypeScript types of the committed backend OpenAPI document, as `npm run openapi` writes them. */
export async function generateTypes(): Promise<string> {
  const document = JSON.parse(
    readFileSync(require.resolve('@vtp/shared-schemas/openapi/backend.json'), 'utf8'),
  ) as Record<string, unknown>;
  const ast = await openapiTS(document as never, {
    silent: true,
    // A default is what the server fills in: the field stays optional to send (and is always in answers).
    defaultNonNullable: false,
  });
  return `// Generated from packages/shared-schemas/openapi/backend.json by openapi-typescript: run \`npm run openapi\`.\n${astToString(ast)}`;
}
