/**
 * `npx nanoclaw`: the host, with its files in the working directory (or NANOCLAW_HOME). Stops cleanly on
 * SIGINT / SIGTERM. Under Boilerhouse with `pool.boot: ahead` (BOILERHOUSE_START set) every module below is
 * loaded while the instance waits in the pool, and the configuration, the store and the channels only once
 * the start message says the tenant's state is in place.
 */
import { prepareAheadOfStart } from './agent/ahead-of-start.ts';
import type { PreparedAgent } from './agent/runner.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { startNanoclaw } from './nanoclaw.ts';
import { awaitStart } from './start-signal.ts';

const startFifo = process.env.BOILERHOUSE_START;
let agentAhead: Promise<PreparedAgent | undefined> | undefined;
if (startFifo !== undefined) {
  // While the instance waits: the main group's agent container too (agent/ahead-of-start.ts).
  agentAhead = prepareAheadOfStart({ ...process.env }, process.cwd(), createLogger({ level: 'info' }));
  try {
    Object.assign(process.env, await awaitStart(startFifo));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(125);
  }
  delete process.env.BOILERHOUSE_START;
}

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
}
const log = createLogger({ level: config.logLevel });
try {
  const nanoclaw = await startNanoclaw(config, { log, ...(agentAhead === undefined ? {} : { agentAhead }) });
  log.info(
    { home: config.home, url: nanoclaw.url, assistant: config.assistantName, image: config.container.image },
    `NanoClaw is up${config.webChat ? `: chat at ${nanoclaw.url}/` : ''}`,
  );
  const stop = (signal: string) => {
    log.info({ signal }, 'stopping');
    nanoclaw.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
} catch (error) {
  log.error({ error }, 'NanoClaw could not start');
  process.exit(1);
}
