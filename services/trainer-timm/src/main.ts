import { runTrainerCli } from '@vtp/trainer-runtime';
import { timmAdapter } from './adapter.ts';

// `serve` keeps running until a signal; `run` ends with its training's exit code.
const exitCode = await runTrainerCli(timmAdapter, process.argv.slice(2));
if (exitCode !== undefined) process.exit(exitCode);
