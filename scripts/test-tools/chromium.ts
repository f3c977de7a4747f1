/**
 * Makes sure a headless Chromium is there for the web console's browser tests (`npm test` runs this first):
 * playwright-core drives Debian's `chromium` package and downloads no browser of its own. When `CHROMIUM_PATH`
 * (default /usr/bin/chromium) is missing it installs the package (as root, or through passwordless sudo);
 * anywhere else it fails saying what to install. It never lets the tests run without it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function onPath(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

function say(message: string): void {
  process.stderr.write(`[chromium] ${message}\n`);
}

function install(): void {
  if (!onPath('apt-get'))
    throw new Error(`no apt-get here: install Chromium and set CHROMIUM_PATH to it (looked for ${CHROMIUM})`);
  const asRoot = process.getuid?.() === 0;
  if (!asRoot && !onPath('sudo'))
    throw new Error(
      'not root and no sudo: run `apt-get install -y --no-install-recommends chromium` as root',
    );
  const apt = (args: string[]) =>
    execFileSync(asRoot ? 'apt-get' : 'sudo', asRoot ? args : ['-n', 'apt-get', ...args], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  say(`${CHROMIUM} not found: installing the Debian package`);
  apt(['update', '-q']);
  apt(['install', '-y', '-q', '--no-install-recommends', 'chromium']);
}

try {
  if (!existsSync(CHROMIUM)) install();
  if (!existsSync(CHROMIUM)) throw new Error(`still no ${CHROMIUM} after installing`);
  say(execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).trim());
} catch (error) {
  say(`failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
