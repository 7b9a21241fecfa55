import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { configFromEnv } from './config.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');

test("the default data and workloads directories are the checkout's, whatever directory starts the daemon", () => {
  for (const cwd of ['/', '/tmp', REPO]) {
    const config = configFromEnv({}, cwd);
    expect(config.dataDir).toBe(`${REPO}/.data/boilerhouse`);
    expect(config.workloadsDir).toBe(`${REPO}/workloads`);
  }
});

test('a directory given is taken from the current directory, as a shell user expects', () => {
  const config = configFromEnv(
    { BOILERHOUSE_DATA_DIR: 'data', BOILERHOUSE_WORKLOADS_DIR: '/srv/w' },
    '/var/lib/bh',
  );
  expect(config.dataDir).toBe('/var/lib/bh/data');
  expect(config.workloadsDir).toBe('/srv/w');
});

test("the state object cache's bound is given in MiB, 0 turning it off, and anything else is refused by name", () => {
  expect(configFromEnv({}).stateCacheBytes).toBe(2048 * 1024 * 1024);
  expect(configFromEnv({ BOILERHOUSE_STATE_CACHE_MIB: '512' }).stateCacheBytes).toBe(512 * 1024 * 1024);
  expect(configFromEnv({ BOILERHOUSE_STATE_CACHE_MIB: '0' }).stateCacheBytes).toBe(0);
  for (const bad of ['-1', '1.5', '2G', 'lots']) {
    expect(() => configFromEnv({ BOILERHOUSE_STATE_CACHE_MIB: bad })).toThrow(
      `BOILERHOUSE_STATE_CACHE_MIB must be a whole number of MiB (0 turns the cache off), got "${bad}"`,
    );
  }
});
