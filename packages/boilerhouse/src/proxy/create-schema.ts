/**
 * The Go shapes of the request bodies the proxy reads (Docker Engine API 1.41), field for field, so that
 * the decoder reaches every spelling the engine would. Fields the engine knows but nobody may set are
 * here too (with enough of their type to tell empty from not), so that setting them is refused out loud
 * rather than dropped in silence.
 */
import { type GoType, go } from './go-decode.ts';

const uint16: GoType = { kind: 'int', bits: 16, unsigned: true };
const uint32: GoType = { kind: 'int', bits: 32, unsigned: true };
const uint64: GoType = { kind: 'int', bits: 64, unsigned: true };

export const MOUNT = go.struct({
  Type: go.string,
  Source: go.string,
  Target: go.string,
  ReadOnly: go.bool,
  Consistency: go.string,
  BindOptions: go.pointer(go.struct({ Propagation: go.string, NonRecursive: go.bool })),
  VolumeOptions: go.pointer(
    go.struct({
      NoCopy: go.bool,
      Labels: go.stringMap,
      DriverConfig: go.pointer(go.struct({ Name: go.string, Options: go.stringMap })),
    }),
  ),
  TmpfsOptions: go.pointer(go.struct({ SizeBytes: go.int, Mode: uint32 })),
});

/** container.Resources, embedded in HostConfig (its fields sit at HostConfig's level). */
const RESOURCES: Record<string, GoType> = {
  CpuShares: go.int,
  Memory: go.int,
  NanoCpus: go.int,
  CgroupParent: go.string,
  BlkioWeight: uint16,
  BlkioWeightDevice: go.slice(go.any),
  BlkioDeviceReadBps: go.slice(go.any),
  BlkioDeviceWriteBps: go.slice(go.any),
  BlkioDeviceReadIOps: go.slice(go.any),
  BlkioDeviceWriteIOps: go.slice(go.any),
  CpuPeriod: go.int,
  CpuQuota: go.int,
  CpuRealtimePeriod: go.int,
  CpuRealtimeRuntime: go.int,
  CpusetCpus: go.string,
  CpusetMems: go.string,
  Devices: go.slice(go.any),
  DeviceCgroupRules: go.strings,
  DeviceRequests: go.slice(go.any),
  KernelMemory: go.int,
  KernelMemoryTCP: go.int,
  MemoryReservation: go.int,
  MemorySwap: go.int,
  MemorySwappiness: go.pointer(go.int),
  OomKillDisable: go.pointer(go.bool),
  PidsLimit: go.pointer(go.int),
  Ulimits: go.slice(go.pointer(go.struct({ Name: go.string, Hard: go.int, Soft: go.int }))),
  CpuCount: go.int,
  CpuPercent: go.int,
  IOMaximumIOps: uint64,
  IOMaximumBandwidth: uint64,
};

export const HOST_CONFIG_FIELDS: Record<string, GoType> = {
  Binds: go.strings,
  ContainerIDFile: go.string,
  LogConfig: go.struct({ Type: go.string, Config: go.stringMap }),
  NetworkMode: go.string,
  PortBindings: go.map(go.any),
  RestartPolicy: go.struct({ Name: go.string, MaximumRetryCount: go.int }),
  AutoRemove: go.bool,
  VolumeDriver: go.string,
  VolumesFrom: go.strings,
  CapAdd: go.strslice,
  CapDrop: go.strslice,
  // Docker 19.03's replacement of the whole capability set; refused whatever the engine makes of it.
  Capabilities: go.strings,
  CgroupnsMode: go.string,
  Dns: go.strings,
  DnsOptions: go.strings,
  DnsSearch: go.strings,
  ExtraHosts: go.strings,
  GroupAdd: go.strings,
  IpcMode: go.string,
  Cgroup: go.string,
  Links: go.strings,
  OomScoreAdj: go.int,
  PidMode: go.string,
  Privileged: go.bool,
  PublishAllPorts: go.bool,
  ReadonlyRootfs: go.bool,
  SecurityOpt: go.strings,
  StorageOpt: go.stringMap,
  Tmpfs: go.stringMap,
  UTSMode: go.string,
  UsernsMode: go.string,
  ShmSize: go.int,
  Sysctls: go.stringMap,
  Runtime: go.string,
  ConsoleSize: { kind: 'array', of: uint32, length: 2 },
  Isolation: go.string,
  ...RESOURCES,
  Mounts: go.slice(MOUNT),
  MaskedPaths: go.strings,
  ReadonlyPaths: go.strings,
  Init: go.pointer(go.bool),
};

export const HOST_CONFIG = go.struct(HOST_CONFIG_FIELDS);

export const CONFIG_FIELDS: Record<string, GoType> = {
  Hostname: go.string,
  Domainname: go.string,
  User: go.string,
  AttachStdin: go.bool,
  AttachStdout: go.bool,
  AttachStderr: go.bool,
  ExposedPorts: go.map(go.any),
  Tty: go.bool,
  OpenStdin: go.bool,
  StdinOnce: go.bool,
  Env: go.strings,
  Cmd: go.strslice,
  Healthcheck: go.pointer(
    go.struct({ Test: go.strings, Interval: go.int, Timeout: go.int, StartPeriod: go.int, Retries: go.int }),
  ),
  ArgsEscaped: go.bool,
  Image: go.string,
  Volumes: go.map(go.any),
  WorkingDir: go.string,
  Entrypoint: go.strslice,
  NetworkDisabled: go.bool,
  MacAddress: go.string,
  OnBuild: go.strings,
  Labels: go.stringMap,
  StopSignal: go.string,
  StopTimeout: go.pointer(go.int),
  Shell: go.strslice,
};

/**
 * The body of POST /containers/create: the container config, the host config under `HostConfig`, the
 * networking config, and (deprecated, still read by the engine) `Cpuset` and every host config field
 * repeated at the top level, which the engine uses when `HostConfig` is missing.
 */
export const CREATE_BODY = go.struct({
  ...HOST_CONFIG_FIELDS,
  ...CONFIG_FIELDS,
  HostConfig: go.pointer(HOST_CONFIG),
  NetworkingConfig: go.pointer(go.struct({ EndpointsConfig: go.map(go.any) })),
  Cpuset: go.string,
});

/** POST /containers/{id}/exec. */
export const EXEC_CREATE_BODY = go.struct({
  User: go.string,
  Privileged: go.bool,
  Tty: go.bool,
  ConsoleSize: go.pointer({ kind: 'array', of: uint32, length: 2 }),
  AttachStdin: go.bool,
  AttachStderr: go.bool,
  AttachStdout: go.bool,
  Detach: go.bool,
  DetachKeys: go.string,
  Env: go.strings,
  WorkingDir: go.string,
  Cmd: go.strslice,
});

/** POST /exec/{id}/start. */
export const EXEC_START_BODY = go.struct({
  Detach: go.bool,
  Tty: go.bool,
  ConsoleSize: go.pointer({ kind: 'array', of: uint32, length: 2 }),
});
