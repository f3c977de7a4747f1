import { type Browser, chromium } from 'playwright-core';

/**
 * Debian's headless Chromium (`npm test` installs it first: scripts/test-tools/chromium.ts), driven by
 * playwright-core, which downloads no browser. Root cannot use Chromium's sandbox.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}
