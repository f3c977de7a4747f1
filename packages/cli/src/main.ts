#!/usr/bin/env node
// `vtp`: runs on the Node that PATH gives (npx and npm scripts put the project's Node 24 first).
import { run } from './program.ts';

// A reader that stops early (`vtp jobs ls | head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
process.exitCode = await run(process.argv);
