/** `boilerhouse serve`: runs the daemon until SIGTERM or SIGINT. */
import { configFromEnv } from '../config.ts';
import { startDaemon } from '../daemon.ts';
import { createLogger } from '../log.ts';
import { DAEMON_SETTINGS } from '../settings.ts';
import type { Command } from './command.ts';

export const serve: Command = {
  path: ['serve'],
  args: '',
  summary: 'run the daemon',
  description: `Runs the Boilerhouse daemon until SIGTERM or SIGINT. Settings come from the environment:\n${settingsHelp()}`,
  options: {},
  api: false,
  examples: ['serve', 'BOILERHOUSE_PORT=7171 BOILERHOUSE_WORKLOADS_DIR=./workloads serve'],
  async run({ io }) {
    const config = configFromEnv(io.env);
    const log = createLogger({ level: io.env.BOILERHOUSE_LOG_LEVEL === 'debug' ? 'debug' : 'info' });
    const daemon = await startDaemon(config, log, io.env);
    io.out(`Boilerhouse API: ${daemon.url}/api/v1\n`);
    if (daemon.generatedAdminKey !== undefined) {
      // Made on this first start; the daemon keeps only its hash, so this is the one chance to see it.
      io.out(
        `Admin key (shown only this once; keep it, or set BOILERHOUSE_API_KEY): ${daemon.generatedAdminKey}\n` +
          `  export BOILERHOUSE_TOKEN=${daemon.generatedAdminKey}\n`,
      );
    }
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        log.info({ signal }, 'stopping');
        void daemon.stop().then(resolve);
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    return 0;
  },
};

/** One line per setting: name, what it is for, its default. */
function settingsHelp(): string {
  const width = Math.max(...DAEMON_SETTINGS.map((setting) => setting.name.length));
  return DAEMON_SETTINGS.map(
    (setting) => `  ${setting.name.padEnd(width)}  ${setting.summary} (default ${setting.fallback})`,
  ).join('\n');
}
