/**
 * The socket host process: `node main.ts <dataDir> [--idle-ms N]`, started detached by the daemon
 * (spawn.ts) with stdout and stderr on `<dataDir>/socket-host.log` and DOCKER_HOST in its environment.
 * Exits at once (0) when another host already serves the directory.
 */
import { rm, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createLogger } from '../../log.ts';
import { EngineClient } from '../../runtime/engine-client.ts';
import { SocketHost } from './host.ts';
import { acquireLock } from './lock.ts';
import { hostPaths } from './paths.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { 'idle-ms': { type: 'string', default: '30000' } },
});
const dataDir = positionals[0];
if (dataDir === undefined) throw new Error('usage: main.ts <dataDir> [--idle-ms N]');
const paths = hostPaths(dataDir);
const log = createLogger({ format: 'json' }).child({ component: 'socket-host' });

const lock = await acquireLock(paths.lock);
if (lock === undefined) {
  log.info({ dataDir }, 'socket host: another host serves this data directory');
  process.exit(0);
}
const engine = new EngineClient(process.env.DOCKER_HOST);
const host = new SocketHost({ controlPath: paths.control, engine, log, idleMs: Number(values['idle-ms']) });
await host.listen();
await writeFile(paths.pid, `${process.pid}\n`, { mode: 0o600 });
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void host.shutdown(`${signal} received`));
}
process.on('uncaughtException', (error) => {
  // Every instance's socket lives here: one bad request must not end them all.
  log.error({ error: error.message, stack: error.stack }, 'socket host: uncaught exception');
});
await host.stopped;
await rm(paths.control, { force: true });
await rm(paths.pid, { force: true });
engine.close();
lock.close();
log.info({}, 'socket host: stopped');
process.exit(0);
