/** A first start that fails keeps nothing an operator never saw; a missing workloads directory is made. */
import { mkdtemp, readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { configFromEnv } from './config.ts';
import { type Daemon, startDaemon } from './daemon.ts';
import { openDatabase } from './db/database.ts';
import { silentLogger } from './log.ts';
import { DockerRuntime } from './runtime/docker.ts';
import { tearDownDaemon } from './testing/leftovers.ts';

let run: { daemon: Daemon | undefined; root: string; dataDir: string } | undefined;

afterEach(async () => {
  if (run === undefined) return;
  await tearDownDaemon({ ...run, runtime: new DockerRuntime() });
  run = undefined;
});

test('a first start that cannot serve keeps no admin key; the next start shows one and makes the workloads directory', async () => {
  const root = await mkdtemp(join(tmpdir(), 'boilerhouse-test-daemon-'));
  const dataDir = join(root, 'data');
  const workloadsDir = join(root, 'not-made-yet');
  run = { daemon: undefined, root, dataDir };
  const taken = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => taken.once('listening', resolve));
  const port = (taken.address() as { port: number }).port;
  const config = (p: number) => ({ ...configFromEnv({}), dataDir, workloadsDir, host: '127.0.0.1', port: p });

  await expect(startDaemon(config(port), silentLogger, {})).rejects.toMatchObject({ code: 'EADDRINUSE' });
  taken.close();
  const db = openDatabase(join(dataDir, 'boilerhouse.db'));
  expect(db.prepare("SELECT * FROM meta WHERE key = 'admin_key_sha256'").all()).toEqual([]);
  db.close();

  run.daemon = await startDaemon(config(0), silentLogger, {});
  expect(run.daemon.generatedAdminKey).toMatch(/^bh_admin_/);
  expect(await readdir(workloadsDir)).toEqual([]);
  const made = run.daemon.boilerhouse.events(20).find((event) => event.message.includes('did not exist'));
  expect(made?.message).toContain(workloadsDir);
});
