/**
 * What a stopped test or bench daemon leaves (instances, their children and the socket host serving their
 * filtered sockets keep running across a daemon's stop, as they do for an upgrade): the host stopped, its
 * containers and their children, then each instance's network, removed. The number of containers still
 * there after the removal is what leaked.
 */
import { rm } from 'node:fs/promises';
import { LABEL } from '../pool/container-spec.ts';
import { releaseDataDir } from '../pool/volume-mount.ts';
import { CHILD_LABEL } from '../proxy/children.ts';
import { stopSocketHost } from '../proxy/host/spawn.ts';
import type { DockerRuntime } from '../runtime/docker.ts';
import { MemoryDirs } from '../secrets/index.ts';

/**
 * Removes a stopped daemon's containers (16 at a time) and networks, after stopping the socket host of its
 * `dataDir`, then takes away its volume mounts (which outlive a daemon's stop, as its instances do);
 * returns the containers left.
 */
export async function removeDaemonLeftovers(
  runtime: DockerRuntime,
  daemonId: string,
  dataDir: string,
): Promise<number> {
  await stopSocketHost(dataDir);
  const labels: Record<string, string>[] = [{ [CHILD_LABEL.daemon]: daemonId }, { [LABEL.daemon]: daemonId }];
  for (const label of labels) {
    const containers = await runtime.list(label);
    for (let i = 0; i < containers.length; i += 16) {
      await Promise.all(containers.slice(i, i + 16).map((container) => runtime.remove(container.id)));
    }
  }
  for (const network of await runtime.listNetworks({ [LABEL.daemon]: daemonId })) {
    await runtime.removeNetwork(network.name);
  }
  await releaseDataDir(dataDir, new MemoryDirs(dataDir));
  let left = 0;
  for (const label of labels) left += (await runtime.list(label)).length;
  return left;
}

/**
 * A bench's whole teardown: the daemon stopped, what it left on the engine removed, its directories (and
 * the secrets' memory directory) deleted; the containers that leaked.
 */
export async function tearDownDaemon(run: {
  daemon: { stop(): Promise<void>; boilerhouse: { daemonId: string } } | undefined;
  runtime: DockerRuntime;
  root: string;
  dataDir: string;
}): Promise<number> {
  const id = run.daemon?.boilerhouse.daemonId;
  await run.daemon?.stop();
  const left = id === undefined ? 0 : await removeDaemonLeftovers(run.runtime, id, run.dataDir);
  if (id === undefined) await stopSocketHost(run.dataDir);
  run.runtime.close();
  await rm(run.root, { recursive: true, force: true });
  await rm(new MemoryDirs(run.dataDir).root, { recursive: true, force: true });
  return left;
}
