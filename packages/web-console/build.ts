/**
 * Bundles the console with esbuild into dist/: every script and stylesheet under a content-hashed name in
 * assets/ (served as immutable), and an index.html that names them (served as no-cache). No inline script or
 * style anywhere, so the backend can serve it under a strict Content-Security-Policy.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { build } from 'esbuild';

const root = import.meta.dirname;
const dist = join(root, 'dist');

await rm(dist, { recursive: true, force: true });
const result = await build({
  entryPoints: [join(root, 'src/main.ts')],
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  format: 'esm',
  target: 'es2022',
  outdir: join(dist, 'assets'),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
const script = outputs.find((name) => name.endsWith('.js'));
const style = outputs.find((name) => name.endsWith('.css'));
if (!script || !style) throw new Error(`esbuild wrote no script or stylesheet: ${outputs.join(', ')}`);
const template = await readFile(join(root, 'src/index.html'), 'utf8');
await mkdir(dist, { recursive: true });
await writeFile(
  join(dist, 'index.html'),
  template.replace('%SCRIPT%', `/assets/${script}`).replace('%STYLE%', `/assets/${style}`),
);
process.stderr.write(`[web-console] built ${outputs.filter((n) => !n.endsWith('.map')).join(', ')}\n`);
