/** The engine client for DOCKER_HOST (`unix:///path` or `tcp://host:port`), or the local socket. */
import { Engine } from './engine.ts';

export function dockerClient(dockerHost: string | undefined): Engine {
  return new Engine(dockerHost);
}

/** The labels on every agent container: which NanoClaw home started it, for which group. */
export const LABELS = { host: 'nanoclaw.host', group: 'nanoclaw.group', run: 'nanoclaw.run' } as const;

/** Removes agent containers a previous process of this host left behind (it crashed or was killed). */
export async function removeLeftovers(engine: Engine, hostId: string): Promise<number> {
  const containers = await engine.listContainers([`${LABELS.host}=${hostId}`]);
  await Promise.all(
    containers.map((id) =>
      engine
        .container(id)
        .remove()
        .catch((error: { statusCode?: number }) => {
          if (error.statusCode !== 404 && error.statusCode !== 409) throw error;
        }),
    ),
  );
  return containers.length;
}
