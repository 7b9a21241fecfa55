/** Debian's chromium through playwright-core, for tests of the web chat. */
import { type Browser, chromium } from 'playwright-core';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    // Tests run as root in a container, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-gpu'],
  });
}
