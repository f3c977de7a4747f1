/**
 * Makes sure `prometheus` and `promtool` are on PATH for the tests (`npm test` runs this first): the rules are
 * unit-tested with `promtool test rules` and evaluated by a real Prometheus. When they are missing it installs
 * Debian's `prometheus` package (as root, or through passwordless sudo); anywhere else it fails saying what to
 * install. It never lets the tests run without them.
 */
import { execFileSync, spawnSync } from 'node:child_process';

const TOOLS = ['prometheus', 'promtool'] as const;

function onPath(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

function say(message: string): void {
  process.stderr.write(`[prometheus] ${message}\n`);
}

function install(): void {
  if (!onPath('apt-get'))
    throw new Error(
      'no apt-get here: install Prometheus (https://prometheus.io/download/) so that prometheus and promtool are on PATH',
    );
  const asRoot = process.getuid?.() === 0;
  if (!asRoot && !onPath('sudo'))
    throw new Error(
      'not root and no sudo: run `apt-get install -y --no-install-recommends prometheus` as root',
    );
  const apt = (args: string[]) =>
    execFileSync(asRoot ? 'apt-get' : 'sudo', asRoot ? args : ['-n', 'apt-get', ...args], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  say('prometheus/promtool not on PATH: installing the Debian package');
  apt(['update', '-q']);
  apt(['install', '-y', '-q', '--no-install-recommends', 'prometheus']);
}

try {
  if (!TOOLS.every(onPath)) install();
  const missing = TOOLS.filter((name) => !onPath(name));
  if (missing.length) throw new Error(`still not on PATH after installing: ${missing.join(', ')}`);
  say(execFileSync('promtool', ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? 'promtool');
} catch (error) {
  say(`failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
