/**
 * The create policy: what a workload's container may ask of the engine, judged on the body as the engine
 * decodes it (go-decode.ts). Anything that reaches the host is refused: privileged, added capabilities,
 * devices, host or shared namespaces, security-opt changes, sysctls, cgroup parents, OOM-kill disable,
 * published ports, named volumes and volume drivers, links, users other than the instance's own and
 * capabilities the workload does not grant (child-identity.ts), health checks probing more often than
 * every 10 s (the engine runs each probe on the host, outside the child's caps). Bind mounts come out as requests for paths
 * inside the instance (translated later); resource caps, a read-only root, no-new-privileges, the
 * instance's user and no capabilities but granted ones are forced; the labels that make it the instance's
 * child are added by the caller of this module.
 *
 * The result is a new body built only from fields the policy knows: what was checked is what is sent.
 */
import type { DockerAccessSpec } from '@boilerhouse/spec';
import type { BindRequest } from './binds.ts';
import { checkCapAdd, checkGroupAdd, checkUser, type RunAs } from './child-identity.ts';
import { HOST_CONFIG_FIELDS } from './create-schema.ts';
import { ProxyDenial, quote } from './denial.ts';
import type { GoStruct } from './go-decode.ts';

/** Labels under this prefix are Boilerhouse's: a caller may not set them. */
export const RESERVED_LABEL_PREFIX = 'boilerhouse.';
const TMP_TMPFS = 'rw,nosuid,nodev,size=64m';
const LOG_DRIVERS = new Set(['', 'json-file', 'local', 'none']);
/** A container's output kept on the host's disk: at most 3 files of 10 MiB (the local driver caps itself). */
const JSON_FILE_LOGS = { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } };
const NO_NEW_PRIVILEGES = new Set(['no-new-privileges', 'no-new-privileges:true', 'no-new-privileges=true']);

/** A child's health check may probe no more often than this (nanoseconds, as the engine counts). */
const MIN_HEALTH_INTERVAL_NS = 10e9;

/** Config fields passed on as given. */
const CONFIG_PASSED = [
  'Hostname',
  'Domainname',
  'AttachStdin',
  'AttachStdout',
  'AttachStderr',
  'ExposedPorts',
  'Tty',
  'OpenStdin',
  'StdinOnce',
  'Env',
  'Cmd',
  'Healthcheck',
  'ArgsEscaped',
  'Volumes',
  'WorkingDir',
  'Entrypoint',
  'NetworkDisabled',
  'OnBuild',
  'StopSignal',
  'StopTimeout',
  'Shell',
] as const;

/** HostConfig fields passed on as given (after the checks below). */
const HOST_PASSED = [
  'RestartPolicy',
  'AutoRemove',
  'CgroupnsMode',
  'Dns',
  'DnsOptions',
  'DnsSearch',
  'ExtraHosts',
  'IpcMode',
  'OomScoreAdj',
  'ShmSize',
  'Tmpfs',
  'Runtime',
  'ConsoleSize',
  'Isolation',
  'CpuShares',
  'BlkioWeight',
  'CpusetCpus',
  'CpusetMems',
  'MemorySwappiness',
  'Ulimits',
  'Init',
] as const;

/** HostConfig fields that must be left empty, and why. */
const HOST_REFUSED: Record<string, string> = {
  PortBindings: 'publishes ports on the host',
  VolumeDriver: 'uses a volume driver',
  VolumesFrom: "mounts another container's volumes",
  Capabilities: 'replaces the capability set',
  Cgroup: "joins another container's cgroup",
  Links: 'links to other containers',
  PidMode: 'shares a PID namespace',
  UTSMode: 'shares a UTS namespace',
  UsernsMode: 'changes the user namespace',
  Privileged: 'runs privileged',
  PublishAllPorts: 'publishes ports on the host',
  StorageOpt: 'sets storage driver options',
  Sysctls: 'sets sysctls',
  CgroupParent: 'picks its cgroup parent',
  BlkioWeightDevice: 'names host devices',
  BlkioDeviceReadBps: 'names host devices',
  BlkioDeviceWriteBps: 'names host devices',
  BlkioDeviceReadIOps: 'names host devices',
  BlkioDeviceWriteIOps: 'names host devices',
  CpuPeriod: 'sets a CFS period (the CPU cap is set with NanoCpus)',
  CpuQuota: 'sets a CFS quota (the CPU cap is set with NanoCpus)',
  CpuRealtimePeriod: 'asks for real-time CPU',
  CpuRealtimeRuntime: 'asks for real-time CPU',
  Devices: 'maps host devices',
  DeviceCgroupRules: 'adds device cgroup rules',
  DeviceRequests: 'requests devices',
  KernelMemory: 'sets a kernel memory limit',
  KernelMemoryTCP: 'sets a kernel TCP memory limit',
  OomKillDisable: 'disables the OOM killer',
  CpuCount: 'is for Windows',
  CpuPercent: 'is for Windows',
  IOMaximumIOps: 'is for Windows',
  IOMaximumBandwidth: 'is for Windows',
};

export interface ChildPolicy {
  access: DockerAccessSpec;
  /** The instance's own network, by name, or `none`: a child joins its parent's or none, never another. */
  networkMode: string;
  /** Who every child runs as: the instance's own non-root user (child-identity.ts). */
  runAs: RunAs;
}

export interface CheckedCreate {
  /** The image as the caller wrote it (the image policy judges it). */
  image: string;
  /** Bind mounts, by paths inside the instance. */
  binds: BindRequest[];
  /** The body to send, without Image, the bind mounts and the child labels, which the caller adds. */
  body: GoStruct & { HostConfig: GoStruct & { Mounts: unknown[] }; Labels: Record<string, string> };
}

export function checkCreate(request: GoStruct, policy: ChildPolicy): CheckedCreate {
  const problems: string[] = [];
  const refuse = (what: string) => problems.push(what);

  for (const field of [...Object.keys(HOST_CONFIG_FIELDS), 'Cpuset']) {
    if (!isEmpty(request[field])) {
      refuse(
        `${field} at the top level (the engine's deprecated spelling of HostConfig.${field}) is refused; put it in HostConfig`,
      );
    }
  }
  const host = (request.HostConfig ?? {}) as GoStruct;
  const image = request.Image;
  if (typeof image !== 'string' || image === '') refuse('Image is required');
  if (!isEmpty(request.MacAddress)) refuse('MacAddress is refused');
  const labels = (request.Labels ?? {}) as Record<string, string>;
  for (const key of Object.keys(labels)) {
    if (key.startsWith(RESERVED_LABEL_PREFIX))
      refuse(`label ${quote(key)} is refused: ${RESERVED_LABEL_PREFIX}* labels are Boilerhouse's`);
  }

  for (const [field, why] of Object.entries(HOST_REFUSED)) {
    if (!isEmpty(host[field])) refuse(`HostConfig.${field} is refused: it ${why}`);
  }
  const user = checkUser(request.User, policy.runAs, 'User', refuse);
  checkGroupAdd(host.GroupAdd, policy.runAs, refuse);
  const capAdd = checkCapAdd(host.CapAdd, policy.access.capabilities, refuse);
  const networkMode = checkNetwork(host, request.NetworkingConfig, policy, refuse);
  checkNamespace('IpcMode', host.IpcMode, ['private', 'none', 'shareable'], refuse);
  checkNamespace('CgroupnsMode', host.CgroupnsMode, ['private'], refuse);
  checkChoice('Runtime', host.Runtime, ['runc'], refuse);
  checkChoice('Isolation', host.Isolation, ['default'], refuse);
  const restart = (host.RestartPolicy ?? {}) as GoStruct;
  checkChoice('RestartPolicy.Name', restart.Name, ['no'], refuse, 'containers end with their instance');
  checkLogConfig(host.LogConfig as GoStruct | undefined, refuse);
  for (const entry of (host.SecurityOpt ?? []) as string[]) {
    if (!NO_NEW_PRIVILEGES.has(entry))
      refuse(
        `HostConfig.SecurityOpt ${quote(entry)} is refused (seccomp, apparmor and label stay as the engine sets them)`,
      );
  }
  for (const field of ['MaskedPaths', 'ReadonlyPaths']) {
    if (Array.isArray(host[field]))
      refuse(`HostConfig.${field} is refused: it would replace the engine's masked and read-only paths`);
  }
  if (typeof host.OomScoreAdj === 'number' && host.OomScoreAdj < 0)
    refuse('HostConfig.OomScoreAdj below 0 is refused');
  for (const path of Object.keys((host.Tmpfs ?? {}) as object)) {
    if (!path.startsWith('/')) refuse(`HostConfig.Tmpfs target ${quote(path)} is not an absolute path`);
  }
  checkHealthcheck(request.Healthcheck as GoStruct | null | undefined, refuse);

  const binds = bindsOf(host.Binds as string[] | undefined, refuse);
  const mounts: unknown[] = [];
  for (const [index, mount] of ((host.Mounts ?? []) as GoStruct[]).entries()) {
    const checked = checkMount(mount ?? {}, `HostConfig.Mounts[${index}]`, refuse);
    if (checked === undefined) continue;
    if ('bind' in checked) binds.push(checked.bind);
    else mounts.push(checked.mount);
  }

  if (problems.length > 0) {
    throw new ProxyDenial(403, 'create_policy', `container create refused: ${problems.join('; ')}`);
  }

  const caps = policy.access.limits;
  const memory = capped(host.Memory, caps.memory);
  const outHost: GoStruct & { Mounts: unknown[] } = { Mounts: mounts };
  for (const field of HOST_PASSED) if (host[field] !== undefined) outHost[field] = host[field];
  const reservation = host.MemoryReservation;
  Object.assign(outHost, {
    NetworkMode: networkMode,
    Memory: memory,
    // Equal to Memory: no swap, so that the memory cap is a real one.
    MemorySwap: memory,
    ...(typeof reservation === 'number' && reservation > 0
      ? { MemoryReservation: Math.min(reservation, memory) }
      : {}),
    NanoCpus: capped(host.NanoCpus, Math.round(caps.cpus * 1e9)),
    PidsLimit: capped(host.PidsLimit, caps.pids),
    ReadonlyRootfs: policy.access.readOnly || host.ReadonlyRootfs === true,
    SecurityOpt: ['no-new-privileges'],
    LogConfig: logConfig(host.LogConfig as GoStruct | undefined),
    // Every capability dropped, whatever the caller dropped; only granted ones come back.
    CapDrop: ['ALL'],
    ...(capAdd.length > 0 ? { CapAdd: capAdd } : {}),
  });
  if (policy.access.readOnly) addTmp(outHost, binds, request.Volumes);

  const body: CheckedCreate['body'] = { User: user, HostConfig: outHost, Labels: { ...labels } };
  for (const field of CONFIG_PASSED) if (request[field] !== undefined) body[field] = request[field];
  return { image: image as string, binds, body };
}

/** The caller's value when it is within the cap, else the cap (0, -1 and unset mean "no limit"). */
function capped(value: unknown, cap: number): number {
  return typeof value === 'number' && value > 0 && value <= cap ? value : cap;
}

/** A read-only root still needs somewhere to write: a /tmp tmpfs, unless the caller mounts /tmp itself. */
function addTmp(host: GoStruct & { Mounts: unknown[] }, binds: BindRequest[], volumes: unknown): void {
  const targets = new Set<string>([
    ...Object.keys((host.Tmpfs ?? {}) as object),
    ...Object.keys((volumes ?? {}) as object),
    ...binds.map((bind) => bind.target),
    ...host.Mounts.map((mount) => (mount as { Target: string }).Target),
  ]);
  if ([...targets].some((target) => target.replace(/\/+$/, '') === '/tmp')) return;
  host.Tmpfs = { ...((host.Tmpfs ?? {}) as object), '/tmp': TMP_TMPFS };
}

function checkNetwork(
  host: GoStruct,
  networking: unknown,
  policy: ChildPolicy,
  refuse: (what: string) => void,
): string {
  const own = policy.networkMode;
  const mode = (host.NetworkMode ?? '') as string;
  // Unset (or the engine's "default") means the parent's network; `none` is always allowed.
  const effective = mode === '' || mode === 'default' ? own : mode;
  if (effective !== own && effective !== 'none') {
    const why =
      mode === 'host' || mode.startsWith('container:')
        ? 'it shares a network namespace'
        : own === 'none'
          ? 'the instance has no network, so neither do its containers'
          : "its containers join the instance's own network (leave NetworkMode unset) or none";
    refuse(`HostConfig.NetworkMode ${quote(mode)} is refused: ${why}`);
  }
  const endpoints = ((networking as GoStruct | null)?.EndpointsConfig ?? {}) as Record<string, unknown>;
  for (const [name, settings] of Object.entries(endpoints)) {
    // The docker CLI names the network it was given, `default` when none was.
    const joined = name === 'default' ? effective : name;
    if (joined !== effective || !isEmpty(settings)) {
      refuse(
        `NetworkingConfig.EndpointsConfig[${quote(name)}] is refused: a container joins only its instance's network, without endpoint settings (addresses, aliases, links)`,
      );
    }
  }
  return effective;
}

/**
 * The engine runs a child's health check itself, an exec (a runc process tree on the host) per probe,
 * outside every cap the child has: at the engine's 1 ms minimum one child keeps a host core busy. Probes
 * at most every MIN_HEALTH_INTERVAL_NS; 0 keeps the engine's default (30 s).
 */
function checkHealthcheck(check: GoStruct | null | undefined, refuse: (what: string) => void): void {
  const interval = Number(check?.Interval ?? 0);
  if (interval !== 0 && interval < MIN_HEALTH_INTERVAL_NS) {
    refuse(
      `Healthcheck.Interval ${interval / 1e6} ms is refused: the engine runs each probe on the host, so at most one every ${MIN_HEALTH_INTERVAL_NS / 1e9} s (0 for the engine's default)`,
    );
  }
}

function checkNamespace(
  field: string,
  value: unknown,
  allowed: string[],
  refuse: (what: string) => void,
): void {
  if (value === undefined || value === '' || allowed.includes(value as string)) return;
  refuse(
    `HostConfig.${field} ${quote(value)} is refused: it shares a namespace with the host or another container`,
  );
}

function checkChoice(
  field: string,
  value: unknown,
  allowed: string[],
  refuse: (what: string) => void,
  why?: string,
): void {
  if (value === undefined || value === '' || allowed.includes(value as string)) return;
  refuse(
    `HostConfig.${field} ${quote(value)} is refused${why ? `: ${why}` : ''} (allowed: ${allowed.join(', ')})`,
  );
}

function checkLogConfig(config: GoStruct | undefined, refuse: (what: string) => void): void {
  const type = (config?.Type ?? '') as string;
  if (!LOG_DRIVERS.has(type))
    refuse(`HostConfig.LogConfig.Type ${quote(type)} is refused (allowed: json-file, local, none)`);
}

/** The log driver asked for, with Boilerhouse's size caps instead of the caller's options. */
function logConfig(config: GoStruct | undefined): GoStruct {
  const type = (config?.Type ?? '') as string;
  return type === '' || type === 'json-file' ? JSON_FILE_LOGS : { Type: type, Config: {} };
}

/** `source:target[:options]` with an absolute source; named volumes and relabelling are refused. */
function bindsOf(binds: string[] | undefined, refuse: (what: string) => void): BindRequest[] {
  const out: BindRequest[] = [];
  for (const [index, bind] of (binds ?? []).entries()) {
    const where = `HostConfig.Binds[${index}] ${quote(bind)}`;
    const [source = '', target = '', options = '', ...rest] = bind.split(':');
    if (rest.length > 0 || target === '') {
      refuse(`${where} is not source:target[:options]`);
      continue;
    }
    if (!source.startsWith('/')) {
      refuse(
        `${where} is refused: named volumes are not available, only paths inside the instance's volumes`,
      );
      continue;
    }
    let readOnly = false;
    for (const option of options === '' ? [] : options.split(',')) {
      if (option === 'ro' || option === 'rw') readOnly = option === 'ro';
      else if (!['private', 'rprivate', 'consistent', 'cached', 'delegated', 'nocopy'].includes(option)) {
        refuse(`${where} option ${quote(option)} is refused`);
      }
    }
    out.push({ source, target, readOnly });
  }
  return out;
}

/** A bind (as a request for a path in the instance), a tmpfs or an anonymous volume; refuses the rest. */
function checkMount(
  mount: GoStruct,
  where: string,
  refuse: (what: string) => void,
): { bind: BindRequest } | { mount: GoStruct } | undefined {
  const type = mount.Type ?? '';
  const target = (mount.Target ?? '') as string;
  const source = (mount.Source ?? '') as string;
  const bindOptions = (mount.BindOptions ?? {}) as GoStruct;
  const volumeOptions = (mount.VolumeOptions ?? {}) as GoStruct;
  if (!target.startsWith('/')) {
    refuse(`${where}.Target ${quote(target)} is not an absolute path`);
    return undefined;
  }
  if (type === 'bind') {
    const propagation = bindOptions.Propagation ?? '';
    if (!['', 'private', 'rprivate'].includes(propagation as string)) {
      refuse(`${where}.BindOptions.Propagation ${quote(propagation)} is refused`);
    }
    if (!isEmpty(mount.VolumeOptions) || !isEmpty(mount.TmpfsOptions))
      refuse(`${where} mixes bind with volume or tmpfs options`);
    return { bind: { source, target, readOnly: mount.ReadOnly === true } };
  }
  if (type === 'volume') {
    if (source !== '')
      refuse(`${where} is refused: named volumes (${quote(source)}) are not available, only anonymous ones`);
    if (!isEmpty(volumeOptions.DriverConfig))
      refuse(
        `${where}.VolumeOptions.DriverConfig is refused: volume drivers and their options are not available`,
      );
    if (!isEmpty(mount.BindOptions) || !isEmpty(mount.TmpfsOptions))
      refuse(`${where} mixes volume with bind or tmpfs options`);
    const options = { NoCopy: volumeOptions.NoCopy === true, Labels: volumeOptions.Labels ?? {} };
    return {
      mount: {
        Type: 'volume',
        Target: target,
        ReadOnly: mount.ReadOnly === true,
        ...(isEmpty(mount.VolumeOptions) ? {} : { VolumeOptions: options }),
      },
    };
  }
  if (type === 'tmpfs') {
    if (source !== '') refuse(`${where} is refused: a tmpfs has no source`);
    if (!isEmpty(mount.BindOptions) || !isEmpty(mount.VolumeOptions))
      refuse(`${where} mixes tmpfs with bind or volume options`);
    return {
      mount: {
        Type: 'tmpfs',
        Target: target,
        ReadOnly: mount.ReadOnly === true,
        ...(mount.TmpfsOptions ? { TmpfsOptions: mount.TmpfsOptions } : {}),
      },
    };
  }
  refuse(`${where}.Type ${quote(type)} is refused (bind, volume or tmpfs)`);
  return undefined;
}

/** Go's zero value, or an empty slice or map: nothing set. A fixed-size array of zeros is empty too. */
export function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value))
    return value.length === 0 || value.every((item) => item === 0 || item === undefined);
  if (typeof value === 'object') return Object.values(value).every(isEmpty);
  return false;
}
