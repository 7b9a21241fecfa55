/**
 * An instance's host directories under `<dataDir>/instances/<id>/`: its volumes, and the gate FIFO its
 * first process waits on. Named by instance id only: tenant ids never become paths.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { chmod, lchown, mkdir, open, readdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { type Backoff, backoffDelay } from '@boilerhouse/kit/backoff';
import type { WorkloadSpec } from '@boilerhouse/spec';
import { numericOwner, type Owner } from '../owner.ts';
import type { Mount } from '../runtime/runtime.ts';
import { MemoryDirs, prepareSecretsVolume } from '../secrets/index.ts';
import { isNotFound, walkBeneath } from '../state/beneath.ts';
import { removeBeneath } from '../state/remove-beneath.ts';
import { HEALTH_REQUEST_FIFO, HEALTH_RESPONSE_FIFO } from './health-agent.ts';
import { copySeed } from './seed-copy.ts';

const exec = promisify(execFile);
/** Opening the gate FIFO again while the gate has not opened its end (bounded by the claim's timeout). */
const GATE_POLL: Backoff = { firstMs: 1, longestMs: 20, jitter: 0 };

/** Where the gate binary and its FIFO appear inside every container. */
export const GATE_BINARY_TARGET = '/.boilerhouse/gate';
export const GATE_DIR_TARGET = '/.boilerhouse/run';
export const GATE_FIFOS = ['start', HEALTH_REQUEST_FIFO, HEALTH_RESPONSE_FIFO] as const;

/**
 * Whether a volume target names a file (`/app/.env`, `/etc/app.conf`) rather than a directory: its last
 * segment starts with a dot or has an extension.
 */
export function isFileTarget(target: string): boolean {
  return /^\.|\.[A-Za-z0-9]+$/.test(basename(target));
}

export class InstanceFiles {
  readonly root: string;
  readonly #gateBinary: string;
  readonly #memory: MemoryDirs;
  readonly #dataDir: string;
  /** Where seeds are copied from. */
  readonly #workloadsDir: string;

  constructor(dataDir: string, gateBinary: string, workloadsDir: string) {
    this.root = join(dataDir, 'instances');
    this.#gateBinary = gateBinary;
    this.#memory = new MemoryDirs(dataDir);
    this.#dataDir = dataDir;
    this.#workloadsDir = workloadsDir;
  }

  dir(id: string): string {
    return join(this.root, id);
  }

  /** The host directory holding the instance's gate and health-agent FIFOs. */
  runDir(id: string): string {
    return join(this.dir(id), 'gate');
  }

  /** The host path of the instance's state volume (what sync moves). */
  stateDir(id: string): string {
    return join(this.dir(id), 'volumes', 'state');
  }

  /** Creates the instance's directories and gate, and returns the mounts its container needs. */
  async prepare(id: string, spec: WorkloadSpec): Promise<Mount[]> {
    const dir = this.dir(id);
    await mkdir(join(dir, 'volumes'), { recursive: true, mode: 0o711 });
    await mkdir(join(dir, 'gate'), { mode: 0o755 });
    const owner = numericOwner(spec.security.user);
    await exec('mkfifo', ['-m', '0600', ...GATE_FIFOS.map((name) => join(dir, 'gate', name))]);
    // The workload's user reads the start and request FIFOs and writes the response one.
    for (const name of GATE_FIFOS) await giveTo(join(dir, 'gate', name), owner, true);
    const mounts: Mount[] = [
      { source: this.#gateBinary, target: GATE_BINARY_TARGET, readOnly: true },
      { source: join(dir, 'gate'), target: GATE_DIR_TARGET, readOnly: true },
    ];
    const { secrets } = spec.volumes;
    if (secrets) {
      // Secrets live in memory only; they are written into this (empty) volume when a tenant claims.
      const source = await prepareSecretsVolume(await this.#memory.create(id), secrets.target, owner);
      mounts.push({ source, target: secrets.target, readOnly: true });
    }
    for (const { source, ...volume } of this.volumeSources(id, spec)) {
      const file = isFileTarget(volume.target);
      if (file) await writeFile(source, '', { mode: 0o600 });
      else await mkdir(source, { mode: 0o750 });
      if (volume.seed !== undefined) {
        await copySeed({
          workloadsDir: this.#workloadsDir,
          seed: volume.seed,
          destination: source,
          fileTarget: file,
          private: [
            { path: this.#dataDir, what: "the daemon's data directory" },
            { path: this.#memory.root, what: "the daemon's secrets directory" },
          ],
        });
      }
      await giveTo(source, owner, file);
      mounts.push({ source, target: volume.target, readOnly: volume.readOnly });
    }
    return mounts;
  }

  /** The host paths behind the instance's state, comm and custom volumes (secrets live in memory). */
  volumeSources(id: string, spec: WorkloadSpec): (Mount & { seed?: string })[] {
    const { state, comm, custom } = spec.volumes;
    const named: [string, { target: string; readOnly: boolean; seed?: string }][] = [];
    if (state) named.push(['state', state]);
    if (comm) named.push(['comm', comm]);
    for (const volume of custom) named.push([`custom-${volume.name}`, volume]);
    return named.map(([name, volume]) => ({
      source: join(this.dir(id), 'volumes', name),
      target: volume.target,
      readOnly: volume.readOnly,
      ...(volume.seed === undefined ? {} : { seed: volume.seed }),
    }));
  }

  /**
   * Lets the instance's workload process start, with `env` added to its environment: writes the go message
   * to the gate FIFO (see native/gate.c). Until the gate process has opened its end there is no reader
   * (ENXIO), so this retries briefly, for a just-started container.
   */
  async openGate(id: string, env: Record<string, string>, timeoutMs: number): Promise<void> {
    const fifo = join(this.dir(id), 'gate', 'start');
    const message = `g${Object.entries(env)
      .map(([key, value]) => `${key}=${value}\0`)
      .join('')}`;
    if (Buffer.byteLength(message) > 60_000) throw new Error('the claim-time environment is over 60 KB');
    const deadline = Date.now() + timeoutMs;
    for (let tries = 1; ; tries++) {
      try {
        const handle = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
        try {
          await handle.write(message);
        } finally {
          await handle.close();
        }
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENXIO' || Date.now() > deadline) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(GATE_POLL, tries)));
    }
  }

  /** The in-memory directory behind the instance's secrets volume. */
  secretsDir(id: string): string {
    return this.#memory.dir(id);
  }

  /** Removes the instance's directories; through descriptors, so a link the tenant left is never followed. */
  async remove(id: string): Promise<void> {
    await removeBeneath(this.root, id).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
    await this.#memory.remove(id);
  }

  /** Ids of every instance that has a directory, on disk or in memory. */
  async list(): Promise<string[]> {
    const onDisk = await readdir(this.root).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    return [...new Set([...onDisk, ...(await this.#memory.list())])];
  }
}

/**
 * Makes a volume writable by the workload's user: owned by it when its ids are known, else open to all
 * (the instance directory itself is not listable by other host users).
 */
async function giveTo(path: string, owner: Owner | undefined, file: boolean): Promise<void> {
  if (owner !== undefined) {
    await lchown(path, owner.uid, owner.gid);
    if (file) return;
    // Through each entry's parent descriptor: lchown never follows the entry, nor a link on the way to it.
    await walkBeneath(path, (entry) => lchown(entry.at, owner.uid, owner.gid));
  } else {
    await chmod(path, file ? 0o666 : 0o777);
  }
}
