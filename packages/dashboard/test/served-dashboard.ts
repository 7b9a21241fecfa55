/**
 * The dashboard as an operator meets it: built from the current sources (into a temporary directory) and
 * served with the API on one loopback port by a real Boilerhouse on the real Docker engine, with auth on.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { serve } from '@hono/node-server';
import { createApp } from '../../boilerhouse/src/api/app.ts';
import { Auth } from '../../boilerhouse/src/api/auth.ts';
import { hashSecret } from '../../boilerhouse/src/db/tokens.ts';
import { silentLogger } from '../../boilerhouse/src/log.ts';
import { type TestApi, testApi } from '../../boilerhouse/src/testing/api.ts';
import { type Harness, startHarness } from '../../boilerhouse/src/testing/harness.ts';

const PACKAGE = new URL('..', import.meta.url).pathname;

/** Builds the dashboard into `outDir` with the package's own Vite config (a child process, as the build runs). */
export async function buildDashboard(outDir: string): Promise<void> {
  const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
  await promisify(execFile)(
    process.execPath,
    [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error'],
    // A production build, whatever the test runner set (vitest sets NODE_ENV=test).
    { cwd: PACKAGE, env: { ...process.env, NODE_ENV: 'production' } },
  );
}

export interface ServedDashboard {
  url: string;
  /** The admin key. */
  key: string;
  harness: Harness;
  /** The same daemon's API through app.request, for arranging things behind the browser's back. */
  api: TestApi;
  dist: string;
  close(): Promise<void>;
}

export async function serveDashboard(workloads: Record<string, string>): Promise<ServedDashboard> {
  const dist = await mkdtemp(join(tmpdir(), 'boilerhouse-dashboard-build-'));
  await buildDashboard(dist);
  const harness = await startHarness(workloads);
  const key = randomBytes(24).toString('base64url');
  const app = createApp(harness.boilerhouse, {
    auth: new Auth(harness.db, hashSecret(key)),
    db: harness.db,
    log: silentLogger,
    dashboardDir: dist,
  });
  const server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
      resolve(started as Server),
    );
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  // A second app over the same daemon and database (so tokens made through it work in the browser).
  const api = testApi(harness);
  return {
    url: `http://127.0.0.1:${port}`,
    key,
    harness,
    api,
    dist,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await harness.cleanup();
      await rm(dist, { recursive: true, force: true });
    },
  };
}
