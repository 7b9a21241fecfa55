/** What the engine itself says about containers, read from the host with the docker CLI. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CHILD_LABEL } from '../../../packages/boilerhouse/src/proxy/children.ts';

const exec = promisify(execFile);

/** Full ids of the containers (running or not) that carry every `key=value` label given. */
export async function containersLabelled(labels: Record<string, string>): Promise<string[]> {
  const filters = Object.entries(labels).flatMap(([key, value]) => ['--filter', `label=${key}=${value}`]);
  const { stdout } = await exec('docker', ['ps', '-a', '--no-trunc', '--format', '{{.ID}}', ...filters]);
  return stdout.split('\n').filter(Boolean);
}

/** The agent containers an instance started through its filtered socket. */
export function childrenOf(instanceId: string): Promise<string[]> {
  return containersLabelled({ [CHILD_LABEL.parent]: instanceId });
}

// biome-ignore lint/suspicious/noExplicitAny: docker inspect's JSON, read field by field in tests.
export async function inspect(containerId: string): Promise<any> {
  const { stdout } = await exec('docker', ['inspect', containerId]);
  return (JSON.parse(stdout) as unknown[])[0];
}

/** Force-removes containers (by full id); ones already gone are fine. */
export async function removeContainers(ids: string[]): Promise<void> {
  if (ids.length > 0) await exec('docker', ['rm', '-f', ...ids]).catch(() => undefined);
}
