/**
 * A Boilerhouse on the real Docker engine for tests: its own data and workload directories (so its own
 * daemon id), short loop periods, and a cleanup that proves nothing was left behind.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Boilerhouse, type BoilerhouseOptions } from '../boilerhouse.ts';
import { configFromEnv } from '../config.ts';
import { type Database, openDatabase } from '../db/database.ts';
import { silentLogger } from '../log.ts';
import { LABEL } from '../pool/container-spec.ts';
import { releaseDataDir } from '../pool/volume-mount.ts';
import { CHILD_LABEL } from '../proxy/children.ts';
import { stopSocketHost } from '../proxy/host/spawn.ts';
import { DockerRuntime } from '../runtime/docker.ts';
import { MemoryDirs } from '../secrets/index.ts';

const ECHO_WORKLOAD = new URL('../../../../workloads/echo.yaml', import.meta.url);

/** The repository's echo workload with some keys replaced, e.g. `{ 'min_idle: 2': 'min_idle: 0' }`. */
export async function echoWorkload(replacements: Record<string, string> = {}): Promise<string> {
  let text = await readFile(ECHO_WORKLOAD, 'utf8');
  for (const [from, to] of Object.entries(replacements)) {
    if (!text.includes(from)) throw new Error(`echo.yaml has no "${from}" to replace`);
    text = text.replace(from, to);
  }
  return text;
}

export interface Harness {
  boilerhouse: Boilerhouse;
  runtime: DockerRuntime;
  db: Database;
  dataDir: string;
  workloadsDir: string;
  /** Writes (or replaces) a workload file. */
  writeWorkload(name: string, text: string): Promise<void>;
  /** Stops this Boilerhouse and starts another on the same data directory, as after a crash or restart. */
  restart(): Promise<Boilerhouse>;
  /** This daemon's containers on the engine. */
  containers(): ReturnType<DockerRuntime['list']>;
  /** This daemon's networks on the engine (each instance has its own). */
  networks(): ReturnType<DockerRuntime['listNetworks']>;
  /**
   * Stops, then removes every container, network and directory; returns what was still there before
   * removal. Fails when an instance network outlived its container.
   */
  cleanup(): Promise<{ containers: number; networks: number }>;
}

export async function startHarness(
  workloads: Record<string, string>,
  options: Partial<Pick<BoilerhouseOptions, 'intervals' | 'env' | 'gateway' | 'stateCacheBytes'>> & {
    start?: boolean;
    /** Host TCP ports instances may reach (BOILERHOUSE_HOST_PORTS), e.g. a scripted model server's. */
    hostPorts?: number[];
  } = {},
): Promise<Harness> {
  const root = await mkdtemp(join(tmpdir(), 'boilerhouse-test-'));
  const dataDir = join(root, 'data');
  const workloadsDir = join(root, 'workloads');
  await mkdir(workloadsDir, { recursive: true });
  for (const [name, text] of Object.entries(workloads)) await writeFile(join(workloadsDir, name), text);
  const runtime = new DockerRuntime({ hostPorts: options.hostPorts ?? [] });
  let db = openDatabase(join(dataDir, 'boilerhouse.db'));
  const make = () =>
    new Boilerhouse({
      db,
      runtime,
      log: silentLogger,
      dataDir,
      workloadsDir,
      gateBinary: configFromEnv({}).gateBinary,
      publishHost: '127.0.0.1',
      env: options.env ?? {},
      ...(options.gateway === undefined ? {} : { gateway: options.gateway }),
      ...(options.stateCacheBytes === undefined ? {} : { stateCacheBytes: options.stateCacheBytes }),
      intervals: { fillMs: 100, reservationsMs: 100, existenceMs: 200, healthMs: 100, ...options.intervals },
    });
  let boilerhouse = make();
  if (options.start !== false) await boilerhouse.start();
  const harness: Harness = {
    get boilerhouse() {
      return boilerhouse;
    },
    runtime,
    get db() {
      return db;
    },
    dataDir,
    workloadsDir,
    writeWorkload: (name, text) => writeFile(join(workloadsDir, name), text),
    async restart() {
      await boilerhouse.stop();
      db.close();
      db = openDatabase(join(dataDir, 'boilerhouse.db'));
      boilerhouse = make();
      await boilerhouse.start();
      return boilerhouse;
    },
    containers: () => runtime.list({ [LABEL.daemon]: boilerhouse.daemonId }),
    networks: () => runtime.listNetworks({ [LABEL.daemon]: boilerhouse.daemonId }),
    async cleanup() {
      await boilerhouse.stop();
      // The sockets outlive a stop too (proxy/host/): their host goes with the test.
      await stopSocketHost(dataDir);
      const left = await harness.containers();
      await Promise.all(left.map((container) => runtime.remove(container.id)));
      // Children outlive a stop like their instances do, and would hold the networks.
      const children = await runtime.list({ [CHILD_LABEL.daemon]: boilerhouse.daemonId });
      await Promise.all(children.map((child) => runtime.remove(child.id)));
      // Instances that are still running keep their networks; any other network is a leak.
      const running = new Set(left.map((container) => container.labels[LABEL.instance]));
      const networks = await harness.networks();
      await Promise.all(networks.map((network) => runtime.removeNetwork(network.name)));
      const leaked = networks.filter((network) => !running.has(network.labels[LABEL.instance]));
      db.close();
      runtime.close();
      await releaseDataDir(dataDir, new MemoryDirs(dataDir));
      await rm(root, { recursive: true, force: true });
      await rm(new MemoryDirs(dataDir).root, { recursive: true, force: true });
      if (leaked.length > 0) {
        throw new Error(
          `networks left behind by instances that are gone: ${leaked.map((network) => network.name).join(', ')}`,
        );
      }
      return { containers: left.length, networks: networks.length };
    },
  };
  return harness;
}

/** GET /counter of an echo instance: counts up in its state volume. */
export async function counter(url: string): Promise<number> {
  return Number(await (await fetch(`${url}/counter`)).text());
}

/** Polls `check` until it returns something truthy, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Instance directories still on disk. */
export async function instanceDirs(dataDir: string): Promise<string[]> {
  return readdir(join(dataDir, 'instances')).catch(() => []);
}
