/**
 * The main group's agent container, started while a NanoClaw booted ahead of its claim waits for
 * Boilerhouse's start message (start-signal.ts): the engine's create and start and the agent's own boot
 * (Node loading the Agent SDK, ~0.6-0.9 s together) are then done before the claim, and the claim's armed
 * run (NANOCLAW_ARM_AT_START) only starts the SDK on the tenant's session. Nothing of the tenant is there
 * yet, and nothing of it is read: the configuration comes from the environment alone (the tenant's `.env`
 * is written at the claim), the home gets only the empty directories the container's mounts need (the
 * restore then fills them; it writes files only where none are), and the container waits on stdin, with no
 * credential, until the host hands it the run's input. Made exactly as the host would make it then, or
 * the host discards it (warm-agents.ts compares fingerprints): a tenant whose `.env` changes the agent's
 * settings, or whose main group has extra mounts, gets a container of its own as before.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../config.ts';
import { Layout, MAIN_FOLDER, makeAgentDir, makeGroupMountDirs } from '../layout.ts';
import type { Logger } from '../log.ts';
import { dockerClient } from './docker.ts';
import { containerSpec } from './launch.ts';
import { AgentRunner, type PreparedAgent } from './runner.ts';

/** Starts the container, or resolves to undefined (and logs why) when it cannot be done now. */
export async function prepareAheadOfStart(
  env: NodeJS.ProcessEnv,
  cwd: string,
  log: Logger,
): Promise<PreparedAgent | undefined> {
  try {
    const config = loadConfig(env, cwd);
    if (!config.armAtStart) return undefined;
    const layout = new Layout(config.home);
    makeAgentDir(layout.groupsDir);
    makeGroupMountDirs(layout, MAIN_FOLDER);
    // The host's id is the tenant's (in its restored state); this container is known by a name of its own.
    const hostId = `ahead-${randomBytes(4).toString('hex')}`;
    const group = { name: 'Main', folder: MAIN_FOLDER, addedAt: new Date().toISOString() };
    const spec = containerSpec({ config, layout, hostId, log }, group);
    return await new AgentRunner(dockerClient(config.container.dockerHost), log).prepare(spec);
  } catch (error) {
    log.warn({ error }, 'could not start the main agent container ahead of the start message');
    return undefined;
  }
}
