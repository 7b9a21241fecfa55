/**
 * The Boilerhouse daemon as a process of its own, for tests that SIGKILL it: settings from the environment
 * (BOILERHOUSE_DATA_DIR, BOILERHOUSE_WORKLOADS_DIR, BOILERHOUSE_PORT=0, BOILERHOUSE_API_KEY, ...), then one
 * JSON line on stdout with the API's URL and the daemon's id once it serves.
 */
import { configFromEnv } from '../../../packages/boilerhouse/src/config.ts';
import { startDaemon } from '../../../packages/boilerhouse/src/daemon.ts';
import { createLogger } from '../../../packages/boilerhouse/src/log.ts';

const daemon = await startDaemon(configFromEnv(process.env), createLogger({ level: 'warn' }), process.env);
process.stdout.write(`${JSON.stringify({ url: daemon.url, daemonId: daemon.boilerhouse.daemonId })}\n`);
process.once('SIGTERM', () => {
  void daemon.stop().then(() => process.exit(0));
});
