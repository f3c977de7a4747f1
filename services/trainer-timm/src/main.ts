// Evaluated first, before the modules that take seconds to load: the pid of the parent (see startedBy.ts).
import '@vtp/service-kit/startedBy';
import { runTrainerCli } from '@vtp/trainer-runtime';
import { timmAdapter } from './adapter.ts';

// `serve` keeps running until a signal; `run` ends with its training's exit code.
const exitCode = await runTrainerCli(timmAdapter, process.argv.slice(2));
if (exitCode !== undefined) process.exit(exitCode);
