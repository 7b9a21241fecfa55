/**
 * The Gmail server's process, started by the NanoClaw host (packages/nanoclaw/src/mcp/host-servers.ts):
 * its config is the first line on stdin, which then stays open; stdin's end (the host has gone, however
 * it went) ends this process too, so no server outlives its host. `listening` on stdout says it is ready.
 * Log lines go to stderr, and never hold a token or the client's secret.
 */
import { createInterface } from 'node:readline';
import { parseServerConfig } from './config.ts';
import { startGmailServer } from './server.ts';

const log = (message: string) => process.stderr.write(`[gmail] ${message}\n`);

const lines = createInterface({ input: process.stdin });
const first = await new Promise<string | undefined>((resolve) => {
  lines.once('line', resolve);
  lines.once('close', () => resolve(undefined));
});
if (first === undefined) {
  log('stdin ended before the config line');
  process.exit(1);
}
try {
  const config = parseServerConfig(first);
  const server = await startGmailServer(config, log);
  process.stdout.write('listening\n');
  lines.on('close', () => {
    server.close();
    process.exit(0);
  });
} catch (error) {
  log((error as Error).message);
  process.exit(1);
}
