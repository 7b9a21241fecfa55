/** The create policy on decoded bodies: what passes, what is forced, what is refused and how it is said. */
import type { DockerAccessSpec } from '@boilerhouse/spec';
import { describe, expect, test } from 'vitest';
import { type ChildPolicy, checkCreate } from './create-policy.ts';
import { CREATE_BODY } from './create-schema.ts';
import { ProxyDenial } from './denial.ts';
import { decode, type GoStruct } from './go-decode.ts';
import { parseJson } from './go-json.ts';
import { ImageAllowlist, namesImage, normalizeReference } from './images.ts';

const MIB = 1024 * 1024;
const ACCESS: DockerAccessSpec = {
  images: ['agent:*'],
  maxContainers: 3,
  limits: { cpus: 0.5, memory: 256 * MIB, pids: 100 },
  exec: false,
  readOnly: true,
  onRelease: 'remove',
  capabilities: [],
};
const POLICY: ChildPolicy = { access: ACCESS, networkMode: 'bridge', runAs: { uid: 1000, gid: 1000 } };

const check = (body: unknown, policy: ChildPolicy = POLICY) =>
  checkCreate(decode(parseJson(JSON.stringify(body)), CREATE_BODY) as GoStruct, policy);

function refusal(body: unknown, policy: ChildPolicy = POLICY): string {
  try {
    check(body, policy);
  } catch (error) {
    if (error instanceof ProxyDenial) return error.message;
    throw error;
  }
  throw new Error('expected a refusal');
}

/** What docker CLI 28 sends for `docker run -t --rm --tmpfs /tmp -v /data/x:/x agent:1 true` (API 1.41). */
const CLI_BODY = {
  Hostname: '',
  Domainname: '',
  User: '',
  AttachStdin: false,
  AttachStdout: true,
  AttachStderr: true,
  Tty: true,
  OpenStdin: false,
  StdinOnce: false,
  Env: null,
  Cmd: ['true'],
  Image: 'agent:1',
  Volumes: {},
  WorkingDir: '',
  Entrypoint: null,
  OnBuild: null,
  Labels: {},
  HostConfig: {
    Binds: ['/data/x:/x'],
    ContainerIDFile: '',
    LogConfig: { Type: '', Config: {} },
    NetworkMode: 'default',
    PortBindings: {},
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    AutoRemove: true,
    VolumeDriver: '',
    VolumesFrom: null,
    ConsoleSize: [0, 0],
    CapAdd: null,
    CapDrop: null,
    CgroupnsMode: '',
    Dns: [],
    DnsOptions: [],
    DnsSearch: [],
    ExtraHosts: null,
    GroupAdd: null,
    IpcMode: '',
    Cgroup: '',
    Links: null,
    OomScoreAdj: 0,
    PidMode: '',
    Privileged: false,
    PublishAllPorts: false,
    ReadonlyRootfs: false,
    SecurityOpt: null,
    Tmpfs: { '/tmp': '' },
    UTSMode: '',
    UsernsMode: '',
    ShmSize: 0,
    Isolation: '',
    CpuShares: 0,
    Memory: 0,
    NanoCpus: 0,
    CgroupParent: '',
    BlkioWeight: 0,
    BlkioWeightDevice: [],
    BlkioDeviceReadBps: [],
    BlkioDeviceWriteBps: [],
    BlkioDeviceReadIOps: [],
    BlkioDeviceWriteIOps: [],
    CpuPeriod: 0,
    CpuQuota: 0,
    CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0,
    CpusetCpus: '',
    CpusetMems: '',
    Devices: [],
    DeviceCgroupRules: null,
    DeviceRequests: null,
    MemoryReservation: 0,
    MemorySwap: 0,
    MemorySwappiness: -1,
    OomKillDisable: false,
    PidsLimit: 0,
    Ulimits: [],
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    MaskedPaths: null,
    ReadonlyPaths: null,
  },
  NetworkingConfig: {
    EndpointsConfig: {
      default: {
        IPAMConfig: null,
        Links: null,
        Aliases: null,
        MacAddress: '',
        DriverOpts: null,
        GwPriority: 0,
        NetworkID: '',
        EndpointID: '',
        Gateway: '',
        IPAddress: '',
        IPPrefixLen: 0,
        IPv6Gateway: '',
        GlobalIPv6Address: '',
        GlobalIPv6PrefixLen: 0,
        DNSNames: null,
      },
    },
  },
};

describe("the docker CLI's create body", () => {
  test("passes, with the caps, a read-only root, no-new-privileges, no capabilities and the instance's user forced", () => {
    const checked = check(CLI_BODY);
    expect(checked.image).toBe('agent:1');
    expect(checked.binds).toEqual([{ source: '/data/x', target: '/x', readOnly: false }]);
    expect(checked.body.HostConfig).toMatchObject({
      Memory: 256 * MIB,
      MemorySwap: 256 * MIB,
      NanoCpus: 500_000_000,
      PidsLimit: 100,
      ReadonlyRootfs: true,
      SecurityOpt: ['no-new-privileges'],
      CapDrop: ['ALL'],
      // Output kept on the host's disk is capped whatever the caller asks.
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      AutoRemove: true,
      // The caller mounts its own /tmp: nothing is added.
      Tmpfs: { '/tmp': '' },
      Mounts: [],
    });
    // Nothing the policy does not know is sent: no NetworkingConfig, no zero-valued refused fields.
    expect(Object.keys(checked.body)).not.toContain('NetworkingConfig');
    expect(Object.keys(checked.body.HostConfig)).not.toContain('Privileged');
    expect(Object.keys(checked.body.HostConfig)).not.toContain('Binds');
    expect(Object.keys(checked.body.HostConfig)).not.toContain('CapAdd');
    expect(checked.body.User).toBe('1000:1000');
  });

  test('lower limits than the caps are kept; higher or unlimited ones become the caps', () => {
    const low = check({
      Image: 'agent:1',
      HostConfig: { Memory: 32 * MIB, NanoCpus: 1e8, PidsLimit: 10, MemorySwap: -1 },
    });
    expect(low.body.HostConfig).toMatchObject({
      Memory: 32 * MIB,
      MemorySwap: 32 * MIB,
      NanoCpus: 1e8,
      PidsLimit: 10,
    });
    const high = check({
      Image: 'agent:1',
      HostConfig: { Memory: 8192 * MIB, NanoCpus: 4e9, PidsLimit: -1, MemoryReservation: 9e9 },
    });
    expect(high.body.HostConfig).toMatchObject({
      Memory: 256 * MIB,
      NanoCpus: 5e8,
      PidsLimit: 100,
      MemoryReservation: 256 * MIB,
    });
  });

  test('a read-only root gets a /tmp tmpfs unless /tmp is mounted; read_only: false leaves the root alone', () => {
    expect(check({ Image: 'agent:1' }).body.HostConfig.Tmpfs).toEqual({ '/tmp': 'rw,nosuid,nodev,size=64m' });
    const writable = check({ Image: 'agent:1' }, { ...POLICY, access: { ...ACCESS, readOnly: false } });
    expect(writable.body.HostConfig.ReadonlyRootfs).toBe(false);
    expect(writable.body.HostConfig.Tmpfs).toBeUndefined();
  });

  test('every capability is dropped, whatever the caller drops', () => {
    for (const CapDrop of [['ALL'], ['NET_RAW'], ['CHOWN', 'KILL'], []])
      expect(check({ Image: 'agent:1', HostConfig: { CapDrop } }).body.HostConfig.CapDrop).toEqual(['ALL']);
  });

  test('no-new-privileges may be asked for in any spelling, never turned off', () => {
    for (const entry of ['no-new-privileges', 'no-new-privileges:true', 'no-new-privileges=true'])
      expect(
        check({ Image: 'agent:1', HostConfig: { SecurityOpt: [entry] } }).body.HostConfig.SecurityOpt,
      ).toEqual(['no-new-privileges']);
    expect(refusal({ Image: 'agent:1', HostConfig: { SecurityOpt: ['no-new-privileges:false'] } })).toContain(
      'HostConfig.SecurityOpt "no-new-privileges:false" is refused',
    );
  });

  test('an instance without a network gets children without one', () => {
    const none: ChildPolicy = { ...POLICY, networkMode: 'none' };
    expect(check(CLI_BODY, none).body.HostConfig.NetworkMode).toBe('none');
    expect(refusal({ Image: 'agent:1', HostConfig: { NetworkMode: 'bridge' } }, none)).toContain(
      'the instance has no network, so neither do its containers',
    );
  });
});

describe('refusals name every problem at once', () => {
  test('several problems in one message', () => {
    const message = refusal({
      Image: 'agent:1',
      HostConfig: {
        Privileged: true,
        CapAdd: ['SYS_ADMIN'],
        PidMode: 'host',
        Sysctls: { 'net.ipv4.ip_forward': '1' },
      },
    });
    expect(message).toContain('HostConfig.Privileged is refused: it runs privileged');
    expect(message).toContain(
      'HostConfig.CapAdd "SYS_ADMIN" is refused: the workload does not grant it (docker.capabilities: it grants none)',
    );
    expect(message).toContain('HostConfig.PidMode is refused: it shares a PID namespace');
    expect(message).toContain('HostConfig.Sysctls is refused: it sets sysctls');
  });

  test("the engine's deprecated top-level host config is refused, not silently used", () => {
    expect(refusal({ Image: 'agent:1', Privileged: true })).toContain(
      "Privileged at the top level (the engine's deprecated spelling of HostConfig.Privileged) is refused",
    );
    expect(refusal({ Image: 'agent:1', Binds: ['/:/host'] })).toContain('Binds at the top level');
  });

  test('Boilerhouse labels cannot be set by the caller', () => {
    expect(refusal({ Image: 'agent:1', Labels: { 'boilerhouse.child.parent': 'someone-else' } })).toContain(
      'label "boilerhouse.child.parent" is refused',
    );
  });

  test('binds: named volumes, relabelling and odd shapes', () => {
    expect(refusal({ Image: 'agent:1', HostConfig: { Binds: ['shared:/x'] } })).toContain(
      'named volumes are not available',
    );
    expect(refusal({ Image: 'agent:1', HostConfig: { Binds: ['/data/x:/x:z'] } })).toContain(
      'option "z" is refused',
    );
    expect(refusal({ Image: 'agent:1', HostConfig: { Binds: ['/data/x'] } })).toContain(
      'is not source:target[:options]',
    );
    expect(
      refusal({
        Image: 'agent:1',
        HostConfig: {
          Mounts: [{ Type: 'bind', Source: '/data', Target: '/d', BindOptions: { Propagation: 'rshared' } }],
        },
      }),
    ).toContain('Propagation "rshared" is refused');
  });
});

describe('images', () => {
  test('references are compared in their familiar form, with :latest by default', () => {
    expect(normalizeReference('agent')).toBe('agent:latest');
    expect(normalizeReference('docker.io/library/alpine')).toBe('alpine:latest');
    expect(normalizeReference('docker.io/team/app:2')).toBe('team/app:2');
    expect(normalizeReference('registry.local:5000/app:1')).toBe('registry.local:5000/app:1');
    const list = new ImageAllowlist(['agent:*', 'docker.io/library/alpine']);
    expect(list.check('agent:7')).toBe('agent:7');
    expect(list.check('alpine')).toBe('alpine:latest');
    expect(() => list.check('alpine:3')).toThrow('image "alpine:3" is not allowed for this workload');
    expect(() => list.check('evil/agent:1')).toThrow('not allowed');
  });

  test('ids, id prefixes and malformed names are refused; the engine must name the image by that tag', () => {
    expect(() => new ImageAllowlist(['*']).check(`sha256:${'a'.repeat(64)}`)).toThrow('ids are refused');
    expect(() => new ImageAllowlist(['*']).check('Agent:1')).toThrow('is not an image reference');
    // A short hex name would resolve as an id prefix when no image has that name: RepoTags tell.
    expect(namesImage('c876765ad5f2:latest', { RepoTags: ['boilerhouse/echo:latest'] })).toBe(false);
    expect(namesImage('agent:1', { RepoTags: ['agent:1', 'agent:latest'] })).toBe(true);
  });
});

describe("children run as the instance's user, never root", () => {
  test("an empty User, the instance's uid or its uid:gid become uid:gid", () => {
    for (const User of [undefined, '', '1000', '1000:1000'])
      expect(check({ Image: 'agent:1', User }).body.User).toBe('1000:1000');
  });

  test.each([
    ['0'],
    ['root'],
    ['0:0'],
    ['1000:0'],
    ['0:1000'],
    ['node'],
    ['1001'],
    ['1000:1001'],
    ['1000:'],
    [' 1000'],
  ])('User %j is refused, naming the allowed value', (User) => {
    expect(refusal({ Image: 'agent:1', User })).toContain(
      `User ${JSON.stringify(User)} is refused: containers run as the instance's user, 1000:1000 (leave User empty or set it to "1000:1000")`,
    );
  });

  test('a workload whose user is nobody gets children that are nobody', () => {
    const nobody: ChildPolicy = { ...POLICY, runAs: { uid: 65534, gid: 65534 } };
    expect(check({ Image: 'agent:1' }, nobody).body.User).toBe('65534:65534');
    expect(refusal({ Image: 'agent:1', User: '1000:1000' }, nobody)).toContain('65534:65534');
  });

  test("GroupAdd is refused unless it is the instance's own gid", () => {
    expect(check({ Image: 'agent:1', HostConfig: { GroupAdd: ['1000'] } }).body.HostConfig.GroupAdd).toBe(
      undefined,
    );
    for (const group of ['0', 'root', 'docker', '999'])
      expect(refusal({ Image: 'agent:1', HostConfig: { GroupAdd: ['1000', group] } })).toContain(
        `HostConfig.GroupAdd ${JSON.stringify(group)} is refused: containers have only the instance's group, 1000`,
      );
  });
});

describe('capabilities a workload grants', () => {
  const granting: ChildPolicy = { ...POLICY, access: { ...ACCESS, capabilities: ['CHOWN', 'FOWNER'] } };

  test('granted ones are added, in the engine’s CAP_ spelling, however the caller wrote them', () => {
    const host = check(
      { Image: 'agent:1', HostConfig: { CapAdd: ['chown', 'CAP_FOWNER', 'CHOWN'] } },
      granting,
    ).body.HostConfig;
    expect(host.CapAdd).toEqual(['CAP_CHOWN', 'CAP_FOWNER']);
    expect(host.CapDrop).toEqual(['ALL']);
  });

  test('one not granted, ALL, or a name that is no capability is refused', () => {
    expect(refusal({ Image: 'agent:1', HostConfig: { CapAdd: ['CHOWN', 'KILL'] } }, granting)).toBe(
      'container create refused: HostConfig.CapAdd "KILL" is refused: the workload does not grant it (docker.capabilities: it grants CHOWN, FOWNER)',
    );
    expect(refusal({ Image: 'agent:1', HostConfig: { CapAdd: ['ALL'] } }, granting)).toContain(
      'HostConfig.CapAdd "ALL" is refused: capabilities are added one by one',
    );
    expect(refusal({ Image: 'agent:1', HostConfig: { CapAdd: ['CAP_PWN'] } }, granting)).toContain(
      'HostConfig.CapAdd "CAP_PWN" is refused: it is not a Linux capability',
    );
    expect(refusal({ Image: 'agent:1', HostConfig: { Capabilities: ['CAP_CHOWN'] } }, granting)).toContain(
      'HostConfig.Capabilities is refused: it replaces the capability set',
    );
  });
});

describe("a child's health check (the engine runs each probe on the host, outside the child's caps)", () => {
  test('probes more often than every 10 s are refused, naming the interval', () => {
    const body = { Image: 'agent:1', Healthcheck: { Test: ['CMD', 'true'], Interval: 1_000_000 } };
    expect(refusal(body)).toContain('Healthcheck.Interval 1 ms is refused');
  });

  test("every 10 s or more, or the engine's default, passes as given", () => {
    for (const Interval of [0, 10e9, 60e9]) {
      const checked = check({ Image: 'agent:1', Healthcheck: { Test: ['CMD', 'true'], Interval } });
      expect(checked.body.Healthcheck).toMatchObject({ Interval });
    }
  });
});
