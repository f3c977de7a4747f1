#!/usr/bin/env node
// `vtp`: runs on the Node that PATH gives (npx and npm scripts put the project's Node 24 first).
import { run } from './program.ts';

process.exitCode = await run(process.argv);
