/**
 * The daemon: configuration -> database, Docker runtime, Boilerhouse, HTTP server. Stops gracefully on
 * SIGTERM/SIGINT: no new requests, loops stopped, transitions in flight finished; instances keep running.
 */
import type { Server } from 'node:http';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { createApp } from './api/app.ts';
import { Auth, adminKey } from './api/auth.ts';
import { Boilerhouse } from './boilerhouse.ts';
import type { Config } from './config.ts';
import { openDatabase } from './db/database.ts';
import type { Logger } from './log.ts';
import { Metrics } from './metrics/metrics.ts';
import { DockerRuntime } from './runtime/docker.ts';

export interface Daemon {
  boilerhouse: Boilerhouse;
  /** The API's base URL. */
  url: string;
  /** A new admin key, made on this first start; shown once (only its hash is kept). */
  generatedAdminKey?: string;
  stop(): Promise<void>;
}

const STREAM_GRACE_MS = 500;

export async function startDaemon(
  config: Config,
  log: Logger,
  env: Record<string, string | undefined>,
): Promise<Daemon> {
  const db = openDatabase(join(config.dataDir, 'boilerhouse.db'));
  // Settled before anything starts: a refused auth setting must not leave containers behind.
  const key = adminKey(db, env, config.host);
  const runtime = new DockerRuntime({ networkPool: config.networkPool, hostPorts: config.hostPorts });
  const boilerhouse = new Boilerhouse({
    db,
    runtime,
    log,
    dataDir: config.dataDir,
    workloadsDir: config.workloadsDir,
    gateBinary: config.gateBinary,
    stateCacheBytes: config.stateCacheBytes,
    publishHost: config.publishHost,
    env,
    gateway: { host: config.host, port: config.gatewayPort, domain: config.gatewayDomain },
  });
  await boilerhouse.start();
  const metrics = new Metrics(boilerhouse, log);
  const app = createApp(boilerhouse, { auth: new Auth(db, key.hash), db, log, metrics });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () =>
      resolve(started),
    );
    started.once('error', reject);
  }).catch(async (error: unknown) => {
    // Not serving (the port is taken, say): nothing keeps running, and a new admin key is not kept.
    await boilerhouse.stop();
    metrics.close();
    runtime.close();
    db.close();
    throw error;
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  // Serving: the new key (if one was made) is shown by the caller now, so it is kept from now on.
  key.keep?.();
  log.info({ url, dataDir: config.dataDir, workloadsDir: config.workloadsDir }, 'Boilerhouse serving');
  let stopping: Promise<void> | undefined;
  return {
    boilerhouse,
    url,
    ...(key.generated === undefined ? {} : { generatedAdminKey: key.generated }),
    stop() {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        (server as Server).closeIdleConnections();
        await boilerhouse.stop();
        metrics.close();
        // Streams (events, logs) never end by themselves; answers in flight get a moment to finish.
        const grace = setTimeout(() => (server as Server).closeAllConnections(), STREAM_GRACE_MS);
        await closed;
        clearTimeout(grace);
        runtime.close();
        db.close();
      })();
      return stopping;
    },
  };
}
