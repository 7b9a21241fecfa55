/**
 * What a fault must not leave behind: everything of a daemon that no instance row names. Containers and
 * children carrying its labels, its networks, instance directories, and mounts under its data directory
 * (the daemon's own nosuid,nodev bind of `instances`, its instances' pins and the test's own mounts aside).
 */
import { join } from 'node:path';
import { LABEL } from '../../../packages/boilerhouse/src/pool/container-spec.ts';
import { CHILD_LABEL } from '../../../packages/boilerhouse/src/proxy/children.ts';
import type { DockerRuntime } from '../../../packages/boilerhouse/src/runtime/docker.ts';
import { type Harness, instanceDirs } from '../../../packages/boilerhouse/src/testing/harness.ts';
import { mountsUnder } from './tmpfs.ts';

export interface Orphans {
  containers: string[];
  children: string[];
  networks: string[];
  directories: string[];
  mounts: string[];
}

/** What the orphan check needs of a daemon, in-process (a Harness) or a process of its own. */
export interface DaemonView {
  runtime: DockerRuntime;
  daemonId: string;
  dataDir: string;
  /** The ids of the instances its database names. */
  instances: readonly string[];
}

/** `expected`: mount points the test made itself (a tmpfs), not the daemon's. */
export function findOrphans(harness: Harness, expected: { mounts?: string[] } = {}): Promise<Orphans> {
  const { boilerhouse, runtime, dataDir } = harness;
  const instances = boilerhouse.instances().map((instance) => instance.id);
  return orphansOf({ runtime, daemonId: boilerhouse.daemonId, dataDir, instances }, expected);
}

export async function orphansOf(view: DaemonView, expected: { mounts?: string[] } = {}): Promise<Orphans> {
  const { runtime, daemonId, dataDir } = view;
  const known = new Set(view.instances);
  const unknown = (labels: Record<string, string>, label: string) => !known.has(labels[label] ?? '');
  const instancesDir = join(dataDir, 'instances');
  const ownMounts = new Set([instancesDir, ...(expected.mounts ?? [])]);
  const mounts = (await mountsUnder(dataDir)).filter((point) => {
    if (ownMounts.has(point)) return false;
    // An instance's pins (its children's binds) live and die with the instance.
    const instance = point.startsWith(`${instancesDir}/`) ? point.slice(instancesDir.length + 1) : '';
    return !known.has(instance.split('/')[0] ?? '');
  });
  return {
    containers: (await runtime.list({ [LABEL.daemon]: daemonId }))
      .filter((container) => unknown(container.labels, LABEL.instance))
      .map((container) => container.id),
    children: (await runtime.list({ [CHILD_LABEL.daemon]: daemonId }))
      .filter((child) => unknown(child.labels, CHILD_LABEL.parent))
      .map((child) => child.id),
    networks: (await runtime.listNetworks({ [LABEL.daemon]: daemonId }))
      .filter((network) => unknown(network.labels, LABEL.instance))
      .map((network) => network.name),
    directories: (await instanceDirs(dataDir)).filter((name) => !known.has(name)),
    mounts,
  };
}

export const NO_ORPHANS: Orphans = {
  containers: [],
  children: [],
  networks: [],
  directories: [],
  mounts: [],
};
