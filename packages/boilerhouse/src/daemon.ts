/**
 * The daemon: configuration -> database, Docker runtime, Boilerhouse, HTTP server. Stops gracefully on
 * SIGTERM/SIGINT: no new requests, loops stopped, transitions in flight finished; instances keep running.
 */
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { createApp } from './api/app.ts';
import { Boilerhouse } from './boilerhouse.ts';
import type { Config } from './config.ts';
import { openDatabase } from './db/database.ts';
import type { Logger } from './log.ts';
import { DockerRuntime } from './runtime/docker.ts';

export interface Daemon {
  boilerhouse: Boilerhouse;
  /** The API's base URL. */
  url: string;
  stop(): Promise<void>;
}

export async function startDaemon(
  config: Config,
  log: Logger,
  env: Record<string, string | undefined>,
): Promise<Daemon> {
  const db = openDatabase(join(config.dataDir, 'boilerhouse.db'));
  const runtime = new DockerRuntime();
  const boilerhouse = new Boilerhouse({
    db,
    runtime,
    log,
    dataDir: config.dataDir,
    workloadsDir: config.workloadsDir,
    gateBinary: config.gateBinary,
    publishHost: config.publishHost,
    env,
  });
  await boilerhouse.start();
  const app = createApp(boilerhouse, log);
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () =>
      resolve(started),
    );
    started.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  log.info({ url, dataDir: config.dataDir, workloadsDir: config.workloadsDir }, 'Boilerhouse serving');
  let stopping: Promise<void> | undefined;
  return {
    boilerhouse,
    url,
    stop() {
      stopping ??= (async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await boilerhouse.stop();
        runtime.close();
        db.close();
      })();
      return stopping;
    },
  };
}
