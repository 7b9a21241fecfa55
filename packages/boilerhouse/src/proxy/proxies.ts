/**
 * Boilerhouse's side of the filtered sockets: one per instance of a workload with a `docker:` block.
 * The socket lives in `<instance dir>/docker/`, which the container mounts at /var/run/boilerhouse
 * (DOCKER_HOST points there), so a daemon restart can serve it again in place. Children are removed when
 * their instance is released or destroyed; after a restart, those whose instance is gone are removed too.
 */
import { join } from 'node:path';
import { childUser, type WorkloadSpec } from '@boilerhouse/spec';
import type { Logger } from '../log.ts';
import { type InstanceFiles, numericOwner } from '../pool/instance-files.ts';
import type { RawSummary } from '../runtime/docker-mapping.ts';
import type { EngineClient } from '../runtime/engine-client.ts';
import type { Mount } from '../runtime/runtime.ts';
import { CHILD_LABEL, removeContainers } from './children.ts';
import type { DenialReason } from './denial.ts';
import { BindPins } from './pins.ts';
import { DockerProxy } from './server.ts';

/** Where the socket's directory appears in the instance, and what DOCKER_HOST says there. */
export const SOCKET_DIR_TARGET = '/var/run/boilerhouse';
export const SOCKET_NAME = 'docker.sock';
export const INSTANCE_DOCKER_HOST = `unix://${SOCKET_DIR_TARGET}/${SOCKET_NAME}`;

export interface DockerProxiesOptions {
  engine: EngineClient;
  files: InstanceFiles;
  daemonId: string;
  log: Logger;
  onDenied?: (denial: { workload: string; endpoint: string; reason: DenialReason }) => void;
  /** The values of the secrets the instance's current tenant stored, by name; none when it has no tenant. */
  tenantSecrets: (instanceId: string) => Promise<ReadonlyMap<string, string>>;
}

export class DockerProxies {
  readonly #options: DockerProxiesOptions;
  readonly #open = new Map<string, DockerProxy>();

  constructor(options: DockerProxiesOptions) {
    this.#options = options;
  }

  /**
   * Serves the instance's socket when its workload has a `docker:` block, and returns the mount its
   * container needs (undefined otherwise). Serving one already served is a no-op. Its children join
   * `networkMode`: the instance's own network, or none.
   */
  async open(instanceId: string, spec: WorkloadSpec, networkMode: string): Promise<Mount | undefined> {
    if (spec.docker === undefined) return undefined;
    const socketDir = join(this.#options.files.dir(instanceId), 'docker');
    const mount = { source: socketDir, target: SOCKET_DIR_TARGET, readOnly: true };
    if (this.#open.has(instanceId)) return mount;
    const owner = numericOwner(spec.security.user);
    const { uid, gid } = childUser(spec.security.user);
    const proxy = await DockerProxy.open({
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
      engine: this.#options.engine,
      log: this.#options.log,
      ...(owner === undefined ? {} : { owner }),
      runAs: { uid, gid },
      tenantSecrets: () => this.#options.tenantSecrets(instanceId),
      onDenied: (denial) => this.#options.onDenied?.({ workload: spec.id, ...denial }),
    });
    this.#open.set(instanceId, proxy);
    return mount;
  }

  /**
   * Kills and removes the instance's children (on release); the socket keeps serving. An instance whose
   * socket is not served and whose workload has no `docker:` block has none: the engine is not asked.
   */
  async removeChildren(instanceId: string, spec: WorkloadSpec | undefined): Promise<number> {
    const proxy = this.#open.get(instanceId);
    if (proxy !== undefined) return proxy.removeChildren();
    if (spec?.docker === undefined) return 0;
    return this.#removeAll(instanceId);
  }

  /** Stops serving the instance's socket and removes its children (on destroy). */
  async close(instanceId: string, spec: WorkloadSpec | undefined): Promise<void> {
    const proxy = this.#open.get(instanceId);
    this.#open.delete(instanceId);
    if (proxy === undefined) {
      await this.removeChildren(instanceId, spec);
      return;
    }
    await proxy.close();
    await this.#removeAll(instanceId);
  }

  /**
   * After a restart: removes children of this daemon whose instance is not among `alive` (gone, or its
   * workload has no `docker:` block any more).
   */
  async removeOrphans(alive: ReadonlySet<string>): Promise<number> {
    const orphans = (await this.#children({ [CHILD_LABEL.daemon]: this.#options.daemonId })).filter(
      (child) => !alive.has(child.Labels?.[CHILD_LABEL.parent] ?? ''),
    );
    await removeContainers(
      this.#options.engine,
      orphans.map((child) => child.Id),
    );
    if (orphans.length > 0)
      this.#options.log.info({ children: orphans.length }, 'removed containers of instances that are gone');
    return orphans.length;
  }

  /** Unmounts whatever pins an instance directory still holds, before the directory is removed. */
  async releasePins(instanceId: string): Promise<void> {
    await new BindPins(this.#pinsDir(instanceId)).releaseAllBut();
  }

  /** Stops serving every socket (daemon shutdown); children keep running, like instances. */
  async closeAll(): Promise<void> {
    const proxies = [...this.#open.values()];
    this.#open.clear();
    await Promise.all(proxies.map((proxy) => proxy.close()));
  }

  /** Removes the instance's children, found by their label, and unmounts their pins. */
  async #removeAll(instanceId: string): Promise<number> {
    const children = await this.#children({ [CHILD_LABEL.parent]: instanceId });
    await removeContainers(
      this.#options.engine,
      children.map((child) => child.Id),
    );
    await new BindPins(this.#pinsDir(instanceId)).releaseAllBut();
    return children.length;
  }

  #pinsDir(instanceId: string): string {
    return join(this.#options.files.dir(instanceId), 'docker-pins');
  }

  async #children(labels: Record<string, string>): Promise<RawSummary[]> {
    const filters = JSON.stringify({
      label: Object.entries(labels).map(([key, value]) => `${key}=${value}`),
    });
    return this.#options.engine.json<RawSummary[]>(
      'GET',
      `/containers/json?all=1&filters=${encodeURIComponent(filters)}`,
    );
  }
}
