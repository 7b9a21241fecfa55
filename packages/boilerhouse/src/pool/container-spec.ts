/** Turns a workload and one instance into the container to create: locked down, and started behind the gate. */
import type { WorkloadSpec } from '@boilerhouse/spec';
import { INSTANCE_DOCKER_HOST } from '../proxy/proxies.ts';
import type { ContainerSpec, ImageConfig, Mount } from '../runtime/runtime.ts';
import { GATE_BINARY_TARGET, GATE_DIR_TARGET } from './instance-files.ts';
import { healthArgv } from './readiness.ts';

export const LABEL = {
  managed: 'boilerhouse.managed',
  daemon: 'boilerhouse.daemon',
  instance: 'boilerhouse.instance',
  workload: 'boilerhouse.workload',
  createdAt: 'boilerhouse.created-at',
  specHash: 'boilerhouse.spec-hash',
} as const;

export interface InstanceIdentity {
  id: string;
  daemonId: string;
  specHash: string;
  /** The instance's own network, or `none` (instance-network.ts). */
  networkMode: string;
}

/**
 * The workload's own command line, as Docker would run it: the workload's entrypoint or the image's, then
 * its command, or the image's CMD unless the entrypoint was replaced (Docker drops CMD then too).
 */
export function workloadArgv(spec: WorkloadSpec, image: ImageConfig): string[] {
  const entrypoint = spec.entrypoint ?? image.entrypoint;
  const command = spec.command ?? (spec.entrypoint === undefined ? image.command : []);
  const argv = [...entrypoint, ...command];
  if (argv.length === 0) {
    throw new Error(`neither workload "${spec.id}" nor image ${spec.image} says what to run; set command`);
  }
  return argv;
}

export function containerSpec(
  spec: WorkloadSpec,
  image: ImageConfig,
  instance: InstanceIdentity,
  mounts: Mount[],
  publishHost: string,
): ContainerSpec {
  const limits = spec.resources.limits;
  const health = spec.healthcheck === undefined ? [] : healthArgv(spec.healthcheck.test);
  return {
    name: `boilerhouse-${instance.daemonId}-${instance.id}`,
    image: spec.image,
    // The gate holds the workload's process back until the tenant's state is in place, then execs it (a
    // workload that boots ahead is started at once and waits for the start message itself); given the
    // health test, it also leaves an agent that runs it without a `docker exec`.
    entrypoint: [
      GATE_BINARY_TARGET,
      ...(spec.pool.boot === 'ahead' ? ['--ahead'] : []),
      GATE_DIR_TARGET,
      String(health.length),
      ...health,
      '--',
      ...workloadArgv(spec, image),
    ],
    // With a `docker:` block, Docker clients in the instance find its filtered socket (whatever else was set).
    env:
      spec.docker === undefined
        ? spec.environment
        : { ...spec.environment, DOCKER_HOST: INSTANCE_DOCKER_HOST },
    labels: {
      [LABEL.managed]: 'true',
      [LABEL.daemon]: instance.daemonId,
      [LABEL.instance]: instance.id,
      [LABEL.workload]: spec.id,
      [LABEL.createdAt]: new Date().toISOString(),
      [LABEL.specHash]: instance.specHash,
    },
    ...(spec.security.user === undefined ? {} : { user: spec.security.user }),
    readOnlyRootfs: spec.readOnly,
    networkMode: instance.networkMode,
    limits: { cpus: limits.cpus, memoryBytes: limits.memory, pids: limits.pids },
    mounts,
    expose: spec.expose,
    publishHost,
  };
}
