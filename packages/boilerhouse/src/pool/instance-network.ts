/**
 * Each instance's own network: the instance and the children its socket starts, and nothing of any other
 * tenant. Named after the daemon and the instance, so the instance's container, its socket's children and
 * recovery all find it by name; `network_mode: none` means no network at all, for children too.
 */
import type { WorkloadSpec } from '@boilerhouse/spec';
import type { NetworkSpec } from '../runtime/runtime.ts';
import { LABEL } from './container-spec.ts';

export const NO_NETWORK = 'none';

export function instanceNetworkName(daemonId: string, instanceId: string): string {
  return `boilerhouse-${daemonId}-${instanceId}`;
}

/** What the instance's container and children join: its own network, or none. */
export function instanceNetworkMode(spec: WorkloadSpec, daemonId: string, instanceId: string): string {
  return spec.networkMode === 'none' ? NO_NETWORK : instanceNetworkName(daemonId, instanceId);
}

/** The network to create for an instance, or undefined when it has none. */
export function instanceNetworkSpec(
  spec: WorkloadSpec,
  daemonId: string,
  instanceId: string,
): NetworkSpec | undefined {
  if (spec.networkMode === 'none') return undefined;
  return {
    name: instanceNetworkName(daemonId, instanceId),
    // As its container has them, so that recovery finds both by the same labels.
    labels: {
      [LABEL.managed]: 'true',
      [LABEL.daemon]: daemonId,
      [LABEL.instance]: instanceId,
      [LABEL.workload]: spec.id,
    },
    // `bridge` has always meant "may reach the internet"; the gateway issue may narrow this later.
    outbound: true,
    members: 1 + (spec.docker?.maxContainers ?? 0),
  };
}
