/**
 * Boilerhouse's side of the filtered sockets: one per instance of a workload with a `docker:` block.
 * The socket lives in `<instance dir>/docker/`, which the container mounts at /var/run/boilerhouse
 * (DOCKER_HOST points there). The sockets are served by the data directory's socket host (host/), a process
 * that outlives the daemon, so a daemon restart cuts no connection; this class drives it. Children are
 * removed when their instance is released or destroyed; after a restart, those whose instance is gone too.
 */
import { join } from 'node:path';
import { childUser, type WorkloadSpec } from '@boilerhouse/spec';
import type { Logger } from '../log.ts';
import { numericOwner } from '../owner.ts';
import type { InstanceFiles } from '../pool/instance-files.ts';
import type { EngineClient } from '../runtime/engine-client.ts';
import type { Mount } from '../runtime/runtime.ts';
import { removeInstanceChildren, removeOrphanChildren } from './child-removal.ts';
import type { DenialReason } from './denial.ts';
import { HostClient, type HostClientOptions } from './host/client.ts';
import type { HostConnection } from './host/connection.ts';
import type { OpenSpec, SecretPairs } from './host/protocol.ts';
import { BindPins } from './pins.ts';

/** Where the socket's directory appears in the instance, and what DOCKER_HOST says there. */
export const SOCKET_DIR_TARGET = '/var/run/boilerhouse';
export const SOCKET_NAME = 'docker.sock';
export const INSTANCE_DOCKER_HOST = `unix://${SOCKET_DIR_TARGET}/${SOCKET_NAME}`;

/** How long a host that serves no socket waits for a daemon before it exits. */
const HOST_IDLE_MS = 30_000;

export interface DockerProxiesOptions {
  engine: EngineClient;
  files: InstanceFiles;
  /** Whose socket host this is: its control socket, pid and log live here. */
  dataDir: string;
  daemonId: string;
  log: Logger;
  onDenied?: (denial: { workload: string; endpoint: string; reason: DenialReason }) => void;
  /** The values of the secrets the instance's current tenant stored, by name; none when it has no tenant. */
  tenantSecrets: (instanceId: string) => Promise<ReadonlyMap<string, string>>;
  /** How long an idle host lingers (tests shorten it). */
  hostIdleMs?: number;
  /** The gateway, served by the same host (gateway/control.ts): told of each new connection, and hears it. */
  gateway?: {
    onConnected: (connection: HostConnection) => Promise<void>;
    onMessage: NonNullable<HostClientOptions['onGateway']>;
  };
}

export class DockerProxies {
  readonly #options: DockerProxiesOptions;
  /** The sockets this daemon has the host serve: what a new host is given again. */
  readonly #served = new Map<string, OpenSpec>();
  readonly #host: HostClient;

  constructor(options: DockerProxiesOptions) {
    this.#options = options;
    this.#host = new HostClient({
      dataDir: options.dataDir,
      daemonId: options.daemonId,
      dockerHost: options.engine.dockerHost,
      idleMs: options.hostIdleMs ?? HOST_IDLE_MS,
      log: options.log,
      onDenied: ({ workload, endpoint, reason }) =>
        this.#options.onDenied?.({ workload, endpoint, reason: reason as DenialReason }),
      onConnected: async (connection) => {
        await this.#serveAgain(connection);
        await options.gateway?.onConnected(connection);
      },
      ...(options.gateway === undefined ? {} : { onGateway: options.gateway.onMessage }),
    });
  }

  /** The socket host, which serves the gateway too. */
  get host(): HostClient {
    return this.#host;
  }

  /** Hosts found dead and started again since this daemon started. */
  get hostRestarts(): number {
    return this.#host.restarts;
  }

  /**
   * Serves the instance's socket when its workload has a `docker:` block, and returns the mount its
   * container needs (undefined otherwise). Serving one already served is a no-op (its secrets are sent
   * again). Its children join `networkMode`: the instance's own network, or none.
   */
  async open(instanceId: string, spec: WorkloadSpec, networkMode: string): Promise<Mount | undefined> {
    if (spec.docker === undefined) return undefined;
    const socketDir = join(this.#options.files.dir(instanceId), 'docker');
    const owner = numericOwner(spec.security.user);
    const { uid, gid } = childUser(spec.security.user);
    const open: OpenSpec = {
      socketPath: join(socketDir, SOCKET_NAME),
      pinsDir: this.#pinsDir(instanceId),
      instanceId,
      workloadId: spec.id,
      daemonId: this.#options.daemonId,
      access: spec.docker,
      networkMode,
      volumes: this.#options.files
        .volumeSources(instanceId, spec)
        .map(({ source, target, readOnly }) => ({ target, hostPath: source, readOnly })),
      ...(owner === undefined ? {} : { owner }),
      runAs: { uid, gid },
    };
    await this.#host.request('open', { spec: open, secrets: await this.#secrets(instanceId) });
    this.#served.set(instanceId, open);
    return { source: socketDir, target: SOCKET_DIR_TARGET, readOnly: true };
  }

  /**
   * Sends the host the secret values of the instance's current tenant again (after a claim, or a change
   * of the tenant's secrets), so that the socket refuses them while the daemon is down too.
   */
  async refreshSecrets(instanceId: string): Promise<void> {
    if (!this.#served.has(instanceId)) return;
    await this.#host.request('secrets', { instanceId, secrets: await this.#secrets(instanceId) });
  }

  /**
   * Kills and removes the instance's children (on release); the socket keeps serving. An instance whose
   * socket is not served and whose workload has no `docker:` block has none: the engine is not asked.
   */
  async removeChildren(instanceId: string, spec: WorkloadSpec | undefined): Promise<number> {
    if (this.#served.has(instanceId)) return this.#host.request('removeChildren', { instanceId });
    if (spec?.docker === undefined) return 0;
    return removeInstanceChildren(this.#options.engine, instanceId, this.#pinsDir(instanceId));
  }

  /** Stops serving the instance's socket and removes its children (on destroy). */
  async close(instanceId: string, spec: WorkloadSpec | undefined): Promise<void> {
    if (!this.#served.has(instanceId)) {
      await this.removeChildren(instanceId, spec);
      return;
    }
    this.#served.delete(instanceId);
    await this.#host.request('close', { instanceId });
  }

  /**
   * After a restart: stops serving the sockets of instances not among `alive` and removes the children of
   * this daemon whose instance is not among them (gone, or its workload has no `docker:` block any more).
   */
  async removeOrphans(alive: ReadonlySet<string>): Promise<number> {
    const host = await this.#host.existing();
    if (host === undefined)
      return removeOrphanChildren(this.#options.engine, this.#options.daemonId, alive, this.#options.log);
    for (const id of this.#served.keys()) if (!alive.has(id)) this.#served.delete(id);
    return this.#host.request('removeOrphans', { daemonId: this.#options.daemonId, alive: [...alive] });
  }

  /** Unmounts whatever pins an instance directory still holds, before the directory is removed. */
  async releasePins(instanceId: string): Promise<void> {
    await new BindPins(this.#pinsDir(instanceId)).releaseAllBut();
  }

  /**
   * Daemon shutdown: lets go of the socket host, which goes on serving every socket (instances and their
   * children keep running, and so do the streams between them).
   */
  async closeAll(): Promise<void> {
    await this.#host.close();
  }

  /** A new host (the last one died, or was of another version): every socket served there again. */
  async #serveAgain(connection: HostConnection): Promise<void> {
    const there = new Set(connection.hello.open);
    for (const [instanceId, spec] of this.#served) {
      if (there.has(instanceId)) continue;
      try {
        await connection.request('open', { spec, secrets: await this.#secrets(instanceId) });
      } catch (error) {
        this.#options.log.error(
          { instance: instanceId, error: (error as Error).message },
          'socket host: could not serve the socket again',
        );
      }
    }
  }

  async #secrets(instanceId: string): Promise<SecretPairs> {
    return [...(await this.#options.tenantSecrets(instanceId))];
  }

  #pinsDir(instanceId: string): string {
    return join(this.#options.files.dir(instanceId), 'docker-pins');
  }
}
