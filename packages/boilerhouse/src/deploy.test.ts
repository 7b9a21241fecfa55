/** The systemd unit in deploy/ starts what the checkout has, and lets instances outlive the daemon. */
import { access, readFile } from 'node:fs/promises';
import { expect, test } from 'vitest';

const REPO = new URL('../../../', import.meta.url);

test('deploy/boilerhouse.service runs the checkout launcher, stops only the daemon, restarts it on failure', async () => {
  const unit = await readFile(new URL('deploy/boilerhouse.service', REPO), 'utf8');
  const setting = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1];
  const start = setting('ExecStart') as string;
  expect(start).toMatch(/^\/opt\/boilerhouse\/(\S+) serve$/);
  await access(new URL(start.replace(/^\/opt\/boilerhouse\/(\S+) serve$/, '$1'), REPO));
  expect(setting('KillMode')).toBe('process');
  expect(setting('KillSignal')).toBe('SIGTERM');
  expect(setting('Restart')).toBe('on-failure');
});
