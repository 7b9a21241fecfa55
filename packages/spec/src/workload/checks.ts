/** Checks that span several fields of a workload; each problem is reported at the field that has to change. */
import type { Node } from 'yaml';
import type { ParseContext, Path } from '../schema/field.ts';
import { childUser, NOBODY } from './child-user.ts';
import { hasKey, locate } from './locate.ts';
import type { WorkloadSpec } from './workload.ts';

interface Where {
  node: Node;
  context: ParseContext;
}

/** Reports every cross-field problem; true when there was no error (warnings allowed). */
export function checkWorkload(spec: WorkloadSpec, where: Where): boolean {
  let valid = true;
  const error = (path: Path, message: string) => {
    const at = locate(where.node, path, where.context);
    where.context.error(at.node, at.path, message);
    valid = false;
  };
  const warn = (path: Path, message: string) => {
    const at = locate(where.node, path, where.context);
    where.context.warn(at.node, at.path, message);
  };

  if (spec.pool.minIdle > spec.pool.maxSize) {
    error(
      ['pool', 'min_idle'],
      `min_idle (${spec.pool.minIdle}) cannot exceed max_size (${spec.pool.maxSize})`,
    );
  }

  checkVolumeTargets(spec, error);

  if (spec.pool.wake?.atFile !== undefined && spec.volumes.state === undefined) {
    error(
      ['pool', 'wake', 'at_file'],
      'wake.at_file is a file of the state volume, but volumes.state is not set',
    );
  }
  if (spec.gateway !== undefined && spec.networkMode === 'none') {
    error(['gateway'], 'network_mode none has no network, so the gateway could never reach the instance');
  }

  const duplicatePort = spec.expose.find((port, index) => spec.expose.indexOf(port) !== index);
  if (duplicatePort !== undefined) error(['expose'], `port ${duplicatePort} is listed twice`);
  if (spec.networkMode === 'none' && spec.expose.length > 0) {
    error(['expose'], 'network_mode none has no network, so exposed ports could never be reached');
  }

  if (spec.docker !== undefined && spec.environment.DOCKER_HOST !== undefined) {
    warn(
      ['environment', 'DOCKER_HOST'],
      'with a docker block, DOCKER_HOST points at the filtered socket (/var/run/boilerhouse/docker.sock); this value is replaced',
    );
  }

  if (spec.docker?.onRelease === 'keep' && spec.pool.reserve === 'pause') {
    error(
      ['docker', 'on_release'],
      'on_release keep leaves containers running through a reservation, but reserve: pause freezes the instance, not them; use reserve: run or on_release remove',
    );
  }

  if (spec.docker !== undefined) {
    const userPath = hasKey(where.node, 'user', where.context) ? ['user'] : ['security', 'user'];
    checkDockerBlock(spec.docker, spec.security.user, userPath, error, warn);
  }

  if (spec.sync !== undefined) {
    if (spec.volumes.state === undefined) {
      error(['sync'], 'sync moves the state volume to and from the sink, but volumes.state is not set');
    }
    const uploads = spec.sync.mappings.some((mapping) => mapping.direction !== 'download');
    if (spec.sync.policy.interval !== undefined && !uploads) {
      warn(
        ['sync', 'policy', 'interval'],
        'no mapping uploads (direction upload or bidirectional), so interval saves nothing',
      );
    }
  }
  return valid;
}

function checkVolumeTargets(spec: WorkloadSpec, error: (path: Path, message: string) => void): void {
  const owners = new Map<string, string>();
  // Where the filtered Docker socket's directory is mounted.
  if (spec.docker !== undefined) owners.set('/var/run/boilerhouse', "the docker block's socket");
  const claim = (path: Path, target: string) => {
    const owner = owners.get(target);
    if (owner !== undefined) error([...path, 'target'], `target ${target} is already used by ${owner}`);
    else owners.set(target, path.join('.').replace(/\.(\d+)/g, '[$1]'));
  };
  for (const kind of ['state', 'secrets', 'comm'] as const) {
    const volume = spec.volumes[kind];
    if (volume !== undefined) claim(['volumes', kind], volume.target);
  }
  const names = new Set<string>();
  spec.volumes.custom.forEach((volume, index) => {
    if (names.has(volume.name))
      error(['volumes', 'custom', index, 'name'], `volume name "${volume.name}" is used twice`);
    names.add(volume.name);
    claim(['volumes', 'custom', index], volume.target);
  });
}

function checkDockerBlock(
  docker: NonNullable<WorkloadSpec['docker']>,
  user: string | undefined,
  userPath: Path,
  error: (path: Path, message: string) => void,
  warn: (path: Path, message: string) => void,
): void {
  docker.capabilities.forEach((name, index) => {
    if (docker.capabilities.indexOf(name) !== index)
      error(['docker', 'capabilities', index], `${name} is listed twice`);
  });
  if (childUser(user).fallback) {
    const given = user === undefined ? 'not set' : `"${user}"`;
    warn(
      user === undefined ? ['docker'] : userPath,
      `the containers it starts never run as root nor as a user name, so with security.user ${given} they run as ${NOBODY.uid}:${NOBODY.gid} (nobody), which may not be able to use its volumes; set a numeric non-root user such as 1000`,
    );
  }
}
