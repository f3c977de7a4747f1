import { fileURLToPath } from 'node:url';

/** The built console (index.html and hashed assets/), written by `npm run build`, which `npm ci` runs too. */
export const consoleAssetsDir = fileURLToPath(new URL('../dist/', import.meta.url));
