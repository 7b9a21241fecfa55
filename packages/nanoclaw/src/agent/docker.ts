/** A dockerode client for DOCKER_HOST (`unix:///path` or `tcp://host:port`), or the local socket. */
import Docker from 'dockerode';

export function dockerClient(dockerHost: string | undefined): Docker {
  if (dockerHost === undefined) return new Docker({ socketPath: '/var/run/docker.sock' });
  if (dockerHost.startsWith('unix://')) return new Docker({ socketPath: dockerHost.slice('unix://'.length) });
  const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
  return new Docker({ host: url.hostname, port: Number(url.port), protocol: 'http' });
}

/** The labels on every agent container: which NanoClaw home started it, for which group. */
export const LABELS = { host: 'nanoclaw.host', group: 'nanoclaw.group', run: 'nanoclaw.run' } as const;

/** Removes agent containers a previous process of this host left behind (it crashed or was killed). */
export async function removeLeftovers(docker: Docker, hostId: string): Promise<number> {
  const containers = await docker.listContainers({
    all: true,
    filters: JSON.stringify({ label: [`${LABELS.host}=${hostId}`] }),
  });
  await Promise.all(
    containers.map((container) =>
      docker
        .getContainer(container.Id)
        .remove({ force: true })
        .catch((error: { statusCode?: number }) => {
          if (error.statusCode !== 404 && error.statusCode !== 409) throw error;
        }),
    ),
  );
  return containers.length;
}
