/** Pure translations between the runtime's types and the Docker Engine API 1.41 JSON shapes. */
import type {
  ContainerInfo,
  ContainerSpec,
  ContainerStatus,
  ContainerSummary,
  ImageConfig,
  PublishedPort,
} from './runtime.ts';

/** The parts of `GET /containers/{id}/json` that ContainerInfo reads. */
export interface RawContainer {
  Id: string;
  Name: string;
  State: { Status: ContainerStatus; ExitCode: number };
  Config: { Labels: Record<string, string> | null };
  NetworkSettings: {
    IPAddress?: string;
    Ports: Record<string, { HostIp: string; HostPort: string }[] | null> | null;
    Networks: Record<string, { IPAddress?: string }> | null;
  };
}

/** One entry of `GET /containers/json`. */
export interface RawSummary {
  Id: string;
  Names: string[] | null;
  State: ContainerStatus;
  Labels: Record<string, string> | null;
}

/** The parts of `GET /images/{name}/json` that ImageConfig reads. */
export interface RawImage {
  Id: string;
  Config: {
    Entrypoint: string[] | null;
    Cmd: string[] | null;
    User: string;
    WorkingDir: string;
  } | null;
}

const tmpfsTarget = '/tmp';

/** The body of `POST /containers/create`: locked down (no capabilities, no privilege gain, no restarts). */
export function toCreateBody(spec: ContainerSpec): Record<string, unknown> {
  const ports = spec.expose.map((port) => `${port}/tcp`);
  // A container without a network cannot publish; the engine would ignore the bindings silently anyway.
  const publish = spec.networkMode !== 'none';
  // The engine refuses two mounts at one target, so a caller's own /tmp mount replaces the tmpfs.
  const ownTmp = spec.mounts.some((mount) => mount.target.replace(/\/+$/, '') === tmpfsTarget);
  return {
    Image: spec.image,
    ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
    ...(spec.command ? { Cmd: spec.command } : {}),
    ...(spec.user ? { User: spec.user } : {}),
    Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
    Labels: spec.labels,
    ExposedPorts: Object.fromEntries(ports.map((port) => [port, {}])),
    HostConfig: {
      ReadonlyRootfs: spec.readOnlyRootfs,
      NetworkMode: spec.networkMode,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Tmpfs: ownTmp ? {} : { [tmpfsTarget]: 'rw,nosuid,nodev,size=64m' },
      RestartPolicy: { Name: 'no' },
      NanoCpus: Math.round(spec.limits.cpus * 1e9),
      Memory: spec.limits.memoryBytes,
      // Equal to Memory: no swap, so the memory limit is a real limit.
      MemorySwap: spec.limits.memoryBytes,
      PidsLimit: spec.limits.pids,
      // Mounts rather than Binds: a missing source is an error instead of a new empty directory, and a
      // file source mounts as that file.
      Mounts: spec.mounts.map((mount) => ({
        Type: 'bind',
        Source: mount.source,
        Target: mount.target,
        ReadOnly: mount.readOnly,
      })),
      PortBindings: publish
        ? Object.fromEntries(ports.map((port) => [port, [{ HostIp: spec.publishHost, HostPort: '' }]]))
        : {},
      Init: false,
    },
  };
}

export function toContainerInfo(raw: RawContainer): ContainerInfo {
  const ports: Record<number, PublishedPort> = {};
  for (const [key, bindings] of Object.entries(raw.NetworkSettings.Ports ?? {})) {
    const [port, protocol] = key.split('/');
    const binding = bindings?.[0];
    if (protocol === 'tcp' && binding?.HostPort) {
      ports[Number(port)] = { hostIp: binding.HostIp, hostPort: Number(binding.HostPort) };
    }
  }
  const networks = Object.values(raw.NetworkSettings.Networks ?? {});
  const ipAddress = raw.NetworkSettings.IPAddress || networks.find((network) => network.IPAddress)?.IPAddress;
  return {
    id: raw.Id,
    name: raw.Name.replace(/^\//, ''),
    status: raw.State.Status,
    labels: raw.Config.Labels ?? {},
    ports,
    exitCode: raw.State.ExitCode,
    ...(ipAddress ? { ipAddress } : {}),
  };
}

export function toSummary(raw: RawSummary): ContainerSummary {
  return {
    id: raw.Id,
    name: (raw.Names?.[0] ?? '').replace(/^\//, ''),
    status: raw.State,
    labels: raw.Labels ?? {},
  };
}

export function toImageConfig(raw: RawImage): ImageConfig {
  return {
    id: raw.Id,
    entrypoint: raw.Config?.Entrypoint ?? [],
    command: raw.Config?.Cmd ?? [],
    user: raw.Config?.User ?? '',
    workingDir: raw.Config?.WorkingDir ?? '',
  };
}
