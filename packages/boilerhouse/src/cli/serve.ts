/** `boilerhouse serve`: runs the daemon until SIGTERM or SIGINT. */
import { configFromEnv } from '../config.ts';
import { startDaemon } from '../daemon.ts';
import { createLogger } from '../log.ts';
import type { Io } from './main.ts';

export async function runServe(args: string[], io: Io): Promise<number> {
  if (args.length > 0) {
    io.err(
      `boilerhouse serve takes no arguments (settings come from BOILERHOUSE_* variables), got: ${args.join(' ')}\n`,
    );
    return 2;
  }
  const config = configFromEnv(io.env);
  const log = createLogger({ level: io.env.BOILERHOUSE_LOG_LEVEL === 'debug' ? 'debug' : 'info' });
  const daemon = await startDaemon(config, log, io.env);
  io.out(`Boilerhouse API: ${daemon.url}/api/v1\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'stopping');
      void daemon.stop().then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}
