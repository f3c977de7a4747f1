/**
 * A stand-in trainer for the test that kills one: starts a warm zygote, forks a long fake runner from it in the
 * folder given as argument, prints {"zygote": pid, "runner": pid} and waits to be killed.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@vtp/service-kit';
import { runnerHelperDir } from '../src/paths.ts';
import { RunnerProcess } from '../src/runner/runnerProcess.ts';
import { RunnerZygote } from '../src/runner/runnerZygote.ts';
import { fakeRunnerLaunch } from './fakeRunnerLaunch.ts';

const dir = process.argv[2]!;
const env = { ...process.env, PYTHONPATH: runnerHelperDir };
const zygote = new RunnerZygote({
  python: 'python3',
  preload: fileURLToPath(new URL('./fake_preload.py', import.meta.url)),
  cwd: join(dir, 'zygote'),
  env,
  logger: createLogger('zygote-host', 'warn'),
});
await zygote.start();
const zygotePid = await zygote.ready(30_000);
const { launch, pidFile } = await fakeRunnerLaunch(dir, {
  epochs: 1000,
  epochSeconds: 0.2,
  behaviour: 'complete',
});
let started = false;
new RunnerProcess(await zygote.launch(launch), {
  event: () => (started = true),
  stray: () => undefined,
  stderr: () => undefined,
});
while (!started) await new Promise((resolve) => setTimeout(resolve, 20));
const [runnerPid, childPid] = (await readFile(pidFile, 'utf8')).split(' ').map(Number);
process.stdout.write(`${JSON.stringify({ zygote: zygotePid, runner: runnerPid, child: childPid })}\n`);
setInterval(() => undefined, 60_000);
